"""Helpers for the monitoring source tests: build a configured source without the config loader."""
from __future__ import annotations

from typing import Any, Callable


from tray.model import Alert
from tray.sources import source_class
from tray.sources.base import Source, SourceConfig

MY_TYPES = ("icingaweb2", "icingadb", "nagios", "icinga1", "alertmanager", "prometheus", "grafana")


def make_source(type_name: str, *, name: str = "mon", secret: str | None = None, timeout: float = 3.0,
                allow_empty: bool = False, **settings: Any) -> Source:
    cls = source_class(type_name)
    settings.setdefault("url", "http://127.0.0.1:9")
    conf = cls.Settings(**settings)
    if hasattr(conf, "validate"):
        conf.validate()
    cfg = SourceConfig(name=name, type=type_name, timeout=timeout, allow_empty=allow_empty, settings=conf)
    lookup: Callable[[str, str], str | None] = lambda n, f: secret   # noqa: E731
    return cls(cfg, lookup)


def summary(alerts: list[Alert]) -> list[tuple[str, str, str | None, bool]]:
    """What the colour logic looks at, sorted: (id, severity, handled_reason, pending)."""
    return sorted((a.id, a.severity.value, a.handled_reason, a.pending) for a in alerts)


