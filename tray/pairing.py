"""The endpoint's action token and the pairing that hands it to a browser extension.

Design (see README "Actions and their security"):
- One random per-install token, kept in the OS keyring (user `__endpoint__`, which no source name can
  be: names are letters, digits and '-'). Every POST /actions/... must carry it as a bearer token.
  The CLI, running as the same user, reads it from the keyring; a web page cannot read it.
- The extension gets it through pairing: it asks (POST /pair), the tray shows a six-digit code in a
  notification and the menu, the user checks that the extension shows the same code and approves
  (menu, or `secondline pair CODE`), and the extension's next POST /pair/status returns the token once.
- Without a keyring the token lives in memory for this run only (never written in plaintext), so
  pairing must be repeated after a restart.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from tray.errors import CredentialError

log = logging.getLogger(__name__)

TOKEN_USER = "__endpoint__"
PAIRING_TTL = 300.0     # seconds a pairing request stays open
MAX_PENDING = 5


def memory_token() -> str:
    """A token for this run only (demo mode: no keyring, no credentials). The environment variable
    SECONDLINE_SECRET___ENDPOINT__ may fix it, as for any secret."""
    import os
    from tray import credentials
    token = os.environ.get(credentials.env_var(TOKEN_USER)) or secrets.token_urlsafe(32)
    credentials.REDACTOR.add(token)
    return token


def load_or_create_token() -> tuple[str, bool]:
    """(token, persistent). Persistent when the keyring holds it."""
    from tray import credentials
    try:
        token = credentials.get_secret(TOKEN_USER)
        if not token:
            token = secrets.token_urlsafe(32)
            credentials.set_secret(TOKEN_USER, token)
        return token, True
    except CredentialError as exc:
        log.warning("action token kept in memory for this run only (%s)", exc)
        token = secrets.token_urlsafe(32)
        credentials.REDACTOR.add(token)
        return token, False


@dataclass
class PairingRequest:
    id: str
    code: str
    client: str
    origin: str
    created: float
    state: str = "pending"          # pending | approved | denied | delivered | expired
    delivered: bool = field(default=False)


class Pairing:
    """`token` may be a string or a function giving it: the keyring is then only opened when the
    first action or pairing arrives (opening it loads the Secret Service client, ~9 MB)."""

    def __init__(self, token: "str | Callable[[], str]", clock=time.monotonic) -> None:
        self._token = token
        self.clock = clock
        self._lock = threading.Lock()
        self._requests: dict[str, PairingRequest] = {}

    @property
    def token(self) -> str:
        if callable(self._token):
            with self._lock:
                if callable(self._token):
                    self._token = self._token()
        return self._token  # type: ignore[return-value]

    def check(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented.encode(), self.token.encode())

    def request(self, client: str, origin: str) -> PairingRequest:
        with self._lock:
            self._expire()
            pending = [r for r in self._requests.values() if r.state == "pending"]
            if len(pending) >= MAX_PENDING:
                raise ValueError("too many pairing requests waiting; approve or wait five minutes")
            req = PairingRequest(id=secrets.token_urlsafe(16), code=f"{secrets.randbelow(10**6):06d}",
                                 client=client[:60], origin=origin[:120], created=self.clock())
            self._requests[req.id] = req
            return req

    def pending(self) -> list[PairingRequest]:
        with self._lock:
            self._expire()
            return [r for r in self._requests.values() if r.state == "pending"]

    def decide(self, code: str, approve: bool = True) -> PairingRequest | None:
        with self._lock:
            self._expire()
            for r in self._requests.values():
                if r.state == "pending" and hmac.compare_digest(r.code, code.strip()):
                    r.state = "approved" if approve else "denied"
                    return r
            return None

    def status(self, rid: str) -> tuple[str, str | None]:
        """(state, token-once). The token is handed out exactly once, after approval."""
        token = self.token
        with self._lock:
            self._expire()
            r = self._requests.get(rid)
            if r is None:
                return "unknown", None
            if r.state == "approved" and not r.delivered:
                r.delivered = True
                r.state = "delivered"
                return "approved", token
            return r.state, None

    def _expire(self) -> None:
        now = self.clock()
        for rid, r in list(self._requests.items()):
            if now - r.created > PAIRING_TTL:
                if r.state == "pending":
                    r.state = "expired"
                if now - r.created > 2 * PAIRING_TTL:
                    del self._requests[rid]
