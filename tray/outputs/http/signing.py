"""Signed requests on the local endpoint: who may act, proven without a secret on the wire.

Every paired client (a browser extension, a local script) holds its own key; it never sends it. A
request carries

    Authorization: Secondline client=ID, ts=MILLISECONDS, nonce=RANDOM, sig=HMAC

where HMAC = HMAC-SHA256(key, canonical request) in base64url, over the method, the path, the client,
the time, the nonce and the SHA-256 of the body. The tray checks the client is paired, the time is
within WINDOW_MS of its own clock (the browser and the tray share the machine's clock) and not before
the tray started (a request captured while the tray was down cannot be replayed to it after a
restart), the nonce is new, and the HMAC. It answers with

    X-Secondline-Signature: HMAC(key, canonical response)

over the request's signature, the status and the body, so the client knows the answer came from the
tray and not from whatever else listens on the port.

Keys are derived, not stored: key = HMAC(master, "client key" + id), the master being the per-install
secret (keyring). Revoking a client is forgetting its id.

Pure functions and two small thread-safe caches; tests/outputs/http/test_signing.py and the extension's
lib/signing.js test vectors pin the format, which the two sides must agree on byte for byte.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass

SCHEME = "Secondline"
VERSION = "secondline-v1"
WINDOW_MS = 60_000            # how far a request's time may be from the tray's
MAX_NONCES = 20_000           # remembered nonces (a minute's worth at 300 requests a second)
RESPONSE_HEADER = "X-Secondline-Signature"

_PARAM = re.compile(r"\s*([a-z]+)=([A-Za-z0-9_\-]{1,200})\s*")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(key: str, text: str) -> str:
    return b64url(hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest())


def body_hash(body: bytes) -> str:
    return b64url(hashlib.sha256(body).digest())


def derive(master: str, purpose: str) -> str:
    """A key for one purpose ("client:ID", "local", "fingerprint") from the per-install master."""
    return _mac(master, f"{VERSION} key\n{purpose}")


def new_id() -> str:
    """12 characters, shown in `secondline pair --list` and typed after `--revoke`: never with a leading
    "-", which argparse (and most command lines) would read as an option (1 id in 64 did)."""
    while True:
        out = secrets.token_urlsafe(9)
        if not out.startswith("-"):
            return out


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def canonical_request(method: str, path: str, client: str, ts: int, nonce: str, body: bytes) -> str:
    return "\n".join((VERSION, method.upper(), path, client, str(ts), nonce, body_hash(body)))


def canonical_response(request_sig: str, status: int, body: bytes) -> str:
    return "\n".join((VERSION + " response", request_sig, str(status), body_hash(body)))


def sign_request(key: str, method: str, path: str, client: str, body: bytes, *, ts: int | None = None,
                 nonce: str | None = None) -> str:
    """The Authorization header value for one request."""
    ts = int(time.time() * 1000) if ts is None else ts
    nonce = nonce or new_nonce()
    sig = _mac(key, canonical_request(method, path, client, ts, nonce, body))
    return f"{SCHEME} client={client}, ts={ts}, nonce={nonce}, sig={sig}"


def sign_response(key: str, request_sig: str, status: int, body: bytes) -> str:
    return _mac(key, canonical_response(request_sig, status, body))


def equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass(frozen=True)
class Signed:
    client: str
    ts: int
    nonce: str
    sig: str


def parse_authorization(value: str | None) -> Signed | None:
    """The parts of a `Secondline` Authorization header; None when absent or malformed."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme != SCHEME:
        return None
    params: dict[str, str] = {}
    for part in rest.split(","):
        m = _PARAM.fullmatch(part)
        if not m or m.group(1) in params:
            return None
        params[m.group(1)] = m.group(2)
    if set(params) != {"client", "ts", "nonce", "sig"} or not params["ts"].isdigit():
        return None
    return Signed(params["client"], int(params["ts"]), params["nonce"], params["sig"])


class Nonces:
    """Nonces seen within the window: a nonce is accepted once."""

    def __init__(self, window_ms: int = WINDOW_MS, cap: int = MAX_NONCES) -> None:
        self.window_ms = window_ms
        self.cap = cap
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def fresh(self, nonce: str, now_ms: int) -> bool:
        with self._lock:
            if len(self._seen) >= self.cap:
                for n, t in list(self._seen.items()):
                    if now_ms - t > 2 * self.window_ms:
                        del self._seen[n]
                if len(self._seen) >= self.cap:
                    return False      # a flood: refuse rather than forget nonces still in the window
            if nonce in self._seen:
                return False
            self._seen[nonce] = now_ms
            return True


class Verifier:
    """Checks signed requests against the keys of paired clients (key_for(id) -> key or None)."""

    def __init__(self, key_for, clock=time.time) -> None:
        self.key_for = key_for
        self.clock = clock
        self.started_ms = int(clock() * 1000)
        self.nonces = Nonces()

    def check(self, method: str, path: str, authorization: str | None, body: bytes) -> tuple[Signed, str]:
        """(the signed parts, the client's key), or ValueError with the reason for a 401."""
        signed = parse_authorization(authorization)
        if signed is None:
            raise ValueError("not signed: pair this client first (`secondline pair --help`)")
        key = self.key_for(signed.client)
        if key is None:
            raise ValueError("this client is not paired (revoked, or paired with another install): pair again")
        now = int(self.clock() * 1000)
        if abs(now - signed.ts) > WINDOW_MS:
            raise ValueError("the request's time is more than a minute off the tray's clock")
        if signed.ts < self.started_ms:
            raise ValueError("the request was signed before the tray started: send it again")
        want = _mac(key, canonical_request(method, path, signed.client, signed.ts, signed.nonce, body))
        if not equal(want, signed.sig):
            raise ValueError("bad signature: pair this client again")
        if not self.nonces.fresh(signed.nonce, now):
            raise ValueError("this request was already received (replayed)")
        return signed, key


class PageSecrets:
    """Per-page secrets for the dashboard: each page served carries its own, which its state-changing
    requests send back. Stateless (an HMAC under a key of this process), so any number of open pages
    are valid without a table; a restart invalidates them, and the dashboard fetches a fresh page."""

    def __init__(self) -> None:
        self._key = secrets.token_urlsafe(32)

    def mint(self) -> str:
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{_mac(self._key, 'dashboard page ' + nonce)}"

    def check(self, value: str | None) -> bool:
        if not value or value.count(".") != 1:
            return False
        nonce, mac = value.split(".")
        return bool(nonce) and equal(mac, _mac(self._key, "dashboard page " + nonce))


class Challenges:
    """Server nonces handed out by the TCP control handshake (/control/hello), each usable once
    within 30 s."""

    TTL = 30.0
    CAP = 256

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._open: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        nonce = new_nonce()
        with self._lock:
            now = self.clock()
            for n, t in list(self._open.items()):
                if now - t > self.TTL:
                    del self._open[n]
            while len(self._open) >= self.CAP:
                del self._open[next(iter(self._open))]
            self._open[nonce] = now
        return nonce

    def take(self, nonce: str) -> bool:
        with self._lock:
            t = self._open.pop(nonce, None)
        return t is not None and self.clock() - t <= self.TTL


def hello_proof(key: str, client_nonce: str, server_nonce: str) -> str:
    """The tray's proof, in the TCP control handshake, that it knows the install's key."""
    return _mac(key, f"{VERSION} hello\n{client_nonce}\n{server_nonce}")
