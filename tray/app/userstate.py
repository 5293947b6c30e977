"""What the user has done to the alerts and pop-ups: "new" marks (cleared when the menu or the popup
is opened), the Trello card recorded for an alert, and the snooze. Persisted in `State`; this is the
one place that changes it, so the menu thread, the endpoint and the store's dispatcher agree.

The set of alerts new right now is computed on each snapshot (store dispatcher thread) and read by the
menu and the status document (other threads): it has its own lock, and `State` keeps its own for what
it persists.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any

from tray.core.model import Alert, Event, Snapshot, iso
from tray.shift.context import ShiftContext
from tray.app.state import State, alert_key, snooze_until
from tray.engine.store import Store

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UserState:
    def __init__(self, state: State, store: Store, shift: ShiftContext) -> None:
        self.state = state
        self.store = store
        self.shift = shift
        self._lock = threading.Lock()
        self._new: frozenset[str] = frozenset()
        if state.snoozed_until and state.is_snoozed(utcnow()):
            store.set_snoozed(state.snoozed_until)

    # -- "new" marks --------------------------------------------------------------------------
    def observe(self, snap: Snapshot, events: list[Event]) -> None:
        """A store subscriber: note what is new in this snapshot, forget what is gone."""
        # Alerts of a source that cannot be read right now are still there (held): keep their marks.
        held = {alert_key(a) for s in snap.sources for a in s.held}
        keys = {alert_key(a) for a in snap.alerts() if a.raises}
        self.state.observe(keys, utcnow())
        pruned = self.state.prune(keys | held)
        with self._lock:
            self._new = frozenset(self.state.new_keys(keys))
        if pruned or events:
            self.save()

    def mark_seen(self) -> None:
        """The user has looked (menu, popup, dashboard): nothing shown now is new any more."""
        keys = {alert_key(a) for a in self.store.latest.alerts()}
        self.state.mark_seen(keys)
        with self._lock:
            self._new = frozenset()
        self.save()
        self.store.touch()

    def is_new(self, alert: Alert) -> bool:
        with self._lock:
            return alert_key(alert) in self._new

    # -- Trello cards -------------------------------------------------------------------------
    def remember_card(self, alert: Alert, url: str) -> None:
        self.state.set_card(alert_key(alert), url)
        self.save()
        self.store.touch()

    def card_for(self, alert: Alert) -> str | None:
        return self.state.card(alert_key(alert))

    def decorate(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The status document with each alert's "new" mark and Trello card."""
        cards = self.state.all_cards()
        with self._lock:
            new = self._new
        for s in doc["sources"]:
            for a in s["alerts"]:
                key = alert_key(a)
                a["new"] = key in new
                if key in cards:
                    a["card_url"] = cards[key]
        return doc

    # -- snooze -------------------------------------------------------------------------------
    @property
    def snoozed_until(self) -> datetime | None:
        return self.state.snoozed_until

    def snoozed(self, now: datetime | None = None) -> bool:
        return self.state.is_snoozed(now or utcnow())

    def snooze(self, preset: str | float) -> datetime:
        """Snooze pop-ups: a preset ("15m", "1h", "end-of-shift", "30m", "14:00") or seconds."""
        if isinstance(preset, (int, float)):
            preset = f"{max(1, int(preset // 60))}m"
        until = snooze_until(preset, utcnow(), self.shift.settings, self.shift.rota)
        self.state.snooze(until)
        self.save()
        self.store.set_snoozed(until)
        log.info("notifications snoozed until %s", iso(until))
        return until

    def resume(self) -> None:
        self.state.resume()
        self.save()
        self.store.set_snoozed(None)
        log.info("notifications resumed")

    def save(self) -> None:
        try:
            self.state.save()
        except OSError as exc:
            log.warning("cannot save the app state: %s", exc)
