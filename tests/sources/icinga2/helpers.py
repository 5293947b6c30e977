"""Helpers for the Icinga 2 tests: build a configured source without the config loader, and a
fake StreamContext that records what the watchers did."""
from __future__ import annotations

import threading
from typing import Any, Sequence

from support import builders
from support.builders import summary  # noqa: F401  (the Icinga tests import it from here)
from tray.core.model import Alert
from tray.sources.icinga2.source import Icinga2Source


def make_source(*, name: str = "ic", secret: str | None = "test-secret", timeout: float = 3.0,
                interval: float = 60.0, allow_empty: bool = False, **settings: Any) -> Icinga2Source:
    settings.setdefault("url", "https://127.0.0.1:9")
    settings.setdefault("username", "test")
    return builders.make_source("icinga2", name=name, secret=secret, timeout=timeout, interval=interval,
                                allow_empty=allow_empty, **settings)


class FakeContext:
    """Records publish / request_poll / connected calls like the scheduler's StreamContext would see."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.published: list[list[Alert]] = []
        self.polls = 0
        self.connects = 0
        self.changed = threading.Condition()

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def publish(self, alerts: Sequence[Alert]) -> None:
        self.published.append(list(alerts))
        self._notify()

    def request_poll(self) -> None:
        self.polls += 1
        self._notify()

    def connected(self) -> None:
        self.connects += 1
        self.polls += 1
        self._notify()

    def wait(self, seconds: float) -> bool:
        return self.stop.wait(seconds)

    def latest(self) -> list[Alert] | None:
        return self.published[-1] if self.published else None
