"""One minimal, valid configuration per source type, and the answer that makes it readable.

Used by the fault matrix, the fuzzers and the soak: each spec says which Settings to build for a
base URL, which secrets the type needs, and which routes (path prefix -> JSON body) a healthy
server answers with. Keeping them in one table means a new source type fails loudly here (no spec)
instead of silently escaping the reliability suite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from tray.sources import REGISTRY, available_types, source_class
from tray.sources.base import Source, SourceConfig

# Recognisable secret values: any of these turning up in a log, response or `ps` line is a leak.
SECRET = "SeCrEt-relia-7f3a91"
SECRET_KEY = "SeCrEt-trellokey-55b2"


@dataclass(frozen=True)
class Spec:
    type: str
    settings: Callable[[str], dict[str, Any]]          # base URL -> Settings kwargs
    secrets: dict[str, str] = field(default_factory=dict)   # field -> value ("" = the single secret)
    good: tuple[tuple[str, Any], ...] = ()             # (path prefix, JSON body) a healthy server answers
    default: Any = None                                # the answer on every other path


def _statuspage() -> dict:
    return {"page": {"id": "p1", "name": "Acme", "url": "https://status.acme.example",
                     "updated_at": "2026-03-01T12:00:00.000Z"},
            "status": {"indicator": "none", "description": "All Systems Operational"},
            "components": [], "incidents": [], "scheduled_maintenances": []}


def _ticket() -> dict:
    return {"id": 4711, "url": "https://acme.zendesk.com/api/v2/tickets/4711.json", "subject": "VPN down",
            "status": "open", "priority": "normal", "created_at": "2026-03-01T09:00:00Z",
            "updated_at": "2026-03-01T10:00:00Z", "group_id": 7, "assignee_id": None}


SPECS: dict[str, Spec] = {s.type: s for s in (
    Spec("icinga2", lambda u: {"url": u, "username": "ops", "stream": False, "detect_interval": 0.0},
         {"": SECRET}, (("/v1/objects/", {"results": []}),)),
    Spec("icingaweb2", lambda u: {"url": u + "/icingaweb2", "username": "ops"}, {"": SECRET},
         (("/icingaweb2/monitoring/list/", []),
          ("/icingaweb2/monitoring/health/info", [{"is_currently_running": 1, "process_id": 4242,
                                                   "endpoint_name": "master1", "status_update_time": 1767254400}]))),
    Spec("icingadb", lambda u: {"url": u + "/icingaweb2", "username": "ops"}, {"": SECRET},
         (("/icingaweb2/icingadb/", []), ("/icingaweb2/health", {"status": "success", "data": []}))),
    Spec("nagios", lambda u: {"url": u + "/nagios/cgi-bin", "username": "nagiosadmin"}, {"": SECRET},
         (("/nagios/cgi-bin/statusjson.cgi?query=servicelist",
           {"result": {"type_code": 0}, "data": {"servicelist": {}}}),
          ("/nagios/cgi-bin/statusjson.cgi?query=hostlist",
           {"result": {"type_code": 0}, "data": {"hostlist": {}}}))),
    Spec("icinga1", lambda u: {"url": u + "/icinga/cgi-bin", "username": "icingaadmin"}, {"": SECRET},
         (("/icinga/cgi-bin/status.cgi?host=all", {"status": {"service_status": []}}),
          ("/icinga/cgi-bin/status.cgi?hostgroup=all", {"status": {"host_status": []}}))),
    Spec("alertmanager", lambda u: {"url": u, "auth": "basic", "username": "ops"}, {"": SECRET},
         (("/api/v2/alerts", []),)),
    Spec("prometheus", lambda u: {"url": u, "auth": "bearer"}, {"": SECRET},
         (("/api/v1/alerts", {"status": "success", "data": {"alerts": []}}),)),
    Spec("grafana", lambda u: {"url": u}, {"": SECRET},
         (("/api/alertmanager/grafana/api/v2/alerts", []),
          ("/api/prometheus/grafana/api/v1/alerts", {"status": "success", "data": {"alerts": []}}))),
    Spec("pagerduty", lambda u: {"url": u, "user_id": "PUSER1"}, {"": SECRET},
         (("/incidents", {"incidents": [], "limit": 100, "offset": 0, "more": False}),
          ("/oncalls", {"oncalls": []}))),
    Spec("zendesk", lambda u: {"url": u, "email": "ops@acme.example", "view_id": 25}, {"": SECRET},
         (("/api/v2/views/25/count.json", {"view_count": {"view_id": 25, "value": 1, "fresh": True}}),
          ("/api/v2/views/25/tickets.json", {"tickets": [_ticket()], "meta": {"has_more": False}}))),
    Spec("trello", lambda u: {"url": u, "list_id": "5f0c1d2e3a4b5c6d7e8f9a0b"},
         {"key": SECRET_KEY, "token": SECRET}, (("/1/lists/", []),)),
    Spec("statuspage", lambda u: {"url": u}, {}, (("/api/v2/summary.json", _statuspage()),)),
    Spec("http", lambda u: {"url": u + "/health", "expect_text": "\"ok\": true"}, {}, (("/health", {"ok": True}),)),
    Spec("secondline", lambda u: {"url": u}, {"": SECRET},
         (("/status.json", {"schema": 1, "sources": []}),)),
)}


def product_types() -> list[str]:
    """The product's polled source types: not "demo", and not a test-only type (tests/support's
    "fake") that another test module registered earlier in the same session."""
    return [t for t in available_types() if t != "demo" and REGISTRY[t].startswith("tray.sources.")]


def make(type_name: str, base_url: str, *, name: str | None = None, timeout: float = 2.0,
         interval: float = 30.0) -> Source:
    """A configured source of this type against `base_url`, secrets from the spec."""
    cls = source_class(type_name)
    spec = SPECS[type_name]
    settings = cls.Settings(**spec.settings(base_url))
    if hasattr(settings, "validate"):
        settings.validate()
    cfg = SourceConfig(name=name or f"rel-{type_name}", type=type_name, group="reliability",
                       interval=interval, timeout=timeout, settings=settings)
    return cls(cfg, secret_lookup(spec))


def config(type_name: str, base_url: str, *, name: str, timeout: float = 2.0, interval: float = 30.0) -> SourceConfig:
    cls = source_class(type_name)
    settings = cls.Settings(**SPECS[type_name].settings(base_url))
    if hasattr(settings, "validate"):
        settings.validate()
    return SourceConfig(name=name, type=type_name, group="reliability", interval=interval, timeout=timeout,
                        settings=settings)


def secret_lookup(spec: Spec) -> Callable[[str, str], str | None]:
    return lambda name, fld: spec.secrets.get(fld)


def serve_good(srv: Any, type_name: str) -> None:
    """Make the fault server answer this type's healthy payload."""
    spec = SPECS[type_name]
    for prefix, body in reversed(spec.good):
        srv.route(prefix, body)
    srv.ok(spec.default if spec.default is not None else b"{}")


def toml_for(type_name: str, base_url: str, name: str, *, interval: float = 30, timeout: float = 2,
             **overrides: Any) -> str:
    """The `[[sources]]` table for this type, as a user would write it."""
    lines = ["[[sources]]", f'name = "{name}"', f'type = "{type_name}"', 'group = "reliability"',
             f"interval = {interval}", f"timeout = {timeout}"]
    for k, v in {**SPECS[type_name].settings(base_url), **overrides}.items():
        lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)
