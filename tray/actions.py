"""Actions on alerts (acknowledge, recheck, record on Trello) and on the app (snooze, resume, seen,
refresh, pairing), behind POST routes of the local endpoint.

Who may call: a request must not come from a web page (an `Origin` that is not a browser extension
or a configured origin is refused, as is a cross-site fetch without one), and must carry the
per-install token (tray.pairing). The menu calls the same functions directly.
Every action reports success or a clear failure (notification and log); a failed one changes
nothing locally.
"""
from __future__ import annotations

import getpass
import json
import logging
from typing import TYPE_CHECKING, Any, Mapping

from tray.errors import SourceError
from tray.model import Alert

if TYPE_CHECKING:
    from tray.app import App

log = logging.getLogger(__name__)

EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://")


class ActionError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def origin_allowed(headers: Mapping[str, str], allowed: tuple[str, ...], port: int = 0) -> bool:
    """A browser always sends Origin on a POST; pages may not pass (but our own dashboard), extensions
    and local tools may."""
    origin = headers.get("origin")
    if origin:
        own = (f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://[::1]:{port}")
        return origin.startswith(EXTENSION_SCHEMES) or origin in allowed or origin in own
    return headers.get("sec-fetch-site", "none") in ("none", "same-origin")


class Actions:
    def __init__(self, app: "App") -> None:
        self.app = app

    # -- the HTTP face --------------------------------------------------------------------------
    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, Any]]:
        try:
            if not origin_allowed(headers, self.app.endpoint.allowed_origins, self.app.endpoint.port):
                raise ActionError(403, "forbidden: actions cannot be called from a web page")
            ctype = headers.get("content-type", "")
            if body and "application/json" not in ctype:
                raise ActionError(415, "send JSON (Content-Type: application/json)")
            try:
                data = json.loads(body) if body else {}
            except ValueError:
                raise ActionError(400, "the body is not valid JSON") from None
            if not isinstance(data, dict):
                raise ActionError(400, "the body must be a JSON object")
            if path in ("/pair", "/pair/status"):
                return 200, self._pair(path, headers, data)
            auth = headers.get("authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            # The dashboard (same origin, no token) may mark alerts seen: harmless, and it is how a
            # user who reads the dashboard clears the "new" marks.
            same_origin_seen = path == "/actions/seen" and headers.get("sec-fetch-site") == "same-origin"
            if not same_origin_seen and not self.app.pairing.check(token):
                raise ActionError(401, "missing or wrong token: pair this client first")
            name = path.removeprefix("/actions/")
            fn = getattr(self, f"do_{name.replace('-', '_')}", None)
            if fn is None:
                raise ActionError(404, f"no action {name!r}")
            return 200, {"ok": True, **fn(data)}
        except ActionError as exc:
            return exc.status, {"ok": False, "error": exc.reason}

    def _pair(self, path: str, headers: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
        pairing = self.app.pairing
        if path == "/pair":
            origin = headers.get("origin", "local client")
            try:
                req = pairing.request(str(data.get("client", "client")), origin)
            except ValueError as exc:
                raise ActionError(429, str(exc)) from None
            self.app.announce("Pairing request: code " + req.code,
                              f"{req.client} ({req.origin}) asks to control secondline. If it shows the same "
                              f"code, approve it in the tray menu or run `secondline pair {req.code}`.")
            return {"id": req.id, "code": req.code}
        state, token = pairing.status(str(data.get("id", "")))
        out: dict[str, Any] = {"state": state}
        if token:
            out["token"] = token
        return out

    # -- alert actions ---------------------------------------------------------------------------
    def _find(self, data: Mapping[str, Any]) -> tuple[Any, Alert]:
        source, aid = str(data.get("source", "")), str(data.get("id", ""))
        snap = self.app.store.latest
        s = snap.source(source)
        if s is None:
            raise ActionError(404, f"no source {source!r}")
        for a in s.alerts:
            if a.id == aid:
                runner = self.app.scheduler.runners.get(source)
                if runner is None or runner.source is None:
                    raise ActionError(409, f"source {source!r} is not running")
                return runner.source, a
        raise ActionError(404, f"no alert {aid!r} in {source!r}")

    def _author(self) -> str:
        user = self.app.config.user
        return user.name or getpass.getuser()

    def _run(self, what: str, alert: Alert, fn) -> str:
        try:
            result = fn()
        except SourceError as exc:
            self.app.announce(f"{what} failed: {alert.title}", exc.reason)
            log.warning("%s of %s/%s failed: %s", what, alert.source, alert.id, exc.reason)
            raise ActionError(502, exc.reason) from None
        self.app.announce(f"{what}: {alert.title}", str(result or "done"))
        log.info("%s of %s/%s: %s", what, alert.source, alert.id, result)
        self.app.refresh_source(alert.source)
        return str(result or "")

    def do_acknowledge(self, data: Mapping[str, Any]) -> dict[str, Any]:
        source, alert = self._find(data)
        comment = str(data.get("comment", "") or "acknowledged from secondline")
        hours = float(data.get("hours", self.app.config_actions().get("silence_hours", 2)))
        result = self._run("Acknowledged", alert, lambda: source.acknowledge(
            self.app.http, alert, author=self._author(), comment=comment, duration_s=hours * 3600))
        return {"result": result}

    def do_recheck(self, data: Mapping[str, Any]) -> dict[str, Any]:
        source, alert = self._find(data)
        return {"result": self._run("Recheck requested", alert, lambda: source.recheck(self.app.http, alert))}

    def do_trello(self, data: Mapping[str, Any]) -> dict[str, Any]:
        _, alert = self._find(data)
        cfg = self.app.config_actions()
        board = cfg.get("trello")
        if not board:
            raise ActionError(409, "no Trello board configured: set [actions] trello = \"SOURCE-NAME\"")
        runner = self.app.scheduler.runners.get(board)
        if runner is None or runner.source is None or not hasattr(runner.source, "create_card"):
            raise ActionError(409, f"[actions] trello = {board!r} is not a running trello source")
        list_id = cfg.get("trello_list_id") or getattr(runner.source.settings, "list_id", None)
        if not list_id:
            raise ActionError(409, "no Trello list: set [actions] trello_list_id")
        url = self._run("Recorded on Trello", alert,
                        lambda: runner.source.create_card(self.app.http, alert, list_id))
        self.app.remember_card(alert, url)
        return {"card_url": url}

    # -- app actions -----------------------------------------------------------------------------
    def do_snooze(self, data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            until = self.app.snooze(str(data.get("preset", "1h")))
        except ValueError as exc:
            raise ActionError(400, str(exc)) from None
        return {"snoozed_until": until.isoformat()}

    def do_resume(self, data: Mapping[str, Any]) -> dict[str, Any]:
        self.app.resume()
        return {}

    def do_seen(self, data: Mapping[str, Any]) -> dict[str, Any]:
        self.app.mark_seen()
        return {}

    def do_refresh(self, data: Mapping[str, Any]) -> dict[str, Any]:
        self.app.refresh()
        return {}

    def do_pair_approve(self, data: Mapping[str, Any]) -> dict[str, Any]:
        req = self.app.pairing.decide(str(data.get("code", "")), approve=not data.get("deny"))
        if req is None:
            raise ActionError(404, "no pairing request waits with that code")
        return {"client": req.client, "state": req.state}
