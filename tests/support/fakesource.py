"""A scriptable source type for scheduler tests: each poll takes the next step of a script."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.sources import REGISTRY
from tray.sources.base import ACKNOWLEDGE, RECHECK, Source

SCRIPTS: dict[str, list[Any]] = {}      # source name -> steps: "ok", "crit", SourceError, Exception, ("hang", s)
POLLS: dict[str, list[float]] = {}
WATCHERS: dict[str, list[Callable]] = {}


@dataclass(frozen=True)
class FakeSettings:
    pass


class FakeSource(Source):
    type = "fake"
    Settings = FakeSettings
    capabilities = frozenset({ACKNOWLEDGE, RECHECK})
    records = True

    def poll(self, http: Any) -> Reading:
        POLLS.setdefault(self.name, []).append(time.monotonic())
        script = SCRIPTS.get(self.name, ["ok"])
        step = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, tuple) and step[0] == "hang":
            time.sleep(step[1])
            step = "ok"
        if step == "crit":
            return Reading(alerts=(Alert(source=self.name, id="x", title="x down", severity=Severity.CRITICAL),))
        return Reading()

    def watchers(self):
        return list(WATCHERS.get(self.name, []))


def register() -> None:
    REGISTRY["fake"] = "support.fakesource:FakeSource"


ACTIONS: list[tuple] = []          # (action, source name, alert id, kwargs)
FAIL_ACTIONS: set[str] = set()     # actions that answer with a SourceError


def _act(name: str, src: "FakeSource", alert: Alert, **kw: Any) -> str:
    if name in FAIL_ACTIONS:
        raise SourceError(f"{name} refused by the server (HTTP 403)", kind="auth")
    ACTIONS.append((name, src.name, alert.id, kw))
    return f"{name} ok"


def _acknowledge(self, http, alert, *, author, comment="", duration_s=7200):
    return _act("acknowledge", self, alert, author=author, comment=comment, duration_s=duration_s)


def _recheck(self, http, alert):
    return _act("recheck", self, alert)


def _create_card(self, http, alert, list_id):
    _act("trello", self, alert, list_id=list_id)
    return f"https://trello.com/c/{alert.id}"


FakeSource.acknowledge = _acknowledge
FakeSource.recheck = _recheck
FakeSource.create_card = _create_card
