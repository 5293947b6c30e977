"""A private D-Bus session bus for tests, and the services the app talks to on it.

`PrivateBus` runs its own `dbus-daemon` with a minimal session config: no standard service
directories, so nothing is auto-started behind the test's back (Debian's dunst would otherwise be
D-Bus-activated as org.freedesktop.Notifications). The services a test needs are started
explicitly: `FakeNotifyd` (records every pop-up) and `GnomeKeyring` (the real Secret Service).
Each process is ours and is stopped by its own handle; the keyring daemon also exits with the bus.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from support.parts import PartDidNotStart
from support.procs import stop

HERE = Path(__file__).resolve().parent

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir={tmp}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""




class PrivateBus:
    """`with PrivateBus(tmp) as bus:` -> bus.address, bus.env (to merge into a child's env)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = Path(tmp)
        self.proc: subprocess.Popen | None = None
        self.address = ""

    def start(self) -> "PrivateBus":
        services = self.tmp / "dbus-services"          # empty: nothing can be activated
        services.mkdir(parents=True, exist_ok=True)
        conf = self.tmp / "bus.conf"
        conf.write_text(_CONFIG.format(tmp=self.tmp, services=services))
        self.proc = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise PartDidNotStart("dbus-daemon", f"printed no address (exit {self.proc.poll()})")
        return self

    @property
    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def name_has_owner(self, name: str) -> bool:
        out = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                              "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
                             env={**os.environ, **self.env}, capture_output=True, text=True, timeout=10)
        return "boolean true" in out.stdout

    def wait_for_name(self, name: str, timeout: float = 10) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.name_has_owner(name):
                return
            time.sleep(0.1)
        raise TimeoutError(f"nobody owns {name} on the private bus after {timeout} s")

    def stop(self) -> None:
        stop(self.proc)

    def __enter__(self) -> "PrivateBus":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeNotifyd:
    """The fake notification service (support/fake_notifyd.py) on a bus; `records()` = its Notify calls."""

    NAME = "org.freedesktop.Notifications"

    def __init__(self, bus: PrivateBus, log_path: Path) -> None:
        self.bus = bus
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "FakeNotifyd":
        self.log_path.write_text("")
        env = {**os.environ, **self.bus.env}
        self.proc = subprocess.Popen([sys.executable, str(HERE / "fake_notifyd.py"), str(self.log_path)],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            self.bus.wait_for_name(self.NAME)
        except TimeoutError:
            self.stop()
            out = self.proc.stdout.read() if self.proc.stdout else ""
            raise RuntimeError(f"fake_notifyd did not start (exit {self.proc.returncode}): {out}") from None
        return self

    def records(self) -> list[dict]:
        text = self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def wait_for(self, predicate, timeout: float) -> list[dict]:
        """Wait until some record matches; return all records then (or raise with what came)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            recs = self.records()
            if any(predicate(r) for r in recs):
                return recs
            time.sleep(0.2)
        raise AssertionError(f"no matching notification within {timeout} s; got: {self.records()}")

    def click(self, notification_id: int, action: str = "default") -> None:
        """Play a click on a pop-up (the daemon emits ActionInvoked)."""
        subprocess.run(["dbus-send", "--session", "--type=method_call", f"--dest={self.NAME}",
                        "/org/freedesktop/Notifications", "org.secondline.Test.Click",
                        f"uint32:{notification_id}", f"string:{action}"],
                       env={**os.environ, **self.bus.env}, check=True, capture_output=True, timeout=10)

    def stop(self) -> None:
        stop(self.proc)

    def __enter__(self) -> "FakeNotifyd":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class GnomeKeyring:
    """The real Secret Service: gnome-keyring-daemon, unlocked with a test password, its keyring
    files under `home` (so nothing of the developer's is touched)."""

    NAME = "org.freedesktop.secrets"

    def __init__(self, bus: PrivateBus, home: Path, password: str = "test-pass") -> None:
        self.bus = bus
        self.home = Path(home)
        self.password = password
        self.proc: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**self.bus.env, "HOME": str(self.home)}

    def start(self) -> "GnomeKeyring":
        self.home.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                                     env={**os.environ, **self.env}, stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdin is not None
        self.proc.stdin.write(self.password)
        self.proc.stdin.close()
        try:
            self.bus.wait_for_name(self.NAME)
        except TimeoutError as exc:
            raise PartDidNotStart("gnome-keyring-daemon", str(exc)) from None
        return self

    def stop(self) -> None:
        stop(self.proc)

    def __enter__(self) -> "GnomeKeyring":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
