"""The imperative shell: wires config, keyring, scheduler, store, endpoint, notifier and icon."""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from tray import config as config_mod
from tray.config import Config
from tray.credentials import secret_lookup
from tray.errors import ConfigError
from tray.net import Http
from tray.notify import ConsoleBackend, Notification, Notifier, make_backend
from tray.scheduler import Scheduler
from tray.server import Endpoint
from tray.store import Store

log = logging.getLogger(__name__)

CONFIG_POLL = 2.0   # seconds between checks of the config file's mtime


class App:
    def __init__(self, config: Config, *, headless: bool = False, port: int | None = None,
                 watch_config: bool = True, backend: Any = None) -> None:
        self.config = config
        self.headless = headless
        self.port = port if port is not None else config.server.port
        self.watch_config = watch_config
        self.stop_event = threading.Event()
        self.http = Http()
        self.store = Store()
        self.scheduler = Scheduler(self.store, self.http, secret_lookup)
        self.endpoint = Endpoint(self.store, self.port, allowed_origins=config.server.allowed_origins,
                                 links=self._links, extra=self._extra)
        self.notifier = Notifier(backend or ConsoleBackend(), enabled=config.notifications.enabled,
                                 min_gap=config.notifications.min_gap)
        self.tray: Any = None
        self._config_mtime = self._mtime()
        self._last_config_error: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint.port}/"

    def start(self) -> None:
        """Bind the endpoint first (a taken port is a start-up error), then start polling."""
        self.endpoint.start()
        self.notifier.dashboard_url = self.dashboard_url
        self.store.subscribe(self.notifier.on_change)
        self.scheduler.start(self.config.sources)
        if self.watch_config and self.config.path and Path(self.config.path).exists():
            threading.Thread(target=self._watch_config, name="config-watch", daemon=True).start()

    def serve(self, with_tray: bool) -> None:
        """Block until quit (menu, SIGINT/SIGTERM), then shut down."""
        if with_tray:
            from tray.trayicon import TrayIcon
            self.tray = TrayIcon(self)
            threading.Thread(target=self._wait_stop_then_stop_tray, daemon=True).start()
            self._install_signals()
            self.tray.run()
        else:
            self._install_signals()
            while not self.stop_event.wait(0.5):
                pass
        self.shutdown()

    def _wait_stop_then_stop_tray(self) -> None:
        self.stop_event.wait()
        if self.tray is not None:
            self.tray.stop()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.quit())

    def quit(self) -> None:
        self.stop_event.set()

    def shutdown(self) -> None:
        self.scheduler.stop()
        self.endpoint.stop()
        self.notifier.close()
        self.store.close()
        log.info("stopped")

    # -- actions from the menu / endpoint -----------------------------------------------------
    def refresh(self) -> None:
        self.scheduler.refresh_all()

    def snoozed(self) -> bool:
        return self.notifier.snoozed()

    def snooze(self, seconds: float) -> None:
        until = datetime.now(timezone.utc) + timedelta(seconds=seconds)
        self.notifier.snoozed_until = until
        self.store.set_snoozed(until)
        log.info("notifications snoozed until %s UTC", until.strftime("%H:%M"))

    def resume(self) -> None:
        self.notifier.snoozed_until = None
        self.store.set_snoozed(None)
        log.info("notifications resumed")

    def menu_lines(self) -> tuple[str, ...]:
        return ()

    # -- config reload ------------------------------------------------------------------------
    def _mtime(self) -> float | None:
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
            new = config_mod.load(self.config.path)
        except ConfigError as exc:
            text = str(exc)
            log.error("config not reloaded, keeping the last good one: %s", text)
            if text != self._last_config_error:
                self._last_config_error = text
                self.notifier.backend.show(Notification("secondline: config not reloaded", text))
            return False
        self._last_config_error = None
        if new.server.port != self.config.server.port:
            log.warning("server.port changed: restart secondline to use the new port")
        self.config = new
        self.notifier.enabled = new.notifications.enabled
        self.notifier.min_gap = new.notifications.min_gap
        self.endpoint.allowed_origins = new.server.allowed_origins
        self.scheduler.set_sources(new.sources)
        log.info("config reloaded from %s (%d sources)", new.path, len(new.sources))
        return True

    # -- status document extras ---------------------------------------------------------------
    def _links(self) -> list[Mapping[str, Any]]:
        return [{"title": l.title, "url": l.url, "group": l.group} for l in self.config.links]

    def _extra(self) -> Mapping[str, Any]:
        return {}


def make_notification_backend(headless: bool) -> Any:
    return make_backend(headless)


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    import socket
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False
