"""Events -> desktop pop-ups: grouped bursts, at most one pop-up per few seconds, silent while
snoozed, held back by the user's rules; printed to the console/log when there is no desktop.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import webbrowser
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from tray.core import words
from tray.core.model import Alert, Event, EventKind, Severity, Snapshot

log = logging.getLogger(__name__)

BURST_WINDOW = 1.0   # seconds to wait for more events before showing one combined pop-up


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    url: str | None = None
    critical: bool = False
    state: str = ""          # the icon it shows: a palette state, or "" for the app's own icon


_WORST_FIRST = ("critical", "unknown", "warning", "handled_only", "ok")


def event_state(e: Event) -> str:
    """The icon state of one event's pop-up: what it is about now."""
    if e.kind is EventKind.UNREACHABLE:
        return "unknown"
    if e.kind in (EventKind.RECOVERED, EventKind.CLEARED) or e.alert is None:
        return "ok"
    a = e.alert
    if a.handled:
        return "handled_only"
    return {Severity.CRITICAL: "critical", Severity.WARNING: "warning", Severity.UNKNOWN: "unknown"}.get(
        a.severity, "ok")


Decide = Callable[[Event, Snapshot], "str | None"]   # -> None to show, or the reason it is held back


def default_decide(event: Event, snapshot: Snapshot) -> str | None:
    """The built-in rule set, used when no policy is configured."""
    a = event.alert
    if a is not None and a.pending:
        return "soft or pending state"
    if event.kind is EventKind.RAISED and a is not None and (a.handled or a.severity is Severity.INFO):
        return "already handled"
    if event.kind is EventKind.CHANGED and a is not None:
        if a.handled or a.severity is Severity.INFO:
            return "became handled"
    return None


def _verb(e: Event) -> str:
    a = e.alert
    if e.kind is EventKind.RAISED and a is not None:
        return words.phrase("raised", tag=words.alert_tag(a), title=a.title)
    if e.kind is EventKind.CHANGED and a is not None:
        return words.phrase("changed", tag=words.alert_tag(a), title=a.title)
    if e.kind is EventKind.CLEARED and a is not None:
        return words.phrase("cleared", title=a.title)
    if e.kind is EventKind.UNREACHABLE:
        return words.phrase("source_unreadable", source=e.source, group=e.group)
    return words.phrase("source_readable", source=e.source, group=e.group)


def _was(a: Alert) -> str:
    """What a recovered alert was: "was critical", "was critical, handled (acknowledged)"."""
    severity = words.word(a.severity.value)
    if a.handled:
        return words.phrase("was_handled", severity=severity, tag=words.alert_tag(a))
    return words.phrase("was", tag=words.alert_tag(a))


def compose(events: Sequence[Event], dashboard_url: str | None = None) -> Notification | None:
    """One pop-up for a burst of events: the event itself when alone, else a combined summary.
    Every word comes from shared/vocabulary.json (tray.core.words), as in the menu and the extension."""
    if not events:
        return None
    critical = any(e.alert is not None and e.alert.severity is Severity.CRITICAL and
                   e.kind in (EventKind.RAISED, EventKind.CHANGED) for e in events)
    state = min((event_state(e) for e in events), key=_WORST_FIRST.index)
    if len(events) == 1:
        e = events[0]
        a = e.alert
        if e.kind is EventKind.UNREACHABLE:
            return Notification(_verb(e), e.reason or "", dashboard_url, False, state)
        if e.kind is EventKind.RECOVERED:
            return Notification(_verb(e), "", dashboard_url, False, state)
        assert a is not None
        title = _verb(e)
        if e.kind is EventKind.CLEARED:
            # The alert is gone: its last text describes the problem, not the recovery.
            body = f"{e.source} · {e.group}\n{_was(a)}"
        else:
            body = f"{e.source} · {e.group}" + (f"\n{a.detail}" if a.detail else "")
        return Notification(title, body, a.url or dashboard_url, critical, state)
    groups = sorted({e.group for e in events})
    raised = [e for e in events if e.kind is EventKind.RAISED]
    where = words.phrase("burst_where", groups=", ".join(groups))
    unreadable = all(e.kind is EventKind.UNREACHABLE for e in events)
    if len(raised) == len(events):
        title = words.phrase("burst_raised", n=len(events), where=where)
    elif unreadable:
        title = words.phrase("burst_unreadable", n=len(events), where=where)
    else:
        title = words.phrase("burst_changes", n=len(events), where=where)
    lines = [f"{e.source}: {e.reason}" if unreadable and e.reason else _verb(e) for e in events[:5]]
    if len(events) > 5:
        lines.append(words.phrase("burst_more", n=len(events) - 5))
    return Notification(title, "\n".join(lines), dashboard_url, critical, state)


class Backend(Protocol):
    name: str

    def show(self, n: Notification) -> None: ...


class ConsoleBackend:
    """No desktop: each pop-up becomes a console line and a log line."""
    name = "console"

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def show(self, n: Notification) -> None:
        text = n.title + (f" — {n.body}".replace("\n", "; ") if n.body else "")
        if logging.getLogger().handlers:
            log.info("[notification] %s", text)     # console and log file
        else:
            try:
                print(f"[notification] {text}", file=self.stream, flush=True)
            except (OSError, ValueError):
                pass


def notification_service_reason() -> str | None:
    """Why desktop pop-ups cannot work here, or None when a service is reachable."""
    if sys.platform.startswith("linux"):
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
        try:
            return asyncio.run(asyncio.wait_for(_probe_dbus(), 3))
        except Exception as exc:
            return f"cannot talk to the session bus ({type(exc).__name__})"
    return None


async def _probe_dbus() -> str | None:
    from dbus_fast import BusType, Message
    from dbus_fast.aio import MessageBus
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    try:
        name = "org.freedesktop.Notifications"
        reply = await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                       interface="org.freedesktop.DBus", member="NameHasOwner",
                                       signature="s", body=[name]))
        if reply.body and reply.body[0]:
            return None
        reply = await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                       interface="org.freedesktop.DBus", member="ListActivatableNames"))
        if reply.body and name in reply.body[0] and os.environ.get("DISPLAY"):
            return None   # a daemon can be started on demand (it needs a display to show anything)
        return "no notification service (org.freedesktop.Notifications) on the session bus"
    finally:
        bus.disconnect()


def add_desktop_entry_hint(notifier: object, desktop_id: str) -> bool:
    """Make desktop-notifier's D-Bus backend send the `desktop-entry` hint, by which notification
    services group pop-ups and find the app (it sends none of its own, as of 6.2). It wraps the
    proxy's Notify call once the backend has connected. False, and pop-ups go out without the
    hint, when the backend is not the D-Bus one or its internals differ."""
    backend = getattr(notifier, "_backend", None)
    connect = getattr(backend, "_init_dbus", None)
    if connect is None:
        return False

    async def connect_with_hint():  # type: ignore[no-untyped-def]
        from dbus_fast import Variant
        from desktop_notifier.backends.dbus import get_hints_signature
        interface = await connect()
        notify = getattr(interface, "call_notify", None)
        if notify is None:
            return interface
        as_variant = get_hints_signature(interface) == "a{sv}"

        async def call_notify(app_name, replaces_id, icon, summary, body, actions, hints, timeout, *more, **kw):  # type: ignore[no-untyped-def]
            if isinstance(hints, dict):
                hints = {**hints, "desktop-entry": Variant("s", desktop_id) if as_variant else desktop_id}
            return await notify(app_name, replaces_id, icon, summary, body, actions, hints, timeout, *more, **kw)

        interface.call_notify = call_notify
        return interface

    backend._init_dbus = connect_with_hint
    return True


class DesktopBackend:
    """desktop-notifier on its own asyncio loop thread (its API is async; clicks come back there).

    Pop-ups carry the app's name, the icon of their state (tray.platform.identity writes the PNGs) and, on
    Linux, the `desktop-entry` hint naming the secondline.desktop it installs."""
    name = "desktop"

    def __init__(self, open_url: Callable[[str], None] = webbrowser.open) -> None:
        from desktop_notifier import DesktopNotifier, Icon
        from tray.platform import identity
        self.open_url = open_url
        self.icons = identity.ensure_icons()
        app_icon = Icon(path=self.icons["app"]) if self.icons else None
        if self.icons:
            identity.ensure_desktop_entry(self.icons["app"])
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="notifier-loop", daemon=True)
        self.thread.start()
        self.notifier = DesktopNotifier(app_name=identity.DESKTOP_ID, app_icon=app_icon)
        if sys.platform.startswith("linux") and not add_desktop_entry_hint(self.notifier, identity.DESKTOP_ID):
            log.debug("desktop-notifier internals differ: pop-ups go out without the desktop-entry hint")
        self.failures = 0

    def show(self, n: Notification) -> None:
        from desktop_notifier import Icon, Urgency
        url = n.url

        def clicked() -> None:
            if url:
                self.open_url(url)

        path = self.icons.get(n.state or "app")
        coro = self.notifier.send(title=n.title, message=n.body,
                                  urgency=Urgency.Critical if n.critical else Urgency.Normal,
                                  icon=Icon(path=path) if path else None,
                                  on_clicked=clicked if url else None, timeout=10)
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            fut.result(timeout=5)
        except Exception as exc:
            self.failures += 1
            log.warning("notification could not be shown (%s): %s", type(exc).__name__, n.title)


def make_backend(headless: bool, open_url: Callable[[str], None] = webbrowser.open) -> Backend:
    if headless:
        return ConsoleBackend()
    reason = notification_service_reason()
    if reason is not None:
        log.warning("desktop notifications off: %s; printing them to the log instead", reason)
        return ConsoleBackend()
    try:
        return DesktopBackend(open_url)
    except Exception as exc:
        log.warning("desktop notifications off (%s: %s); printing them to the log instead",
                    type(exc).__name__, exc)
        return ConsoleBackend()


class Notifier:
    """Subscriber of the Store. Never blocks it: events go to a queue served by one thread.

    `decide(event, snapshot)` is the only gate (rules, shift, on-call, snooze: tray.notify.policy via the
    App); `is_snoozed()` is checked again at send time, as a burst may straddle a snooze."""

    def __init__(self, backend: Backend, *, min_gap: float = 5.0, decide: Decide = default_decide,
                 dashboard_url: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.min_gap = min_gap
        self.decide = decide
        self.dashboard_url = dashboard_url
        self.clock = clock
        self.is_snoozed: Callable[[], bool] = lambda: False
        self.sent: list[Notification] = []
        self.held: list[tuple[Event, str]] = []
        self._pending: list[Event] = []
        self._cv = threading.Condition()
        self._last_shown = -1e9
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    def on_change(self, snapshot: Snapshot, events: list[Event]) -> None:
        if not events:
            return
        keep = []
        for e in events:
            try:
                reason = self.decide(e, snapshot)
            except Exception:
                log.exception("notification rule failed; showing the event")
                reason = None
            if reason is None:
                keep.append(e)
            else:
                self.held.append((e, reason))
                del self.held[:-50]
        if keep:
            with self._cv:
                self._pending.extend(keep)
                self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
            # Let a burst gather, and keep the minimum gap between two pop-ups.
            time.sleep(BURST_WINDOW)
            wait = self._last_shown + self.min_gap - self.clock()
            if wait > 0:
                time.sleep(wait)
            with self._cv:
                batch, self._pending = self._pending, []
            if self.is_snoozed():
                continue
            n = compose(batch, self.dashboard_url)
            if n is None:
                continue
            self._last_shown = self.clock()
            self.sent.append(n)
            del self.sent[:-50]
            try:
                self.backend.show(n)
            except Exception:
                log.exception("notification backend failed")

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
