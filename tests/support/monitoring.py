"""Helpers for the monitoring source tests: build a configured source without the config loader."""
from __future__ import annotations

from typing import Any

from support import builders
from support.builders import summary  # noqa: F401  (the monitoring tests import it from here)
from tray.sources.base import Source

MY_TYPES = ("icingaweb2", "icingadb", "nagios", "icinga1", "alertmanager", "prometheus", "grafana")


def make_source(type_name: str, *, name: str = "mon", secret: str | None = None, timeout: float = 3.0,
                allow_empty: bool = False, **settings: Any) -> Source:
    settings.setdefault("url", "http://127.0.0.1:9")
    return builders.make_source(type_name, name=name, secret=secret, timeout=timeout, allow_empty=allow_empty,
                                **settings)
