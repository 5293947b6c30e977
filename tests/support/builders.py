"""The builders every test directory shares: a configured source without the config loader, what the
colour logic sees of a list of alerts, and a notifier backend that keeps what it was shown."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from tray.core.model import Alert
from tray.sources import source_class
from tray.sources.base import Source, SourceConfig


def make_source(type_name: str, *, name: str = "src", secret: str | None = None, timeout: float = 3.0,
                interval: float = 60.0, allow_empty: bool = False, **settings: Any) -> Source:
    """A source of `type_name` as the config loader would build it; `secret` answers every keyring lookup."""
    cls = source_class(type_name)
    conf = cls.Settings(**settings)
    if hasattr(conf, "validate"):
        conf.validate()
    cfg = SourceConfig(name=name, type=type_name, timeout=timeout, interval=interval, allow_empty=allow_empty,
                       settings=conf)
    lookup: Callable[[str, str], str | None] = lambda n, f: secret   # noqa: E731
    return cls(cfg, lookup)


def summary(alerts: Sequence[Alert]) -> list[tuple[str, str, str | None, bool]]:
    """What the colour logic looks at, sorted: (id, severity, handled_reason, pending)."""
    return sorted((a.id, a.severity.value, a.handled_reason, a.pending) for a in alerts)


class CaptureNotifier:
    """A notifier backend (tray.notify.notifier) that keeps every notification it was asked to show."""
    name = "capture"

    def __init__(self) -> None:
        self.shown: list[Any] = []

    def show(self, n: Any) -> None:
        self.shown.append(n)
