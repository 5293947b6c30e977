"""The calls a tray host makes on a StatusNotifierItem and its dbusmenu, made from a test.

waybar draws the icon; this plays the rest of a host's part exactly as hosts call it over D-Bus
(libdbusmenu in waybar and XFCE, KDE's and GNOME's own clients): read the watcher's registered
items, read the item's properties, `Activate` on a click, and for the menu `AboutToShow`,
`GetLayout`, `Event(id, "clicked", int32 0, timestamp)`. It also records the item's and the menu's
signals (NewIcon, NewStatus, LayoutUpdated...) with the monotonic time they arrived.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"
PROPS = "org.freedesktop.DBus.Properties"


@dataclass
class MenuItem:
    id: int
    label: str
    enabled: bool
    kind: str                       # "standard" or "separator"
    children: list["MenuItem"] = field(default_factory=list)

    def walk(self):
        for c in self.children:
            yield c
            yield from c.walk()

    def find(self, label: str) -> "MenuItem":
        """The first item below this one labelled `label`, else the first whose label starts so."""
        items = list(self.walk())
        for match in (lambda c: c.label == label, lambda c: c.label.startswith(label)):
            for c in items:
                if match(c):
                    return c
        raise KeyError(label)

    def labels(self) -> list[str]:
        return [c.label for c in self.children if c.kind != "separator"]


def _menu_item(struct: list) -> MenuItem:
    item_id, props, children = struct
    label = props.get("label", Variant("s", "")).value.replace("__", "\0").replace("_", "").replace("\0", "_")
    return MenuItem(item_id, label, props.get("enabled", Variant("b", True)).value,
                    props.get("type", Variant("s", "standard")).value,
                    [_menu_item(c.value) for c in children])


class SniHost:
    def __init__(self, bus_address: str) -> None:
        self.address = bus_address
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sni-host", daemon=True)
        self.thread.start()
        self.bus: MessageBus | None = None
        self.signals: list[tuple[float, str, str, list]] = []     # (monotonic, path, member, body)
        self.item_name = ""
        self.item_path = "/StatusNotifierItem"
        self.menu_path = ""
        self._run(self._connect())

    def _run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect(self) -> None:
        self.bus = await MessageBus(bus_address=self.address).connect()
        self.bus.add_message_handler(self._on_message)

    def _on_message(self, msg: Message) -> bool:
        if msg.message_type is MessageType.SIGNAL and msg.interface in (ITEM, MENU):
            self.signals.append((time.monotonic(), msg.path, msg.member, list(msg.body)))
        return False

    async def _call(self, dest: str, path: str, iface: str, member: str, sig: str = "", body: list | None = None):
        assert self.bus is not None
        reply = await self.bus.call(Message(destination=dest, path=path, interface=iface, member=member,
                                            signature=sig, body=body or []))
        if reply.message_type is MessageType.ERROR:
            raise RuntimeError(f"{member}: {reply.error_name}: {reply.body}")
        return reply.body

    def call(self, dest: str, path: str, iface: str, member: str, sig: str = "", body: list | None = None) -> list:
        return self._run(self._call(dest, path, iface, member, sig, body))

    # -- the watcher -------------------------------------------------------------------------------
    def registered(self) -> list[str]:
        body = self.call(WATCHER, "/StatusNotifierWatcher", PROPS, "Get", "ss", [WATCHER, "RegisteredStatusNotifierItems"])
        return list(body[0].value)

    def wait_registered(self, timeout: float = 20) -> str:
        """The first registered item ("busname/path"); remembers it and listens to its signals."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                items = self.registered()
            except RuntimeError:
                items = []
            if items:
                service = items[0]
                self.item_name, _, path = service.partition("/")
                self.item_path = "/" + path if path else "/StatusNotifierItem"
                self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s",
                          [f"type='signal',sender='{self.item_name}'"])
                self.menu_path = self.prop("Menu")
                return service
            time.sleep(0.1)
        raise AssertionError(f"no StatusNotifierItem registered with the watcher within {timeout} s")

    # -- the item ----------------------------------------------------------------------------------
    def prop(self, name: str) -> Any:
        return self.call(self.item_name, self.item_path, PROPS, "Get", "ss", [ITEM, name])[0].value

    def activate(self, x: int = 0, y: int = 0) -> None:
        self.call(self.item_name, self.item_path, ITEM, "Activate", "ii", [x, y])

    # -- the menu ----------------------------------------------------------------------------------
    def about_to_show(self, item_id: int = 0) -> bool:
        return self.call(self.item_name, self.menu_path, MENU, "AboutToShow", "i", [item_id])[0]

    def layout(self) -> tuple[int, MenuItem]:
        revision, struct = self.call(self.item_name, self.menu_path, MENU, "GetLayout", "iias", [0, -1, []])
        return revision, _menu_item(struct)

    def open_menu(self) -> MenuItem:
        """What a host does on a right-click: AboutToShow on the root, then the whole layout."""
        self.about_to_show(0)
        return self.layout()[1]

    def click(self, item: MenuItem) -> None:
        self.call(self.item_name, self.menu_path, MENU, "Event", "isvu",
                  [item.id, "clicked", Variant("i", 0), int(time.time()) & 0xFFFFFFFF])

    def signal_count(self, member: str) -> int:
        return sum(1 for s in self.signals if s[2] == member)

    def close(self) -> None:
        if self.bus is not None:
            self.bus.disconnect()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
