"""One scheduler for all sources: a thread per source (a hanging source delays only itself),
each on its own interval with jitter, exponential back-off on failure (capped), Retry-After and
rate-limit resets honoured, watcher threads for event streams, and a supervisor that notices
stale data and a machine waking from sleep.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, Callable, Sequence

from tray.platform import heap
from tray.engine import polling
from tray.platform.credentials import REDACTOR
from tray.core.errors import SourceError
from tray.core.model import Alert
from tray.core.rules import apply_filters
from tray.sources.base import SecretLookup, Source, SourceConfig
from tray.engine.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
JITTER = 0.1
TRIM_EVERY = 30          # supervisor ticks (seconds) between heap trims (see tray/platform/heap.py)
WAKE_JUMP = 5.0          # seconds the wall clock may run ahead of the monotonic one before we call it sleep


def backoff_delay(interval: float, failures: int, retry_after: float | None = None) -> float:
    """Delay before the next try after `failures` consecutive failures (>= 1)."""
    cap = max(interval, MAX_BACKOFF)
    delay = min(cap, interval * (2 ** max(0, failures - 1)))
    if retry_after is not None:
        delay = max(delay, min(retry_after, 3600.0))
    return delay


class _Context:
    """The StreamContext handed to a source's watchers."""

    def __init__(self, runner: "Runner") -> None:
        self._runner = runner
        self.stop = runner.stop_event

    def publish(self, alerts: Sequence[Alert]) -> None:
        r = self._runner
        r.store.record_alerts(r.name, apply_filters(alerts, r.config.include, r.config.exclude))

    def request_poll(self) -> None:
        self._runner.trigger()

    def connected(self) -> None:
        r = self._runner
        if r.stream_down:
            log.info("source %s: event stream connected again", r.name)
        r.stream_down = False
        r.store.set_stream_error(r.name, None)
        r.trigger()

    def wait(self, seconds: float) -> bool:
        return self.stop.wait(seconds)


class Runner:
    def __init__(self, config: SourceConfig, store: Store, http: Any, secret_lookup: SecretLookup | None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.name = config.name
        self.store = store
        self.http = http
        self.stop_event = threading.Event()
        self._trigger = threading.Event()
        self.failures = 0
        self.bad_reason: str | None = None
        self.stream_down = False
        # Reasons already logged in the current trouble: a poll and its watchers (Icinga's event
        # stream and change detector) often fail for the same reason, and it is said once.
        self._said: set[str] = set()
        self._said_lock = threading.Lock()
        self.polls = 0
        self.rng = rng or random.Random()
        self.source: Source | None
        self.source, failed = polling.start_source(config, secret_lookup)
        self.init_error = failed.reason if failed else None
        if failed:
            log.error("source %s: cannot start", self.name, exc_info=failed.exception)
        self.thread = threading.Thread(target=self._loop, name=f"poll-{self.name}", daemon=True)
        self.watch_threads: list[threading.Thread] = []

    def start(self) -> None:
        self.thread.start()
        if self.source is not None:
            for i, w in enumerate(self.source.watchers()):
                t = threading.Thread(target=self._watch, args=(w,), name=f"watch-{self.name}-{i}", daemon=True)
                self.watch_threads.append(t)
                t.start()

    def stop(self) -> None:
        self.stop_event.set()
        self._trigger.set()
        if self.source is not None:
            try:
                self.source.close()
            except Exception:
                log.exception("source %s: close failed", self.name)

    def trigger(self) -> None:
        self._trigger.set()

    def _say_once(self, reason: str, text: str) -> None:
        with self._said_lock:
            if reason in self._said:
                return
            self._said.add(reason)
        log.warning("source %s: %s", self.name, text)

    def _loop(self) -> None:
        if self.init_error:
            self.store.record_error(self.name, self.init_error)
            return
        delay = self.rng.uniform(0, min(0.5, self.config.interval * JITTER))
        while not self.stop_event.is_set():
            self._trigger.wait(delay)
            self._trigger.clear()
            if self.stop_event.is_set():
                return
            delay = self.poll_once()

    def poll_once(self) -> float:
        """Poll now; record the result; return the delay before the next poll."""
        assert self.source is not None
        interval = self.config.interval
        self.polls += 1
        outcome = polling.poll(self.source, self.config, self.http)
        if not outcome.ok:
            if outcome.kind == "bug" and self.bad_reason is None:
                # A bug in a source: keep the app and the other sources going, log the traceback once.
                log.error("source %s: internal error", self.name, exc_info=outcome.exception)
            return self._failed(outcome.reason or "", outcome.retry_after, outcome.kind)
        if self.bad_reason is not None:
            log.info("source %s: recovered after %d failed poll(s)", self.name, self.failures)
        self.failures, self.bad_reason = 0, None
        with self._said_lock:
            self._said.clear()
        self.store.record_reading(self.name, outcome.reading)
        return interval * (1 + self.rng.uniform(-JITTER, JITTER))

    def _failed(self, reason: str, retry_after: float | None, kind: str) -> float:
        """`reason` is already scrubbed of secrets (tray.engine.polling)."""
        self.failures += 1
        if self.bad_reason is None:
            self._say_once(reason, reason)
        elif kind != "bug" and reason != self.bad_reason:
            log.debug("source %s: still failing: %s", self.name, reason)
        self.bad_reason = reason
        self.store.record_error(self.name, reason)
        if kind == "blind":
            # The server answered, and well: it is the reader that sees nothing. No back-off, so that
            # a fixed permission shows at the next poll.
            return self.config.interval * (1 + self.rng.uniform(-JITTER, JITTER))
        return backoff_delay(self.config.interval, self.failures, retry_after)

    def _watch(self, watcher: Callable[[Any, Any], None]) -> None:
        ctx = _Context(self)
        failures = 0
        while not self.stop_event.is_set():
            reason = None
            try:
                watcher(self.http, ctx)
                failures = 0
            except SourceError as exc:
                reason = REDACTOR.redact(exc.reason)
            except Exception as exc:
                log.exception("source %s: watcher failed", self.name)
                reason = f"internal error in the event stream: {type(exc).__name__}"
            if self.stop_event.is_set():
                return
            failures += 1
            delay = min(60.0, 1.0 * (2 ** min(failures - 1, 6)))
            if reason is not None:
                if not self.stream_down:
                    self._say_once(reason, f"event stream down: {reason}")
                self.stream_down = True
                self.store.set_stream_error(
                    self.name, f"event stream down ({reason}); reconnecting in {delay:.0f}s, "
                               f"polling every {self.config.interval:g}s meanwhile")
            self.stop_event.wait(delay)


class Scheduler:
    def __init__(self, store: Store, http: Any, secret_lookup: SecretLookup | None = None,
                 wall: Callable[[], float] = time.time, mono: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.http = http
        self.secret_lookup = secret_lookup
        self.runners: dict[str, Runner] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.wall, self.mono = wall, mono
        self._last = (wall(), mono())
        self.wakes = 0
        self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    def start(self, configs: Sequence[SourceConfig]) -> None:
        self.set_sources(configs)
        self._supervisor.start()

    def set_sources(self, configs: Sequence[SourceConfig]) -> None:
        """Apply a (re)loaded config: unchanged sources keep running, others restart."""
        configs = [c for c in configs if c.enabled]
        with self._lock:
            wanted = {c.name: c for c in configs}
            for name, r in list(self.runners.items()):
                if name not in wanted or wanted[name] != r.config:
                    r.stop()
                    del self.runners[name]
            self.store.configure(configs)
            for c in configs:
                if c.name not in self.runners:
                    r = Runner(c, self.store, self.http, self.secret_lookup)
                    self.runners[c.name] = r
                    r.start()

    def refresh_all(self) -> None:
        for r in list(self.runners.values()):
            r.trigger()

    def refresh(self, name: str) -> None:
        """Poll one source now (after an action on one of its alerts); an unknown name is ignored."""
        r = self.runners.get(name)
        if r is not None:
            r.trigger()

    def source(self, name: str) -> Source | None:
        """The running source of that name (what actions act through), or None."""
        r = self.runners.get(name)
        return r.source if r is not None else None

    def check_wake(self) -> bool:
        """True (and every source polled at once) when the wall clock jumped past the monotonic
        clock: the machine slept, so every reading is old."""
        wall, mono = self.wall(), self.mono()
        lw, lm = self._last
        self._last = (wall, mono)
        if (wall - lw) - (mono - lm) > WAKE_JUMP:
            self.wakes += 1
            log.info("clock jumped %.0fs ahead (suspend/resume?): polling every source now",
                     (wall - lw) - (mono - lm))
            self.store.refresh_stale()
            self.refresh_all()
            return True
        return False

    def _supervise(self) -> None:
        ticks = 0
        while not self._stop.wait(1.0):
            ticks += 1
            try:
                self.check_wake()
                self.store.refresh_stale()
                if ticks % TRIM_EVERY == 0:
                    heap.trim()
            except Exception:
                log.exception("supervisor tick failed")

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for r in self.runners.values():
                r.stop()
