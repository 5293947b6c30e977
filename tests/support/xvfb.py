"""A virtual X display with a system tray, for tests and screenshots of the real tray icon.

`Xvfb` picks a free display number itself (-displayfd). `Trayer` is a real XEmbed tray host
(trayer), ready once `_NET_SYSTEM_TRAY_S0` has an owner. `screenshot()` uses ImageMagick's
`import -window root`, as a person's screenshot would.
"""
from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from support.parts import PartDidNotStart
from support.procs import stop



class Xvfb:
    """`number`: run on that display (a test of an X server that appears late); default: a free one."""

    def __init__(self, width: int = 800, height: int = 200, number: int | None = None) -> None:
        self.size = (width, height)
        self.number = number
        self.proc: subprocess.Popen | None = None
        self.display = ""

    def start(self, attempts: int = 3) -> "Xvfb":
        # Other X servers may come and go on this machine meanwhile (parallel test runs): retry
        # until the display we were given really accepts clients.
        for attempt in range(attempts):
            self._spawn()
            if self._connectable(timeout=5):
                return self
            self.stop()
        raise PartDidNotStart("Xvfb", f"display {self.display} does not accept connections ({attempts} attempts)")

    def _connectable(self, timeout: float) -> bool:
        from Xlib import display as xdisplay
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                xdisplay.Display(self.display).close()
                return True
            except Exception:
                time.sleep(0.1)
        return False

    def _spawn(self) -> None:
        if self.number is not None:
            self.display = f":{self.number}"
            self.proc = subprocess.Popen(["Xvfb", self.display, "-screen", "0", f"{self.size[0]}x{self.size[1]}x24",
                                          "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return
        r, w = os.pipe()
        try:
            self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0",
                                          f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp"],
                                         pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.close(w)
            w = -1
            with os.fdopen(r, "r") as f:
                r = -1
                number = f.readline().strip()
        finally:
            for fd in (r, w):
                if fd >= 0:
                    os.close(fd)
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit {self.proc.poll()})")
        self.display = f":{number}"

    @property
    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display}

    def stop(self) -> None:
        stop(self.proc)

    def __enter__(self) -> "Xvfb":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def unused_display_number(low: int = 400, high: int = 900) -> int:
    """A display number no X server holds now, far above where `-displayfd` servers start (0 up), so
    that parallel tests do not take it meanwhile."""
    import random
    for _ in range(200):
        n = random.randint(low, high)
        if not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            return n
    raise RuntimeError("no free X display number")


def tray_owner(display: str) -> int:
    """The window id owning the system tray selection on `display` (0 = no tray host)."""
    from Xlib import X
    from Xlib import display as xdisplay
    d = xdisplay.Display(display)
    try:
        atom = d.intern_atom("_NET_SYSTEM_TRAY_S%d" % d.get_default_screen())
        owner = d.get_selection_owner(atom)
        return 0 if owner == X.NONE else int(owner.id if hasattr(owner, "id") else owner)
    finally:
        d.close()


class Trayer:
    """trayer docked at the top right, `height` px high (its icon slots are 24 x height-2), in its
    GTK theme's colour; with `tint` (0xRRGGBB) a pseudo-transparent panel of that solid colour."""

    def __init__(self, xvfb: Xvfb, height: int = 32, tint: str | None = None) -> None:
        self.xvfb = xvfb
        self.height = height
        self.tint = tint
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10, attempts: int = 3) -> "Trayer":
        for attempt in range(attempts):
            try:
                return self._start(timeout)
            except RuntimeError as exc:
                if attempt == attempts - 1:
                    raise PartDidNotStart("trayer", f"{exc} ({attempts} attempts)") from None
                time.sleep(0.5)
        return self

    def _start(self, timeout: float) -> "Trayer":
        look = ["--transparent", "true", "--alpha", "0", "--tint", self.tint] if self.tint else \
            ["--transparent", "false", "--tint", "0xffffff"]
        self.proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                      "--height", str(self.height), "--SetDockType", "true", *look],
                                     env={**os.environ, **self.xvfb.env},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"trayer exited with {self.proc.returncode}: {err.strip()[-500:]}")
            try:
                if tray_owner(self.xvfb.display):
                    return self
            except Exception as exc:   # the X server went away or reset the connection
                if self.xvfb.proc is not None and self.xvfb.proc.poll() is not None:
                    raise RuntimeError(f"Xvfb {self.xvfb.display} exited ({self.xvfb.proc.returncode})") from exc
            time.sleep(0.1)
        raise TimeoutError("trayer did not take the system tray selection")

    def stop(self) -> None:
        stop(self.proc)

    def __enter__(self) -> "Trayer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def screenshot(display: str, path: Path) -> Path:
    """The whole screen as a PNG (ImageMagick `import -window root`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-display", display, "-window", "root", str(path)], check=True,
                   capture_output=True, timeout=20)
    return path


@contextmanager
def _windows(display: str) -> Iterator[tuple[Any, Iterator[tuple[Any, int]]]]:
    """(root, every window under it with its depth, in stacking order from the bottom), over one
    connection closed afterwards. A window that goes away during the walk is skipped."""
    from Xlib import display as xdisplay
    d = xdisplay.Display(display)
    root = d.screen().root

    def walk() -> Iterator[tuple[Any, int]]:
        stack = [(root, 0)]
        while stack:
            w, depth = stack.pop()
            try:
                children = w.query_tree().children
            except Exception:   # a window that went away meanwhile
                continue
            yield w, depth
            stack.extend((c, depth + 1) for c in reversed(children))
    try:
        yield root, walk()
    finally:
        d.close()


def _has_class(w: Any, wm_class: str) -> bool:
    try:
        return any(wm_class in c for c in (w.get_wm_class() or ()))
    except Exception:   # a window that went away meanwhile
        return False


def window_titles(display: str, wm_class: str) -> list[str]:
    """WM_NAME of every window whose WM_CLASS contains `wm_class` (a tray icon's tooltip on X)."""
    found: list[str] = []
    with _windows(display) as (_, windows):
        for w, _depth in windows:
            try:
                if _has_class(w, wm_class):
                    name = w.get_wm_name()
                    found.append(name.decode() if isinstance(name, bytes) else str(name or ""))
            except Exception:   # a window that went away meanwhile
                continue
    return found


def window_geometry(display: str, wm_class: str) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) on the screen of the first mapped window whose WM_CLASS contains
    `wm_class` (a docked tray icon's slot), or None."""
    from Xlib import X
    with _windows(display) as (root, windows):
        for w, _depth in windows:
            try:
                if _has_class(w, wm_class) and w.get_attributes().map_state == X.IsViewable:
                    g = w.get_geometry()
                    t = root.translate_coords(w, 0, 0)
                    return t.x, t.y, g.width, g.height
            except Exception:   # a window that went away meanwhile
                continue
    return None


def window_parent(display: str, wm_class: str) -> int | None:
    """The id of the parent window (a tray's socket once docked) of the first window whose WM_CLASS
    contains `wm_class`, or None when there is no such window."""
    with _windows(display) as (_, windows):
        for w, _depth in windows:
            try:
                if _has_class(w, wm_class):
                    return int(w.query_tree().parent.id)
            except Exception:   # a window that went away meanwhile
                continue
    return None


def window_tree(display: str) -> str:
    """Every window under the root, indented by depth: id, WM_CLASS, geometry on the screen and map
    state. What a failing tray test shows, so that "the icon is not where it should be" says where it is."""
    from Xlib import X
    states = {X.IsUnmapped: "unmapped", X.IsUnviewable: "unviewable", X.IsViewable: "viewable"}
    lines: list[str] = []
    with _windows(display) as (root, windows):
        for w, depth in windows:
            try:
                g = w.get_geometry()
                t = root.translate_coords(w, 0, 0)
                cls = "/".join(w.get_wm_class() or ()) or "-"
                state = states.get(w.get_attributes().map_state, "?")
            except Exception:   # a window that went away meanwhile
                continue
            lines.append(f"{'  ' * depth}0x{w.id:x} {cls} {g.width}x{g.height}+{t.x}+{t.y} {state}")
    return "\n".join(lines)


def wait_slot(display: str, wm_class: str, what: str, timeout: float = 15) -> tuple[int, int, int, int]:
    """The slot (x, y, width, height) of a docked window of `wm_class`, once the tray has given it one."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        g = window_geometry(display, wm_class)
        if g is not None and g[2] > 1 and g[3] > 1:
            return g
        time.sleep(0.1)
    raise AssertionError(what)
