"""Actions on alerts (acknowledge, recheck, record on Trello) and on the app (snooze, resume, seen,
refresh, pairing), behind POST routes of the local endpoint and the CLI's control channel.

Who may call (README "Actions and their security"):
- POST /actions/NAME: a paired client, by a request signed with its own key (tray.outputs.http.signing); the answer
  is signed back. Never from a web page: an `Origin` that is not a browser extension, the endpoint
  itself or a configured origin is refused, as is a cross-site fetch without one.
- POST /actions/seen also from the dashboard, with the per-page secret of the page it was served in
  (and its own Origin): the one thing a page of the endpoint may change.
- POST /pair, /pair/status: an allowed extension origin asks; the user approves (tray.outputs.http.pairing).
- The control channel (tray.app.control: a Unix socket both ends check, or the TCP handshake where there is
  none, POST /control/hello + /control): the CLI, as the same user; it alone (and the menu) may approve,
  list and revoke pairings.
Every action reports success or a clear failure (notification and log); a failed one changes nothing
locally.
"""
from __future__ import annotations

import email.message
import getpass
import json
import logging
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from tray.outputs.http import signing
from tray.config.loader import Config
from tray.core.errors import SourceError
from tray.core.model import Alert, SourceSnapshot
from tray.outputs.http.pairing import Pairing
from tray.outputs.http.server import Endpoint
from tray.sources.base import ACKNOWLEDGE, RECHECK, RECORD, Source
from tray.engine.store import Store
from tray.app.userstate import UserState

log = logging.getLogger(__name__)

EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://")
PAGE_HEADER = "x-secondline-page"


class ActionError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header says JSON: the media type parsed (not searched for), and a charset,
    if any, UTF-8."""
    if not content_type:
        return False
    msg = email.message.Message()
    msg["content-type"] = content_type
    if msg.get_content_type() != "application/json":
        return False
    charset = msg.get_param("charset")
    return charset is None or str(charset).lower() in ("utf-8", "utf8")


def own_origins(port: int) -> tuple[str, ...]:
    return (f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://[::1]:{port}")


def origin_allowed(headers: Mapping[str, str], allowed: tuple[str, ...], port: int = 0) -> bool:
    """A browser always sends Origin on a POST; pages may not pass (but our own dashboard), extensions
    and local tools may."""
    origin = headers.get("origin")
    if origin:
        return origin.startswith(EXTENSION_SCHEMES) or origin in allowed or origin in own_origins(port)
    return headers.get("sec-fetch-site", "none") in ("none", "same-origin")


def from_browser(headers: Mapping[str, str]) -> bool:
    """Browsers mark every request with Origin (POST) and Sec-Fetch-*; the CLI sends neither."""
    return bool(headers.get("origin")) or any(k.startswith("sec-fetch-") for k in headers)


Answer = tuple[int, bytes, dict[str, str]]


Announce = Callable[[str, str], None]      # (title, body): a message straight to the user


class Actions:
    """Everything an action touches is handed in: the store, a lookup of running sources, the
    announcer, the user's marks and snooze, pairing, the endpoint it answers for, and the config of
    the moment (a reload replaces it)."""

    def __init__(self, *, store: Store, source: Callable[[str], Source | None], announce: Announce,
                 user: UserState, pairing: Pairing, endpoint: Endpoint, http: Any,
                 config: Callable[[], Config], refresh: Callable[[], None],
                 refresh_source: Callable[[str], None]) -> None:
        self.store = store
        self.source = source
        self.announce = announce
        self.user = user
        self.pairing = pairing
        self.endpoint = endpoint
        self.http = http
        self.config = config
        self.refresh = refresh
        self.refresh_source = refresh_source
        self.challenges = signing.Challenges()

    # -- the HTTP face --------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        path = urlsplit(target).path
        signed: tuple[signing.Signed, str] | None = None
        try:
            self._check_origin(path, headers)      # first: a web page learns nothing more than "forbidden"
            if body and not is_json(headers.get("content-type")):
                raise ActionError(415, "send JSON (Content-Type: application/json)")
            try:
                data = json.loads(body) if body else {}
            except ValueError:
                raise ActionError(400, "the body is not valid JSON") from None
            if not isinstance(data, dict):
                raise ActionError(400, "the body must be a JSON object")
            if path in ("/pair", "/pair/status"):
                return self._json(200, self._pair(path, headers, data))
            if path == "/control/hello":
                return self._json(200, self._hello(data))
            if path == "/actions/seen" and PAGE_HEADER in headers:
                if not self.endpoint.pages.check(headers.get(PAGE_HEADER)):
                    raise ActionError(403, "this dashboard page is out of date: reload it")
                return self._json(200, {"ok": True, **self.do_seen(data)})
            try:
                signed = self.pairing.verifier.check(method, target, headers.get("authorization"), body)
            except ValueError as exc:
                raise ActionError(401, str(exc)) from None
            if path == "/control":
                status, payload = self._control_http(signed[0], data)
                return self._json(status, payload, signed)
            if signed[0].client == "local":
                raise ActionError(403, "the local key is for /control only")
            name = path.removeprefix("/actions/")
            fn = getattr(self, f"do_{name.replace('-', '_')}", None) if path.startswith("/actions/") else None
            if fn is None or name in CONTROL_ONLY:
                raise ActionError(404, f"no action {name!r}")
            return self._json(200, {"ok": True, **fn(data)}, signed)
        except ActionError as exc:
            return self._json(exc.status, {"ok": False, "error": exc.reason}, signed)

    def _check_origin(self, path: str, headers: Mapping[str, str]) -> None:
        """Who may knock at all, by route: pairing from allowed extension origins (or a local program),
        the TCP control handshake from no browser, "seen" with a page secret from the dashboard's own page,
        everything else from anything but a web page."""
        ep = self.endpoint
        origin = headers.get("origin")
        if path in ("/pair", "/pair/status"):
            if origin and self.pairing.policy.label(origin) is None:
                raise ActionError(403, self.pairing.policy.refusal(origin))
            if not origin and headers.get("sec-fetch-site", "none") not in ("none", "same-origin"):
                raise ActionError(403, "forbidden: pairing cannot be asked from a web page")
        elif path in ("/control/hello", "/control"):
            if from_browser(headers):
                raise ActionError(403, "forbidden: /control is for the command line")
        elif path == "/actions/seen" and PAGE_HEADER in headers:
            if (origin and origin not in own_origins(ep.port)) or \
                    headers.get("sec-fetch-site", "same-origin") != "same-origin":
                raise ActionError(403, "forbidden: only the dashboard's own page may do this")
        elif not origin_allowed(headers, ep.allowed_origins, ep.port):
            raise ActionError(403, "forbidden: actions cannot be called from a web page")

    @staticmethod
    def _json(status: int, payload: Mapping[str, Any], signed: tuple[signing.Signed, str] | None = None) -> Answer:
        out = json.dumps(payload).encode()
        headers: dict[str, str] = {}
        if signed is not None:
            headers[signing.RESPONSE_HEADER] = signing.sign_response(signed[1], signed[0].sig, status, out)
        return status, out, headers

    def _pair(self, path: str, headers: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
        pairing = self.pairing
        origin = headers.get("origin")
        if path == "/pair":
            try:
                req, announce = pairing.request(origin)
            except PermissionError as exc:
                raise ActionError(403, str(exc)) from None
            if announce:
                self.announce("Pairing request: code " + req.code,
                              f"{req.label} asks to act on alerts. If its options page shows the same code "
                              f"and address, approve it in the tray menu or run `secondline pair {req.code}`.")
            return {"id": req.id, "code": req.code}
        state, creds = pairing.status(str(data.get("id", "")), origin)
        return {"state": state, **(creds or {})}

    # -- the CLI's channel ---------------------------------------------------------------------
    def _hello(self, data: Mapping[str, Any]) -> dict[str, Any]:
        nonce = data.get("nonce")
        if not isinstance(nonce, str) or not 16 <= len(nonce) <= 200:
            raise ActionError(400, "send {\"nonce\": RANDOM}")
        mine = self.challenges.issue()
        return {"nonce": mine, "proof": signing.hello_proof(self.pairing.local_key(), nonce, mine)}

    def _control_http(self, signed: signing.Signed, data: Mapping[str, Any]) -> tuple[int, Mapping[str, Any]]:
        if signed.client != "local":
            return 403, {"ok": False, "error": "forbidden: /control is for the command line"}
        if not self.challenges.take(str(data.get("challenge", ""))):
            return 401, {"ok": False, "error": "no such challenge (expired or used): try again"}
        args = data.get("args") or {}
        if not isinstance(args, dict):
            return 400, {"ok": False, "error": "args must be an object"}
        return self.control(str(data.get("command", "")), args)

    def control(self, command: str, args: Mapping[str, Any]) -> tuple[int, Mapping[str, Any]]:
        """A command from the CLI (control socket, or the TCP handshake): (status, payload)."""
        try:
            if command == "status":
                return 200, {"ok": True, "document": self.endpoint.document()}
            if command == "pair-list":
                return 200, {"ok": True, **self.pair_list()}
            if command == "pair-revoke":
                gone = self.pairing.revoke(str(args.get("id", "")))
                if gone is None:
                    raise ActionError(404, f"no paired client {args.get('id')!r} (see `secondline pair --list`)")
                return 200, {"ok": True, "id": gone.id, "origin": gone.origin, "label": gone.label}
            if command in ("snooze", "resume", "seen", "refresh", "pair-approve"):
                return 200, {"ok": True, **getattr(self, "do_" + command.replace("-", "_"))(args)}
            raise ActionError(404, f"no command {command!r}")
        except ActionError as exc:
            return exc.status, {"ok": False, "error": exc.reason}

    def pair_list(self) -> dict[str, Any]:
        pairing = self.pairing
        return {"clients": [{"id": c.id, "origin": c.origin, "label": c.label, "paired_at": c.paired_at,
                             "last_used": c.last_used} for c in pairing.clients()],
                "pending": [{"code": r.code, "origin": r.origin, "label": r.label} for r in pairing.pending()]}

    # -- alert actions ---------------------------------------------------------------------------
    def _find(self, data: Mapping[str, Any], action: str) -> tuple[Source, Alert]:
        """The running source and the alert an action is asked for; refused unless the source offers it."""
        source, aid = str(data.get("source", "")), str(data.get("id", ""))
        snap = self.store.latest
        s = snap.source(source)
        if s is None:
            raise ActionError(404, f"no source {source!r}")
        for a in s.alerts:
            if a.id == aid:
                self._check_offered(s, action)
                running = self.source(source)
                if running is None:
                    raise ActionError(409, f"source {source!r} is not running")
                return running, a
        raise ActionError(404, f"no alert {aid!r} in {source!r}")

    def _check_offered(self, s: SourceSnapshot, action: str) -> None:
        if action in s.capabilities:
            return
        if action == RECORD:
            board = self.config().actions.get("trello")
            if not board:
                raise ActionError(409, "no Trello board configured: set [actions] trello = \"SOURCE-NAME\"")
            if board == s.name:
                raise ActionError(409, f"{s.name!r} is the Trello board itself: its cards are not recorded on it")
            raise ActionError(409, f"[actions] trello = {board!r} is not a running trello source")
        raise ActionError(409, f"{s.type} sources cannot {action}")

    def _author(self) -> str:
        user = self.config().user
        return user.name or getpass.getuser()

    def _run(self, what: str, alert: Alert, fn) -> str:
        try:
            result = fn()
        except SourceError as exc:
            self.announce(f"{what} failed: {alert.title}", exc.reason)
            log.warning("%s of %s/%s failed: %s", what, alert.source, alert.id, exc.reason)
            raise ActionError(502, exc.reason) from None
        self.announce(f"{what}: {alert.title}", str(result or "done"))
        log.info("%s of %s/%s: %s", what, alert.source, alert.id, result)
        self.refresh_source(alert.source)
        return str(result or "")

    def do_acknowledge(self, data: Mapping[str, Any]) -> dict[str, Any]:
        source, alert = self._find(data, ACKNOWLEDGE)
        comment = str(data.get("comment", "") or "acknowledged from secondline")
        hours = float(data.get("hours", self.config().actions.get("silence_hours", 2)))
        result = self._run("Acknowledged", alert, lambda: source.acknowledge(
            self.http, alert, author=self._author(), comment=comment, duration_s=hours * 3600))
        return {"result": result}

    def do_recheck(self, data: Mapping[str, Any]) -> dict[str, Any]:
        source, alert = self._find(data, RECHECK)
        return {"result": self._run("Recheck requested", alert, lambda: source.recheck(self.http, alert))}

    def do_trello(self, data: Mapping[str, Any]) -> dict[str, Any]:
        _, alert = self._find(data, RECORD)
        cfg = self.config().actions
        board = cfg.get("trello")
        trello = self.source(board) if isinstance(board, str) else None
        if trello is None or not trello.records:
            raise ActionError(409, f"[actions] trello = {board!r} is not a running trello source")
        list_id = cfg.get("trello_list_id") or getattr(trello.settings, "list_id", None)
        if not list_id:
            raise ActionError(409, "no Trello list: set [actions] trello_list_id")
        url = self._run("Recorded on Trello", alert,
                        lambda: trello.create_card(self.http, alert, list_id))
        self.user.remember_card(alert, url)
        return {"card_url": url}

    def from_menu(self, name: str, source: str, alert_id: str) -> None:
        """An alert action chosen in the tray menu: the same code path as POST /actions/NAME (results
        are announced; a refusal is logged, as the menu has nowhere to show it)."""
        try:
            getattr(self, f"do_{name}")({"source": source, "id": alert_id})
        except ActionError as exc:
            log.warning("%s failed: %s", name, exc.reason)

    # -- app actions -----------------------------------------------------------------------------
    def do_snooze(self, data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            until = self.user.snooze(str(data.get("preset", "1h")))
        except ValueError as exc:
            raise ActionError(400, str(exc)) from None
        return {"snoozed_until": until.isoformat()}

    def do_resume(self, data: Mapping[str, Any]) -> dict[str, Any]:
        self.user.resume()
        return {}

    def do_seen(self, data: Mapping[str, Any]) -> dict[str, Any]:
        self.user.mark_seen()
        return {}

    def do_refresh(self, data: Mapping[str, Any]) -> dict[str, Any]:
        self.refresh()
        return {}

    def do_pair_approve(self, data: Mapping[str, Any]) -> dict[str, Any]:
        req = self.pairing.decide(str(data.get("code", "")), approve=not data.get("deny"))
        if req is None:
            raise ActionError(404, "no pairing request waits with that code (see `secondline pair --list`)")
        self.store.touch()        # the menu and the status document drop the request
        return {"label": req.label, "origin": req.origin, "state": req.state, "client": req.client_id}


# Only the CLI and the menu may do these: a paired client approving others would be an escalation.
CONTROL_ONLY = {"pair-approve"}
