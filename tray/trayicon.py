"""The pystray icon and its menu. Only imported when a display exists: pystray connects to X at
import time. It only reads snapshots and calls back into the App for actions.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import webbrowser
from typing import TYPE_CHECKING, Any

from tray import icon as icons
from tray.model import Snapshot
from tray.rules import summary_line

if TYPE_CHECKING:
    from tray.app import App

log = logging.getLogger(__name__)

MAX_MENU_ALERTS = 15


def _label(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _alert_item(a: Any, new: bool, card: str | None, can_act: bool) -> tuple[str, Any]:
    tag = a.handled_reason or ("pending" if a.pending else a.severity.value)
    label = _label(f"{'● ' if new else ''}[{tag}] {a.title}")
    if not can_act or a.handled or a.pending:
        return (label, ("open", a.url) if a.url else None)
    sub: list[Any] = []
    if a.url:
        sub.append(("Open", ("open", a.url)))
    sub.append(("Acknowledge", ("ack", a.source, a.id)))
    sub.append(("Recheck", ("recheck", a.source, a.id)))
    if card:
        sub.append((_label(f"Trello card: {card}"), ("open", card)))
    else:
        sub.append(("Record on Trello", ("trello", a.source, a.id)))
    return (label, sub)


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
        c = g.counts
        g_label = f"{g.name}: {'handled only' if g.handled_only else g.health.value}"
        if c.problems or c.handled:
            g_label += f" ({c.problems} open, {c.handled} handled)"
        sub: list[Any] = []
        for s in snap.sources:
            if s.group != g.name:
                continue
            s_items: list[Any] = []
            if s.error:
                s_items.append((_label(f"{'stale: ' if s.stale else ''}{s.error}"), None))
            for a in s.alerts[:MAX_MENU_ALERTS]:
                s_items.append(_alert_item(a, is_new(a), card_for(a), s.type not in ("secondline", "demo")))
            if len(s.alerts) > MAX_MENU_ALERTS:
                s_items.append((f"… {len(s.alerts) - MAX_MENU_ALERTS} more on the dashboard", ("dashboard",)))
            if not s_items:
                s_items.append(("no problems" if s.checked_at else "not read yet", None))
            sub.append((f"{s.name}: {s.health.value}", s_items))
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


class TrayIcon:
    def __init__(self, app: "App") -> None:
        import pystray  # noqa: F401  (connects to the display)
        self.pystray = pystray
        self.app = app
        snap = app.store.latest
        self.icon = pystray.Icon("secondline", icons.icon_for(snap), summary_line(snap),
                                 menu=pystray.Menu(self._items))
        self._last_key: tuple[str, int] | None = None
        self.backend = type(self.icon).__module__

    # -- menu ---------------------------------------------------------------------------------
    def _do(self, action: tuple) -> Any:
        def run(icon: Any = None, item: Any = None) -> None:
            kind = action[0]
            try:
                self.app.mark_seen()
                if kind == "open":
                    webbrowser.open(action[1])
                elif kind == "dashboard":
                    webbrowser.open(self.app.dashboard_url)
                elif kind == "refresh":
                    self.app.refresh()
                elif kind == "snooze":
                    self.app.snooze(action[1])
                elif kind == "resume":
                    self.app.resume()
                elif kind == "reload":
                    self.app.reload_config()
                elif kind == "quit":
                    self.app.quit()
                elif kind == "pair":
                    self.app.pairing.decide(action[1])
                elif kind in ("ack", "recheck", "trello"):
                    name = {"ack": "acknowledge", "recheck": "recheck", "trello": "trello"}[kind]
                    threading.Thread(target=self.app.run_action, args=(name, action[1], action[2]),
                                     daemon=True).start()
            except Exception:
                log.exception("menu action %s failed", kind)
        return run

    def _build(self, model: list[Any]) -> list[Any]:
        ps = self.pystray
        out = []
        for entry in model:
            if entry[0] == "---":
                out.append(ps.Menu.SEPARATOR)
                continue
            label, target = entry
            if isinstance(target, list):
                out.append(ps.MenuItem(label, ps.Menu(*self._build(target))))
            elif target is None:
                out.append(ps.MenuItem(label, None, enabled=False))
            else:
                out.append(ps.MenuItem(label, self._do(target), default=target == ("dashboard",)))
        return out

    def _items(self) -> list[Any]:
        return self._build(menu_model(self.app.store.latest, snoozed=self.app.snoozed(),
                                      extra_lines=self.app.menu_lines(), is_new=self.app.is_new,
                                      card_for=self.app.card_for,
                                      pairing_codes=tuple(r.code for r in self.app.pairing.pending())))

    # -- updates ------------------------------------------------------------------------------
    def on_change(self, snap: Snapshot, events: list) -> None:
        key = (snap.state, snap.counts.problems)
        if key != self._last_key:
            self._last_key = key
            self.icon.icon = icons.render(*key)
        self.icon.title = summary_line(snap)
        try:
            self.icon.update_menu()
        except Exception:
            pass

    def _setup(self, icon: Any) -> None:
        icon.visible = True
        self._redock(icon)
        self.on_change(self.app.store.latest, [])
        log.info("tray icon shown (%s backend)", self.backend)

    def _redock(self, icon: Any) -> None:
        # pystray's xorg backend and some tray hosts race on the dock request (about 3 in 10 are
        # ignored, measured with trayer): re-request until the window has been reparented.
        if not hasattr(icon, "_window"):
            return
        for _ in range(10):
            time.sleep(0.3)
            try:
                parent = icon._window.query_tree().parent
                if parent.id != icon._display.screen().root.id:
                    return
            except Exception:
                return
            icon.visible = False
            time.sleep(0.2)
            icon.visible = True
        log.warning("the tray icon was not docked: is a system tray (XEmbed) running?")

    def run(self) -> None:
        self.app.store.subscribe(self.on_change)
        self.icon.run(setup=self._setup)

    def stop(self) -> None:
        try:
            self.icon.visible = False   # undock first: stop() while docked can hang (recipes)
        except Exception:
            pass
        self.icon.stop()
        # Last resort if the backend still hangs on stop.
        t = threading.Timer(5, lambda: os._exit(0))
        t.daemon = True
        t.start()


def display_available() -> bool:
    import sys
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
