"""The local endpoint, loopback only: /status.json, /events (SSE), / (dashboard), /healthz.

Security: only 127.0.0.1 is ever bound; a request whose Host is not this loopback address and
port is refused (DNS rebinding); no CORS header unless the Origin is configured; only GET/HEAD
(POST only for the action routes, when an action handler is installed); slow clients get a socket
timeout and their own thread, so they cannot hold up anyone else.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from tray import document
from tray.store import Store

log = logging.getLogger(__name__)

HEARTBEAT = 10.0        # seconds between SSE comments; the contract promises at most 15
REQUEST_TIMEOUT = 10.0  # seconds a client may take to send its request (and to read what we send)
MAX_BODY = 64 * 1024

DocumentBuilder = Callable[[], Mapping[str, Any]]
ActionHandler = Callable[[str, Mapping[str, str], bytes], tuple[int, Mapping[str, Any]]]


def dashboard_template() -> str:
    """tray/dashboard/index.html: package data, found through importlib.resources like the contract."""
    return (files("tray") / "dashboard" / "index.html").read_text(encoding="utf-8")


class PortInUse(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], endpoint: "Endpoint") -> None:
        self.endpoint = endpoint
        super().__init__(addr, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = REQUEST_TIMEOUT
    # Headers and body go out in two writes: with Nagle on, a keep-alive client's delayed ACK held
    # every 200 answer for 40 ms (measured by bench/endpoint.py). TCP_NODELAY sends at once.
    disable_nagle_algorithm = True
    server_version = "secondline"
    sys_version = ""

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("endpoint: " + fmt, *args)

    def handle_one_request(self) -> None:
        # As the base class, but an unknown method is 405 (not 501), after the Host check.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.dispatch()
            self.wfile.flush()
        except (TimeoutError, socket.timeout, ConnectionError, BrokenPipeError):
            self.close_connection = True

    # -- checks -------------------------------------------------------------------------------
    def _host_ok(self) -> bool:
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").strip().lower()
        return host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}")

    def _cors(self) -> dict[str, str]:
        origin = self.headers.get("Origin")
        if origin and origin in self.server.endpoint.allowed_origins:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def _send(self, status: int, body: bytes, ctype: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        for k, v in {**self._cors(), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, (text + "\n").encode(), "text/plain; charset=utf-8", headers)

    # -- routing ------------------------------------------------------------------------------
    def dispatch(self) -> None:
        if not self._host_ok():
            self.close_connection = True
            return self._error(403, "forbidden: Host must be 127.0.0.1, localhost or [::1] with this port")
        path = urlsplit(self.path).path
        ep = self.server.endpoint
        if (self.command == "POST" and ep.action_handler is not None
                and (path.startswith("/actions/") or path in ("/pair", "/pair/status"))):
            return self._action(path)
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True
            return self._error(405, "method not allowed", {"Allow": "GET, HEAD"})
        if path == "/status.json":
            return self._status()
        if path == "/events":
            return self._events()
        if path in ("/", "/index.html"):
            return self._send(200, ep.dashboard_html(), "text/html; charset=utf-8",
                              {"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                          "script-src 'self' 'unsafe-inline'; img-src 'self' data:"})
        if path == "/healthz":
            return self._send(200, b"ok\n", "text/plain; charset=utf-8")
        if path.lstrip("/") in document.CONTRACT_FILES:   # the dashboard reads the words (and its rules) too
            name = path.lstrip("/")
            ctype = "text/javascript; charset=utf-8" if name.endswith(".js") else "application/json"
            return self._send(200, document.contract_bytes(name), ctype)
        if path in ("/favicon.ico", "/favicon.png"):
            from tray.icon import favicon_png   # Pillow only when a browser asks
            return self._send(200, favicon_png(urlsplit(self.path).query, ep.store.latest), "image/png")
        return self._error(404, "not found")

    def _status(self) -> None:
        body = self.server.endpoint.document_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        inm = self.headers.get("If-None-Match", "")
        if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
            self.send_response(304)
            self.send_header("ETag", etag)
            for k, v in self._cors().items():
                self.send_header(k, v)
            self.end_headers()
            return
        self._send(200, body, "application/json", {"ETag": etag})

    def _events(self) -> None:
        ep = self.server.endpoint
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        for k, v in self._cors().items():
            self.send_header(k, v)
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return
        ep.clients_inc(+1)
        try:
            version = ep.store.version
            self._sse(b"retry: 2000\n\n" + b"event: status\ndata: " + ep.document_bytes() + b"\n\n")
            while not ep.stopping.is_set():
                new = ep.store.wait_for_change(version, HEARTBEAT)
                if ep.stopping.is_set():
                    break
                if new != version:
                    version = new
                    self._sse(b"event: status\ndata: " + ep.document_bytes() + b"\n\n")
                else:
                    self._sse(b": ping\n\n")
        except (OSError, ValueError):
            pass   # the client went away
        finally:
            ep.clients_inc(-1)

    def _sse(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _action(self, path: str) -> None:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            return self._error(413, "request body too large")
        body = self.rfile.read(int(length)) if int(length) else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.server.endpoint.action_handler(path, headers, body)  # type: ignore[misc]
        self._send(status, json.dumps(payload).encode(), "application/json")

    def do_GET(self) -> None:  # pragma: no cover - dispatch() routes everything
        self.dispatch()


class Endpoint:
    def __init__(self, store: Store, port: int, *, allowed_origins: tuple[str, ...] = (),
                 extra: Callable[[], Mapping[str, Any]] | None = None,
                 links: Callable[[], list[Mapping[str, Any]]] | None = None,
                 action_handler: ActionHandler | None = None,
                 decorate: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.store = store
        self.port = port
        self.allowed_origins = tuple(allowed_origins)
        self.extra = extra
        self.links = links
        self.action_handler = action_handler
        self.decorate = decorate
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._clients = 0
        self._clients_lock = threading.Lock()
        self._html: bytes | None = None

    @property
    def sse_clients(self) -> int:
        return self._clients

    def clients_inc(self, d: int) -> None:
        with self._clients_lock:
            self._clients += d

    def document(self) -> dict[str, Any]:
        doc = document.to_document(self.store.latest, links=self.links() if self.links else (),
                                   extra=self.extra() if self.extra else None)
        return self.decorate(doc) if self.decorate else doc

    def document_bytes(self) -> bytes:
        return document.dumps(self.document())

    def dashboard_html(self) -> bytes:
        if self._html is None:
            pal = document.palette()
            css = "\n".join(f"  --{k.replace('_', '-')}: {v};" for k, v in pal.items() if isinstance(v, str)
                            and not k.startswith("$"))
            css += "\n" + "\n".join(f"  --text-{k.replace('_', '-')}: {v};" for k, v in pal["text_on"].items())
            self._html = dashboard_template().replace("/*PALETTE*/", css).encode()
        return self._html

    def start(self) -> None:
        try:
            self._server = _Server(("127.0.0.1", self.port), self)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(f"port {self.port} on 127.0.0.1 is already in use (another secondline "
                                f"running?): stop it, or choose another with --port or [server] port") from None
            raise
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="endpoint", daemon=True)
        self._thread.start()
        log.info("endpoint on http://127.0.0.1:%d/", self.port)

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
