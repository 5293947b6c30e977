"""Helpers for the tests of secondline as users install it (a wheel in a fresh venv, pipx): an
environment with no way back to the checkout, the installed command run from outside it, and the
checks every installed copy must pass (dashboard, status document against the schema, /events,
`check`, `doctor` with a real keyring, the icon in a real tray)."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
from PIL import Image

from support.procs import free_port, stop

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / "shared"

# What would let a child reach the checkout, the developer's venv or the developer's desktop.
_DROP = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH", "DISPLAY",
         "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND", "GNOME_KEYRING_CONTROL",
         "SSH_AUTH_SOCK", "XAUTHORITY", "PYSTRAY_BACKEND", "PIPX_HOME", "PIPX_BIN_DIR", "PWD", "OLDPWD")


def outside_env(home: Path, **extra: str) -> dict[str, str]:
    """A user's environment on a machine without the checkout: HOME and XDG dirs under `home`, no
    PYTHONPATH, and no directory of the checkout (its .venv/bin included) on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP and not k.startswith("SECONDLINE_SECRET_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", os.defpath).split(os.pathsep)
                                  if p and not Path(p).resolve().is_relative_to(REPO))
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".local/state"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local/share"),
               PYTHONUNBUFFERED="1")
    env.update(extra)
    assert not any(str(REPO) in v for v in env.values()), "the environment still points into the checkout"
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 120,
        input: str | None = None) -> subprocess.CompletedProcess:
    assert not Path(cwd).resolve().is_relative_to(REPO), "commands of the installed copy run outside the checkout"
    return subprocess.run(cmd, env=env, cwd=str(cwd), capture_output=True, text=True, timeout=timeout, input=input)


def assert_installed_in(python: Path, prefix: Path, env: dict[str, str], cwd: Path) -> None:
    """The interpreter of the installed copy imports `tray` and its data from `prefix`, never from the
    checkout, and sees nothing of the checkout on sys.path."""
    code = ("import importlib.resources as r, json, sys, tray, tray.shared\n"
            "print(json.dumps({'tray': tray.__file__, 'shared': str(r.files('tray.shared') / 'palette.json'),\n"
            "  'dashboard': str(r.files('tray.outputs.http') / 'dashboard' / 'index.html'), 'path': sys.path}))")
    out = run([str(python), "-c", code], env, cwd)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    for key in ("tray", "shared", "dashboard"):
        assert Path(got[key]).resolve().is_relative_to(prefix.resolve()), (key, got[key], prefix)
        assert Path(got[key]).is_file(), got[key]
    assert not [p for p in got["path"] if p and Path(p).resolve().is_relative_to(REPO)], got["path"]
    assert not [p for p in got["path"] if "__editable__" in p], got["path"]


def get(url: str, timeout: float = 5) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read(), dict(r.headers)


def first_event(port: int, timeout: float = 10) -> dict[str, Any]:
    """The first `status` event of /events, parsed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/events", headers={"Accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type", "").startswith("text/event-stream")
        event = ""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            line = resp.fp.readline().decode("utf-8").rstrip("\r\n")
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "status":
                return json.loads(line.split(":", 1)[1])
        raise AssertionError("no status event on /events")
    finally:
        conn.close()


class InstalledRun:
    """`secondline run --demo [--headless]` of an installed copy, its output in a file."""

    def __init__(self, exe: Path, env: dict[str, str], cwd: Path, *, headless: bool = True) -> None:
        self.exe, self.env, self.cwd, self.headless = exe, env, cwd, headless
        self.port = free_port()
        self.log_path = cwd / f"run-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "InstalledRun":
        args = [str(self.exe), "run", "--demo", "--port", str(self.port)] + (["--headless"] if self.headless else [])
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(args, env=self.env, cwd=str(self.cwd), stdout=self._log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            assert self.proc.poll() is None, f"secondline exited {self.proc.returncode}:\n{self.output()}"
            try:
                get(self.url("/healthz"), timeout=2)
                return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the endpoint never answered:\n{self.output()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def status(self) -> dict[str, Any]:
        return json.loads(get(self.url("/status.json"))[1])

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                stop(self.proc)
        return self.proc.returncode

    def __exit__(self, *exc: object) -> None:
        stop(self.proc)
        self._log.close()


def check_endpoint(app: InstalledRun) -> None:
    """The dashboard, the contract files, /status.json against the schema and /events, all answered from
    the package data of the installed copy (equal to the repository's shared/, byte for byte)."""
    status, html, headers = get(app.url("/"))
    assert status == 200 and headers["Content-Type"].startswith("text/html"), headers
    palette = json.loads((SHARED / "palette.json").read_text())
    assert b"/*PALETTE*/" not in html and palette["critical"].encode() in html   # filled from the palette
    assert b"<html" in html.lower()
    for name in ("palette.json", "status.schema.json"):
        status, body, _ = get(app.url(f"/{name}"))
        assert status == 200 and body == (SHARED / name).read_bytes(), name
    validator = jsonschema.Draft202012Validator(json.loads((SHARED / "status.schema.json").read_text()))
    doc = app.status()
    validator.validate(doc)
    assert [s["name"] for s in doc["sources"]] == ["demo-production", "demo-staging", "demo-integration"]
    validator.validate(first_event(app.port))


def check_and_doctor(exe: Path, home: Path, prefix: Path) -> None:
    """`check` polls a config's sources; `login` stores a secret in a real Secret Service (gnome-keyring on a
    private bus: the keyring backends are found through the installed entry points) and `doctor` sees it;
    `autostart enable` writes an entry that starts this installation."""
    env = outside_env(home)
    cfg = home / "config.toml"
    cfg.write_text('[[sources]]\nname = "demo-a"\ntype = "demo"\ngroup = "production"\n\n'
                   '[[sources]]\nname = "demo-b"\ntype = "demo"\ngroup = "staging"\n')
    out = run([str(exe), "check", "--config", str(cfg)], env, home)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"config {cfg}: OK (2 source(s))" in out.stdout and "demo-b" in out.stdout

    cfg.write_text('[[sources]]\nname = "grafana-prod"\ntype = "grafana"\nurl = "https://grafana.example"\n')
    script = (f'eval "$(printf %s test-pass | gnome-keyring-daemon --unlock --components=secrets)"; '
              f'printf "s3cr3t-value\\n" | "{exe}" login grafana-prod --config "{cfg}" && '
              f'"{exe}" doctor --config "{cfg}"')
    out = run(["dbus-run-session", "--", "sh", "-c", script], env, home)
    assert out.returncode == 0, out.stdout + out.stderr
    version = next(line for line in out.stdout.splitlines() if line.startswith("version"))
    assert f"{prefix}" in version, version           # the installed interpreter, not the checkout's
    assert "keyring.backends.SecretService.Keyring (usable)" in out.stdout, out.stdout
    assert "grafana-prod (grafana, default)  stored in the keyring" in out.stdout, out.stdout
    assert "s3cr3t-value" not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr, out.stderr

    # Autostart starts this installation: the interpreter of its own venv.
    out = run([str(exe), "autostart", "enable"], env, home)
    assert out.returncode == 0, out.stderr
    entry = (home / ".config" / "autostart" / "secondline.desktop").read_text()
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    assert exec_line == f"Exec={prefix}/bin/python -m tray run", exec_line


def colour_count(path: Path, hex_colour: str, tolerance: int = 6) -> int:
    """How many pixels of a screenshot are (nearly) this colour."""
    h = hex_colour.lstrip("#")
    want = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    img = Image.open(path).convert("RGB")
    return sum(n for n, rgb in img.getcolors(maxcolors=1 << 20)
               if all(abs(a - b) <= tolerance for a, b in zip(rgb, want)))


def check_icon_in_a_tray(exe: Path, home: Path) -> None:
    """Under Xvfb + trayer (a real XEmbed tray host) the installed copy docks an icon drawn in the palette
    colour of the state its endpoint reports."""
    from support.xvfb import Trayer, Xvfb, screenshot
    palette = json.loads((SHARED / "palette.json").read_text())
    states = {k: v for k, v in palette.items() if isinstance(v, str) and v.startswith("#")}
    with Xvfb() as xvfb, Trayer(xvfb):
        env = outside_env(home, DISPLAY=xvfb.display, PYSTRAY_BACKEND="xorg")
        with InstalledRun(exe, env, home, headless=False) as app:
            seen: list[tuple[str, dict[str, int]]] = []
            end = time.monotonic() + 45
            while time.monotonic() < end:
                before = app.status()["state"]
                shot = screenshot(xvfb.display, home / "tray.png")
                after = app.status()["state"]
                if before == after and before in states:
                    counts = {k: colour_count(shot, v) for k, v in states.items()}
                    seen.append((before, counts))
                    # The icon is a disc of the state's colour (about 300 pixels at trayer's 32 px).
                    if counts[before] >= 100 and all(n < counts[before] / 10 for k, n in counts.items()
                                                     if k != before):
                        break
                time.sleep(0.3)
            else:
                raise AssertionError(f"no icon in the state's colour: {seen[-3:]}\n{app.output()}")
            assert app.stop() == 0, app.output()
        assert "Traceback" not in app.output(), app.output()


def wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]

