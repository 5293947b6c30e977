"""The demo source: a scripted, deterministic scenario that needs no credential and no network.

All demo sources of a process share one clock origin, so they step together:
  0 all ok -> 1 a warning (staging) -> 2 a critical (production) -> 3 the critical acknowledged,
  the warning gone (handled only) -> 4 integration unreachable -> 5 everything recovered -> repeat.
Where one step changes two sources, their changes are 0.4 step apart (more than a poll interval),
so the overall state never passes through a transient that the script does not name.
It goes through the same scheduler, reducer, icon, notifier and endpoint as a real source.

Its actions are real too, in memory, so that `secondline run --demo` shows buttons that work:
acknowledging one of its alerts makes it handled until it clears (the next cycle raises it afresh);
a recheck reads the scenario again at once. It declares no more than that.

Blindness: no signal, and none possible: there is no reader and no server, only the script, so an
empty step is the scenario's own "all ok". `allow_empty` is accepted and changes nothing.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from tray.core.errors import SourceError
from tray.core.model import Alert, Severity
from tray.sources.base import ACKNOWLEDGE, RECHECK, Source, SourceConfig

STEPS = ("all ok", "a warning", "a critical", "critical acknowledged", "a source unreachable", "recovered")
ROLES = ("production", "staging", "integration")

_origin_lock = threading.Lock()
_origin: float | None = None


def _shared_origin(now: float) -> float:
    global _origin
    with _origin_lock:
        if _origin is None:
            _origin = now
        return _origin


def reset_origin(value: float | None = None) -> None:
    """Restart the scenario (tests, and `run --demo` at start-up)."""
    global _origin
    with _origin_lock:
        _origin = value


@dataclass(frozen=True)
class DemoSettings:
    step_seconds: float = 4.0
    role: str = ""           # production | staging | integration; default: the group if it is one

    def validate(self) -> None:
        if self.step_seconds <= 0:
            raise ValueError("step_seconds: must be more than 0")
        if self.role and self.role not in ROLES:
            raise ValueError(f"role: must be one of {', '.join(ROLES)}, got {self.role!r}")


# When (in steps, within one cycle) each role shows what.
WARNING_STAGING = (1.0, 3.0)
CRITICAL_PRODUCTION = (2.0, 5.0)
ACKED_FROM = 3.4
UNREACHABLE_INTEGRATION = (4.0, 5.4)


WARNING_ID = "app-staging-1!disk"
CRITICAL_ID = "web01!http"


def position(now: float, origin: float, step_seconds: float) -> float:
    """Where in the cycle we are, in steps (0 <= position < len(STEPS))."""
    return (max(0.0, now - origin) / step_seconds) % len(STEPS)


def step_at(now: float, origin: float, step_seconds: float) -> int:
    return int(position(now, origin, step_seconds))


def _alert(source: str, aid: str, title: str, severity: Severity, detail: str, since: datetime,
           **kw: Any) -> Alert:
    host, _, service = aid.partition("!")
    url = f"https://monitoring.example.com/icingaweb2/icingadb/service?name={service}&host.name={host}"
    return Alert(source=source, id=aid, title=title, severity=severity, detail=detail, since=since, url=url,
                 ref={"host": host, "service": service}, **kw)


def _within(pos: float, span: tuple[float, float]) -> bool:
    return span[0] <= pos < span[1]


def parse(payload: dict[str, Any], *, source: str) -> list[Alert]:
    """payload: {"pos": position in the cycle (steps), "role": str, "cycle": epoch of this cycle's start,
    "step_seconds": float, "acked": ids the user acknowledged in this cycle (optional)}."""
    pos, role = payload["pos"], payload["role"]
    acked_ids = set(payload.get("acked", ()))

    def since(start: float) -> datetime:
        return datetime.fromtimestamp(payload["cycle"] + start * payload["step_seconds"], tz=timezone.utc)

    alerts: list[Alert] = []
    if role == "staging" and _within(pos, WARNING_STAGING):
        acked = WARNING_ID in acked_ids
        alerts.append(_alert(source, WARNING_ID, "app-staging-1: disk /var",
                             Severity.WARNING, "DISK WARNING - free space: /var 9%", since(WARNING_STAGING[0]),
                             handled=acked, handled_reason="acknowledged" if acked else None))
    if role == "production" and _within(pos, CRITICAL_PRODUCTION):
        acked = pos >= ACKED_FROM or CRITICAL_ID in acked_ids
        alerts.append(_alert(source, CRITICAL_ID, "web01: http", Severity.CRITICAL,
                             "HTTP CRITICAL - 503 Service Unavailable", since(CRITICAL_PRODUCTION[0]),
                             handled=acked, handled_reason="acknowledged" if acked else None))
    return alerts


class DemoSource(Source):
    type = "demo"
    Settings = DemoSettings
    capabilities = frozenset({ACKNOWLEDGE, RECHECK})     # in memory: see the module's docstring

    def __init__(self, config: SourceConfig, secret_lookup: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(config, secret_lookup)
        self.clock = clock
        self.origin = _shared_origin(clock())
        role = self.settings.role or config.group
        self.role = role if role in ROLES else "production"
        self._lock = threading.Lock()
        self._acked: dict[str, float] = {}       # alert id -> start of the cycle it was acknowledged in

    def fetch(self, http: Any) -> dict[str, Any]:
        now = self.clock()
        step_s = self.settings.step_seconds
        pos = position(now, self.origin, step_s)
        if self.role == "integration" and _within(pos, UNREACHABLE_INTEGRATION):
            raise SourceError("demo: connection refused by integration.example.com (simulated outage)",
                              kind="refused")
        cycle = now - pos * step_s
        with self._lock:
            acked = sorted(aid for aid, at in self._acked.items() if abs(at - cycle) < step_s / 2)
        return {"pos": pos, "role": self.role, "cycle": cycle, "step_seconds": step_s, "acked": acked}

    def parse(self, payload: Any) -> list[Alert]:
        return parse(payload, source=self.name)

    def _current(self, alert: Alert) -> dict[str, Any]:
        """The scenario now, when `alert` is still raised in it; SourceError otherwise."""
        payload = self.fetch(None)
        if not any(a.id == alert.id and a.raises for a in self.parse(payload)):
            raise SourceError(f"demo: {alert.id} is not an open problem any more", kind="config")
        return payload

    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        payload = self._current(alert)
        with self._lock:
            self._acked[alert.id] = payload["cycle"]
        return f"acknowledged by {author} (demo: until it clears)"

    def recheck(self, http: Any, alert: Alert) -> str:
        self._current(alert)
        return "the demo scenario is read again now"


def demo_config_toml(port: int = 17474, sources: int = 3, interval: float = 1.0, step_seconds: float = 4.0) -> str:
    """The built-in demo config (`secondline run --demo`); never the user's file."""
    lines = [f"[server]\nport = {port}\n", "[notifications]\nenabled = true\n"]
    for i in range(sources):
        role = ROLES[i % len(ROLES)]
        name = f"demo-{role}" if i < len(ROLES) else f"demo-{role}-{i}"
        lines.append(f'[[sources]]\nname = "{name}"\ntype = "demo"\ngroup = "{role}"\n'
                     f"interval = {interval}\nstep_seconds = {step_seconds}\n")
    lines.append('[[links]]\ntitle = "Declare an incident (manual)"\n'
                 'url = "https://docs.example.com/manual/declare-an-incident"\n')
    return "\n".join(lines)
