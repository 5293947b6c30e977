"""The domain: Health, Alert, SourceSnapshot, Snapshot, Event.

Everything after a source's `parse()` speaks only these types; wire formats stop there.
All of them are immutable so that a Snapshot can be handed to any number of readers
(icon, menu, endpoint, SSE, notifier) without copying or locking.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping


class Health(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"
    UNKNOWN = "unknown"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        # "unknown" means we cannot see: worse than a warning we can see, not as bad as a critical.
        return _RANK[self]

    def __str__(self) -> str:
        return self.value


_RANK = {Health.OK: 0, Health.WARNING: 1, Health.UNKNOWN: 2, Health.CRITICAL: 3}


def worst(healths: Iterable[Health], default: Health = Health.OK) -> Health:
    result = default
    for h in healths:
        if h.rank > result.rank:
            result = h
    return result


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    UNKNOWN = "unknown"
    INFO = "info"  # listed for context, never raises the colour (e.g. a Trello card without a red label)

    def __str__(self) -> str:
        return self.value

    @property
    def health(self) -> Health:
        return {Severity.CRITICAL: Health.CRITICAL, Severity.WARNING: Health.WARNING,
                Severity.UNKNOWN: Health.UNKNOWN, Severity.INFO: Health.OK}[self]


HANDLED_REASONS = ("acknowledged", "downtime", "silenced", "maintenance")


def utc(ts: datetime | None) -> datetime | None:
    """Normalise to an aware UTC datetime (naive input is taken as UTC)."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc)


def iso(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Alert:
    source: str
    id: str                                  # stable across polls: the diff keys on (source, id)
    title: str
    severity: Severity
    detail: str = ""
    since: datetime | None = None
    url: str | None = None
    handled: bool = False
    handled_reason: str | None = None        # one of HANDLED_REASONS or None
    pending: bool = False                    # soft / pending state: listed, never raises, never pops up
    # Source-specific handles for actions (Icinga host/service, PagerDuty incident id, Alertmanager
    # labels...). Kept out of equality so that a changed handle does not read as a changed alert.
    ref: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.id)

    @property
    def raises(self) -> bool:
        """True when this alert counts towards the colour."""
        return not self.handled and not self.pending and self.severity is not Severity.INFO

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "detail": self.detail,
            "severity": self.severity.value,
            "since": iso(self.since),
            "url": self.url,
            "handled": self.handled,
            "handled_reason": self.handled_reason,
            "pending": self.pending,
        }


@dataclass(frozen=True)
class OnCall:
    on_call: bool
    until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"on_call": self.on_call, "until": iso(self.until)}


@dataclass(frozen=True)
class Reading:
    """What one successful poll of a source yields, before rules are applied."""
    alerts: tuple[Alert, ...] = ()
    on_call: OnCall | None = None


@dataclass(frozen=True)
class Counts:
    critical: int = 0
    warning: int = 0
    unknown: int = 0
    handled: int = 0
    pending: int = 0

    @property
    def problems(self) -> int:
        """Unhandled problems: the number drawn on the icon and the badge."""
        return self.critical + self.warning + self.unknown

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.critical + other.critical, self.warning + other.warning,
                      self.unknown + other.unknown, self.handled + other.handled,
                      self.pending + other.pending)

    def to_dict(self) -> dict[str, int]:
        return {"critical": self.critical, "warning": self.warning, "unknown": self.unknown,
                "handled": self.handled, "pending": self.pending}


@dataclass(frozen=True)
class SourceSnapshot:
    name: str
    type: str
    group: str
    health: Health
    alerts: tuple[Alert, ...] = ()
    checked_at: datetime | None = None       # time of the last good poll
    error: str | None = None
    stale: bool = False
    on_call: OnCall | None = None
    counts: Counts = Counts()
    # The last good alerts of a source that cannot be read now: kept for the diff, never shown.
    held: tuple[Alert, ...] = field(default=(), compare=False, repr=False)
    # Readable, but with a partial fault worth showing (e.g. its event stream is down): `error`
    # carries the text while the polled data stays current.
    degraded: bool = False
    # What may be done to its alerts (tray.sources.offered_actions): what the menu and the popup offer.
    capabilities: tuple[str, ...] = ()

    @property
    def readable(self) -> bool:
        return (self.error is None or self.degraded) and not self.stale

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "group": self.group,
            "health": self.health.value,
            "checked_at": iso(self.checked_at),
            "error": self.error,
            "stale": self.stale,
            "on_call": self.on_call.to_dict() if self.on_call else None,
            "counts": self.counts.to_dict(),
            "capabilities": list(self.capabilities),
            "alerts": [a.to_dict() for a in self.alerts],
        }


@dataclass(frozen=True)
class GroupSummary:
    name: str
    health: Health
    handled_only: bool
    counts: Counts

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "health": self.health.value, "handled_only": self.handled_only,
                "counts": self.counts.to_dict()}


@dataclass(frozen=True)
class Snapshot:
    generated_at: datetime
    health: Health
    handled_only: bool
    counts: Counts
    groups: tuple[GroupSummary, ...]
    sources: tuple[SourceSnapshot, ...]
    snoozed_until: datetime | None = None

    @property
    def no_data(self) -> bool:
        """No source configured or none polled yet: the grey 'no data' state."""
        return not self.sources or all(s.checked_at is None and s.error is None for s in self.sources)

    @property
    def state(self) -> str:
        """The palette key: a health, or handled_only / no_data."""
        if self.no_data:
            return "no_data"
        if self.handled_only:
            return "handled_only"
        return self.health.value

    def source(self, name: str) -> SourceSnapshot | None:
        for s in self.sources:
            if s.name == name:
                return s
        return None

    def alerts(self) -> Iterable[Alert]:
        for s in self.sources:
            yield from s.alerts


class EventKind(str, enum.Enum):
    RAISED = "raised"
    CHANGED = "changed"            # severity changed (or became handled / unhandled)
    CLEARED = "cleared"
    UNREACHABLE = "unreachable"
    RECOVERED = "recovered"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Event:
    kind: EventKind
    source: str
    group: str
    alert: Alert | None = None
    previous: Alert | None = None
    reason: str | None = None      # for UNREACHABLE: the source's error
