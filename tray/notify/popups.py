"""Whether a change pops up (shift hours, on-call, snooze, the notification rules), what was held back
and why, and the lines that tell the user about it: the menu's header lines and the status document's
"notifications" and "shift" parts. The decision itself is the pure `tray.notify.policy.decide`; this keeps
the clock, the held-back list and the inputs it reads."""
from __future__ import annotations

from typing import Any, Mapping

from tray.notify import policy
from tray.core.model import Event, Snapshot, iso
from tray.outputs.http.pairing import Pairing
from tray.notify.policy import NotificationRules
from tray.shift.context import ShiftContext
from tray.engine.store import Store
from tray.app.userstate import UserState, utcnow

MAX_HELD = 20


class Popups:
    def __init__(self, rules: NotificationRules, shift: ShiftContext, user: UserState, store: Store,
                 pairing: Pairing) -> None:
        self.rules = rules          # replaced on a config reload
        self.shift = shift
        self.user = user
        self.store = store
        self.pairing = pairing
        self.held: list[dict[str, str]] = []

    def decide(self, event: Event, snap: Snapshot) -> str | None:
        """The notifier's question: None to show `event`, else why it is held back."""
        now = utcnow()
        d = policy.decide(event, now_utc=now, on_shift=self.shift.on_shift(now),
                          on_call=policy.on_call_from(snap, now), snoozed_until=self.user.snoozed_until,
                          rules=self.rules, zone=self.shift.zone())
        if d.notify:
            return None
        if not d.quiet:      # only what would have popped up was held back
            what = event.alert.title if event.alert else event.source
            self.held.append({"at": iso(now), "title": what, "reason": d.held or "held"})
            del self.held[:-MAX_HELD]
        return d.held or "held"

    def menu_lines(self) -> tuple[str, ...]:
        """The lines under the menu's summary: shift, on-call, snooze, the last held pop-up, pairings."""
        now = utcnow()
        lines = []
        if self.shift.settings is not None:
            lines.append(self.shift.text(now))
        oc = policy.on_call_from(self.store.latest, now)
        if oc is not None:
            lines.append("On call now" if oc else "Not on call")
        if self.user.snoozed(now):
            lines.append(f"Notifications snoozed until {self.shift.local_hhmm(self.user.snoozed_until)}")
        if self.held:
            h = self.held[-1]
            lines.append(f"Held back: {h['title']} ({h['reason']})")
        for req in self.pairing.pending():
            lines.append(f"Pairing request {req.code} from {req.label}")
        return tuple(lines)

    def extra(self) -> Mapping[str, Any]:
        """The status document's "notifications" and "shift" parts."""
        now = utcnow()
        extra: dict[str, Any] = {"notifications": {"held": self.held[-5:], "enabled": self.rules.enabled}}
        oc = policy.on_call_from(self.store.latest, now)
        if self.shift.settings is not None or oc is not None:
            extra["shift"] = {
                "on_shift": self.shift.on_shift(now) if self.shift.settings is not None else None,
                "text": self.shift.text(now) if self.shift.settings is not None else None,
                "on_call": oc,
            }
        return extra
