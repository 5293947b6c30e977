"""A real Wayland desktop with a StatusNotifierItem tray host, headless: sway + waybar's tray module.

    with SwayDesktop(tmp) as desk:
        app env: {**desk.env}          DBUS_SESSION_BUS_ADDRESS of the desktop's bus, WAYLAND_DISPLAY
        desk.screenshot(path)          grim, the whole output
        desk.stop_waybar(); desk.start_waybar()    the tray host going away and coming back

sway refuses to run as root. Run as root (CI, `make test` on a fresh Debian machine), the desktop runs
as an unprivileged system user, `secondline-sway`, created here on first use with
`useradd --system` (no home, no login shell; it stays on the machine, as the packages do). Run as
anyone else, it runs as that user. Its runtime dir (XDG_RUNTIME_DIR: the Wayland and sway IPC
sockets) is a fresh 0700 directory owned by that user, outside pytest's root-only tmp dirs.

The session bus is our own `dbus-daemon`, started as the test's user with a policy that lets both
users connect (`<allow user="*"/>`): waybar (the desktop's user) owns org.kde.StatusNotifierWatcher
on it and reads the item that the app (the test's user) exports there. No service directories, so
nothing is D-Bus-activated behind the test's back.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from support.procs import stop

USER = "secondline-sway"
WATCHER = "org.kde.StatusNotifierWatcher"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
# A bar with the tray alone, on a plain background, so a screenshot's colours are the icon's.
WAYBAR_CONFIG = '{"layer": "top", "position": "top", "height": 32, "modules-right": ["tray"], ' \
                '"tray": {"icon-size": 24, "spacing": 4}}\n'
WAYBAR_STYLE = "* { border: none; font-size: 12px; } window#waybar { background: #202020; } " \
               "#tray { background: #202020; padding: 0 8px; }\n"


def desktop_user() -> pwd.struct_passwd:
    """The account sway runs as: the current user, or (as root) `secondline-sway`, created if missing."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pass
    r = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--comment", "secondline tests, sway and waybar", USER],
                       capture_output=True, text=True)
    if r.returncode not in (0, 9):   # 9: created meanwhile by a parallel run
        raise RuntimeError(f"useradd {USER} failed ({r.returncode}): {r.stderr.strip()}")
    return pwd.getpwnam(USER)


class SwayDesktop:
    def __init__(self, width: int = 800, height: int = 200) -> None:
        self.size = (width, height)
        self.user = desktop_user()
        self.dir: Path | None = None
        self.bus: subprocess.Popen | None = None
        self.sway: subprocess.Popen | None = None
        self.waybar: subprocess.Popen | None = None
        self.bus_address = ""
        self.wayland_display = ""
        self._waybar_runs = 0

    # -- paths and environments ------------------------------------------------------------------
    @property
    def home(self) -> Path:
        assert self.dir is not None
        return self.dir / "home"

    @property
    def runtime(self) -> Path:
        assert self.dir is not None
        return self.dir / "run"

    @property
    def env(self) -> dict[str, str]:
        """For the app: the desktop's session bus, and the Wayland display's name."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus_address, "WAYLAND_DISPLAY": self.wayland_display,
                "XDG_CURRENT_DESKTOP": "sway"}

    def _user_env(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home), "USER": self.user.pw_name,
               "XDG_RUNTIME_DIR": str(self.runtime), "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
               "XDG_CONFIG_HOME": str(self.home / ".config"), "LANG": "C.UTF-8",
               "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1"}
        if self.wayland_display:
            env["WAYLAND_DISPLAY"] = self.wayland_display
        sock = next(self.runtime.glob("sway-ipc.*.sock"), None) if self.dir else None
        if sock is not None:
            env["SWAYSOCK"] = str(sock)
        return env

    def _as_user(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen:
        out = open(self.home / log, "ab")
        try:
            return subprocess.Popen(args, env=self._user_env(), cwd=str(self.home), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **self._as_user())
        finally:
            out.close()

    def run_as_user(self, args: list[str], timeout: float = 20) -> subprocess.CompletedProcess:
        return subprocess.run(args, env=self._user_env(), cwd=str(self.home), capture_output=True, timeout=timeout,
                              **self._as_user())

    def log(self, name: str) -> str:
        p = self.home / name
        return p.read_text(errors="replace") if p.exists() else ""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "SwayDesktop":
        for tool in ("sway", "waybar", "grim", "dbus-daemon"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed (deps/debian.txt; `make test` installs it as root)")
        self.dir = Path(tempfile.mkdtemp(prefix="secondline-sway-"))
        os.chmod(self.dir, 0o755)
        for d, mode in ((self.home, 0o755), (self.runtime, 0o700), (self.dir / "bus", 0o755),
                        (self.dir / "services", 0o755)):
            d.mkdir(mode=mode)
            os.chmod(d, mode)
        if os.geteuid() == 0:      # the desktop's user writes its logs and sockets there
            for d in (self.home, self.runtime):
                os.chown(d, self.user.pw_uid, self.user.pw_gid)
        try:
            self._start_bus()
            self._start_sway()
            self.start_waybar()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_bus(self) -> None:
        assert self.dir is not None
        conf = self.dir / "bus.conf"
        conf.write_text(_BUS_CONFIG.format(dir=self.dir / "bus", services=self.dir / "services"))
        self.bus = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.bus.stdout is not None
        self.bus_address = self.bus.stdout.readline().strip()
        if not self.bus_address:
            raise RuntimeError(f"dbus-daemon did not start (exit {self.bus.poll()})")

    def _start_sway(self, timeout: float = 20) -> None:
        (self.home / "sway.cfg").write_text(
            f"output HEADLESS-1 resolution {self.size[0]}x{self.size[1]} bg #404040 solid_color\n")
        self.sway = self._spawn(["sway", "-c", str(self.home / "sway.cfg")], "sway.log")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.sway.poll() is not None:
                raise RuntimeError(f"sway exited with {self.sway.returncode}:\n{self.log('sway.log')[-2000:]}")
            names = [p.name for p in self.runtime.glob("wayland-*") if not p.name.endswith(".lock")]
            if names and any(self.runtime.glob("sway-ipc.*.sock")):
                self.wayland_display = names[0]
                return
            time.sleep(0.05)
        raise TimeoutError(f"sway made no Wayland socket in {timeout} s:\n{self.log('sway.log')[-2000:]}")

    def start_waybar(self, timeout: float = 20) -> None:
        cfg = self.home / ".config" / "waybar"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "config").write_text(WAYBAR_CONFIG)
        (cfg / "style.css").write_text(WAYBAR_STYLE)
        if os.geteuid() == 0:
            for p in (self.home / ".config", cfg, cfg / "config", cfg / "style.css"):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        self._waybar_runs += 1
        self.waybar = self._spawn(["waybar", "-c", str(cfg / "config"), "-s", str(cfg / "style.css")],
                                  f"waybar-{self._waybar_runs}.log")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.waybar.poll() is not None:
                raise RuntimeError(f"waybar exited with {self.waybar.returncode}:\n"
                                   f"{self.log(f'waybar-{self._waybar_runs}.log')[-2000:]}")
            if self.name_has_owner(WATCHER):
                return
            time.sleep(0.05)
        raise TimeoutError(f"waybar did not take {WATCHER} in {timeout} s")

    def stop_waybar(self) -> None:
        """The tray host going away, as when a panel crashes or is restarted."""
        stop(self.waybar)
        end = time.monotonic() + 10
        while self.name_has_owner(WATCHER) and time.monotonic() < end:
            time.sleep(0.05)

    def stop_bus(self) -> None:
        """The session bus going away (end of a session, a crashed dbus-daemon)."""
        stop(self.bus)

    def stop(self) -> None:
        for p in (self.waybar, self.sway, self.bus):
            stop(p)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "SwayDesktop":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- looking at it ---------------------------------------------------------------------------
    def name_has_owner(self, name: str) -> bool:
        out = subprocess.run(["dbus-send", f"--bus={self.bus_address}", "--print-reply",
                              "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
                             capture_output=True, text=True, timeout=10)
        return "boolean true" in out.stdout

    def screenshot(self, path: Path) -> Path:
        """The whole output as a PNG, taken by grim as the desktop's user."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        r = self.run_as_user(["grim", "-t", "png", "-"])
        if r.returncode != 0 or not r.stdout:
            raise RuntimeError(f"grim failed ({r.returncode}): {r.stderr.decode(errors='replace')[-500:]}")
        path.write_bytes(r.stdout)
        return path
