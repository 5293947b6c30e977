"""Whether an event pops up: `[notifications]` rules, the shift, on-call, snooze. Pure.

The icon always shows the truth; this only decides about pop-ups, and when it holds one back it
says why in a few words, for the menu and the status document ("snoozed until 14:00").

Order of the checks, first match wins: notifications off; the event itself (soft state, handled,
info, handled-only change: not news, so `quiet`, and not counted as held back); the group x severity rules; snooze; the shift (outside it only
critical events pop up, and only while on call, unless `outside_shift = "silent"`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Mapping

from tray.core.errors import ConfigError, did_you_mean
from tray.core.model import Alert, Event, EventKind, Severity, Snapshot

POPPING = (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN)   # INFO never pops up
OUTSIDE_SHIFT = ("on_call_critical", "silent")
KEYS = ("enabled", "min_gap", "rules", "recoveries", "outside_shift")


@dataclass(frozen=True)
class NotificationRules:
    """`[notifications]`. `rules` maps a group to the severities that pop up for it; "*" is the
    default for groups not listed (all severities when "*" is not given either)."""
    enabled: bool = True
    rules: Mapping[str, frozenset[Severity]] = field(default_factory=dict)
    recoveries: bool = True
    outside_shift: str = "on_call_critical"
    min_gap: float = 5.0        # seconds between two pop-ups at most one (the notifier applies it)

    def severities(self, group: str) -> frozenset[Severity]:
        if group in self.rules:
            return self.rules[group]
        return self.rules.get("*", frozenset(POPPING))

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, path: str) -> "NotificationRules":
        """Validate a `[notifications]` table; `path` is the config file for error messages."""
        d = d or {}
        if not isinstance(d, dict):
            raise ConfigError(path, "notifications", "must be a table ([notifications])")
        for k in d:
            if k not in KEYS:
                near = did_you_mean(k, KEYS)
                raise ConfigError(path, f"notifications.{k}", f"unknown key; did you mean {near!r}?" if near
                                  else f"unknown key (known: {', '.join(KEYS)})")
        kw: dict[str, Any] = {}
        for k in ("enabled", "recoveries"):
            if k in d:
                if not isinstance(d[k], bool):
                    raise ConfigError(path, f"notifications.{k}", f"must be true or false, got {d[k]!r}")
                kw[k] = d[k]
        if "min_gap" in d:
            v = d["min_gap"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ConfigError(path, "notifications.min_gap", f"must be a number of seconds >= 0, got {v!r}")
            kw["min_gap"] = float(v)
        if "outside_shift" in d:
            if d["outside_shift"] not in OUTSIDE_SHIFT:
                raise ConfigError(path, "notifications.outside_shift",
                                  f'must be "on_call_critical" or "silent", got {d["outside_shift"]!r}')
            kw["outside_shift"] = d["outside_shift"]
        if "rules" in d:
            table = d["rules"]
            if not isinstance(table, dict):
                raise ConfigError(path, "notifications.rules",
                                  'must be a table of group = [severities], e.g. production = ["critical"]')
            rules: dict[str, frozenset[Severity]] = {}
            for group, sevs in table.items():
                key = f"notifications.rules.{group}"
                if not isinstance(sevs, list) or not all(isinstance(s, str) for s in sevs):
                    raise ConfigError(path, key, f'must be a list of severities like ["critical", "warning"], got {sevs!r}')
                picked = set()
                for s in sevs:
                    if s == "info":
                        raise ConfigError(path, key, "info items never pop up; use critical, warning, unknown")
                    try:
                        sev = Severity(s.strip().lower())
                    except ValueError:
                        near = did_you_mean(s.strip(), [p.value for p in POPPING])
                        hint = f"did you mean {near!r}? " if near else ""
                        raise ConfigError(path, key, f"unknown severity {s!r} ({hint}use critical, warning, "
                                          "unknown)") from None
                    picked.add(sev)
                rules[str(group)] = frozenset(picked)
            kw["rules"] = rules
        return cls(**kw)


@dataclass(frozen=True)
class Decision:
    notify: bool
    held: str | None = None     # why it did not pop up, in a few words; None when it does
    quiet: bool = False         # not news at all (soft, handled, same state): nothing was held back

    def __bool__(self) -> bool:
        return self.notify


def _hold(reason: str) -> Decision:
    return Decision(False, reason)


def _is_recovery(kind: EventKind) -> bool:
    return kind in (EventKind.CLEARED, EventKind.RECOVERED)


def _fmt_until(until: datetime, now: datetime, zone: tzinfo | None) -> str:
    local = until.astimezone(zone) if zone else until.astimezone()
    here = now.astimezone(zone) if zone else now.astimezone()
    if local.date() == here.date():
        return f"{local:%H:%M}"
    # Fixed English day names: strftime's %a follows the process locale.
    return f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[local.weekday()]} {local:%H:%M}"


def _subject(event: Event) -> tuple[Severity | None, str | None]:
    """The severity the rules judge the event by, or a reason to hold it regardless of rules."""
    a, prev = event.alert, event.previous
    if event.kind is EventKind.UNREACHABLE:
        return Severity.UNKNOWN, None           # a source we cannot read is an "unknown"
    if event.kind is EventKind.RECOVERED:
        # The source is readable again: it recovers from the "unknown" its outage was.
        return Severity.UNKNOWN, None
    if event.kind is EventKind.CLEARED:
        gone = prev or a
        if gone is None:
            return None, "nothing cleared"
        if gone.handled and gone.handled_reason == "acknowledged" and not gone.pending \
                and gone.severity in POPPING:
            # Someone was working on it: its recovery ends the incident, and that is news. (A
            # recovery inside a downtime or a silence is the maintenance going as planned.)
            return gone.severity, None
        reason = _quiet_alert(gone)
        return (None, f"cleared, was {reason}") if reason else (gone.severity, None)
    if a is None:
        return None, "no alert"
    reason = _quiet_alert(a)
    if reason:
        return None, reason
    if event.kind is EventKind.CHANGED and prev is not None:
        was_quiet = _quiet_alert(prev) is not None
        if not was_quiet and prev.severity is a.severity:
            return None, "no change in state"    # same severity, nothing that matters to a pop-up
        # Soft -> hard, handled -> unhandled at a new severity, or a severity change: pops.
        if was_quiet and prev.handled and not prev.pending and prev.severity is a.severity:
            return None, "handled state changed"
    return a.severity, None


def _quiet_alert(a: Alert) -> str | None:
    if a.pending:
        return "soft state"
    if a.handled:
        return f"handled ({a.handled_reason})" if a.handled_reason else "handled"
    if a.severity is Severity.INFO:
        return "info only"
    return None


def on_call_from(snapshot: Snapshot, now_utc: datetime | None = None) -> bool | None:
    """The user's on-call flag from the sources that report one (PagerDuty): True if any says on
    call, False if all say not, None when none reports it. A source that cannot be read now keeps
    its last answer: while on call, a missed page is worse than a stray pop-up. An on-call whose
    `until` has passed (given `now_utc`) counts as over."""
    flags = []
    for s in snapshot.sources:
        oc = s.on_call
        if oc is None:
            continue
        flags.append(oc.on_call and not (now_utc is not None and oc.until is not None and now_utc >= oc.until))
    if not flags:
        return None
    return any(flags)


def decide(event: Event, *, now_utc: datetime, on_shift: bool, on_call: bool | None,
           snoozed_until: datetime | None, rules: NotificationRules,
           zone: tzinfo | None = None) -> Decision:
    """Should `event` pop up now? `on_call` is None when no source reports on-call. `zone` is for
    the times in the held reason (the shift's zone; None = the system's)."""
    if not rules.enabled:
        return _hold("notifications are off")
    severity, reason = _subject(event)
    if reason:
        return Decision(False, reason, quiet=True)
    assert severity is not None
    recovery = _is_recovery(event.kind)
    if recovery and not rules.recoveries:
        return _hold("recoveries are off")
    if severity not in rules.severities(event.group):
        what = f"{severity.value} recovery" if recovery else severity.value
        return _hold(f"rules: {event.group} {what} is off")
    if snoozed_until is not None and now_utc < snoozed_until:
        return _hold(f"snoozed until {_fmt_until(snoozed_until, now_utc, zone)}")
    if not on_shift:
        if rules.outside_shift == "silent":
            return _hold("outside shift hours")
        if on_call is None:
            return _hold("outside shift hours (no on-call source)")
        if not on_call:
            return _hold("outside shift hours (not on call)")
        if severity is not Severity.CRITICAL:
            return _hold("outside shift hours (on call: critical only)")
    return Decision(True)


__all__ = ("NotificationRules", "Decision", "decide", "on_call_from", "POPPING")
