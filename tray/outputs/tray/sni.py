"""The tray icon as a freedesktop StatusNotifierItem, over the session bus with dbus-fast (pure
Python, no PyGObject): what KDE Plasma, GNOME (AppIndicator extension), XFCE, Cinnamon, MATE and
waybar show, on Wayland and X11 alike. The menu is tray/outputs/tray/dbusmenu.py.

The item registers with `org.kde.StatusNotifierWatcher` (the tray host's watcher), and again each time
a watcher appears on the bus (the panel restarted). When the session bus itself goes away, `run()`
returns and says so: tray.outputs.tray.runner keeps the app running and tries again later.

Everything D-Bus happens on one asyncio loop, on the thread that called `run()`; the store's changes
arrive from its dispatcher thread through `on_change`, which only schedules work on that loop.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from functools import lru_cache
from typing import Any, Callable

from PIL import Image
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method, signal

from tray.outputs.tray import icon as icons
from tray.outputs.tray.dbusmenu import PATH as MENU_PATH
from tray.outputs.tray.dbusmenu import DbusMenu
from tray.core.model import Event, Snapshot
from tray.core.rules import summary_line
from tray.outputs.tray.menu import Action, TrayController, menu_for

log = logging.getLogger(__name__)

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM_INTERFACE = "org.kde.StatusNotifierItem"
ITEM_PATH = "/StatusNotifierItem"
SIZES = (16, 22, 24, 32, 48, 64)
_DBUS = dict(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus", interface="org.freedesktop.DBus")
_instances = 0


@lru_cache(maxsize=64)
def pixmaps(state: str, count: int) -> tuple[tuple[int, int, bytes], ...]:
    """IconPixmap: the icon at each size as ARGB32 in network byte order (A, R, G, B bytes)."""
    out = []
    for s in SIZES:
        r, g, b, a = icons.render(state, count, s).split()
        out.append((s, s, Image.merge("RGBA", (a, r, g, b)).tobytes()))   # bytes in A, R, G, B order
    return tuple(out)


def needs_attention(snap: Snapshot) -> bool:
    return snap.counts.critical > 0


class StatusNotifierItem(ServiceInterface):
    def __init__(self, activate: Callable[[], None], secondary: Callable[[], None]) -> None:
        super().__init__(ITEM_INTERFACE)
        self.activate = activate
        self.secondary = secondary
        self.key: tuple[str, int] = ("no_data", 0)
        self.tooltip = ("secondline", "")
        self.status = "Active"

    # -- properties ------------------------------------------------------------------------------
    @dbus_property(access=PropertyAccess.READ)
    def Category(self) -> "s":  # noqa: N802,F821
        return "SystemServices"

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> "s":  # noqa: N802,F821
        return "secondline"

    @dbus_property(access=PropertyAccess.READ)
    def Title(self) -> "s":  # noqa: N802,F821
        return "secondline"

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> "s":  # noqa: N802,F821
        return self.status

    @dbus_property(access=PropertyAccess.READ)
    def WindowId(self) -> "i":  # noqa: N802,F821
        return 0

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> "s":  # noqa: N802,F821
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconName(self) -> "s":  # noqa: N802,F821
        return ""       # no themed icon: hosts draw IconPixmap

    @dbus_property(access=PropertyAccess.READ)
    def IconPixmap(self) -> "a(iiay)":  # noqa: N802,F821
        return [list(p) for p in pixmaps(*self.key)]

    @dbus_property(access=PropertyAccess.READ)
    def OverlayIconName(self) -> "s":  # noqa: N802,F821
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def OverlayIconPixmap(self) -> "a(iiay)":  # noqa: N802,F821
        return []

    @dbus_property(access=PropertyAccess.READ)
    def AttentionIconName(self) -> "s":  # noqa: N802,F821
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def AttentionIconPixmap(self) -> "a(iiay)":  # noqa: N802,F821
        # The same picture: hosts that switch to the attention icon on NeedsAttention (KDE) must
        # still show the colour and the count, not a blank.
        return [list(p) for p in pixmaps(*self.key)]

    @dbus_property(access=PropertyAccess.READ)
    def AttentionMovieName(self) -> "s":  # noqa: N802,F821
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def ToolTip(self) -> "(sa(iiay)ss)":  # noqa: N802,F821
        return ["", [], self.tooltip[0], self.tooltip[1]]

    @dbus_property(access=PropertyAccess.READ)
    def ItemIsMenu(self) -> "b":  # noqa: N802,F821
        return False    # a click opens the dashboard; the menu is on the other button

    @dbus_property(access=PropertyAccess.READ)
    def Menu(self) -> "o":  # noqa: N802,F821
        return MENU_PATH

    # -- methods ---------------------------------------------------------------------------------
    @method()
    def Activate(self, x: "i", y: "i"):  # noqa: N802,F821
        self.activate()

    @method()
    def SecondaryActivate(self, x: "i", y: "i"):  # noqa: N802,F821
        self.secondary()

    @method()
    def ContextMenu(self, x: "i", y: "i"):  # noqa: N802,F821
        # Only hosts that cannot read a dbusmenu call this; drawing a menu needs a toolkit we do not load.
        log.debug("ContextMenu(%d, %d) ignored: the menu is served over com.canonical.dbusmenu", x, y)

    @method()
    def Scroll(self, delta: "i", orientation: "s"):  # noqa: N802,F821
        pass

    # -- signals ---------------------------------------------------------------------------------
    @signal()
    def NewTitle(self) -> None:  # noqa: N802
        pass

    @signal()
    def NewIcon(self) -> None:  # noqa: N802
        pass

    @signal()
    def NewAttentionIcon(self) -> None:  # noqa: N802
        pass

    @signal()
    def NewOverlayIcon(self) -> None:  # noqa: N802
        pass

    @signal()
    def NewToolTip(self) -> None:  # noqa: N802
        pass

    @signal()
    def NewStatus(self, status: str) -> "s":  # noqa: N802,F821
        return status


class SniTray:
    """One StatusNotifierItem for the app's lifetime on one bus connection. `run()` blocks until
    `stop()` (returns "stopped") or until the session bus goes away (returns the reason)."""

    backend = "StatusNotifierItem"

    def __init__(self, controller: TrayController) -> None:
        global _instances
        _instances += 1
        self.controller = controller
        self.name = f"org.kde.StatusNotifierItem-{os.getpid()}-{_instances}"
        self.loop: asyncio.AbstractEventLoop | None = None
        self.bus: MessageBus | None = None
        self.item = StatusNotifierItem(lambda: self._perform(("dashboard",)), lambda: self._perform(("refresh",)))
        self.menu = DbusMenu(lambda: menu_for(self.controller), self._perform)
        self._stopping: asyncio.Event | None = None
        self._stop_requested = False
        self._registered = False
        self._shown_once = False
        self._watcher_present = True
        self.on_registered: Callable[[float], None] | None = None   # benchmarks: monotonic time of each registration

    # -- the app's side --------------------------------------------------------------------------
    def on_change(self, snap: Snapshot, events: list[Event]) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._apply, snap)
            except RuntimeError:      # the loop closed meanwhile
                pass

    def _perform(self, action: Action) -> None:
        threading.Thread(target=self.controller.perform, args=(action,), name="menu-action", daemon=True).start()

    def stop(self) -> None:
        """From any thread, before or during run()."""
        self._stop_requested = True
        loop, stopping = self.loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:
                pass

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> str:
        loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self.loop = loop
        if self._stop_requested:
            return "stopped"
        try:
            return loop.run_until_complete(self._main())
        finally:
            self.loop = None
            loop.close()

    async def _main(self) -> str:
        assert self._stopping is not None
        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        self.bus = bus
        try:
            bus.export(ITEM_PATH, self.item)
            bus.export(MENU_PATH, self.menu)
            await bus.request_name(self.name)
            bus.add_message_handler(self._on_message)
            await self._call_dbus("AddMatch", "s", [
                "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                f"member='NameOwnerChanged',arg0='{WATCHER}'"])
            self._apply(self.controller.latest())
            await self._register()
            stop = asyncio.ensure_future(self._stopping.wait())
            gone = asyncio.ensure_future(bus.wait_for_disconnect())
            await asyncio.wait({stop, gone}, return_when=asyncio.FIRST_COMPLETED)
            if gone.done():
                exc = gone.exception()
                return f"the session bus went away ({type(exc).__name__ if exc else 'disconnected'})"
            stop.cancel()
            gone.cancel()
            return "stopped"
        finally:
            self.bus = None
            bus.disconnect()

    async def _call_dbus(self, member: str, signature: str, body: list) -> Message:
        assert self.bus is not None
        return await self.bus.call(Message(member=member, signature=signature, body=body, **_DBUS))

    async def _register(self) -> None:
        assert self.bus is not None
        reply = await self.bus.call(Message(destination=WATCHER, path=WATCHER_PATH, interface=WATCHER,
                                            member="RegisterStatusNotifierItem", signature="s", body=[self.name]))
        if reply.message_type is MessageType.ERROR:
            self._registered = False
            if self._watcher_present:
                log.warning("no StatusNotifierItem host answers on the session bus (%s): the icon shows once "
                            "a tray host starts (waybar's tray module, the KDE panel, GNOME's AppIndicator "
                            "extension)", reply.error_name)
            self._watcher_present = False
            return
        self._registered = True
        self._watcher_present = True
        if self.on_registered is not None:
            self.on_registered(time.monotonic())
        if not self._shown_once:
            self._shown_once = True
            log.info("tray icon shown (%s backend, registered as %s)", self.backend, self.name)
        else:
            log.info("tray host is back: tray icon registered again")

    def _on_message(self, msg: Message) -> bool:
        if (msg.message_type is MessageType.SIGNAL and msg.member == "NameOwnerChanged"
                and msg.interface == "org.freedesktop.DBus" and msg.body and msg.body[0] == WATCHER):
            new_owner = msg.body[2]
            if new_owner:
                asyncio.ensure_future(self._register())
            else:
                self._registered = False
                self._watcher_present = False
                log.warning("the tray host went away (no %s on the session bus): the icon comes back "
                            "when it returns", WATCHER)
        return False      # not a reply: let dbus-fast go on with it

    def _apply(self, snap: Snapshot) -> None:
        """Publish a snapshot: properties first, then the signals, so a host re-reading sees it."""
        item = self.item
        changed: dict[str, Any] = {}
        key = (snap.state, snap.counts.problems)
        if key != item.key:
            item.key = key
            changed["IconPixmap"] = changed["AttentionIconPixmap"] = [list(p) for p in pixmaps(*key)]
        tip = (summary_line(snap), "\n".join(self._lines()))
        if tip != item.tooltip:
            item.tooltip = tip
            changed["ToolTip"] = ["", [], tip[0], tip[1]]
        status = "NeedsAttention" if needs_attention(snap) else "Active"
        if status != item.status:
            item.status = status
            changed["Status"] = status
        if self.bus is not None:
            if "IconPixmap" in changed:
                item.NewIcon()
                item.NewAttentionIcon()
            if "ToolTip" in changed:
                item.NewToolTip()
            if "Status" in changed:
                item.NewStatus(status)
            if changed:
                item.emit_properties_changed(changed)
            self.menu.refresh()

    def _lines(self) -> tuple[str, ...]:
        try:
            return self.controller.menu_inputs().extra_lines
        except Exception:
            return ()
