"""The shift as the running app sees it: settings from `[shift]`, the rota (a file or URL, reloaded
hourly), and the answers the notifier and the menu need. The rules themselves are in tray/shift/hours.py."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Sequence

from tray.shift import hours as shift_mod
from tray.config.loader import Config
from tray.core.errors import SourceError
from tray.shift.rota import RotaEntry, load_rota_text

log = logging.getLogger(__name__)

ROTA_REFRESH = 3600.0


class ShiftContext:
    def __init__(self, config: Config, http: Any) -> None:
        self.http = http
        self.settings: shift_mod.ShiftSettings | None = None
        self.rota: Sequence[RotaEntry] | None = None
        self.rota_error: str | None = None
        self._stop: threading.Event | None = None
        self._wake = threading.Event()
        self.reconfigure(config, load=False)

    def reconfigure(self, config: Config, load: bool = True) -> None:
        self.path = config.path
        self.settings = config.shift
        self.rota = None
        if load:
            self._wake.set()

    def start(self, stop: threading.Event) -> None:
        self._stop = stop
        if self.settings is not None and self.settings.rota:
            self.load_rota()
        threading.Thread(target=self._loop, name="rota", daemon=True).start()

    def _loop(self) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            self._wake.wait(ROTA_REFRESH)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self.settings is not None and self.settings.rota:
                self.load_rota()

    def load_rota(self) -> None:
        """Read the rota; on failure keep the last one and fall back to `days` when there is none."""
        assert self.settings is not None and self.settings.rota
        where = self.settings.rota
        try:
            if where.startswith(("http://", "https://")):
                text = self.http.request("GET", where, timeout=20).body.decode("utf-8", "replace")
            else:
                base = Path(self.path).parent if self.path and not self.path.startswith("<") else Path.cwd()
                p = Path(where).expanduser()
                text = (p if p.is_absolute() else base / p).read_text(encoding="utf-8")
            from datetime import timezone
            self.rota = load_rota_text(text, where, tz=self.zone(), now=datetime.now(timezone.utc))
            if self.rota_error:
                log.info("rota %s readable again", where)
            self.rota_error = None
        except (OSError, ValueError, SourceError) as exc:
            msg = f"rota {where}: {exc}"
            if msg != self.rota_error:
                log.warning("%s (using shift days instead)", msg)
            self.rota_error = msg

    def zone(self) -> tzinfo | None:
        return self.settings.zone() if self.settings is not None else None

    def on_shift(self, now: datetime) -> bool:
        """With no [shift] configured, every hour is a working hour."""
        if self.settings is None:
            return True
        return shift_mod.on_shift(self.settings, now, self.rota)

    def text(self, now: datetime) -> str:
        if self.settings is None:
            return ""
        return shift_mod.shift_text(self.settings, now, self.rota)

    def local_hhmm(self, when: datetime | None) -> str:
        if when is None:
            return ""
        zone = self.zone() or shift_mod.system_zone()
        return when.astimezone(zone).strftime("%H:%M")
