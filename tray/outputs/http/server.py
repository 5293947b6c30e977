"""The local endpoint, loopback only: /status.json, /events (SSE), / (dashboard), /healthz.

Security: only 127.0.0.1 is ever bound; a request whose Host is not this loopback address and
port is refused (DNS rebinding); no CORS header unless the Origin is configured; only GET/HEAD
(POST only for the action routes, when an action handler is installed); no page of it may be framed
(CSP frame-ancestors 'none', X-Frame-Options: DENY, on every answer); the dashboard carries a per-page
secret for the one thing it may change (tray.outputs.http.signing.PageSecrets). Connections are capped
(MAX_CONNECTIONS, each its own thread) and each must send its whole request within REQUEST_DEADLINE
(a reaper closes it otherwise, however slowly it trickles); when the cap is reached the connection
that has waited longest without sending a request makes room.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from tray.core import document
from tray.outputs.http.signing import PageSecrets
from tray.engine.store import Store

log = logging.getLogger(__name__)

HEARTBEAT = 10.0        # seconds between SSE comments; the contract promises at most 15
REQUEST_TIMEOUT = 10.0  # seconds a socket read or write may block (a slow reader of /events is dropped)
REQUEST_DEADLINE = 10.0  # seconds from connecting (or the last answer) to the end of the request's body
MAX_CONNECTIONS = 64     # open connections (threads); the extension and each dashboard hold one
MAX_BODY = 64 * 1024
PAGE_SECRET = "__SECONDLINE_PAGE_SECRET__"   # in the dashboard template: each page served gets its own

# Every answer: no page of the endpoint may be framed (clickjacking), nothing is sniffed or referred.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
                    "Referrer-Policy": "no-referrer"}
DASHBOARD_CSP = ("default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
                 "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
# Headers that decide who may act: sent twice, they are refused rather than guessed at.
SINGLE_HEADERS = ("host", "origin", "content-type", "content-length", "authorization", "x-secondline-page",
                  "sec-fetch-site")

DocumentBuilder = Callable[[], Mapping[str, Any]]
# (method, request target, headers lower-cased, body) -> (status, JSON body, extra headers)
ActionHandler = Callable[[str, str, Mapping[str, str], bytes], tuple[int, bytes, Mapping[str, str]]]


def dashboard_template() -> str:
    """tray/outputs/http/dashboard/index.html: package data, found through importlib.resources like the contract."""
    return (files("tray.outputs.http") / "dashboard" / "index.html").read_text(encoding="utf-8")


class PortInUse(Exception):
    pass


class Connections:
    """The open connections and what each is doing: "waiting" for its request (with a deadline) or
    "busy" (being answered, or streaming /events)."""

    def __init__(self, cap: int = MAX_CONNECTIONS, deadline: float = REQUEST_DEADLINE, clock=time.monotonic) -> None:
        self.cap = cap
        self.deadline = deadline
        self.clock = clock
        self._lock = threading.Lock()
        self._conns: dict[socket.socket, tuple[str, float]] = {}
        self.evicted = 0
        self.refused = 0
        self.expired = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._conns)

    def admit(self, conn: socket.socket) -> bool:
        """Room for a new connection: free, or made by closing the one that has waited longest without
        sending a request. False when every slot is busy."""
        with self._lock:
            if len(self._conns) >= self.cap:
                waiting = [(since, c) for c, (phase, since) in self._conns.items() if phase == "waiting"]
                if not waiting:
                    self.refused += 1
                    return False
                _, oldest = min(waiting, key=lambda w: w[0])
                del self._conns[oldest]
                self.evicted += 1
                _hang_up(oldest)
            self._conns[conn] = ("waiting", self.clock())
            return True

    def waiting(self, conn: socket.socket) -> None:
        with self._lock:
            if conn in self._conns:
                self._conns[conn] = ("waiting", self.clock())

    def busy(self, conn: socket.socket) -> None:
        with self._lock:
            if conn in self._conns:
                self._conns[conn] = ("busy", self.clock())

    def remove(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.pop(conn, None)

    def reap(self) -> int:
        """Hang up every connection still waiting for its request past the deadline."""
        now = self.clock()
        with self._lock:
            late = [c for c, (phase, since) in self._conns.items() if phase == "waiting" and now - since > self.deadline]
            for c in late:
                del self._conns[c]
            self.expired += len(late)
        for c in late:
            _hang_up(c)
        return len(late)


def _hang_up(conn: socket.socket) -> None:
    # shutdown() wakes the thread blocked reading it; the thread then closes it.
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], endpoint: "Endpoint") -> None:
        self.endpoint = endpoint
        super().__init__(addr, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.endpoint.conns.admit(request):
            try:
                request.setblocking(False)
                request.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n"
                             b"Retry-After: 1\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.endpoint.conns.remove(request)
        super().shutdown_request(request)


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
        # As the base class, but an unknown method is 405 (not 501), after the Host check; the request
        # must arrive within the deadline (Connections.reap), not merely a byte every REQUEST_TIMEOUT.
        self.server.endpoint.conns.waiting(self.connection)
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
        self.send_header("Cache-Control", "no-cache")
        for k, v in {**SECURITY_HEADERS, **self._cors(), **(headers or {})}.items():
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
        for name in SINGLE_HEADERS:
            if len(self.headers.get_all(name) or ()) > 1:
                self.close_connection = True
                return self._error(400, f"{name} sent more than once")
        path = urlsplit(self.path).path
        ep = self.server.endpoint
        if (self.command == "POST" and ep.action_handler is not None
                and (path.startswith("/actions/") or path in ACTION_PATHS)):
            return self._action()
        ep.conns.busy(self.connection)
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True
            return self._error(405, "method not allowed", {"Allow": "GET, HEAD"})
        if path == "/status.json":
            return self._status()
        if path == "/events":
            return self._events()
        if path in ("/", "/index.html"):
            html = ep.dashboard_html().replace(PAGE_SECRET.encode(), ep.pages.mint().encode())
            return self._send(200, html, "text/html; charset=utf-8", {"Content-Security-Policy": DASHBOARD_CSP})
        if path == "/healthz":
            return self._send(200, b"ok\n", "text/plain; charset=utf-8")
        if path.lstrip("/") in document.CONTRACT_FILES:   # the dashboard reads the words (and its rules) too
            name = path.lstrip("/")
            ctype = "text/javascript; charset=utf-8" if name.endswith(".js") else "application/json"
            return self._send(200, document.contract_bytes(name), ctype)
        if path in ("/favicon.ico", "/favicon.png"):
            from tray.outputs.tray.icon import favicon_png   # Pillow only when a browser asks
            return self._send(200, favicon_png(urlsplit(self.path).query, ep.store.latest), "image/png")
        return self._error(404, "not found")

    def _status(self) -> None:
        body = self.server.endpoint.document_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        inm = self.headers.get("If-None-Match", "")
        if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
            self.send_response(304)
            self.send_header("ETag", etag)
            for k, v in {**SECURITY_HEADERS, **self._cors()}.items():
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
        for k, v in {**SECURITY_HEADERS, **self._cors()}.items():
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

    def _action(self) -> None:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            return self._error(413, "request body too large")
        body = self.rfile.read(int(length)) if int(length) else b""
        if len(body) < int(length):
            self.close_connection = True
            return
        self.server.endpoint.conns.busy(self.connection)
        headers = {k.lower(): v for k, v in self.headers.items()}
        handler = self.server.endpoint.action_handler
        status, out, extra = handler(self.command, self.path, headers, body)  # type: ignore[misc]
        self._send(status, out, "application/json", extra)

    def do_GET(self) -> None:  # pragma: no cover - dispatch() routes everything
        self.dispatch()


ACTION_PATHS = ("/pair", "/pair/status", "/control/hello", "/control")


class Endpoint:
    def __init__(self, store: Store, port: int, *, allowed_origins: tuple[str, ...] = (),
                 extra: Callable[[], Mapping[str, Any]] | None = None,
                 links: Callable[[], list[Mapping[str, Any]]] | None = None,
                 action_handler: ActionHandler | None = None,
                 decorate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 max_connections: int = MAX_CONNECTIONS, request_deadline: float = REQUEST_DEADLINE) -> None:
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
        self.pages = PageSecrets()
        self.conns = Connections(max_connections, request_deadline)

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
        threading.Thread(target=self._reap, name="endpoint-reaper", daemon=True).start()
        log.info("endpoint on http://127.0.0.1:%d/", self.port)

    def _reap(self) -> None:
        step = min(1.0, self.conns.deadline / 4)
        while not self.stopping.wait(step):
            self.conns.reap()

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
