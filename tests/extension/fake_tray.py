"""A stand-in for the tray's endpoint: GET /status.json (ETag / 304) and GET /events (SSE), serving
schema-valid status documents that a test sets, with a log of what the browser asked for; POSTs (actions)
are logged with their headers and answered from `answers` (501 when none is set), signed as the tray signs
them (tray/outputs/http/signing.py) for the clients in `keys`; a client not in `keys` gets unsigned answers, as from an
impostor on the port.

Used where the test needs control the demo does not give: exact documents (popup links), a second port
(options page) and the no-debugger run, which observes the extension only through this log.
"""
from __future__ import annotations

import copy
import hashlib
import json
import select
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema

from tray.outputs.http import signing

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "shared" / "status.schema.json").read_text())
GROUPS = ("production", "staging", "integration")


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert(source: str, n: int, severity: str, *, handled: str | None = None, minutes_ago: int = 5,
          url: str | None = "default") -> dict[str, Any]:
    return {
        "id": f"{source}-{n}", "source": source, "title": f"{source} problem {n} ({severity})",
        "detail": f"detail of problem {n}", "severity": severity,
        "since": iso(datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)),
        "url": f"https://monitor.example/{source}/{n}" if url == "default" else url,
        "handled": handled is not None, "handled_reason": handled, "pending": False,
    }


def _counts(alerts: list[dict[str, Any]], unreachable: int = 0) -> dict[str, int]:
    c = {"critical": 0, "warning": 0, "unknown": unreachable, "handled": 0, "pending": 0}
    for a in alerts:
        if a["handled"]:
            c["handled"] += 1
        elif a["pending"]:
            c["pending"] += 1
        elif a["severity"] in c:
            c[a["severity"]] += 1
    return c


def _health(c: dict[str, int]) -> str:
    for h in ("critical", "unknown", "warning"):
        if c[h]:
            return h
    return "ok"


def document(alerts_by_source: dict[str, list[dict[str, Any]]] | None = None, *,
             errors: dict[str, str] | None = None, schema: int = 2, **extra: Any) -> dict[str, Any]:
    """A status document for sources icinga-<group> (one per group) with the given alerts and errors; each
    source offers what an Icinga 2 source does (schema 2: `capabilities`; schema 1, an older tray: none)."""
    alerts_by_source = alerts_by_source or {}
    errors = errors or {}
    now = datetime.now(timezone.utc)
    sources, groups = [], []
    total = {"critical": 0, "warning": 0, "unknown": 0, "handled": 0, "pending": 0}
    for g in GROUPS:
        name = f"icinga-{g}"
        alerts = alerts_by_source.get(name, [])
        err = errors.get(name)
        c = _counts(alerts, 1 if err else 0)
        sources.append({"name": name, "type": "icinga2", "group": g, "health": _health(c),
                        "checked_at": None if err else iso(now), "error": err, "stale": False,
                        "on_call": None, "alerts": alerts})
        if schema >= 2:
            sources[-1]["capabilities"] = ["acknowledge", "recheck"]
        groups.append({"name": g, "health": _health(c), "handled_only": _health(c) == "ok" and c["handled"] > 0,
                       "counts": c})
        total = {k: total[k] + c[k] for k in total}
    doc = {"schema": schema, "generated_at": iso(now), "health": _health(total),
           "handled_only": _health(total) == "ok" and total["handled"] > 0, "counts": total,
           "groups": groups, "sources": sources, "notifications": {"snoozed_until": None}, **extra}
    if schema == 2:
        jsonschema.validate(doc, SCHEMA)
    return doc


def demo_step(state: str) -> dict[str, Any]:
    """Documents for the states the badge must follow: ok, warning, critical, handled_only, unknown."""
    if state == "ok":
        return document()
    if state == "warning":
        return document({"icinga-staging": [alert("icinga-staging", 1, "warning")]})
    if state == "critical":
        return document({"icinga-production": [alert("icinga-production", 1, "critical"),
                                               alert("icinga-production", 2, "warning")]})
    if state == "handled_only":
        return document({"icinga-production": [alert("icinga-production", 1, "critical", handled="acknowledged")]})
    if state == "unknown":
        return document(errors={"icinga-integration": "connection refused"})
    raise ValueError(state)


def _hung_up(conn: socket.socket) -> bool:
    """The peer closed the connection (readable, and a peek reads end-of-file)."""
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class FakeTray:
    def __init__(self, port: int = 0, doc: dict[str, Any] | None = None, ping_every: float = 10.0):
        self.doc = doc or document()
        self.version = 1
        self.ping_every = ping_every
        self.log: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.port = port
        self.server: ThreadingHTTPServer | None = None
        self.stopping = False
        self.conns: set[socket.socket] = set()
        # POST path -> (status, JSON body) to answer; a path not listed answers 501 (no actions here).
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        # client id -> key: answers to that client's signed requests are signed (tray/outputs/http/signing.py).
        self.keys: dict[str, str] = {}

    def note(self, kind: str, **kw: Any) -> None:
        with self.cond:
            self.log.append({"t": time.time(), "kind": kind, **kw})

    def set(self, doc: dict[str, Any]) -> float:
        """Publish a new document; returns the time it was published."""
        with self.cond:
            self.doc = copy.deepcopy(doc)
            self.version += 1
            t = time.time()
            self.log.append({"t": t, "kind": "set", "version": self.version})
            self.cond.notify_all()
        return t

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self.cond:
            return [e for e in self.log if e["kind"] == kind]

    def start(self) -> "FakeTray":
        tray = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with tray.cond:
                    tray.conns.add(self.connection)

            def finish(self) -> None:
                with tray.cond:
                    tray.conns.discard(self.connection)
                super().finish()

            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?")[0] == "/status.json":
                    with tray.cond:
                        body = json.dumps(tray.doc).encode()
                    # Like the real tray (tray/outputs/http/server.py): a hash of the body, so a restarted tray with
                    # another document never answers 304 to the old one's ETag.
                    etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        tray.note("status", code=304)
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    tray.note("status", code=200)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("ETag", etag)
                    self.send_header("Cache-Control", "no-cache")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/events":
                    self.stream()
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                tray.note("post", path=self.path, body=raw.decode("utf-8", "replace"),
                          headers={k.lower(): v for k, v in self.headers.items()})
                answer = tray.answers.get(self.path)
                if answer is None:
                    status, body, ctype = 501, b"not implemented here\n", "text/plain"
                else:
                    status, body, ctype = answer[0], json.dumps(answer[1]).encode(), "application/json"
                signed = signing.parse_authorization(self.headers.get("Authorization"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if signed is not None and signed.client in tray.keys:
                    self.send_header(signing.RESPONSE_HEADER,
                                     signing.sign_response(tray.keys[signed.client], signed.sig, status, body))
                self.end_headers()
                self.wfile.write(body)

            def stream(self) -> None:
                conn = id(self)
                tray.note("events_open", conn=conn)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                reason = "server stopping"
                try:
                    # Like the real tray (tray/outputs/http/server.py), a new stream starts with the current document.
                    # (Firefox's fetch() resolves only once the first bytes of the body arrive: a stream that
                    # opened silent would hold the extension's first reading back until the first ping.)
                    with tray.cond:
                        seen = tray.version
                        first = f"retry: 2000\n\nevent: status\ndata: {json.dumps(tray.doc)}\n\n"
                    self.wfile.write(first.encode())
                    self.wfile.flush()
                    tray.note("sent", conn=conn, version=seen)
                    last = time.monotonic()
                    while not tray.stopping:
                        with tray.cond:
                            if seen == tray.version:
                                # Wake at least twice a second to notice a browser that hung up (an event page
                                # suspended by Firefox takes its fetch with it) without waiting for a write.
                                due = last + tray.ping_every - time.monotonic()
                                tray.cond.wait(timeout=max(0.0, min(0.5, due)))
                            if seen != tray.version:
                                seen = tray.version
                                msg, kind = f"event: status\ndata: {json.dumps(tray.doc)}\n\n", "sent"
                            elif time.monotonic() - last >= tray.ping_every:
                                msg, kind = ": ping\n\n", "ping"
                            else:
                                msg = kind = None
                        if msg is None:
                            if _hung_up(self.connection):
                                reason = "client closed"
                                break
                            continue
                        self.wfile.write(msg.encode())
                        self.wfile.flush()
                        last = time.monotonic()
                        tray.note(kind, conn=conn, version=seen)
                except (BrokenPipeError, ConnectionResetError) as e:
                    reason = type(e).__name__
                tray.note("events_closed", conn=conn, reason=reason)

        self.stopping = False
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.stopping = True
            with self.cond:
                self.cond.notify_all()
            self.server.shutdown()
            self.server.server_close()
            # A stopped tray is a gone process: its keep-alive connections die with it. (Left open, the
            # browser's next poll would still be answered by this "stopped" tray.)
            with self.cond:
                conns, self.conns = list(self.conns), set()
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeTray":
        return self.start()

    def __exit__(self, *a: Any) -> None:
        self.stop()
