"""The imperative shell: wires config, keyring, scheduler, store, endpoint, notifier, tray and the
pieces that decide (tray.app.userstate: "new" marks, cards, snooze; tray.notify.popups: what pops up; tray.app.actions;
tray.outputs.tray.controller: what a menu entry does), starts and stops them, and applies an edited config."""
from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from tray.config import loader as config_mod
from tray.app.actions import Actions
from tray.config.loader import Config
from tray.app.control import ControlServer
from tray.platform.credentials import secret_lookup
from tray.core.errors import ConfigError
from tray.engine.net import Http
from tray.notify.notifier import ConsoleBackend, Notification, Notifier
from tray.outputs.http.pairing import OriginPolicy, Pairing, load_or_create_token
from tray.notify.popups import Popups
from tray.engine.scheduler import Scheduler
from tray.outputs.http.server import Endpoint
from tray.shift.context import ShiftContext
from tray.sources import offered_actions, record_board
from tray.sources.base import SourceConfig
from tray.app.state import State
from tray.engine.store import Store
from tray.outputs.tray.controller import MenuController
from tray.app.userstate import UserState

log = logging.getLogger(__name__)

CONFIG_POLL = 2.0   # seconds between checks of the config file's mtime


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
        self.user = UserState(self.state, self.store, self.shift)
        # Paired clients are listed next to the state (ids and origins; their keys are derived, not stored).
        self.pairing = Pairing(token if token is not None else load_or_create_token,
                               clients_path=Path(self.state.path).parent / "clients.json",
                               policy=OriginPolicy(config.server.extension_ids, config.server.allowed_origins))
        self.popups = Popups(config.notifications, self.shift, self.user, self.store, self.pairing)
        self.endpoint = Endpoint(self.store, self.port, allowed_origins=config.server.allowed_origins,
                                 links=self._links, extra=self.popups.extra, decorate=self.user.decorate)
        self.actions = Actions(store=self.store, source=self.scheduler.source, announce=self.announce,
                               user=self.user, pairing=self.pairing, endpoint=self.endpoint, http=self.http,
                               config=lambda: self.config, refresh=self.scheduler.refresh_all,
                               refresh_source=self.scheduler.refresh)
        self.endpoint.action_handler = self.actions.handle
        self.control: ControlServer | None = None
        self.notifier = Notifier(backend or ConsoleBackend(), min_gap=config.notifications.min_gap,
                                 decide=self.popups.decide)
        self.notifier.is_snoozed = self.user.snoozed
        self.tray: Any = None
        self._config_mtime = self._mtime()
        self._last_config_error: str | None = None

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
        self.store.subscribe(self.user.observe)
        self.store.subscribe(self.notifier.on_change)
        self.shift.start(self.stop_event)
        self.scheduler.start(self.config.sources)
        if self.watch_config and self.config.path and Path(self.config.path).exists():
            threading.Thread(target=self._watch_config, name="config-watch", daemon=True).start()

    def tray_controller(self) -> MenuController:
        """What the tray backends act through (tray.outputs.tray.menu.TrayController)."""
        return MenuController(store=self.store, user=self.user, popups=self.popups, pairing=self.pairing,
                              actions=self.actions, dashboard_url=lambda: self.dashboard_url,
                              refresh=self.scheduler.refresh_all, reload=self.reload_config, quit=self.quit)

    def serve(self, with_tray: bool) -> None:
        """Block until quit (menu, SIGINT/SIGTERM), then shut down. With a tray, the tray runner picks
        the backend (StatusNotifierItem when a tray host is on the session bus, else pystray) and
        keeps retrying quietly while there is none: the endpoint and notifications run regardless."""
        self._install_signals()
        if with_tray:
            from tray.outputs.tray.runner import TrayRunner
            self.tray = TrayRunner(self.tray_controller(), self.stop_event)
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

    def announce(self, title: str, body: str = "") -> None:
        """A direct message to the user (action results, config errors): not subject to the rules."""
        try:
            self.notifier.backend.show(Notification(title, body, self.dashboard_url))
        except Exception:
            log.exception("cannot show: %s", title)

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
        self.popups.rules = new.notifications
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
