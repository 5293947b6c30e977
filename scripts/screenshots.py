"""Regenerate the README pictures in docs/img/ from the real code (`make screenshots`).

  icons.png           tray.outputs.tray.icon.render: every state, with unhandled-problem counts (the images the
                      tray shows, drawn by the app's own code, at 64 px, and at 16, 22 and 24 px real
                      size on a light and a dark panel, as tray.outputs.tray.icon.slot_image gives them to a tray)
  tray-xvfb.png       the real tray icon docked in trayer (an XEmbed tray host) on Xvfb, pystray's
                      xorg backend, while the demo is critical: a screenshot of the X screen
  tray-menu.png       the real tray menu, opened with a right click (xdotool) on the icon docked in
                      trayer on Xvfb, pystray's gtk backend, its production submenu opened: a screenshot.
                      pystray's xorg backend (the one without PyGObject) has no menus, so this needs a
                      Python with PyGObject and GTK 3 (--gtk-python; see below); without one it is skipped
  tray-menu-model.png tray.outputs.tray.pystray_backend.menu_model() for the demo's critical step drawn
                      with Pillow (not a screenshot; says so in the picture): the same model the gtk backend shows
  dashboard.png       http://127.0.0.1:PORT/ of a running `secondline run --headless` with the demo
                      scenario, at the critical step, in headless Chromium 1280 px wide (a desktop)
  dashboard-phone.png the same at 400 px (a phone)
  popup.png           the browser extension's popup (extension/ built and loaded unpacked in headless
                      Chromium) reading that same running instance
  options.png         the extension's options page at 1280 px, just after a change (its "Saved" note)

The demo is the built-in scenario (tray.sources.plain.demo.demo_config_toml, as `run --demo` uses) with a
slower step, so that the critical step lasts long enough to be photographed.

    .venv/bin/python scripts/screenshots.py [--out docs/img] [--only icons,menu,tray,gtkmenu,dashboard,popup,options]
                                            [--gtk-python PATH]

The gtk menu picture runs the app with another Python that has PyGObject: Debian's, in a venv that
sees its system packages (PyGObject from PyPI does not build on bookworm):
    apt-get install python3-gi gir1.2-gtk-3.0 xdotool
    /usr/bin/python3 -m venv --system-site-packages .venv-gtk && .venv-gtk/bin/pip install -e .
(--gtk-python defaults to .venv-gtk/bin/python when it exists).

Needs: Pillow; for tray-xvfb.png Xvfb, trayer and ImageMagick's `import`; for dashboard/popup
Debian's /usr/bin/chromium, Playwright (never `playwright install`) and node (extension build).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from tray.outputs.tray import icon as icons  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
STEP_SECONDS = 8.0            # the demo's step length here (run --demo uses 4 s)
CRITICAL_STEP = 2             # tray.sources.plain.demo.STEPS: "a critical"
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/Library/Fonts", "C:/Windows/Fonts"]


def font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    for d in FONT_DIRS:
        p = Path(d) / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
        if p.exists():
            return ImageFont.truetype(str(p), size)
    return ImageFont.load_default(size=size)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    end = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < end:
        try:
            last = fn()
        except Exception as exc:   # not up yet
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(step)
    raise TimeoutError(f"timed out waiting for {what} (last: {last!r})")


# -- icons ---------------------------------------------------------------------------------------------

ICON_COUNTS = (0, 1, 7, 120)
PANEL_SIZES = (16, 22, 24)
PANELS = (("light panel", (220, 218, 213)), ("dark panel", (43, 43, 43)))
LABEL_W, CELL, HEAD_H = 150, 76, 34
SMALL_GAP, GROUP_PAD = 6, 14


def small_cells():
    """(state, count, size, panel colour, (x, y)) of every icon shown at its real size: the picture
    the app itself draws for a panel of that size (tray.outputs.tray.icon.slot_image), not a scaled one."""
    group_w = sum(PANEL_SIZES) + SMALL_GAP * len(PANEL_SIZES) + GROUP_PAD
    x_start = LABEL_W + CELL * len(ICON_COUNTS) + GROUP_PAD
    for i, state in enumerate(icons.STATES):
        y_mid = HEAD_H + i * CELL + CELL // 2
        for p, (_, bg) in enumerate(PANELS):
            for j, n in enumerate(ICON_COUNTS):
                x = x_start + (p * len(ICON_COUNTS) + j) * group_w
                for size in PANEL_SIZES:
                    yield state, n, size, bg, (x, y_mid - size // 2)
                    x += size + SMALL_GAP


def icons_strip() -> Image.Image:
    """A grid, one row per state: the counts at 64 px, then each count at 16, 22 and 24 px, real
    size, on a light and on a dark panel, as a tray shows them."""
    group_w = sum(PANEL_SIZES) + SMALL_GAP * len(PANEL_SIZES) + GROUP_PAD
    x_start = LABEL_W + CELL * len(ICON_COUNTS) + GROUP_PAD
    states = icons.STATES
    w = x_start + group_w * len(ICON_COUNTS) * len(PANELS) + GROUP_PAD
    h = HEAD_H + CELL * len(states) + 12
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    f, fb, fs = font(14), font(13, bold=True), font(11)
    for j, n in enumerate(ICON_COUNTS):
        d.text((LABEL_W + j * CELL + CELL / 2, HEAD_H / 2), f"count {n}", font=fb, fill="#333", anchor="mm")
    for p, (name, bg) in enumerate(PANELS):
        x0 = x_start + p * len(ICON_COUNTS) * group_w - GROUP_PAD // 2
        x1 = x0 + len(ICON_COUNTS) * group_w
        d.rectangle((x0, HEAD_H - 4, x1 - 4, h - 8), fill=bg)
        d.text(((x0 + x1) / 2, HEAD_H / 2 - 4), f"16, 22, 24 px, real size, {name}", font=fs,
               fill="#333", anchor="mm")
    for i, state in enumerate(states):
        y = HEAD_H + i * CELL
        d.text((10, y + CELL / 2), state.replace("_", " "), font=f, fill="#111", anchor="lm")
        for j, n in enumerate(ICON_COUNTS):
            im = icons.render(state, n)
            img.paste(im, (LABEL_W + j * CELL + (CELL - im.width) // 2, y + (CELL - im.height) // 2), im)
    for state, n, size, bg, (x, y) in small_cells():
        img.paste(icons.slot_image(icons.render(state, n), size, size, bg), (x, y))
    return img


# -- the demo snapshot, in process (for the menu) ---------------------------------------------------

def demo_snapshot(step: int):
    """The Snapshot the app holds at a demo step: the demo sources polled at that step's time and
    reduced by the real rules."""
    from tray.config import loader as config_mod
    from tray.core.errors import SourceError
    from tray.core.rules import apply_filters, reduce, source_snapshot
    from tray.sources.plain import demo
    cfg = config_mod.loads(demo.demo_config_toml(step_seconds=STEP_SECONDS), "<demo>")
    origin = time.time() - (step + 0.5) * STEP_SECONDS
    demo.reset_origin(origin)
    now = datetime.now(timezone.utc)
    snaps = []
    for sc in cfg.sources:
        src = demo.DemoSource(sc, None)
        try:
            alerts, err = apply_filters(src.poll(None).alerts, sc.include, sc.exclude), None
        except SourceError as exc:
            alerts, err = (), exc.reason
        snaps.append(source_snapshot(name=sc.name, type=sc.type, group=sc.group, alerts=alerts, checked_at=now,
                                     error=err))
    demo.reset_origin()
    return reduce(snaps, now)


# -- the menu, drawn ---------------------------------------------------------------------------------

class MenuPainter:
    """Draws a menu model (tray.outputs.tray.pystray_backend.menu_model) like a desktop menu: disabled lines grey,
    separators, a ▸ for submenus; `open_path` names the labels of the submenus shown opened."""
    ROW, SEP, PADX, MINW = 28, 11, 14, 180

    def __init__(self) -> None:
        self.f = font(14)
        self.fb = font(14, bold=True)

    def size(self, items: list) -> tuple[int, int]:
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        w = self.MINW
        h = 8
        for e in items:
            if e[0] == "---":
                h += self.SEP
                continue
            w = max(w, int(probe.textlength(e[0], font=self.f)) + 2 * self.PADX + 24)
            h += self.ROW
        return w, h

    def draw(self, canvas: Image.Image, items: list, x: int, y: int, open_label: str | None,
             highlight: str | None) -> tuple[int, int, int] | None:
        """Draw one menu at (x, y); returns (right edge, row top, row index) of the opened submenu row."""
        w, h = self.size(items)
        d = ImageDraw.Draw(canvas)
        d.rectangle((x + 3, y + 3, x + w + 3, y + h + 3), fill="#c9ccd1")                # shadow
        d.rectangle((x, y, x + w, y + h), fill="#ffffff", outline="#b8b8b8")
        cy = y + 4
        opened = None
        for e in items:
            if e[0] == "---":
                d.line((x + 6, cy + self.SEP // 2, x + w - 6, cy + self.SEP // 2), fill="#d6d6d6")
                cy += self.SEP
                continue
            label, target = e
            if label == highlight:
                d.rectangle((x + 2, cy, x + w - 2, cy + self.ROW - 1), fill="#3584e4")
            enabled = target is not None
            colour = "#ffffff" if label == highlight else ("#1a1a1a" if enabled else "#8a8a8a")
            fnt = self.fb if target == ("dashboard",) else self.f    # the default action, as pystray marks it
            d.text((x + self.PADX, cy + self.ROW / 2), label, font=fnt, fill=colour, anchor="lm")
            if isinstance(target, list):
                d.text((x + w - self.PADX, cy + self.ROW / 2), "▸", font=self.f, fill=colour, anchor="rm")
                if label == open_label:
                    opened = (x + w, cy)
            cy += self.ROW
        return opened


def menu_picture(snap) -> Image.Image:
    from tray.outputs.tray.pystray_backend import menu_model
    model = menu_model(snap, snoozed=False)
    p = MenuPainter()
    # Open the worst group and, in it, the first source with alerts: what a user would look at.
    group_row = next((e for e in model if isinstance(e[1] if len(e) > 1 else None, list)
                      and "critical" in e[0]), None)
    sub = group_row[1] if group_row else []
    source_row = next((e for e in sub if isinstance(e[1], list)), None)
    leaf = source_row[1] if source_row else []
    w0, h0 = p.size(model)
    w1, h1 = p.size(sub) if sub else (0, 0)
    w2, h2 = p.size(leaf) if leaf else (0, 0)
    W = 20 + w0 + w1 + w2 + 20
    H = max(h0, h1 + 120, h2 + 160) + 80
    img = Image.new("RGB", (W, H), "#eef0f2")
    small = icons.render(snap.state, snap.counts.problems, 24)
    img.paste(small, (20, 12), small)
    ImageDraw.Draw(img).text((52, 24), "secondline tray menu (drawn from menu_model, not a screenshot)",
                             font=font(12), fill="#555", anchor="lm")
    top = 48
    opened = p.draw(img, model, 20, top, group_row[0] if group_row else None,
                    group_row[0] if group_row else None)
    if opened and sub:
        x1, y1 = opened
        opened2 = p.draw(img, sub, x1 - 2, y1 - 4, source_row[0] if source_row else None,
                         source_row[0] if source_row else None)
        if opened2 and leaf:
            p.draw(img, leaf, opened2[0] - 2, opened2[1] - 4, None, None)
    return img


# -- a running secondline ---------------------------------------------------------------------------

class RunningDemo:
    """`secondline run` with the demo config (slower steps), headless or on an X display."""

    def __init__(self, display: str | None = None) -> None:
        self.display = display
        self.tmp = Path(tempfile.mkdtemp(prefix="sl-shots-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.t0 = 0.0

    def __enter__(self) -> "RunningDemo":
        from tray.sources.plain.demo import demo_config_toml
        cfg = self.tmp / "config.toml"
        cfg.write_text(demo_config_toml(port=self.port, step_seconds=STEP_SECONDS))
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                "DBUS_SESSION_BUS_ADDRESS")}
        env.update(HOME=str(self.tmp), XDG_CONFIG_HOME=str(self.tmp / "config"),
                   XDG_STATE_HOME=str(self.tmp / "state"), XDG_CACHE_HOME=str(self.tmp / "cache"),
                   XDG_DATA_HOME=str(self.tmp / "data"))
        cmd = [sys.executable, "-m", "tray", "run", "--config", str(cfg), "--port", str(self.port)]
        if self.display:
            env.update(DISPLAY=self.display, PYSTRAY_BACKEND="xorg")
        else:
            cmd.append("--headless")
        self.log = open(self.tmp / "app.log", "w")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.t0 = time.monotonic()
        return self

    def doc(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status.json", timeout=2) as r:
            return json.loads(r.read())

    def wait_state(self, state: str, timeout: float = 60) -> dict:
        def ok():
            if self.proc.poll() is not None:
                raise SystemExit("secondline exited:\n" + (self.tmp / "app.log").read_text()[-2000:])
            d = self.doc()
            return d if d["state"] == state else None
        return wait_for(ok, timeout, f"the demo to reach {state}", 0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- the tray icon on Xvfb ---------------------------------------------------------------------------

def tray_on_xvfb(out: Path) -> Path:
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "480x120x24", "-wr", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        display = ":" + f.readline().strip()
    trayer = None
    try:
        # A white desktop (-wr), trayer along the top, 32 px high.
        trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                   "--height", "32", "--SetDockType", "true", "--transparent", "false",
                                   "--tint", "0x303030"], env={**os.environ, "DISPLAY": display},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        with RunningDemo(display) as app:
            app.wait_state("critical", timeout=60)
            time.sleep(1.0)      # the icon image follows the store's change callback
            shot = app.tmp / "root.png"
            subprocess.run(["import", "-display", display, "-window", "root", str(shot)], check=True,
                           capture_output=True, timeout=30)
            img = Image.open(shot).convert("RGB")
            strip = img.crop((img.width - 120, 0, img.width, 40)).resize((360, 120), Image.NEAREST)
            canvas = Image.new("RGB", (480, 150), "white")
            canvas.paste(strip, (120, 0))
            ImageDraw.Draw(canvas).rectangle((120, 0, 479, 119), outline="#999999")
            ImageDraw.Draw(canvas).text((8, 135), "trayer on Xvfb, pystray xorg backend, demo at its critical "
                                        "step (zoomed 3x)", font=font(12), fill="#444", anchor="lm")
            path = out / "tray-xvfb.png"
            canvas.save(path, optimize=True)
            return path
    finally:
        for p in (trayer, xvfb):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(5)


# A silent org.freedesktop.Notifications on the private bus: pystray's gtk backend and the app's own
# notifier find a notification service, and nothing draws a pop-up over the menu.
SILENT_NOTIFYD = r"""
import asyncio
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method

class Notifications(ServiceInterface):
    def __init__(self):
        super().__init__("org.freedesktop.Notifications")
        self.n = 0
    @method()
    def Notify(self, app_name: 's', replaces_id: 'u', app_icon: 's', summary: 's', body: 's',
               actions: 'as', hints: 'a{sv}', expire_timeout: 'i') -> 'u':
        self.n += 1
        return self.n
    @method()
    def CloseNotification(self, id: 'u'):
        pass
    @method()
    def GetCapabilities(self) -> 'as':
        return ["body", "actions"]
    @method()
    def GetServerInformation(self) -> 'ssss':
        return ["silent", "secondline-screenshots", "1.0", "1.2"]

async def main():
    bus = await MessageBus().connect()
    bus.export("/org/freedesktop/Notifications", Notifications())
    await bus.request_name("org.freedesktop.Notifications")
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""
GTK_STEP_SECONDS = 20.0       # the menu is opened by hand-like steps: give the critical step time


# -- the real menu: pystray's gtk backend on Xvfb --------------------------------------------------

def gtk_python_ok(python: str) -> bool:
    probe = ("import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk; "
             "import PIL, keyring, requests, platformdirs, desktop_notifier, importlib.util; "
             "assert importlib.util.find_spec('pystray')")   # importing pystray needs a display
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(REPO)}).returncode == 0
    except OSError:
        return False


def popups(display: str) -> list[tuple[int, int, int, int]]:
    """Mapped override-redirect top-level windows (menus), as (x, y, width, height), oldest first."""
    from Xlib import X
    from Xlib import display as xdisplay
    d = xdisplay.Display(display)
    try:
        out = []
        for w in d.screen().root.query_tree().children:
            try:
                a = w.get_attributes()
                if a.map_state == X.IsViewable and a.override_redirect:
                    g = w.get_geometry()
                    if g.width > 50 and g.height > 20:
                        out.append((g.x, g.y, g.width, g.height))
            except Exception:
                pass
        return out
    finally:
        d.close()


def gtk_menu_on_xvfb(out: Path, python: str) -> Path:
    width, height = 1000, 420
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-wr",
                             "-nolisten", "tcp"], pass_fds=(w,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        display = ":" + f.readline().strip()
    procs: list[subprocess.Popen] = [xvfb]
    tmp = Path(tempfile.mkdtemp(prefix="sl-shots-gtk-"))
    try:
        # pystray's gtk backend needs a session bus; a private one, stopped at the end.
        # (It starts services such as the notification daemon on this display.)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "DISPLAY": display, "NO_AT_BRIDGE": "1"})
        procs.append(bus)
        address = bus.stdout.readline().strip()
        # trayer at the top left: the menu and its submenus open to the right, side by side.
        procs.append(subprocess.Popen(["trayer", "--edge", "top", "--align", "left", "--widthtype", "request",
                                       "--height", "32", "--SetDockType", "true", "--transparent", "false",
                                       "--tint", "0x303030"], env={**os.environ, "DISPLAY": display},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        notifyd = subprocess.Popen([sys.executable, "-c", SILENT_NOTIFYD], stdout=subprocess.PIPE, text=True,
                                   env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address})
        procs.append(notifyd)
        if notifyd.stdout.readline().strip() != "ready":
            raise SystemExit("the silent notification service did not start")
        from tray.cli.doctor import system_tray_owner
        wait_for(lambda: system_tray_owner(display), 10, "trayer to own the system tray")
        from tray.sources.plain.demo import demo_config_toml
        port = free_port()
        cfg = tmp / "config.toml"
        cfg.write_text(demo_config_toml(port=port, step_seconds=GTK_STEP_SECONDS))
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
        env.update(DISPLAY=display, DBUS_SESSION_BUS_ADDRESS=address, PYSTRAY_BACKEND="gtk",
                   PYTHONPATH=str(REPO), NO_AT_BRIDGE="1", HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "c"),
                   XDG_STATE_HOME=str(tmp / "s"), XDG_CACHE_HOME=str(tmp / "cache"),
                   XDG_DATA_HOME=str(tmp / "d"),
                   # no keyring daemon on this bus: it would open a "new keyring" prompt on the screen
                   PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        log = open(tmp / "app.log", "w")
        app = subprocess.Popen([python, "-m", "tray", "run", "--config", str(cfg), "--port", str(port)],
                               cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(app)

        def state() -> str | None:
            if app.poll() is not None:
                raise SystemExit("secondline (gtk) exited:\n" + (tmp / "app.log").read_text()[-2000:])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=2) as resp:
                return json.loads(resp.read())["state"]
        wait_for(lambda: state() == "critical", 6 * GTK_STEP_SECONDS, "the demo's critical step")
        time.sleep(1.0)
        xdo = {**os.environ, "DISPLAY": display}
        # trayer sits at the top left; the icon is its first 32 px.
        subprocess.run(["xdotool", "mousemove", "17", "16", "click", "3"], env=xdo, check=True)
        try:
            menu = wait_for(lambda: popups(display), 10, "the menu")[0]
        except TimeoutError:
            raise SystemExit("the gtk tray menu did not open; the app said:\n" + (tmp / "app.log").read_text()[-2000:])
        time.sleep(0.5)     # GTK ignores pointer motion for a moment after a menu pops up

        def open_first_submenu(box: tuple[int, int, int, int], count: int, what: str) -> list:
            """Hover down the rows of a menu until a submenu opens: the first row that has one."""
            x, y, w, h = box
            for row_y in range(y + 8, y + h - 4, 8):
                subprocess.run(["xdotool", "mousemove", str(x + 60), str(row_y)], env=xdo, check=True)
                try:
                    return wait_for(lambda: len(popups(display)) >= count and popups(display), 0.8, what)
                except TimeoutError:
                    continue
            subprocess.run(["import", "-display", display, "-window", "root", str(out / "tray-menu-failed.png")],
                           capture_output=True)
            raise SystemExit(f"the tray menu: {what} did not open (see {out / 'tray-menu-failed.png'})")

        # The first row with a submenu is the first group (production, the critical one), and in it
        # its source, whose submenu lists the alert.
        opened = open_first_submenu(menu, 2, "the production submenu")
        sub = [p for p in opened if p != menu][0]
        open_first_submenu(sub, 3, "the source submenu")
        if state() != "critical":
            raise SystemExit("the demo moved on from its critical step while the menu was opened; run again")
        time.sleep(0.5)
        shot = tmp / "root.png"
        subprocess.run(["import", "-display", display, "-window", "root", str(shot)], check=True,
                       capture_output=True, timeout=30)
        boxes = popups(display)
        right = min(width, max(x + w for x, y, w, h in boxes) + 16)
        bottom = min(height, max(y + h for x, y, w, h in boxes) + 16)
        img = Image.open(shot).convert("RGB").crop((0, 0, right, bottom))
        canvas = Image.new("RGB", (img.width, img.height + 26), "white")
        canvas.paste(img, (0, 0))
        ImageDraw.Draw(canvas).text((8, img.height + 13), "A screenshot: pystray gtk backend, trayer on Xvfb, "
                                    "right click on the icon, the demo at its critical step", font=font(12),
                                    fill="#444", anchor="lm")
        path = out / "tray-menu.png"
        canvas.save(path, optimize=True)
        return path
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


# -- Chromium: dashboard and popup -----------------------------------------------------------------

def extension_id(manifest: dict) -> str:
    digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def browser_shots(out: Path, want: set[str]) -> list[Path]:
    from playwright.sync_api import sync_playwright
    made: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sl-shots-ext-") as tmp, RunningDemo() as app:
        ext = Path(tmp) / "build"
        subprocess.run(["node", str(REPO / "extension" / "build.mjs"), "--out", str(ext)], check=True,
                       capture_output=True, text=True)
        chrome = ext / "extension-chrome"
        ext_id = extension_id(json.loads((chrome / "manifest.json").read_text()))
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"), executable_path=CHROMIUM, headless=True,
                args=[f"--disable-extensions-except={chrome}", f"--load-extension={chrome}", *BROWSER_ARGS])
            try:
                sw = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker",
                                                                                            timeout=15000)
                sw.evaluate(f"chrome.storage.sync.set({{port: {app.port}}})")
                app.wait_state("critical", timeout=60)
                if "dashboard" in want:
                    for name, width, height in (("dashboard.png", 1280, 560), ("dashboard-phone.png", 400, 700)):
                        page = ctx.new_page()
                        page.set_viewport_size({"width": width, "height": height})
                        page.goto(f"http://127.0.0.1:{app.port}/")
                        wait_for(lambda: page.locator(".s-critical").count() > 0, 15,
                                 "the dashboard's critical tile")
                        page.wait_for_timeout(300)
                        path = out / name
                        page.screenshot(path=str(path), full_page=True)
                        made.append(path)
                        page.close()
                if "popup" in want:
                    wait_for(lambda: sw.evaluate("chrome.action.getBadgeText({})") not in ("", "?"), 20,
                             "the extension's badge")
                    page = ctx.new_page()
                    page.set_viewport_size({"width": 380, "height": 300})
                    page.goto(f"chrome-extension://{ext_id}/popup.html")
                    wait_for(lambda: page.get_attribute("#overall", "data-state") == "critical", 15,
                             "the popup's critical state")
                    page.wait_for_timeout(300)
                    path = out / "popup.png"
                    page.screenshot(path=str(path), full_page=True)
                    made.append(path)
                    page.close()
                if "options" in want:
                    page = ctx.new_page()
                    page.set_viewport_size({"width": 1280, "height": 760})
                    page.goto(f"chrome-extension://{ext_id}/options.html")
                    page.wait_for_selector("body[data-ready='1']", state="attached")
                    page.click("#notifications")           # a change: the page confirms it was saved
                    # (polled from here: an extension page's CSP refuses wait_for_function's eval)
                    wait_for(lambda: page.evaluate("getComputedStyle(document.getElementById('saved')).opacity")
                             == "1", 10, "the options page's saved note")
                    path = out / "options.png"
                    page.screenshot(path=str(path), full_page=False)
                    made.append(path)
                    page.close()
            finally:
                ctx.close()
    return made


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    ap.add_argument("--only", default="icons,menu,tray,gtkmenu,dashboard,popup,options")
    ap.add_argument("--gtk-python", help="a Python with PyGObject + GTK 3 and the app's dependencies "
                    "(default: .venv-gtk/bin/python when it exists)")
    args = ap.parse_args(argv)
    want = {w.strip() for w in args.only.split(",") if w.strip()}
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    if "icons" in want:
        made.append(out / "icons.png")
        icons_strip().save(made[-1], optimize=True)
    if "menu" in want:
        made.append(out / "tray-menu-model.png")
        menu_picture(demo_snapshot(CRITICAL_STEP)).save(made[-1], optimize=True)
    if "gtkmenu" in want:
        gtk_python = args.gtk_python or str(REPO / ".venv-gtk" / "bin" / "python")
        if not (shutil.which("Xvfb") and shutil.which("trayer") and shutil.which("xdotool")
                and shutil.which("dbus-daemon")):
            print("skipped tray-menu.png: Xvfb, trayer, xdotool or dbus-daemon is not installed", file=sys.stderr)
        elif not gtk_python_ok(gtk_python):
            print(f"skipped tray-menu.png: {gtk_python} cannot import gi/Gtk 3 and the app's packages "
                  "(see --gtk-python)", file=sys.stderr)
        else:
            made.append(gtk_menu_on_xvfb(out, gtk_python))
    if "tray" in want:
        if shutil.which("Xvfb") and shutil.which("trayer") and shutil.which("import"):
            made.append(tray_on_xvfb(out))
        else:
            print("skipped tray-xvfb.png: Xvfb, trayer or ImageMagick is not installed", file=sys.stderr)
    if want & {"dashboard", "popup", "options"}:
        made += browser_shots(out, want)
    for p in made:
        print(p.relative_to(REPO) if p.is_relative_to(REPO) else p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
