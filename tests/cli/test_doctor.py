"""`secondline doctor`: every line a user needs to see why something does not work, and never a secret."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from support.procs import free_port

from tray import __version__
from tray.cli import doctor

SECRET = "s3cr3t-token-value-42"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memkeyring():
    before = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(before)


@pytest.fixture
def failkeyring():
    before = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(before)


CONFIG = """
[server]
port = {port}

[[sources]]
name = "grafana-prod"
type = "grafana"
group = "production"
url = "https://grafana.example"

[[sources]]
name = "trello-team"
type = "trello"
group = "team"
list_id = "abc"

[[sources]]
name = "am-staging"
type = "alertmanager"
group = "staging"
url = "http://127.0.0.1:9093"

[[sources]]
name = "am-auth"
type = "alertmanager"
group = "staging"
url = "http://127.0.0.1:9094"
auth = "bearer"

[[sources]]
name = "nagios-basic"
type = "nagios"
group = "staging"
url = "http://127.0.0.1/nagios"
username = "nagiosadmin"

[[sources]]
name = "hub"
type = "secondline"
group = "team"
url = "https://hub.example.com/status.json"

[[sources]]
name = "status"
type = "statuspage"
group = "team"
url = "https://status.example.com"

[[sources]]
name = "env-grafana"
type = "grafana"
group = "production"
url = "https://g2.example"
"""


def write_config(tmp_path, port: int) -> str:
    p = tmp_path / "config.toml"
    p.write_text(CONFIG.format(port=port))
    return str(p)


def lines_of(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        label, _, value = line.strip().partition("  ")
        out[label.strip()] = value.strip()
    return out


def test_report_lists_every_check_and_each_sources_credential(tmp_path, memkeyring, monkeypatch):
    port = free_port()
    path = write_config(tmp_path, port)
    memkeyring.set_password("secondline", "grafana-prod", SECRET)
    memkeyring.set_password("secondline", "trello-team:key", SECRET + "k")
    monkeypatch.setenv("SECONDLINE_SECRET_ENV_GRAFANA", SECRET + "e")
    text = doctor.report(path)
    assert SECRET not in text
    got = lines_of(text)
    assert got["version"].startswith(f"secondline {__version__} (Python ")
    assert got["config"] == f"{path}: OK, 8 source(s) in production, staging, team"
    assert got["keyring"] == f"{__name__}.MemoryKeyring (usable)"
    assert got["port"] == f"127.0.0.1:{port} is free"
    assert got["log file"].endswith("secondline.log") and os.environ["XDG_STATE_HOME"] in got["log file"]
    assert "notifications" in got and "autostart" in got
    assert got["grafana-prod (grafana, production)"] == "stored in the keyring"
    assert got["trello-team (trello, team)"] == \
        "key: stored in the keyring; token: MISSING: run `secondline login trello-team --field token`"
    assert got["am-staging (alertmanager, staging)"] == "no credential needed (no auth configured)"
    assert got["am-auth (alertmanager, staging)"] == "MISSING: run `secondline login am-auth`"
    assert got["nagios-basic (nagios, staging)"] == "MISSING: run `secondline login nagios-basic`"
    assert got["hub (secondline, team)"] == "none stored (optional)"
    assert got["status (statuspage, team)"] == "no credential needed"
    assert got["env-grafana (grafana, production)"] == "from $SECONDLINE_SECRET_ENV_GRAFANA"


def test_no_keyring_is_explained_per_source(tmp_path, failkeyring):
    text = doctor.report(write_config(tmp_path, free_port()))
    got = lines_of(text)
    assert got["keyring"].startswith("keyring.backends.fail.Keyring (no usable keyring")
    assert got["grafana-prod (grafana, production)"].startswith("cannot be read: no usable keyring")
    assert "SECONDLINE_SECRET_GRAFANA_PROD" in got["grafana-prod (grafana, production)"]
    # `check` reads an Alertmanager without auth fine with no keyring: doctor must not ask for one.
    assert got["am-staging (alertmanager, staging)"] == "no credential needed (no auth configured)"
    assert got["am-auth (alertmanager, staging)"].startswith("cannot be read: no usable keyring")
    assert got["nagios-basic (nagios, staging)"].startswith("cannot be read: no usable keyring")
    assert got["hub (secondline, team)"].startswith("none (optional; the keyring cannot be read: no usable")


def test_missing_and_broken_config_are_reported_and_the_rest_still_runs(tmp_path):
    got = lines_of(doctor.report(str(tmp_path / "nope.toml")))
    assert got["config"].startswith(f"{tmp_path / 'nope.toml'}: not found")
    assert got["port"] == "127.0.0.1:17474 is free" or "17474" in got["port"]
    assert "sources:" not in doctor.report(str(tmp_path / "nope.toml"))

    bad = tmp_path / "bad.toml"
    bad.write_text('[[sources]]\nname = "x"\ntype = "grafana"\n')    # url is required
    got = lines_of(doctor.report(str(bad)))
    assert got["config"].startswith(f"{bad}: does not load: ") and "url" in got["config"]

    bad.write_text("not = [toml")
    assert "not valid TOML" in lines_of(doctor.report(str(bad)))["config"]


def test_port_taken_by_another_program(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = doctor.check_port(port)[1]
    assert line.startswith(f"127.0.0.1:{port} is taken by another program")


def test_port_answered_by_a_running_secondline():
    doc = {"schema": 1, "health": "critical", "summary": "secondline: 1 critical"}

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        port = srv.server_address[1]
        assert doctor.check_port(port)[1] == \
            f"127.0.0.1:{port} is answered by a running secondline (health critical: secondline: 1 critical)"
    finally:
        srv.shutdown()
        srv.server_close()


def test_notification_line(monkeypatch):
    import tray.notify.notifier
    monkeypatch.setattr(tray.notify.notifier, "notification_service_reason", lambda: None)
    assert doctor.check_notifications()[1].startswith("desktop")
    monkeypatch.setattr(tray.notify.notifier, "notification_service_reason", lambda: "no D-Bus session bus")
    assert doctor.check_notifications()[1] == "console and log only: no D-Bus session bus"

    def broken():
        raise RuntimeError("boom")
    monkeypatch.setattr(tray.notify.notifier, "notification_service_reason", broken)
    assert "cannot be checked (RuntimeError: boom)" in doctor.check_notifications()[1]


def test_notification_line_without_a_session_bus(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert "DBUS_SESSION_BUS_ADDRESS" in doctor.check_notifications()[1]


def test_display_and_tray_backend_lines():
    assert doctor.check_display({}, "linux")[0][1].startswith("none (DISPLAY and WAYLAND_DISPLAY unset)")
    assert doctor.tray_backend({}, "linux", has_gi=False).startswith("xorg (PyGObject is not installed; "
                                                                     "XEmbed icon, no menu")
    assert doctor.tray_backend({}, "linux", has_gi=True).startswith("appindicator or gtk")
    assert doctor.tray_backend({"PYSTRAY_BACKEND": "xorg"}, "linux", has_gi=True).startswith(
        "xorg (PYSTRAY_BACKEND; XEmbed icon, no menu")
    assert doctor.tray_backend({}, "darwin").startswith("darwin")
    assert doctor.check_display({"DISPLAY": ":0"}, "win32") == [("tray", doctor.tray_backend({}, "win32"))]
    wl = dict(doctor.check_display({"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "GNOME"}, "linux"))
    assert wl["display"] == "WAYLAND_DISPLAY=wayland-0, desktop GNOME"
    assert "system tray" not in wl


@pytest.mark.slow
def test_system_tray_host_seen_on_a_real_x_display():
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "640x100x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        display = ":" + f.readline().strip()
    trayer = None
    try:
        env = {"DISPLAY": display}
        assert dict(doctor.check_display(env, "linux"))["system tray"].startswith("no XEmbed tray host")
        trayer = subprocess.Popen(["trayer", "--edge", "top", "--SetDockType", "true"], env={**os.environ, **env},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while time.monotonic() < end and not doctor.system_tray_owner(display):
            time.sleep(0.1)
        assert dict(doctor.check_display(env, "linux"))["system tray"] == "an XEmbed tray host is running"
    finally:
        for p in (trayer, xvfb):
            if p is not None:
                p.terminate()
                p.wait(5)


def test_autostart_line_follows_the_file(monkeypatch, tmp_path):
    from tray.platform import autostart
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert doctor.check_autostart()[1].startswith("disabled")
    autostart.enable(autostart.current_entry())
    assert doctor.check_autostart()[1] == f"enabled ({tmp_path / 'autostart' / 'secondline.desktop'})"


def test_report_from_a_subprocess_prints_no_secret(tmp_path):
    """The whole report in a fresh interpreter, a secret in the environment: it is named, not shown."""
    path = write_config(tmp_path, free_port())
    env = {**os.environ, "SECONDLINE_SECRET_GRAFANA_PROD": SECRET}
    out = subprocess.run([sys.executable, "-c", f"from tray.cli import doctor; print(doctor.report({path!r}))"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout + out.stderr
    assert "from $SECONDLINE_SECRET_GRAFANA_PROD" in out.stdout
