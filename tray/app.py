"""The imperative shell: wires config, keyring, scheduler, store, endpoint, notifier and icon, and
the shift context (hours, rota, on-call, snooze, "new" marks) that decides about pop-ups."""
from __future__ import annotations

import logging
import os
import signal
import threading
import webbrowser
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from tray import config as config_mod
from tray import policy
from tray.actions import Actions
from tray.config import Config
from tray.credentials import secret_lookup
from tray.errors import ConfigError
from tray.model import Alert, Event, Snapshot, iso
from tray.net import Http
from tray.notify import ConsoleBackend, Notification, Notifier
from tray.control import ControlServer
from tray.pairing import OriginPolicy, Pairing, load_or_create_token
from tray.scheduler import Scheduler
from tray.server import Endpoint
from tray.shiftctx import ShiftContext
from tray.sources import offered_actions, record_board
from tray.sources.base import SourceConfig
from tray.state import State, alert_key, snooze_until
from tray.store import Store

if TYPE_CHECKING:
    from tray.traymenu import MenuInputs

log = logging.getLogger(__name__)

CONFIG_POLL = 2.0   # seconds between checks of the config file's mtime
MAX_HELD = 20


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class App:
    def __init__(self, config: Config, *, headless: bool = False, port: int | None = None,
                 watch_config: bool = True, backend: Any = None, state_path: str | None = None,
                 token: "str | Callable[[], tuple[str, bool]] | None" = None) -> None:
        self.config = config
        self.headless = headless
        self.port = port if port is not None else config.server.port
        self.watch_config = watch_config
        self.stop_event = threading.Event()
        self.http = Http()
        self.store = Store(offered=self._offered)
        self.scheduler = Scheduler(self.store, self.http, secret_lookup)
        self.state = State.load(state_path)
        self.shift = ShiftContext(config, self.http)
        self.rules = config.notifications
        # Paired clients are listed next to the state (ids and origins; their keys are derived, not stored).
        self.pairing = Pairing(token if token is not None else load_or_create_token,
                               clients_path=Path(self.state.path).parent / "clients.json",
                               policy=OriginPolicy(config.server.extension_ids, config.server.allowed_origins))
        self.actions = Actions(self)
        self.control: ControlServer | None = None
        self.endpoint = Endpoint(self.store, self.port, allowed_origins=config.server.allowed_origins,
                                 links=self._links, extra=self._extra, decorate=self._decorate,
                                 action_handler=self.actions.handle)
        self.notifier = Notifier(backend or ConsoleBackend(), min_gap=self.rules.min_gap, decide=self._decide)
        self.notifier.is_snoozed = lambda: self.state.is_snoozed(utcnow())
        self.held: list[dict[str, str]] = []
        self.tray: Any = None
        self._config_mtime = self._mtime()
        self._last_config_error: str | None = None
        self._new: set[str] = set()
        if self.state.snoozed_until and self.state.is_snoozed(utcnow()):
            self.store.set_snoozed(self.state.snoozed_until)

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint.port}/"

    def start(self) -> None:
        """Bind the endpoint first (a taken port is a start-up error), then start polling."""
        # From the first moment: a SIGTERM during start-up (a logout, a test) must still shut down cleanly.
        self._install_signals()
        self.endpoint.start()
        self.control = ControlServer(self.endpoint.port, self.actions.control)
        self.control.start()
        self.notifier.dashboard_url = self.dashboard_url
        self.store.subscribe(self._observe)
        self.store.subscribe(self.notifier.on_change)
        self.shift.start(self.stop_event)
        self.scheduler.start(self.config.sources)
        if self.watch_config and self.config.path and Path(self.config.path).exists():
            threading.Thread(target=self._watch_config, name="config-watch", daemon=True).start()

    def serve(self, with_tray: bool) -> None:
        """Block until quit (menu, SIGINT/SIGTERM), then shut down. With a tray, the tray runner picks
        the backend (StatusNotifierItem when a tray host is on the session bus, else pystray) and
        keeps retrying quietly while there is none: the endpoint and notifications run regardless."""
        self._install_signals()
        if with_tray:
            from tray.trayrunner import TrayRunner
            self.tray = TrayRunner(AppTrayController(self), self.stop_event)
            self.tray.run()
        else:
            while not self.stop_event.wait(0.5):
                pass
        self.shutdown()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.quit())

    def quit(self) -> None:
        self.stop_event.set()

    def shutdown(self) -> None:
        self.stop_event.set()
        self.scheduler.stop()
        if self.control is not None:
            self.control.stop()
        self.endpoint.stop()
        self.notifier.close()
        self.store.close()
        log.info("stopped")

    # -- pop-up decisions ---------------------------------------------------------------------
    def _decide(self, event: Event, snap: Snapshot) -> str | None:
        now = utcnow()
        d = policy.decide(event, now_utc=now, on_shift=self.shift.on_shift(now),
                          on_call=policy.on_call_from(snap, now), snoozed_until=self.state.snoozed_until,
                          rules=self.rules, zone=self.shift.zone())
        if d.notify:
            return None
        if not d.quiet:      # only what would have popped up was held back
            what = event.alert.title if event.alert else event.source
            self.held.append({"at": iso(now), "title": what, "reason": d.held or "held"})
            del self.held[:-MAX_HELD]
        return d.held or "held"

    def announce(self, title: str, body: str = "") -> None:
        """A direct message to the user (action results, config errors): not subject to the rules."""
        try:
            self.notifier.backend.show(Notification(title, body, self.dashboard_url))
        except Exception:
            log.exception("cannot show: %s", title)

    # -- "new" marks --------------------------------------------------------------------------
    def _observe(self, snap: Snapshot, events: list[Event]) -> None:
        # Alerts of a source that cannot be read right now are still there (held): keep their marks.
        held = {alert_key(a) for s in snap.sources for a in s.held}
        keys = {alert_key(a) for a in snap.alerts() if a.raises}
        self.state.observe(keys, utcnow())
        pruned = self.state.prune(keys | held)
        with self.state._lock:
            for k in [k for k in self.state.cards if k not in keys | held]:
                del self.state.cards[k]
                pruned = True
        self._new = self.state.new_keys(keys)
        if pruned or events:
            self._save_state()

    def mark_seen(self) -> None:
        keys = {alert_key(a) for a in self.store.latest.alerts()}
        self.state.mark_seen(keys)
        self._new = set()
        self._save_state()
        self.store.touch()

    def is_new(self, alert: Alert) -> bool:
        return alert_key(alert) in self._new

    def _save_state(self) -> None:
        try:
            self.state.save()
        except OSError as exc:
            log.warning("cannot save the app state: %s", exc)

    # -- actions from the menu / endpoint -----------------------------------------------------
    def refresh(self) -> None:
        self.scheduler.refresh_all()

    def refresh_source(self, name: str) -> None:
        r = self.scheduler.runners.get(name)
        if r is not None:
            r.trigger()

    def snoozed(self) -> bool:
        return self.state.is_snoozed(utcnow())

    def snooze(self, preset: str | float) -> datetime:
        """Snooze pop-ups: a preset ("15m", "1h", "end-of-shift", "30m", "14:00") or seconds."""
        if isinstance(preset, (int, float)):
            preset = f"{max(1, int(preset // 60))}m"
        until = snooze_until(preset, utcnow(), self.shift.settings, self.shift.rota)
        self.state.snooze(until)
        self._save_state()
        self.store.set_snoozed(until)
        log.info("notifications snoozed until %s", iso(until))
        return until

    def resume(self) -> None:
        self.state.resume()
        self._save_state()
        self.store.set_snoozed(None)
        log.info("notifications resumed")

    def remember_card(self, alert: Alert, url: str) -> None:
        with self.state._lock:
            self.state.cards[alert_key(alert)] = url
        self._save_state()
        self.store.touch()

    def card_for(self, alert: Alert) -> str | None:
        return self.state.cards.get(alert_key(alert))

    def run_action(self, name: str, source: str, alert_id: str) -> None:
        """From the menu: the same code path as POST /actions/NAME (results are announced)."""
        from tray.actions import ActionError
        try:
            getattr(self.actions, f"do_{name}")({"source": source, "id": alert_id})
        except ActionError as exc:
            log.warning("%s failed: %s", name, exc.reason)

    def config_actions(self) -> Mapping[str, Any]:
        return self.config.actions

    def menu_lines(self) -> tuple[str, ...]:
        now = utcnow()
        lines = []
        if self.shift.settings is not None:
            lines.append(self.shift.text(now))
        oc = policy.on_call_from(self.store.latest, now)
        if oc is not None:
            lines.append("On call now" if oc else "Not on call")
        if self.state.is_snoozed(now):
            lines.append(f"Notifications snoozed until {self.shift.local_hhmm(self.state.snoozed_until)}")
        if self.held:
            h = self.held[-1]
            lines.append(f"Held back: {h['title']} ({h['reason']})")
        for req in self.pairing.pending():
            lines.append(f"Pairing request {req.code} from {req.label}")
        return tuple(lines)

    # -- config reload ------------------------------------------------------------------------
    def _mtime(self) -> int | None:
        try:
            return os.stat(self.config.path).st_mtime_ns
        except (OSError, TypeError):
            return None

    def _watch_config(self) -> None:
        while not self.stop_event.wait(CONFIG_POLL):
            m = self._mtime()
            if m is not None and m != self._config_mtime:
                self._config_mtime = m
                self.reload_config()

    def reload_config(self) -> bool:
        """Apply an edited config. An invalid one keeps the last good config running and says why."""
        try:
            new = config_mod.load(self.config.path)     # every table parsed and checked, as at start-up
        except ConfigError as exc:
            text = str(exc)
            log.error("config not reloaded, keeping the last good one: %s", text)
            if text != self._last_config_error:
                self._last_config_error = text
                self.announce("secondline: config not reloaded", text)
            return False
        self._last_config_error = None
        if new.server.port != self.config.server.port:
            log.warning("server.port changed: restart secondline to use the new port")
        self.config = new
        self.rules = new.notifications
        self.notifier.min_gap = new.notifications.min_gap
        self.endpoint.allowed_origins = new.server.allowed_origins
        self.pairing.policy = OriginPolicy(new.server.extension_ids, new.server.allowed_origins)
        self.shift.reconfigure(new)
        self.scheduler.set_sources(new.sources)
        log.info("config reloaded from %s (%d sources)", new.path, len(new.sources))
        return True

    def _offered(self, source: SourceConfig) -> tuple[str, ...]:
        config = self.config
        return offered_actions(source, record_board(config.sources, config.actions.get("trello")))

    # -- status document extras ---------------------------------------------------------------
    def _links(self) -> list[Mapping[str, Any]]:
        return [{"title": link.title, "url": link.url, "group": link.group} for link in self.config.links]

    def _extra(self) -> Mapping[str, Any]:
        now = utcnow()
        extra: dict[str, Any] = {"notifications": {"held": self.held[-5:], "enabled": self.rules.enabled}}
        oc = policy.on_call_from(self.store.latest, now)
        if self.shift.settings is not None or oc is not None:
            extra["shift"] = {
                "on_shift": self.shift.on_shift(now) if self.shift.settings is not None else None,
                "text": self.shift.text(now) if self.shift.settings is not None else None,
                "on_call": oc,
            }
        return extra

    def _decorate(self, doc: dict[str, Any]) -> dict[str, Any]:
        cards = self.state.cards
        new = self._new
        for s in doc["sources"]:
            for a in s["alerts"]:
                key = f"{a['source']}/{a['id']}"
                a["new"] = key in new
                if key in cards:
                    a["card_url"] = cards[key]
        return doc


class AppTrayController:
    """The app as the tray backends see it (tray.traymenu.TrayController): the seam that lets the
    backends be tested, and `App` be split, without either knowing the other."""

    def __init__(self, app: App) -> None:
        self.app = app

    def latest(self) -> Snapshot:
        return self.app.store.latest

    def subscribe(self, fn: Callable[[Snapshot, list[Event]], None]) -> None:
        self.app.store.subscribe(fn)

    def menu_inputs(self) -> "MenuInputs":
        from tray.traymenu import MenuInputs
        app = self.app
        return MenuInputs(snoozed=app.snoozed(), extra_lines=app.menu_lines(), is_new=app.is_new,
                          card_for=app.card_for, pairing_codes=tuple(r.code for r in app.pairing.pending()))

    def perform(self, action: tuple) -> None:
        app, kind = self.app, action[0]
        try:
            app.mark_seen()            # the user has looked at the menu: nothing is "new" any more
            if kind == "open":
                webbrowser.open(action[1])
            elif kind == "dashboard":
                webbrowser.open(app.dashboard_url)
            elif kind == "refresh":
                app.refresh()
            elif kind == "snooze":
                app.snooze(action[1])
            elif kind == "resume":
                app.resume()
            elif kind == "reload":
                app.reload_config()
            elif kind == "quit":
                app.quit()
            elif kind == "pair":
                app.pairing.decide(action[1])
                app.store.touch()      # the menu and the status document drop the request
            elif kind in ("ack", "recheck", "trello"):
                name = {"ack": "acknowledge", "recheck": "recheck", "trello": "trello"}[kind]
                app.run_action(name, action[1], action[2])
            else:
                log.warning("unknown menu action %r", kind)
        except Exception:
            log.exception("menu action %s failed", kind)
