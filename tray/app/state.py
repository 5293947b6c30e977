"""The app's small persistent state: snooze, and which alerts the user has already seen.

One JSON file in the platform's state directory (`user_state_dir("secondline")/state.json`),
replaced atomically (write a temp file in the same directory, fsync, rename) so that a crash or
power cut leaves the old file or the new one, never half of one. A corrupt or unreadable file is
logged and treated as empty: losing a snooze is better than a tray that will not start.

"New" alerts: an alert is new from when it first appears until the user next opens the menu or
the popup (`mark_seen`). An alert that clears and comes back is new again (`prune` forgets it).
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tray.platform import fsutil
from tray.core.model import Alert, iso
from tray.shift.rota import RotaEntry, local_to_utc
from tray.shift.hours import ShiftSettings, shift_end, system_zone

log = logging.getLogger(__name__)

VERSION = 1
SNOOZE_PRESETS = ("15m", "1h", "end-of-shift")


def default_state_path() -> Path:
    import platformdirs   # imported here: tests and pure users never need it
    return Path(platformdirs.user_state_dir("secondline")) / "state.json"


def alert_key(alert: Alert | Mapping[str, Any]) -> str:
    """The key an alert is remembered by: "source/id". An `Alert`, or one of the status document
    (a mapping with "source" and "id"), so that nothing else spells the key out."""
    if isinstance(alert, Mapping):
        return f"{alert['source']}/{alert['id']}"
    return f"{alert.source}/{alert.id}"


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"time without zone: {value!r}")
    return dt.astimezone(timezone.utc)


@dataclass
class State:
    path: Path
    snoozed_until: datetime | None = None
    seen: set[str] = field(default_factory=set)
    first_seen: dict[str, str] = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)      # alert key -> Trello card URL
    # The menu thread, the endpoint and the scheduler all touch the state.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # --- persistence -----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "State":
        """Read the state; a missing file is an empty state, a corrupt one too (with a warning)."""
        p = Path(path) if path is not None else default_state_path()
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            return cls(p)
        except OSError as e:
            log.warning("state file %s unreadable (%s); starting with an empty state", p, e)
            return cls(p)
        try:
            doc = json.loads(raw.decode("utf-8"))     # UnicodeDecodeError is a ValueError
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            seen = doc.get("seen", [])
            first = doc.get("first_seen", {})
            if not isinstance(seen, list) or not all(isinstance(k, str) for k in seen):
                raise ValueError("'seen' is not a list of strings")
            if not isinstance(first, dict) or not all(isinstance(v, str) for v in first.values()):
                raise ValueError("'first_seen' is not a table of times")
            for v in first.values():
                _parse_time(v)
            cards = doc.get("cards", {})
            if not isinstance(cards, dict) or not all(isinstance(v, str) for v in cards.values()):
                raise ValueError("'cards' is not a table of URLs")
            return cls(p, _parse_time(doc.get("snoozed_until")), set(seen), dict(first), dict(cards))
        except ValueError as e:
            log.warning("state file %s is corrupt (%s); starting with an empty state", p, e)
            return cls(p)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"version": VERSION, "snoozed_until": iso(self.snoozed_until),
                    "seen": sorted(self.seen), "first_seen": dict(sorted(self.first_seen.items())),
                    "cards": dict(sorted(self.cards.items()))}

    def save(self) -> None:
        """Write atomically: readers see the old file or the new one, never a partial one."""
        data = json.dumps(self.to_dict(), indent=1).encode("utf-8")
        with self._lock:
            fsutil.write_atomic(self.path, data)

    # --- snooze ----------------------------------------------------------------------------------

    def snooze(self, until: datetime) -> None:
        if until.tzinfo is None:
            raise ValueError("snooze time must be timezone-aware")
        with self._lock:
            self.snoozed_until = until.astimezone(timezone.utc)

    def resume(self) -> None:
        with self._lock:
            self.snoozed_until = None

    def is_snoozed(self, now: datetime) -> bool:
        until = self.snoozed_until
        return until is not None and now < until

    # --- new / seen ------------------------------------------------------------------------------

    def observe(self, current_keys: Iterable[str], now: datetime) -> None:
        """Note when each current alert was first seen (for "new since")."""
        with self._lock:
            for k in current_keys:
                self.first_seen.setdefault(k, iso(now) or "")

    def mark_seen(self, keys: Iterable[str]) -> None:
        """The user opened the menu or popup while these alerts were shown."""
        with self._lock:
            self.seen.update(keys)

    def new_keys(self, current_keys: Iterable[str]) -> set[str]:
        """The current alerts the user has not seen yet."""
        with self._lock:
            return {k for k in current_keys if k not in self.seen}

    def prune(self, current_keys: Iterable[str]) -> bool:
        """Forget alerts that are gone (their marks and cards), so one that comes back is new again.
        True if it changed."""
        keep = set(current_keys)
        with self._lock:
            before = (len(self.seen), len(self.first_seen), len(self.cards))
            self.seen &= keep
            self.first_seen = {k: v for k, v in self.first_seen.items() if k in keep}
            self.cards = {k: v for k, v in self.cards.items() if k in keep}
            return before != (len(self.seen), len(self.first_seen), len(self.cards))

    # --- Trello cards ----------------------------------------------------------------------------

    def set_card(self, key: str, url: str) -> None:
        with self._lock:
            self.cards[key] = url

    def card(self, key: str) -> str | None:
        with self._lock:
            return self.cards.get(key)

    def all_cards(self) -> dict[str, str]:
        with self._lock:
            return dict(self.cards)


_DURATION = re.compile(r"^(\d+)\s*(m|min|h|d)$")
_CLOCK = re.compile(r"^(?:until\s+)?(\d{1,2}):(\d{2})$")


def snooze_until(preset: str, now: datetime, shift_settings: ShiftSettings | None = None,
                 rota: Sequence[RotaEntry] | None = None) -> datetime:
    """The end of a snooze as aware UTC. `preset` is "15m", "1h", "end-of-shift", any "<N>m",
    "<N>h", "<N>d" (for `secondline snooze 30m`), or a time of day "HH:MM" (the next one, in the
    shift's zone). "end-of-shift" raises ValueError when not on shift (the menu greys that item
    out then)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(timezone.utc)
    p = preset.strip().lower()
    if p in ("end-of-shift", "shift", "end_of_shift"):
        if shift_settings is None:
            raise ValueError("no shift configured")
        end = shift_end(shift_settings, now, rota)
        if end is None:
            raise ValueError("not on shift now")
        return end
    clock = _CLOCK.match(p)
    if clock:
        h, mi = int(clock.group(1)), int(clock.group(2))
        if h > 23 or mi > 59:
            raise ValueError(f"{preset!r} is not a time of day (HH:MM)")
        zone = shift_settings.zone() if shift_settings is not None else system_zone()
        today = now.astimezone(zone).date()
        at = local_to_utc(today, time(h, mi), zone)
        return at if at > now else local_to_utc(today + timedelta(days=1), time(h, mi), zone)
    m = _DURATION.match(p)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"unknown snooze {preset!r} (use 15m, 1h, end-of-shift, or e.g. 30m, 2h)")
    n, unit = int(m.group(1)), m.group(2)
    delta = {"m": timedelta(minutes=n), "min": timedelta(minutes=n), "h": timedelta(hours=n),
             "d": timedelta(days=n)}[unit]
    if delta > timedelta(days=7):
        raise ValueError(f"snooze {preset!r} is longer than a week")
    return now + delta


__all__ = ("State", "alert_key", "default_state_path", "snooze_until", "SNOOZE_PRESETS")
