"""CLI: status exit codes (Nagios convention), check table, version and help."""
import subprocess
import sys

import pytest

from tray.cli.main import main
from tray.core.model import Alert, Reading, Severity
from tray.outputs.http.server import Endpoint
from tray.sources.base import SourceConfig
from tray.engine.store import Store


@pytest.fixture
def running():
    from tray.app.control import ControlServer
    store = Store()
    store.configure([SourceConfig(name="a", type="demo", group="production")])
    ep = Endpoint(store, 0)
    ep.start()
    ctl = ControlServer(ep.port, lambda command, args: (200, {"ok": True, "document": ep.document()}))
    ctl.start()
    yield store, ep.port
    ctl.stop()
    ep.stop()
    store.close()


@pytest.mark.parametrize("severity,error,code,word", [
    (None, None, 0, "production: All OK"),
    ("warning", None, 1, "production: 1 warning"),
    ("critical", None, 2, "production: 1 critical"),
    (None, "connection refused", 3, "production: 1 unknown"),
])
def test_status_exit_codes(running, capsys, severity, error, code, word):
    store, port = running
    if error:
        store.record_error("a", error)
    else:
        alerts = (Alert(source="a", id="x", title="x", severity=Severity(severity)),) if severity else ()
        store.record_reading("a", Reading(alerts=alerts))
    assert main(["status", "--port", str(port)]) == code
    out = capsys.readouterr().out
    assert word in out and "production" in out
    if error:
        assert "connection refused" in out


def test_status_not_running(capsys):
    import socket
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    assert main(["status", "--port", str(port)]) == 3
    assert f"UNKNOWN: secondline is not running on port {port}" in capsys.readouterr().out


def test_check_prints_table(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text('[[sources]]\nname = "demo-production"\ntype = "demo"\ngroup = "production"\n'
                 '[[sources]]\nname = "demo-staging"\ntype = "demo"\ngroup = "staging"\n')
    assert main(["check", "--config", str(p)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["SOURCE", "TYPE", "HEALTH", "ALERTS"]
    assert any(line.startswith("demo-production") and " ok " in line for line in lines)


def test_check_counts_no_alerts_for_a_source_it_cannot_read(tmp_path, capsys):
    """An unreadable source shows "-" under ALERTS: it has none we know of (the icon counts it as one
    unknown, which is a different thing), and the reason on the same line."""
    from support.procs import free_port
    p = tmp_path / "c.toml"
    p.write_text(f'[[sources]]\nname = "am"\ntype = "alertmanager"\nurl = "http://127.0.0.1:{free_port()}"\n'
                 '[[sources]]\nname = "demo-production"\ntype = "demo"\ngroup = "production"\n')
    assert main(["check", "--config", str(p)]) == 1
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows["am"][2:4] == ["unknown", "-"] and "connection refused" in " ".join(rows["am"])
    assert rows["demo-production"][2:4] == ["ok", "0"]


def test_version_and_help():
    r = subprocess.run([sys.executable, "-m", "tray", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("secondline ")
    for cmd in ("run", "check", "status", "login", "logout"):
        r = subprocess.run([sys.executable, "-m", "tray", cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage: secondline " + cmd in r.stdout


def test_no_secret_on_command_line():
    """login reads the secret from a prompt or stdin, never argv."""
    r = subprocess.run([sys.executable, "-m", "tray", "login", "x", "--help"], capture_output=True, text=True)
    assert "--password" not in r.stdout and "--secret" not in r.stdout


@pytest.fixture
def local_zone(monkeypatch):
    """This process in a zone with a half-hour offset (a UTC time printed as local would show)."""
    import time
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_snooze_says_until_when_in_local_time_to_the_minute(local_zone, tmp_path, capsys):
    """`secondline snooze 1h` against a running app prints "until HH:MM" in local time, not an ISO
    instant in UTC with microseconds."""
    from datetime import datetime, timedelta, timezone

    import keyring
    from support.memkeyring import MemoryKeyring
    from tray.app.wiring import App
    from tray.config.loader import loads

    before = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    app = App(loads('[[sources]]\nname = "demo-production"\ntype = "demo"\n', str(tmp_path / "c.toml")),
              headless=True, port=0, watch_config=False, state_path=str(tmp_path / "state.json"))
    try:
        app.start()
        assert main(["snooze", "1h", "--port", str(app.endpoint.port)]) == 0
        out = capsys.readouterr().out.strip()
        want = (datetime.now(timezone.utc) + timedelta(hours=1)).astimezone()
        assert out in (f"notifications snoozed until {(want - timedelta(minutes=m)):%H:%M}" for m in (0, 1)), out
        assert main(["snooze", "off", "--port", str(app.endpoint.port)]) == 0
        assert capsys.readouterr().out.strip() == "notifications resumed"
    finally:
        app.shutdown()
        keyring.set_keyring(before)


@pytest.mark.parametrize("iso,text", [
    ("2026-12-02T22:22:20.880819+00:00", "03:52"),         # same local day (Kolkata is UTC+5:30)
    ("2026-12-03T04:00:00Z", "09:30"),
    ("2026-12-04T04:00:00Z", "Fri 09:30"),
    ("2026-12-20T04:00:00Z", "2026-12-20 09:30"),
    ("garbage", "garbage"),
])
def test_local_until(local_zone, iso, text):
    from datetime import datetime, timezone

    from tray.cli.main import local_until
    now = datetime(2026, 12, 2, 20, 0, tzinfo=timezone.utc)       # 01:30 on Dec 3 in Kolkata
    assert local_until(iso, now) == text


def test_snooze_and_pair_work_without_a_keyring(tmp_path):
    """Issue 16.5: with no keyring at all, the CLI reaches the running tray (the control socket needs no
    token), and no message names the internal SECONDLINE_SECRET___ENDPOINT__."""
    import os

    from support.procs import free_port
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[sources]]\nname = "demo-production"\ntype = "demo"\n')
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PYTHONUNBUFFERED": "1"}
    env.pop("DISPLAY", None)
    port = str(free_port())
    log = open(tmp_path / "tray.log", "w")
    tray = subprocess.Popen([sys.executable, "-m", "tray", "run", "--headless", "--config", str(cfg), "--port", port],
                            stdout=log, stderr=subprocess.STDOUT, env=env)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tray", *args, "--port", port], capture_output=True, text=True,
                              env=env, timeout=60)
    try:
        from support.faults import wait_until
        wait_until(lambda: cli("status").returncode != 3, timeout=30)
        snooze = cli("snooze", "1h")
        assert snooze.returncode == 0 and "notifications snoozed until" in snooze.stdout, snooze.stderr
        pair = cli("pair", "123456")
        assert pair.returncode == 1
        assert "no pairing request waits with that code" in pair.stderr, pair.stderr
        listed = cli("pair", "--list")
        assert listed.returncode == 0 and "no paired clients" in listed.stdout, listed.stderr
        for r in (snooze, pair, listed):
            assert "SECONDLINE_SECRET___ENDPOINT__" not in r.stdout + r.stderr
            assert "token" not in r.stdout + r.stderr
    finally:
        tray.terminate()
        tray.wait(15)
        log.close()
