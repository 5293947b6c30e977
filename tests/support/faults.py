"""A loopback HTTP server that answers with one chosen fault, for every source type's tests.

    with FaultServer() as srv:
        srv.ok(b'{"results": []}')            # a good answer on every path
        srv.route("/api/v2/alerts", [...])    # a good answer on one path prefix (JSON-encoded)
        srv.fault("truncated_json")           # every path now answers with that fault
        url = srv.base_url("refused")         # base URL to configure for the fault
        expected_kind("refused")              # the SourceError.kind the client must report

A raw socket server rather than http.server, because the faults need byte-level control:
responses that stop mid-body, trickle a byte a second, never answer, or are never accepted.
"""
from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

FAULTS = (
    "connect_timeout", "read_timeout", "refused", "tls", "http500", "http401", "http403",
    "http429_retry_after", "http429_bare", "html_login", "empty", "truncated_json", "wrong_shape",
    "oversize", "trickle",
)

_KINDS = {
    "connect_timeout": "timeout", "read_timeout": "timeout", "refused": "refused", "tls": "tls",
    "http500": "server", "http401": "auth", "http403": "auth", "http429_retry_after": "rate_limited",
    "http429_bare": "rate_limited", "html_login": "bad_content", "empty": "bad_content",
    "truncated_json": "bad_content", "wrong_shape": "bad_content", "oversize": "oversize",
    "trickle": "slow",
}

# Issue 17's "blind" fault is not a transport fault but a per-type answer (well-formed, successful,
# empty because the reader cannot see): tests/support/sourcespecs.py holds each type's, and the fault
# matrix runs it as one more column after these.
BLIND = "blind"
MATRIX_FAULTS = FAULTS + (BLIND,)

# Words a user-facing reason must contain for each fault (plain words, not exception names).
REASON_WORDS = {
    "connect_timeout": "timed out", "read_timeout": "within", "refused": "refused", "tls": "TLS",
    "http500": "HTTP 500", "http401": "HTTP 401", "http403": "HTTP 403", "http429_retry_after": "429",
    "http429_bare": "429", "html_login": "HTML", "empty": "empty", "truncated_json": "truncated",
    "wrong_shape": "shape", "oversize": "cap", "trickle": "slowly",
}

HTML_LOGIN = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
              b"<form action='/login' method='post'><input name='user'><input type='password' name='pw'>"
              b"</form></body></html>")
WRONG_SHAPE = b'["unexpected", 42, null]'
RETRY_AFTER = 7


def expected_kind(fault: str) -> str:
    return _KINDS[fault]


@dataclass
class Answer:
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


class FaultServer:
    def __init__(self) -> None:
        self._mode = "ok"
        self._default = Answer(b"{}")
        self._routes: list[tuple[str, Answer]] = []
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._plain = self._listen()
        self.port = self._plain.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._serve(self._plain, None)
        self._tls_port: int | None = None
        self._blackhole_port: int | None = None
        self._refused_port: int | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="faultsrv-")

    # -- configuration ----------------------------------------------------------------------
    def ok(self, body: Any, *, status: int = 200, content_type: str = "application/json",
           headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._mode = "ok"
            self._default = Answer(_encode(body), status, content_type, dict(headers or {}))

    def route(self, prefix: str, body: Any, *, status: int = 200, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._mode = "ok"
            self._routes.insert(0, (prefix, Answer(_encode(body), status, content_type, dict(headers or {}))))

    def fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}")
        with self._lock:
            self._mode = name

    def base_url(self, fault: str | None = None) -> str:
        """The base URL a source should be configured with to meet `fault`."""
        if fault == "refused":
            return f"http://127.0.0.1:{self._refused()}"
        if fault == "connect_timeout":
            return f"http://127.0.0.1:{self._blackhole()}"
        if fault == "tls":
            return f"https://127.0.0.1:{self._tls()}"
        if fault is not None:
            self.fault(fault)
        return self.url

    def configure(self, fault: str) -> str:
        """Set the fault and return the base URL for it in one call."""
        self.fault(fault)
        return self.base_url(fault)

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> "FaultServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass
        self._tmp.cleanup()

    # -- special listeners --------------------------------------------------------------------
    def _listen(self, backlog: int = 64) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(backlog)
        self._sockets.append(s)
        return s

    def _refused(self) -> int:
        if self._refused_port is None:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self._refused_port = s.getsockname()[1]
            s.close()   # nothing listens there now: connections are refused
        return self._refused_port

    def _blackhole(self) -> int:
        """A listener that never accepts, with its queue full, so new SYNs are dropped: connect times out."""
        if self._blackhole_port is None:
            s = self._listen(backlog=0)
            port = s.getsockname()[1]
            for _ in range(8):
                c = socket.socket()
                c.settimeout(0.3)
                try:
                    c.connect(("127.0.0.1", port))
                    self._sockets.append(c)
                except OSError:
                    c.close()
                    break
            self._blackhole_port = port
        return self._blackhole_port

    def _tls(self) -> int:
        if self._tls_port is None:
            cert = os.path.join(self._tmp.name, "cert.pem")
            key = os.path.join(self._tmp.name, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                            "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                           check=True, capture_output=True)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            s = self._listen()
            self._tls_port = s.getsockname()[1]
            self.tls_cert = cert
            self._serve(s, ctx)
        return self._tls_port

    # -- serving ------------------------------------------------------------------------------
    def _serve(self, listener: socket.socket, tls: ssl.SSLContext | None) -> None:
        def loop() -> None:
            try:
                listener.settimeout(0.2)
            except OSError:
                return          # closed before the thread started
            while not self._stop.is_set():
                try:
                    conn, _ = listener.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                t = threading.Thread(target=self._handle, args=(conn, tls), daemon=True)
                t.start()
        t = threading.Thread(target=loop, daemon=True)
        t.start()
        self._threads.append(t)

    def _read_request(self, conn: socket.socket) -> Request | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return Request(method, path, headers, rest[:length])

    def _answer_for(self, path: str) -> Answer:
        for prefix, ans in self._routes:
            if path.startswith(prefix):
                return ans
        return self._default

    def _handle(self, conn: socket.socket, tls: ssl.SSLContext | None) -> None:
        try:
            conn.settimeout(30)
            if tls is not None:
                try:
                    conn = tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return   # the client refused our self-signed certificate: that is the point
            req = self._read_request(conn)
            if req is None:
                return
            with self._lock:
                self.requests.append(req)
                mode = self._mode
                answer = self._answer_for(req.path)
            self._respond(conn, mode, answer)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _head(status: int, reason: str, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, conn: socket.socket, status: int, body: bytes, ctype: str = "application/json",
              extra: dict[str, str] | None = None, reason: str = "") -> None:
        headers = {"Content-Type": ctype, "Content-Length": str(len(body)), "Connection": "close"}
        headers.update(extra or {})
        conn.sendall(self._head(status, reason or _REASONS.get(status, "Status"), headers) + body)

    def _respond(self, conn: socket.socket, mode: str, answer: Answer) -> None:
        if mode in ("ok", "refused", "connect_timeout", "tls"):
            self._send(conn, answer.status, answer.body, answer.content_type, answer.headers)
        elif mode == "read_timeout":
            self._stop.wait(60)
        elif mode == "http500":
            self._send(conn, 500, b'{"error": "internal"}')
        elif mode == "http401":
            self._send(conn, 401, b'{"error": "unauthorized"}', extra={"WWW-Authenticate": 'Basic realm="api"'})
        elif mode == "http403":
            self._send(conn, 403, b'{"error": "forbidden"}')
        elif mode == "http429_retry_after":
            self._send(conn, 429, b'{"error": "rate limited"}', extra={"Retry-After": str(RETRY_AFTER)})
        elif mode == "http429_bare":
            self._send(conn, 429, b'{"error": "rate limited"}')
        elif mode == "html_login":
            self._send(conn, 200, HTML_LOGIN, "text/html; charset=utf-8")
        elif mode == "empty":
            self._send(conn, 200, b"")
        elif mode == "truncated_json":
            full = answer.body if len(answer.body) > 8 else b'{"results": [{"name": "a", "attrs": {}}]}'
            head = self._head(200, "OK", {"Content-Type": "application/json",
                                          "Content-Length": str(len(full)), "Connection": "close"})
            conn.sendall(head + full[: len(full) // 2])
        elif mode == "wrong_shape":
            self._send(conn, 200, WRONG_SHAPE)
        elif mode == "oversize":
            # No Content-Length: the client must count what arrives, not trust a header.
            conn.sendall(self._head(200, "OK", {"Content-Type": "application/json", "Connection": "close"}))
            chunk = b" " * 65536
            sent = 0
            while sent < 21 * 1024 * 1024 and not self._stop.is_set():
                conn.sendall(chunk)
                sent += len(chunk)
        elif mode == "trickle":
            body = answer.body or b"{}"
            conn.sendall(self._head(200, "OK", {"Content-Type": "application/json",
                                                "Content-Length": str(len(body) + 100), "Connection": "close"}))
            for b in (body + b" " * 100):
                if self._stop.wait(1.0):
                    return
                conn.sendall(bytes([b]))


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def wait_until(pred: Any, timeout: float = 10.0, step: float = 0.05) -> Any:
    """Poll `pred` until truthy; return its value or raise AssertionError on timeout."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(step)
