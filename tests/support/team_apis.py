"""Fake vendor APIs for the team source types, following each vendor's documented shapes.

`FakeApi` is a small threaded HTTP server: routes map (method, path) to a handler that sees the
parsed request and returns (status, headers, body). Every request is logged, so tests assert the exact
requests a source makes (auth headers, query parameters) as well as what it makes of the answers.
"""
import base64
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from tray.sources.base import SourceConfig


@dataclass
class Req:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.query:
            if k == key:
                return v
        return default

    def args(self, key: str) -> list[str]:
        return [v for k, v in self.query if k == key]

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Req], "tuple[int, dict[str, str], Any]"]


class FakeApi:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Req] = []
        api = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                req = Req(self.command, parts.path, parse_qsl(parts.query, keep_blank_values=True),
                          {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                api.requests.append(req)
                handler = api.routes.get((self.command, parts.path))
                if handler is None:
                    status, headers, body = 404, {}, {"error": "not found"}
                else:
                    status, headers, body = handler(req)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def on(self, method: str, path: str, handler: "Handler | Any", status: int = 200,
           headers: dict[str, str] | None = None) -> None:
        """A handler function, or a fixed JSON body answered with `status` and `headers`."""
        if not callable(handler):
            body = handler
            handler = lambda req: (status, dict(headers or {}), body)  # noqa: E731
        self.routes[(method, path)] = handler

    def get(self, path: str, handler: Any, **kw: Any) -> None:
        self.on("GET", path, handler, **kw)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make(cls: type, name: str = "team-src", *, secrets: dict[str, str] | None = None,
         timeout: float = 5.0, allow_empty: bool = False, **settings: Any) -> Any:
    """A source of class `cls` with these settings; secrets keyed by field ("" for the single one)."""
    store = dict(secrets or {})
    config = SourceConfig(name=name, type=cls.type, timeout=timeout, allow_empty=allow_empty,
                          settings=cls.Settings(**settings))
    if hasattr(config.settings, "validate"):
        config.settings.validate()
    return cls(config, lambda source, field: store.get(field))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- vendor shapes ---------------------------------------------------------------------------

def pd_incident(n: int, status: str = "triggered", urgency: str = "high") -> dict:
    return {"id": f"PINC{n:04d}", "type": "incident", "incident_number": 1000 + n,
            "title": f"Incident {n}", "status": status, "urgency": urgency,
            "created_at": "2026-03-01T08:12:00Z",
            "html_url": f"https://acme.pagerduty.com/incidents/PINC{n:04d}",
            "service": {"id": "PSVC01", "type": "service_reference", "summary": "Billing DB"},
            "priority": None, "assignments": []}


def pd_pager(incidents: list[dict], *, headers: dict[str, str] | None = None) -> Handler:
    """`GET /incidents` with limit/offset/more paging, as PagerDuty documents it."""
    def handler(req: Req) -> tuple[int, dict[str, str], Any]:
        limit = int(req.arg("limit", "25"))
        offset = int(req.arg("offset", "0"))
        page = incidents[offset:offset + limit]
        return 200, dict(headers or {}), {"incidents": page, "limit": limit, "offset": offset,
                                         "more": offset + limit < len(incidents), "total": None}
    return handler


def pd_services(n: int) -> dict:
    """`GET /services?limit=1&total=true`: one page, `total` when asked for."""
    return {"services": [{"id": f"PSVC{i:02d}", "type": "service", "summary": f"Service {i}"} for i in range(min(n, 1))],
            "limit": 1, "offset": 0, "more": n > 1, "total": n}


def pd_user(uid: str) -> dict:
    return {"user": {"id": uid, "type": "user", "name": "Alice Oncall", "email": "alice@acme.example",
                     "role": "user"}}


def zd_me(role: str = "agent", *, uid: int | None = 4242, name: str = "Agent Smith") -> dict:
    """`GET /api/v2/users/me.json`; Zendesk answers an anonymous user with id null."""
    return {"user": {"id": uid, "name": name, "email": "agent@acme.example" if uid else "invalid@example.com",
                     "role": role, "active": True}}


def zd_ticket(n: int, priority: str | None = "normal", status: str = "open") -> dict:
    return {"id": n, "url": f"https://acme.zendesk.com/api/v2/tickets/{n}.json", "subject": f"Ticket {n}",
            "status": status, "priority": priority, "created_at": "2026-03-01T09:00:00Z",
            "updated_at": "2026-03-01T10:00:00Z", "group_id": 7, "assignee_id": None}


def zd_view_pager(tickets: list[dict]) -> Handler:
    """`GET /api/v2/views/ID/tickets.json` with cursor paging (`page[size]`, `page[after]`)."""
    def handler(req: Req) -> tuple[int, dict[str, str], Any]:
        size = int(req.arg("page[size]", "100"))
        start = int(req.arg("page[after]", "c0")[1:])
        page = tickets[start:start + size]
        more = start + size < len(tickets)
        after = f"c{start + size}" if more else None
        return 200, {}, {"tickets": page, "meta": {"has_more": more, "after_cursor": after,
                                                   "before_cursor": f"c{start}"},
                         "links": {"next": None, "prev": None}}
    return handler


def trello_card(cid: str, name: str, colours: list[str | None], list_id: str = "list1") -> dict:
    return {"id": cid, "name": name, "shortUrl": f"https://trello.com/c/{cid[-8:]}",
            "url": f"https://trello.com/c/{cid[-8:]}/1-card", "dateLastActivity": "2026-03-01T11:00:00.000Z",
            "due": None, "closed": False, "idList": list_id,
            "labels": [{"id": f"lab{i}", "idBoard": "board1", "name": f"{c or 'no'} label", "color": c}
                       for i, c in enumerate(colours)]}


def statuspage_summary(indicator: str, components: list[tuple[str, str]],
                       incidents: list[dict] | None = None) -> dict:
    return {
        "page": {"id": "kctbh9vrtdwd", "name": "Acme", "url": "https://status.acme.example",
                 "time_zone": "Etc/UTC", "updated_at": "2026-03-01T12:00:00.000Z"},
        "status": {"indicator": indicator, "description": {"none": "All Systems Operational",
                                                           "minor": "Minor Service Outage",
                                                           "major": "Partial System Outage",
                                                           "critical": "Major System Outage",
                                                           "maintenance": "Service Under Maintenance"
                                                           }.get(indicator, indicator)},
        "components": [{"id": f"cmp{i}", "name": name, "status": state, "created_at": "2025-01-01T00:00:00Z",
                        "updated_at": "2026-03-01T12:00:00.000Z", "position": i, "description": None,
                        "showcase": True, "group_id": None, "page_id": "kctbh9vrtdwd", "group": False,
                        "only_show_if_degraded": False}
                       for i, (name, state) in enumerate(components)],
        "incidents": incidents or [],
        "scheduled_maintenances": [],
    }
