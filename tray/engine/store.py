"""The Store: the latest Snapshot, and the subscribers told when it changes.

Inputs (the scheduler's threads) only take a lock, rebuild one source's view and reduce; the
subscribers (icon, menu, endpoint, SSE, notifier) are called from one dispatcher thread, so a
slow output can never delay a poll.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Sequence

from tray.core import rules
from tray.core.model import Alert, Event, OnCall, Reading, Snapshot, SourceSnapshot
from tray.sources import capabilities
from tray.sources.base import SourceConfig

log = logging.getLogger(__name__)

Subscriber = Callable[[Snapshot, list[Event]], None]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _State:
    config: SourceConfig
    alerts: tuple[Alert, ...] = ()
    checked_at: datetime | None = None
    error: str | None = None
    on_call: OnCall | None = None
    stream_error: str | None = None
    stale: bool = False
    view: SourceSnapshot | None = None


def _fingerprint(s: Snapshot) -> tuple:
    """What makes a snapshot different for readers: everything but the timestamps of polls (though
    a source's first reading counts: it turns "no data" into a state)."""
    return (s.health, s.handled_only, s.counts, s.groups, s.snoozed_until,
            tuple((x.name, x.group, x.health, x.error, x.stale, x.on_call, x.alerts, x.checked_at is None,
                   x.capabilities) for x in s.sources))


def declared(config: SourceConfig) -> tuple[str, ...]:
    return capabilities(config.type)


class Store:
    def __init__(self, clock: Callable[[], datetime] = utcnow,
                 offered: Callable[[SourceConfig], tuple[str, ...]] = declared) -> None:
        """`offered`: what may be done to a source's alerts (the app's adds recording on its Trello board)."""
        self.clock = clock
        self.offered = offered
        self._lock = threading.RLock()
        self._states: dict[str, _State] = {}
        self._order: list[str] = []
        self._snoozed_until: datetime | None = None
        self._latest: Snapshot = rules.reduce([], clock())
        self._fp = _fingerprint(self._latest)
        self._subscribers: list[Subscriber] = []
        self._queue: "queue.Queue[tuple[Snapshot, list[Event]] | None]" = queue.Queue()
        self._version = 0
        self._changed = threading.Condition()
        self._dispatcher = threading.Thread(target=self._dispatch, name="store-dispatch", daemon=True)
        self._dispatcher.start()

    # -- reading ------------------------------------------------------------------------------
    @property
    def latest(self) -> Snapshot:
        return self._latest

    @property
    def version(self) -> int:
        return self._version

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Block until the version moves past `version` (or timeout); return the current one."""
        with self._changed:
            if self._version == version:
                self._changed.wait(timeout)
            return self._version

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    # -- writing ------------------------------------------------------------------------------
    def configure(self, configs: Sequence[SourceConfig]) -> None:
        """Set the list of sources (start-up and config reload). Unchanged sources keep their data."""
        with self._lock:
            new: dict[str, _State] = {}
            for c in configs:
                old = self._states.get(c.name)
                if old is not None and old.config.type == c.type:
                    old.config = c
                    old.view = None
                    new[c.name] = old
                else:
                    new[c.name] = _State(config=c)
            self._states = new
            self._order = [c.name for c in configs]
            self._publish()

    def record_reading(self, name: str, reading: Reading) -> None:
        with self._lock:
            st = self._states.get(name)
            if st is None:
                return
            st.alerts, st.on_call = self._with_since(st.alerts, reading.alerts), reading.on_call
            st.checked_at, st.error, st.stale, st.view = self.clock(), None, False, None
            self._publish()

    def record_alerts(self, name: str, alerts: Sequence[Alert]) -> None:
        """A pushed update (event stream): the source's full alert list, current now."""
        self.record_reading(name, Reading(alerts=tuple(alerts), on_call=self._states[name].on_call
                                          if name in self._states else None))

    def record_error(self, name: str, reason: str) -> None:
        with self._lock:
            st = self._states.get(name)
            if st is None:
                return
            st.error, st.view = reason, None
            self._publish()

    def set_stream_error(self, name: str, reason: str | None) -> None:
        with self._lock:
            st = self._states.get(name)
            if st is None or st.stream_error == reason:
                return
            st.stream_error, st.view = reason, None
            self._publish()

    def set_snoozed(self, until: datetime | None) -> None:
        with self._lock:
            self._snoozed_until = until
            self._publish()

    def touch(self) -> None:
        """Tell readers to re-read (something outside the snapshot changed: "new" marks, card links)."""
        with self._lock:
            with self._changed:
                self._version += 1
                self._changed.notify_all()
            self._queue.put((self._latest, []))

    def refresh_stale(self) -> None:
        """Mark sources whose last good poll is older than 3 intervals (called every second)."""
        with self._lock:
            now = self.clock()
            changed = False
            for st in self._states.values():
                if st.checked_at is None:
                    continue
                stale = (now - st.checked_at).total_seconds() > rules.STALE_INTERVALS * st.config.interval
                if stale != st.stale:
                    st.stale, st.view, changed = stale, None, True
                    if stale and st.error is None:
                        log.warning("source %s: no good poll for %d intervals: stale", st.config.name,
                                    rules.STALE_INTERVALS)
            if changed:
                self._publish()

    # -- internals ----------------------------------------------------------------------------
    def _with_since(self, before: Sequence[Alert], alerts: Sequence[Alert]) -> tuple[Alert, ...]:
        """Sources that cannot say since when (an HTTP check, Icinga 1) get the time we first saw
        the alert, kept across polls."""
        if all(a.since is not None for a in alerts):
            return tuple(alerts)
        known = {a.key: a.since for a in before}
        now = self.clock()
        return tuple(a if a.since is not None else replace(a, since=known.get(a.key) or now) for a in alerts)

    def _view(self, st: _State) -> SourceSnapshot:
        if st.view is None:
            c = st.config
            error = st.error
            if error is None and st.stale:
                age = (self.clock() - st.checked_at).total_seconds() if st.checked_at else 0
                error = f"no good poll for {age:.0f}s (stale): data not current"
            st.view = rules.source_snapshot(name=c.name, type=c.type, group=c.group, alerts=st.alerts,
                                            checked_at=st.checked_at, error=error, stale=st.stale,
                                            on_call=st.on_call, stream_error=st.stream_error,
                                            capabilities=self.offered(c))
        return st.view

    def _publish(self) -> None:
        views = [self._view(self._states[n]) for n in self._order if n in self._states]
        snap = rules.reduce(views, self.clock(), self._snoozed_until)
        events = rules.diff(self._latest, snap)
        self._latest = snap
        fp = _fingerprint(snap)
        if fp == self._fp and not events:
            return
        self._fp = fp
        with self._changed:
            self._version += 1
            self._changed.notify_all()
        self._queue.put((snap, events))

    def _dispatch(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            snap, events = item
            # Coalesce a backlog: readers want the newest snapshot; events must all be kept.
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    return
                snap, events = nxt[0], events + nxt[1]
            for fn in list(self._subscribers):
                try:
                    fn(snap, events)
                except Exception:
                    log.exception("subscriber %r failed", getattr(fn, "__qualname__", fn))

    def close(self) -> None:
        self._queue.put(None)
