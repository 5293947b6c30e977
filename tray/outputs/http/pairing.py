"""The per-install master key, the paired clients, and the pairing that adds one.

Design (README "Actions and their security"):
- One random per-install master key, kept in the OS keyring (user `__endpoint__`, which no source name
  can be: names are letters, digits and '-'). It never leaves the process: each paired client gets its
  own key derived from it (tray.outputs.http.signing.derive), and signs its requests with it
  (tray.outputs.http.signing).
- A client is paired through a request the user approves: POST /pair from an allowed origin (the
  extension ids the project publishes, or what `[server] extension_ids` / `allowed_origins` list), a
  six-digit code shown in a pop-up and the menu with the requesting ORIGIN (never a name the caller
  chose), approved in the menu or with `secondline pair CODE`; the requester's next POST /pair/status
  returns its client id and key, once.
- Paired clients are listed in `clients.json` next to state.json (0600; ids, origins, dates: no key, the
  keys are derived), tagged with a fingerprint of the master so that a new master (a wiped keyring)
  drops them. `secondline pair --list` shows them, `--revoke ID` forgets one.
- Without a keyring the master lives in memory for this run only (never written in plaintext) and so
  do the pairings: they must be repeated after a restart.
- Flooding: pending requests are kept per origin (at most PER_ORIGIN each: a new one replaces that
  origin's oldest), so requests from one origin never push out another's unless the whole table
  (MAX_PENDING) is full; pop-ups are rate-limited per origin.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from tray.outputs.http import signing
from tray.core.errors import CredentialError

log = logging.getLogger(__name__)

TOKEN_USER = "__endpoint__"
PAIRING_TTL = 300.0     # seconds a pairing request stays open
PER_ORIGIN = 3          # pending requests kept per origin
MAX_PENDING = 32        # pending requests kept in all
ANNOUNCE_GAP = 10.0     # seconds between two pairing pop-ups for the same origin

# What the project publishes (extension/manifest.json): the Chrome id fixed by the manifest's public
# key, and the Firefox add-on id. Firefox never sends the add-on id: an extension's Origin is
# moz-extension://<a UUID drawn per profile>, so the Firefox entry admits any such origin and the user's
# approval (with the origin shown on both sides) is the gate.
CHROME_ID = "kkpkhhhgpljijmnplonjmooccgfjojbh"
GECKO_ID = "secondline@secondline.invalid"
PUBLISHED_EXTENSION_IDS = (CHROME_ID, GECKO_ID)

CHROME_ID_RE = re.compile(r"[a-p]{32}")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
GECKO_ID_RE = re.compile(r"[A-Za-z0-9._+\-]+@[A-Za-z0-9._\-]+|\{" + UUID_RE.pattern + r"\}")


def extension_id_problem(entry: str) -> str | None:
    """Why `entry` is not a valid `[server] extension_ids` entry, or None."""
    e = entry.strip()
    if CHROME_ID_RE.fullmatch(e.removeprefix("chrome-extension://")):
        return None
    if GECKO_ID_RE.fullmatch(e):
        return None
    if e.startswith("moz-extension://") and UUID_RE.fullmatch(e.removeprefix("moz-extension://")):
        return None
    return ("expected a Chrome extension id (32 letters a-p), a Firefox add-on id (name@domain or "
            "{UUID}), or moz-extension://UUID (one Firefox profile's internal UUID)")


class OriginPolicy:
    """Which origins may ask to pair, and how each is shown to the user."""

    def __init__(self, extension_ids: Iterable[str] = PUBLISHED_EXTENSION_IDS,
                 allowed_origins: Iterable[str] = ()) -> None:
        ids = [e.strip() for e in extension_ids]
        self.chrome = {e.removeprefix("chrome-extension://") for e in ids
                       if CHROME_ID_RE.fullmatch(e.removeprefix("chrome-extension://"))}
        self.any_firefox = any(GECKO_ID_RE.fullmatch(e) for e in ids)
        self.firefox = {e for e in ids if e.startswith("moz-extension://")}
        self.allowed_origins = tuple(allowed_origins)

    def label(self, origin: str | None) -> str | None:
        """How the requester is shown in the approval pop-up, or None when it may not pair."""
        if not origin:
            return "a local program (no Origin header)"
        if origin.startswith("chrome-extension://"):
            ext = origin.removeprefix("chrome-extension://")
            if ext not in self.chrome:
                return None
            who = "the secondline extension" if ext == CHROME_ID else "a Chrome extension"
            return f"{who} in Chrome/Chromium ({origin})"
        if origin.startswith("moz-extension://"):
            if not UUID_RE.fullmatch(origin.removeprefix("moz-extension://")):
                return None
            if origin in self.firefox:
                return f"the Firefox extension {origin}"
            if self.any_firefox:
                return f"a Firefox extension ({origin})"
            return None
        if origin in self.allowed_origins:
            return f"the configured origin {origin}"
        return None

    def refusal(self, origin: str | None) -> str:
        return (f"forbidden: {origin} may not pair. secondline pairs with its own extension (Chrome "
                f"{CHROME_ID}, Firefox {GECKO_ID}) and what [server] extension_ids and allowed_origins add")


# -- the master key ------------------------------------------------------------------------------

def memory_token() -> tuple[str, bool]:
    """A master for this run only (demo mode: no keyring, no credentials). The environment variable
    SECONDLINE_SECRET___ENDPOINT__ may fix it, as for any secret."""
    from tray.platform import credentials
    token = os.environ.get(credentials.env_var(TOKEN_USER)) or secrets.token_urlsafe(32)
    credentials.REDACTOR.add(token)
    return token, False


def load_or_create_token() -> tuple[str, bool]:
    """(master, persistent). Persistent when the keyring (or the environment) holds it."""
    from tray.platform import credentials
    try:
        token = credentials.get_secret(TOKEN_USER)
        if not token:
            token = secrets.token_urlsafe(32)
            credentials.set_secret(TOKEN_USER, token)
        return token, True
    except CredentialError as exc:
        log.warning("the endpoint's key is kept in memory for this run only, so browser pairings last until "
                    "the tray stops (%s)", exc)
        token = secrets.token_urlsafe(32)
        credentials.REDACTOR.add(token)
        return token, False


def stored_token() -> str:
    """The master from the keyring for a local client (the CLI's TCP fallback); CredentialError when none."""
    from tray.platform import credentials
    token = credentials.get_secret(TOKEN_USER)
    if not token:
        raise CredentialError("the tray's key is not in the keyring yet: start `secondline run` once")
    return token


# -- paired clients ------------------------------------------------------------------------------

@dataclass
class PairedClient:
    id: str
    origin: str
    label: str
    paired_at: str
    last_used: str | None = field(default=None, compare=False)


@dataclass
class PairingRequest:
    id: str
    code: str
    origin: str
    label: str
    created: float
    state: str = "pending"          # pending | approved | denied | delivered | expired
    client_id: str | None = None


def _now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Pairing:
    """`master` is the key or a function giving (key, persistent): the keyring is then only opened when
    the first signed request or pairing arrives (opening it loads the Secret Service client, ~9 MB)."""

    def __init__(self, master: "str | Callable[[], tuple[str, bool]]", clients_path: str | os.PathLike | None = None,
                 policy: OriginPolicy | None = None, clock=time.monotonic) -> None:
        self._master_src = master
        self._master: str | None = None
        self._persistent = False
        self.clients_path = Path(clients_path) if clients_path else None
        self.policy = policy or OriginPolicy()
        self.clock = clock
        self._lock = threading.RLock()
        self._requests: dict[str, PairingRequest] = {}
        self._clients: dict[str, PairedClient] | None = None
        self._announced: dict[str, float] = {}
        self.verifier = signing.Verifier(self.key_for)

    # -- keys -----------------------------------------------------------------------------------
    @property
    def master(self) -> str:
        with self._lock:
            if self._master is None:
                if callable(self._master_src):
                    self._master, self._persistent = self._master_src()
                else:
                    self._master, self._persistent = self._master_src, True
            return self._master

    def client_key(self, client_id: str) -> str:
        return signing.derive(self.master, "client:" + client_id)

    def local_key(self) -> str:
        """The key of the CLI's TCP fallback (it reads the master from the keyring itself)."""
        return signing.derive(self.master, "local")

    def key_for(self, client_id: str) -> str | None:
        if client_id == "local":
            return self.local_key()
        with self._lock:
            client = self._load().get(client_id)
            if client is None:
                return None
            client.last_used = _now_iso()
        return self.client_key(client_id)

    # -- the clients file -----------------------------------------------------------------------
    def _fingerprint(self) -> str:
        return signing.derive(self.master, "fingerprint")[:22]

    def _load(self) -> dict[str, PairedClient]:
        if self._clients is not None:
            return self._clients
        self._clients = {}
        self.master                                   # decides persistence
        if self.clients_path is None or not self._persistent:
            return self._clients
        try:
            doc = json.loads(self.clients_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return self._clients
        except (OSError, ValueError) as exc:
            log.warning("paired clients unreadable (%s: %s): pair the browsers again", self.clients_path, exc)
            return self._clients
        if not isinstance(doc, dict) or not hmac.compare_digest(str(doc.get("fingerprint", "")),
                                                                 self._fingerprint()):
            log.warning("the endpoint's key changed since %s was written: its pairings no longer apply",
                        self.clients_path)
            return self._clients
        for raw in doc.get("clients", []):
            try:
                c = PairedClient(id=str(raw["id"]), origin=str(raw["origin"]), label=str(raw["label"]),
                                 paired_at=str(raw["paired_at"]))
            except (KeyError, TypeError):
                continue
            self._clients[c.id] = c
        return self._clients

    def _save(self) -> None:
        if self.clients_path is None or not self._persistent:
            return
        from tray.platform import fsutil
        doc = {"version": 1, "fingerprint": self._fingerprint(),
               "clients": [{k: v for k, v in asdict(c).items() if k != "last_used"}
                           for c in self._load().values()]}
        try:
            fsutil.write_atomic(self.clients_path, json.dumps(doc, indent=1), mode=0o600)
        except OSError as exc:
            log.warning("cannot save the paired clients to %s: %s", self.clients_path, exc)

    def clients(self) -> list[PairedClient]:
        with self._lock:
            return sorted(self._load().values(), key=lambda c: c.paired_at)

    def revoke(self, client_id: str) -> PairedClient | None:
        with self._lock:
            gone = self._load().pop(client_id, None)
            if gone is not None:
                self._save()
                log.info("pairing revoked: %s (%s)", gone.id, gone.origin)
            return gone

    # -- requests -------------------------------------------------------------------------------
    def request(self, origin: str | None) -> tuple[PairingRequest, bool]:
        """A new pending request from `origin` (already allowed by the policy), and whether to announce it
        (pop-ups are rate-limited per origin; the menu and `pair --list` show every request)."""
        label = self.policy.label(origin)
        if label is None:
            raise PermissionError(self.policy.refusal(origin))
        key = origin or ""
        with self._lock:
            self._expire()
            now = self.clock()
            mine = sorted((r for r in self._requests.values() if r.state == "pending" and r.origin == key),
                          key=lambda r: r.created)
            while len(mine) >= PER_ORIGIN:
                self._requests.pop(mine.pop(0).id, None)
            pending = [r for r in self._requests.values() if r.state == "pending"]
            if len(pending) >= MAX_PENDING:
                # Full: push out the oldest request of the origin that holds the most.
                by_origin: dict[str, list[PairingRequest]] = {}
                for r in pending:
                    by_origin.setdefault(r.origin, []).append(r)
                crowd = max(by_origin.values(), key=len)
                self._requests.pop(min(crowd, key=lambda r: r.created).id, None)
            req = PairingRequest(id=secrets.token_urlsafe(16), code=self._new_code(), origin=key,
                                 label=label, created=now)
            self._requests[req.id] = req
            announce = now - self._announced.get(key, -ANNOUNCE_GAP) >= ANNOUNCE_GAP
            if announce:
                self._announced[key] = now
            return req, announce

    def _new_code(self) -> str:
        taken = {r.code for r in self._requests.values() if r.state == "pending"}
        while True:
            code = f"{secrets.randbelow(10**6):06d}"
            if code not in taken:
                return code

    def pending(self) -> list[PairingRequest]:
        with self._lock:
            self._expire()
            return sorted((r for r in self._requests.values() if r.state == "pending"), key=lambda r: r.created)

    def decide(self, code: str, approve: bool = True) -> PairingRequest | None:
        with self._lock:
            self._expire()
            for r in self._requests.values():
                if r.state == "pending" and hmac.compare_digest(r.code, code.strip()):
                    if approve:
                        r.state = "approved"
                        r.client_id = signing.new_id()
                        self._load()[r.client_id] = PairedClient(id=r.client_id, origin=r.origin or "(no Origin)",
                                                                 label=r.label, paired_at=_now_iso())
                        self._save()
                        log.info("pairing approved: %s for %s", r.client_id, r.origin or "a local program")
                    else:
                        r.state = "denied"
                    return r
            return None

    def status(self, rid: str, origin: str | None) -> tuple[str, dict[str, str] | None]:
        """(state, credentials-once). The client id and key are handed out exactly once, after approval,
        and only to the origin that asked."""
        with self._lock:
            self._expire()
            r = self._requests.get(rid)
            if r is None or r.origin != (origin or ""):
                return "unknown", None
            if r.state == "approved" and r.client_id:
                r.state = "delivered"
                key = self.client_key(r.client_id)
                from tray.platform import credentials
                credentials.REDACTOR.add(key)
                return "approved", {"client": r.client_id, "key": key}
            return r.state, None

    def _expire(self) -> None:
        now = self.clock()
        for rid, r in list(self._requests.items()):
            if now - r.created > PAIRING_TTL:
                if r.state == "pending":
                    r.state = "expired"
                if now - r.created > 2 * PAIRING_TTL:
                    del self._requests[rid]
