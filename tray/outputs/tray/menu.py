"""The tray menu as plain data, and the controller both tray backends (pystray's and the
StatusNotifierItem one) read and act through.

`menu_model` is the one description of the menu; each backend only renders it. `TrayController`
is all a backend may know of the app: the latest snapshot, a subscription to changes, the menu's
inputs and the actions. It is a Protocol so that the backends do not depend on `App`;
`tray.outputs.tray.controller.MenuController` is the app's implementation, tests pass their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from tray.core import words
from tray.core.model import Alert, Event, Snapshot
from tray.core.rules import group_line, source_state, summary_line
from tray.sources.base import ACKNOWLEDGE, RECHECK, RECORD

Action = tuple            # ("dashboard",), ("open", url), ("ack", source, id), ("snooze", "1h")...
MenuEntry = tuple         # ("label", Action | None) | ("---",) | ("label", [MenuEntry...])


@dataclass(frozen=True)
class MenuInputs:
    """What the menu shows besides the snapshot."""
    snoozed: bool = False
    extra_lines: tuple[str, ...] = ()
    is_new: Callable[[Alert], bool] = field(default=lambda a: False)
    card_for: Callable[[Alert], "str | None"] = field(default=lambda a: None)
    pairing_codes: tuple[str, ...] = ()


class TrayController(Protocol):
    """What a tray backend needs from the app."""

    def latest(self) -> Snapshot: ...

    def subscribe(self, fn: Callable[[Snapshot, list[Event]], None]) -> None: ...

    def menu_inputs(self) -> MenuInputs: ...

    def perform(self, action: Action) -> None:
        """Run a menu action (may block: opening a browser, an acknowledgement): call it off any
        loop that must stay responsive. Never raises."""


def menu_for(controller: TrayController) -> list[MenuEntry]:
    """The menu of right now, for a backend about to show it."""
    return menu_model(controller.latest(), **vars(controller.menu_inputs()))


MAX_MENU_ALERTS = 15


def _label(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _alert_item(a: Alert, new: bool, card: str | None, capabilities: tuple[str, ...]) -> tuple[str, Any]:
    """An alert, with a submenu of what its source offers (SourceSnapshot.capabilities) while it is open."""
    label = _label(f"{'● ' if new else ''}{words.phrase('menu_alert', tag=words.alert_tag(a), title=a.title)}")
    sub: list[Any] = []
    if not (a.handled or a.pending):
        if ACKNOWLEDGE in capabilities:
            sub.append(("Acknowledge", ("ack", a.source, a.id)))
        if RECHECK in capabilities:
            sub.append(("Recheck", ("recheck", a.source, a.id)))
        if card:
            sub.append((_label(f"Trello card: {card}"), ("open", card)))
        elif RECORD in capabilities:
            sub.append(("Record on Trello", ("trello", a.source, a.id)))
    if not sub:
        return (label, ("open", a.url) if a.url else None)
    return (label, ([("Open", ("open", a.url))] if a.url else []) + sub)


def menu_model(snap: Snapshot, *, snoozed: bool, extra_lines: tuple[str, ...] = (),
               is_new: Any = lambda a: False, card_for: Any = lambda a: None,
               pairing_codes: tuple[str, ...] = ()) -> list[Any]:
    """The menu as plain data (testable without a display): a list of
    ("label", action-or-None) | ("---",) | ("label", [submenu...])."""
    items: list[Any] = [(summary_line(snap), None)]
    for line in extra_lines:
        items.append((line, None))
    items.append(("---",))
    for g in snap.groups:
        g_label = group_line(g, snap.sources)
        sub: list[Any] = []
        for s in snap.sources:
            if s.group != g.name:
                continue
            s_items: list[Any] = []
            if s.error:
                # A degraded source (its event stream down, its polls fine) is readable: its error as is.
                s_items.append((_label(s.error if s.readable else words.phrase("unreadable", reason=s.error)), None))
            for a in s.alerts[:MAX_MENU_ALERTS]:
                s_items.append(_alert_item(a, is_new(a), card_for(a), s.capabilities))
            if len(s.alerts) > MAX_MENU_ALERTS:
                s_items.append((words.phrase("more_on_dashboard", n=len(s.alerts) - MAX_MENU_ALERTS), ("dashboard",)))
            if not s_items:
                s_items.append((words.phrase("no_problems" if s.checked_at else "not_read"), None))
            sub.append((words.phrase("group", name=s.name, summary=words.summary(source_state(s), s.counts)),
                        s_items))
        items.append((g_label, sub))
    items.append(("---",))
    items.append(("Open dashboard", ("dashboard",)))
    items.append(("Refresh now", ("refresh",)))
    for code in pairing_codes:
        items.append((f"Approve pairing {code}", ("pair", code)))
    if snoozed:
        items.append(("Resume notifications", ("resume",)))
    else:
        items.append(("Snooze notifications for 1 hour", ("snooze", "1h")))
        items.append(("Snooze notifications", [("15 minutes", ("snooze", "15m")), ("1 hour", ("snooze", "1h")),
                                               ("Until the end of the shift", ("snooze", "end-of-shift"))]))
    items.append(("Reload config", ("reload",)))
    items.append(("Quit", ("quit",)))
    return items
