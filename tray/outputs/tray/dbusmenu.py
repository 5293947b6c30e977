"""The tray menu over D-Bus (`com.canonical.dbusmenu`), for the StatusNotifierItem backend.

Tray hosts (waybar, KDE Plasma, GNOME's AppIndicator extension, XFCE, Cinnamon, MATE) draw the menu
themselves from this interface: `AboutToShow` before showing, `GetLayout` for the tree, `Event` with
"clicked" when an entry is chosen, and they re-read the tree on `LayoutUpdated`. `MenuLayout` turns
tray.outputs.tray.menu.menu_model into that tree (pure, tested without a bus); `DbusMenu` serves it.

Entry ids stay the same across rebuilds for entries that did not change (same place, label and
action), so a click on a menu the host opened just before a rebuild still reaches the entry it shows;
an id that no longer exists is refused, never mapped to another entry.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from dbus_fast import DBusError, Variant
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method, signal

from tray.outputs.tray.menu import Action, MenuEntry

log = logging.getLogger(__name__)

INTERFACE = "com.canonical.dbusmenu"
PATH = "/MenuBar"
_UNKNOWN_ID = "org.freedesktop.DBus.Error.InvalidArgs"


def escape(label: str) -> str:
    """dbusmenu labels mark an access key with '_': a literal underscore is written twice."""
    return label.replace("_", "__")


@dataclass
class Node:
    id: int
    props: dict[str, Variant]
    children: list[int] = field(default_factory=list)
    action: Action | None = None


class MenuLayout:
    """The id-indexed tree of one menu model, with a revision that moves on each real change."""

    def __init__(self) -> None:
        self.revision = 0
        self.nodes: dict[int, Node] = {0: Node(0, {"children-display": Variant("s", "submenu")})}
        self._ids: dict[tuple, int] = {}
        self._next = 1
        self._model: list[MenuEntry] | None = None

    def update(self, model: list[MenuEntry]) -> bool:
        """Rebuild from a model; True when the tree changed (then `revision` moved on)."""
        if model == self._model:
            return False
        nodes: dict[int, Node] = {}
        root = Node(0, {"children-display": Variant("s", "submenu")})
        nodes[0] = root
        root.children = self._add(model, (), nodes)
        self._model = model
        self.nodes = nodes
        # Forget ids of entries gone for good, so the map does not grow with every alert ever seen.
        live = set(nodes)
        self._ids = {k: v for k, v in self._ids.items() if v in live}
        self.revision += 1
        return True

    def _id(self, key: tuple) -> int:
        if key not in self._ids:
            self._ids[key] = self._next
            self._next += 1
        return self._ids[key]

    def _add(self, entries: list[MenuEntry], parent: tuple, nodes: dict[int, Node]) -> list[int]:
        ids = []
        for i, entry in enumerate(entries):
            if entry[0] == "---":
                key = (*parent, ("---", i))
                node = Node(self._id(key), {"type": Variant("s", "separator")})
            else:
                label, target = entry
                if isinstance(target, list):
                    key = (*parent, (label, "submenu"))
                    node = Node(self._id(key), {"label": Variant("s", escape(label)),
                                                "children-display": Variant("s", "submenu")})
                    nodes[node.id] = node
                    node.children = self._add(target, key, nodes)
                else:
                    key = (*parent, (label, repr(target)))
                    props = {"label": Variant("s", escape(label))}
                    if target is None:
                        props["enabled"] = Variant("b", False)
                    node = Node(self._id(key), props, action=target)
            nodes[node.id] = node
            ids.append(node.id)
        return ids

    def node(self, item_id: int) -> Node:
        try:
            return self.nodes[item_id]
        except KeyError:
            raise DBusError(_UNKNOWN_ID, f"no menu item {item_id}") from None

    @staticmethod
    def _props(node: Node, names: list[str]) -> dict[str, Variant]:
        return dict(node.props) if not names else {k: v for k, v in node.props.items() if k in names}

    def layout(self, parent: int, depth: int, names: list[str]) -> list[Any]:
        """The (ia{sv}av) struct of GetLayout: depth -1 = everything below, 0 = the item alone."""
        node = self.node(parent)
        children = []
        if depth != 0:
            for cid in node.children:
                children.append(Variant("(ia{sv}av)", self.layout(cid, depth - 1 if depth > 0 else -1, names)))
        return [node.id, self._props(node, names), children]

    def group_properties(self, ids: list[int], names: list[str]) -> list[list[Any]]:
        # Unknown ids are left out (as libdbusmenu's server does), not an error for the whole group.
        return [[i, self._props(self.nodes[i], names)] for i in (ids or list(self.nodes)) if i in self.nodes]


class DbusMenu(ServiceInterface):
    """`rebuild()` returns the current menu model; `perform(action)` runs a chosen entry (it must not
    block: the caller hands it to a thread)."""

    def __init__(self, rebuild: Callable[[], list[MenuEntry]], perform: Callable[[Action], None]) -> None:
        super().__init__(INTERFACE)
        self.rebuild = rebuild
        self.perform = perform
        self.menu = MenuLayout()
        self.menu.update(rebuild())

    def refresh(self) -> bool:
        """Re-read the model; tell the hosts when it changed."""
        try:
            changed = self.menu.update(self.rebuild())
        except Exception:
            log.exception("the tray menu could not be built")
            return False
        if changed:
            self.LayoutUpdated(self.menu.revision, 0)
        return changed

    # -- methods ---------------------------------------------------------------------------------
    @method()
    def GetLayout(self, parentId: "i", recursionDepth: "i", propertyNames: "as") -> "u(ia{sv}av)":  # noqa: N802,F821
        return [self.menu.revision, self.menu.layout(parentId, recursionDepth, propertyNames)]

    @method()
    def GetGroupProperties(self, ids: "ai", propertyNames: "as") -> "a(ia{sv})":  # noqa: N802,F821
        return self.menu.group_properties(ids, propertyNames)

    @method()
    def GetProperty(self, id: "i", name: "s") -> "v":  # noqa: N802,F821,A002
        props = self.menu.node(id).props
        if name not in props:
            raise DBusError(_UNKNOWN_ID, f"menu item {id} has no property {name}")
        return props[name]

    @method()
    def Event(self, id: "i", eventId: "s", data: "v", timestamp: "u"):  # noqa: N802,F821,A002
        self._event(id, eventId)

    @method()
    def EventGroup(self, events: "a(isvu)") -> "ai":  # noqa: N802,F821
        errors = []
        for item_id, event_id, _data, _ts in events:
            try:
                self._event(item_id, event_id)
            except DBusError:
                errors.append(item_id)
        return errors

    @method()
    def AboutToShow(self, id: "i") -> "b":  # noqa: N802,F821,A002
        self.menu.node(id)
        return self.refresh()

    @method()
    def AboutToShowGroup(self, ids: "ai") -> "aiai":  # noqa: N802,F821
        unknown = [i for i in ids if i not in self.menu.nodes]
        return [[0] if self.refresh() else [], unknown]

    def _event(self, item_id: int, event_id: str) -> None:
        node = self.menu.node(item_id)
        if event_id == "clicked" and node.action is not None:
            log.info("menu: %s", node.props["label"].value.replace("__", "_"))
            self.perform(node.action)
        elif event_id == "opened" and item_id == 0:
            self.perform(("seen",))      # the user has looked at the menu: nothing is "new" any more

    # -- signals ---------------------------------------------------------------------------------
    @signal()
    def LayoutUpdated(self, revision: int, parent: int) -> "ui":  # noqa: N802,F821
        return [revision, parent]

    @signal()
    def ItemsPropertiesUpdated(self, updated: list, removed: list) -> "a(ia{sv})a(ias)":  # noqa: N802,F821
        return [updated, removed]

    @signal()
    def ItemActivationRequested(self, id: int, timestamp: int) -> "iu":  # noqa: N802,F821,A002
        return [id, timestamp]

    # -- properties ------------------------------------------------------------------------------
    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> "u":  # noqa: N802,F821
        return 3

    @dbus_property(access=PropertyAccess.READ)
    def TextDirection(self) -> "s":  # noqa: N802,F821
        return "ltr"

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> "s":  # noqa: N802,F821
        return "normal"

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> "as":  # noqa: N802,F821
        return []
