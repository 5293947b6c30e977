"""The pystray icon and its menu: the backend on macOS, Windows and X11 desktops without a
StatusNotifierItem host (tray/outputs/tray/sni.py is the one for those). Only imported when a display can be
reached: pystray connects to X at import time. It reads snapshots and acts through a
tray.outputs.tray.menu.TrayController, and renders tray.outputs.tray.menu.menu_model.

The icon is drawn at the size it is shown at (tray/outputs/tray/icon.py), by backend: the xorg one through
tray/outputs/tray/xembed.py (the slot's size and background); the gtk one (Gtk.StatusIcon) at the size GTK
shows it, which GTK says in its size-changed signal. Given a bigger picture, GTK shrinks it itself
and the count turns into a speck.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

from tray.outputs.tray import icon as icons
from tray.outputs.tray import xembed
from tray.core.model import Snapshot
from tray.core.rules import summary_line
from tray.outputs.tray.menu import TrayController, menu_for, menu_model  # noqa: F401  (menu_model: its old home)

log = logging.getLogger(__name__)

# The sizes of GTK 3's named icon sizes (menu, small toolbar, large toolbar, button, dnd, dialog).
GTK_ICON_SIZES = (16, 16, 24, 16, 32, 48)


def gtk_status_icon_size(allocated: int, named: tuple[int, ...] = GTK_ICON_SIZES) -> tuple[int, int]:
    """(drawn, canvas) for a Gtk.StatusIcon given `allocated` px across the panel.

    GTK scales whatever picture it has to the named icon size nearest the allocation (the first of
    equals, as gtkstatusicon.c's round_pixel_size does), then shows it centred, cut to the allocation.
    So the picture handed over is that named size (canvas: GTK leaves it as it is), with the icon drawn
    at the smaller of the two in its middle (drawn: the whole of it shows)."""
    canvas, dist = 0, None
    for size in named:
        d = abs(allocated - size)
        if dist is None or d < dist:
            canvas, dist = size, d
    canvas = max(canvas, 8)
    return max(8, min(allocated, canvas)), canvas


def _named_gtk_sizes() -> tuple[int, ...]:
    """The running GTK's own named sizes (a theme may change them); the defaults when it cannot say."""
    try:
        from gi.repository import Gtk
        sizes = []
        for name in ("MENU", "SMALL_TOOLBAR", "LARGE_TOOLBAR", "BUTTON", "DND", "DIALOG"):
            ok, w, h = Gtk.icon_size_lookup(getattr(Gtk.IconSize, name))
            if ok:
                sizes.append(max(w, h))
        return tuple(sizes) or GTK_ICON_SIZES
    except Exception:
        return GTK_ICON_SIZES


def prefer_gtk_status_icon(env: "os._Environ[str] | dict[str, str]" = os.environ) -> bool:
    """Ask pystray for its gtk backend (Gtk.StatusIcon) where it would pick appindicator: this module
    only runs on an XEmbed tray without a StatusNotifierItem host (tray/outputs/tray/runner.py), where
    libappindicator falls back to a Gtk.StatusIcon of its own, whose size it does not tell. Also names
    the program for GTK, so the icon's window is WM_CLASS "secondline", not "__main__.py". A
    PYSTRAY_BACKEND of the user's is kept; without PyGObject and GTK 3 pystray chooses as before."""
    backend = env.get("PYSTRAY_BACKEND")
    if not backend and sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        try:
            import gi
            gi.require_version("Gtk", "3.0")
        except (ImportError, ValueError):
            return False
        env["PYSTRAY_BACKEND"] = backend = "gtk"
    return backend == "gtk" and _gtk_program_name()


def _gtk_program_name() -> bool:
    try:
        from gi.repository import GLib
        GLib.set_prgname("secondline")      # before GTK opens the display (pystray's import)
        return True
    except Exception:
        return False


class TrayIcon:
    def __init__(self, controller: TrayController) -> None:
        prefer_gtk_status_icon()
        import pystray  # noqa: F401  (connects to the display)
        self.pystray = pystray
        self.controller = controller
        snap = controller.latest()
        self.icon = pystray.Icon("secondline", icons.icon_for(snap), summary_line(snap),
                                 menu=pystray.Menu(self._items))
        xembed.install(self.icon)        # XEmbed: drawn for the tray's slot and background
        self._gtk_size: tuple[int, int] | None = None     # (drawn, canvas) once GTK has said its size
        status_icon = getattr(self.icon, "_status_icon", None)
        if type(self.icon).__module__.endswith("_gtk") and status_icon is not None:
            status_icon.connect("size-changed", self._on_gtk_size)
        self._last_key: tuple[str, int] | None = None
        self._xorg: _XorgCalls | None = None
        self._ready = False              # set once _setup has shown the icon
        self._update_lock = threading.Lock()
        self.backend = type(self.icon).__module__

    # -- menu ---------------------------------------------------------------------------------
    def _do(self, action: tuple) -> Any:
        def run(icon: Any = None, item: Any = None) -> None:
            # Off pystray's loop thread: an action may block (a browser starting, an acknowledgement).
            threading.Thread(target=self.controller.perform, args=(action,), name="menu-action",
                             daemon=True).start()
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
        return self._build(menu_for(self.controller))

    # -- updates ------------------------------------------------------------------------------
    def _image(self, state: str, count: int) -> Any:
        if self._gtk_size is None:
            return icons.render(state, count)
        drawn, canvas = self._gtk_size
        return icons.on_canvas(icons.render(state, count, drawn), canvas)

    def _on_gtk_size(self, status_icon: Any, size: int) -> bool:
        """Gtk.StatusIcon's size-changed (on GTK's loop): draw the icon for that size. True tells GTK
        not to scale the old picture meanwhile."""
        try:
            shown = gtk_status_icon_size(int(size), _named_gtk_sizes())
        except Exception:
            log.debug("tray icon: GTK size %r not usable", size, exc_info=True)
            return False
        log.debug("tray icon: GTK shows it %d px; drawn %d px on %d px", size, *shown)
        with self._update_lock:
            self._gtk_size = shown
            self._last_key = None
        if not self._ready:
            return False                 # _setup draws it at this size
        self.on_change(self.controller.latest(), [])
        return True

    def on_change(self, snap: Snapshot, events: list) -> None:
        if not self._ready:
            return                      # _setup draws the latest snapshot once the icon is up
        with self._update_lock:
            key = (snap.state, snap.counts.problems)
            image = self._image(*key) if key != self._last_key else None
            self._last_key = key
            title = summary_line(snap)
            if self._xorg is not None:
                self._xorg.update(image, title)
                return                  # menus are not supported on X: nothing else to refresh
            if image is not None:
                self.icon.icon = image
            self.icon.title = title
        try:
            self.icon.update_menu()
        except Exception:
            pass

    def _setup(self, icon: Any) -> None:
        if _XorgCalls.applies(icon):
            try:
                self._xorg = _XorgCalls(icon)
            except Exception as exc:   # no second connection: fall back to pystray's own calls
                log.warning("tray icon: own X connection failed (%s); using pystray's", exc)
        if self._xorg is not None:
            self._xorg.set_visible(True)
        else:
            icon.visible = True
        self._redock(icon)
        self._ready = True
        self.on_change(self.controller.latest(), [])
        log.info("tray icon shown (%s backend)", self.backend)

    def _redock(self, icon: Any) -> None:
        # A tray may miss a dock request (trayer started meanwhile, a loaded machine): ask again when
        # the window is still on the root after the tray had time to answer. Never by hiding and
        # showing the icon: an undock racing the tray's late embedding leaves it in no tray at all.
        x = self._xorg
        if x is None:
            return
        for _ in range(5):
            end = time.monotonic() + xembed.DOCK_PATIENCE + 0.5
            while time.monotonic() < end:
                try:
                    if x.docked():
                        return
                except Exception:
                    return
                time.sleep(0.1)
            x.call("_show")            # another dock request (tray.xembed sends it when none is pending)
        log.warning("the tray icon was not docked: is a system tray (XEmbed) running?")

    def run(self) -> None:
        """Block until stop(). The caller (tray.outputs.tray.runner) forwards the store's changes to on_change."""
        self.icon.run(setup=self._setup)

    def stop(self) -> None:
        # Last resort if the backend still hangs on stop.
        t = threading.Timer(5, lambda: os._exit(0))
        t.daemon = True
        t.start()
        if self._xorg is not None:
            self._xorg.stop()
            return
        try:
            self.icon.visible = False   # undock first: stop() while docked can hang (recipes)
        except Exception:
            pass
        self.icon.stop()


class _XorgCalls:
    """pystray's xorg implementation methods run on its loop thread, asked for over our OWN X
    connection.

    pystray's xorg backend marshals a call from another thread (icon, title, visible, stop) by
    sending a ClientMessage and flushing its shared python-xlib connection from the calling
    thread, while its loop thread reads and sends on that same connection. python-xlib deadlocks
    on that race: measured under Xvfb + trayer, about 1 run in 7 hung with the loop thread stuck
    in get_geometry() and the store dispatcher blocked forever in pystray's reply queue, so the
    icon froze (or went blank) and no notification or SSE update followed. Here the message goes
    over a second connection, so the shared one is only ever used by pystray's own thread; the
    loop thread runs the original method and answers on pystray's queue as before.

    It stays now that tray/outputs/tray/sni.py exists: the StatusNotifierItem backend only runs where a
    StatusNotifierWatcher is on the session bus, and X11 desktops with an XEmbed tray alone (trayer,
    stalonetray, i3bar, older panels, and any X session without a session bus) still get pystray's
    xorg backend, whose race this works around (pystray 0.19.5 has not fixed it).
    """

    def __init__(self, icon: Any) -> None:
        from Xlib import X
        from Xlib import display as xdisplay
        from Xlib.protocol import event
        self.icon, self.X, self.event = icon, X, event
        self.display = xdisplay.Display(icon._display.get_display_name())
        self.window = self.display.create_resource_object("window", icon._window.id)
        self.root_id = self.display.screen().root.id
        self.lock = threading.Lock()

    @staticmethod
    def applies(icon: Any) -> bool:
        return type(icon).__module__.endswith("_xorg") and all(
            hasattr(icon, a) for a in ("_display", "_window", "_queue", "_icon_valid", "_visible"))

    def call(self, name: str, timeout: float = 5.0) -> bool:
        icon = self.icon
        with self.lock:
            loop = getattr(icon, "_thread", None)
            if loop is not None and loop.ident == threading.current_thread().ident:
                getattr(type(icon), name)(icon)
                return True
            atom = self.display.intern_atom("_PYSTRAY_" + name.upper())
            self.window.send_event(self.event.ClientMessage(
                window=self.window, client_type=atom, data=(32, (self.X.CurrentTime, 0, 0, 0, 0))),
                event_mask=self.X.NoEventMask)
            self.display.flush()
            try:
                result = icon._queue.get(timeout=timeout)
            except Exception:
                log.warning("the tray icon did not answer (%s)", name)
                return False
        if result is not True:
            log.warning("tray icon: %s failed: %s", name, result[1] if isinstance(result, tuple) else result)
            return False
        return True

    def docked(self) -> bool:
        with self.lock:
            return self.window.query_tree().parent.id != self.root_id

    def set_visible(self, value: bool) -> None:
        icon = self.icon
        if icon._visible == value:
            return
        if value:
            if not icon._icon_valid:
                self.call("_update_icon")
            self.call("_show")
        else:
            self.call("_hide")
        icon._visible = value

    def update(self, image: Any, title: str) -> None:
        icon = self.icon
        if image is not None:
            icon._icon, icon._icon_valid = image, False     # what pystray's setter does, minus its call
            if icon._visible:
                self.call("_update_icon")
        if title != icon._title:
            icon._title = title
            if icon._visible:
                self.call("_update_title")

    def stop(self) -> None:
        icon = self.icon
        if not getattr(icon, "_running", True):
            return
        self.set_visible(False)          # undock first: stopping while docked can hang (recipes)
        self.call("_stop")
        icon._running = False
        try:
            self.display.close()
        except Exception:
            pass
