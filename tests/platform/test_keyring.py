"""Credentials end to end: the real Secret Service (gnome-keyring on a private D-Bus), no keyring at
all, the in-memory test backend, and SECONDLINE_SECRET_<NAME>."""
from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from support.e2e import FakeAlertmanager, am_alert, am_config, clean_env, secondline
from support.dbus import GnomeKeyring, PrivateBus

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each

SECRET = "kr-7f3Qz9-secret-Wx2"          # recognisable, so that any copy of it can be found
NO_CREDENTIAL = "no credential: run `secondline login prod-am`"


@pytest.fixture
def secret_service(tmp_path, home):
    """A private session bus with gnome-keyring-daemon's Secret Service, unlocked, keyrings in `home`."""
    with PrivateBus(tmp_path / "bus") as bus, GnomeKeyring(bus, home) as kr:
        yield kr


def secret_tool(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["secret-tool", *args], env=env, capture_output=True, text=True, timeout=20)


def test_login_check_logout_through_the_real_secret_service(secret_service, home, tmp_path):
    env = clean_env(home, **secret_service.env)
    with FakeAlertmanager(token=SECRET) as am:
        am.set_alerts([am_alert("DiskFull", "critical", "db01")])
        cfg = am_config(tmp_path / "config.toml", am.url)

        r = secondline(["login", "prod-am", "--config", str(cfg)], env, input=SECRET + "\n")
        assert r.returncode == 0, r.stderr
        assert "stored the secret for prod-am in the keyring" in r.stdout
        assert SECRET not in r.stdout + r.stderr
        # Stored where a person (and every other keyring client) finds it: service/username attributes.
        found = secret_tool(env, "lookup", "service", "secondline", "username", "prod-am")
        assert found.returncode == 0 and found.stdout == SECRET, found

        # A source reads it from there: the server got the bearer token and the check passes.
        r = secondline(["check", "--config", str(cfg)], env)
        assert r.returncode == 0, r.stdout + r.stderr
        row = next(line for line in r.stdout.splitlines() if line.startswith("prod-am"))
        assert "critical" in row and SECRET not in r.stdout
        assert {"Authorization": f"Bearer {SECRET}"}.items() <= am.requests[-1].items()

        r = secondline(["logout", "prod-am", "--config", str(cfg)], env)
        assert r.returncode == 0 and "deleted the secret for prod-am" in r.stdout, r
        assert secret_tool(env, "lookup", "service", "secondline", "username", "prod-am").stdout == ""
        r = secondline(["logout", "prod-am", "--config", str(cfg)], env)
        assert r.returncode == 1 and "no secret stored for prod-am" in r.stdout

        # Without the secret the source says what to do.
        r = secondline(["check", "--config", str(cfg)], env)
        assert r.returncode == 1 and NO_CREDENTIAL in r.stdout, r.stdout


def test_a_field_secret_is_stored_under_name_colon_field(secret_service, home, tmp_path):
    env = clean_env(home, **secret_service.env)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[sources]]\nname = "team-trello"\ntype = "trello"\nlist_id = "l1"\n')
    r = secondline(["login", "team-trello", "--field", "token", "--config", str(cfg)], env, input="tok-123456\n")
    assert r.returncode == 0, r.stderr
    found = secret_tool(env, "lookup", "service", "secondline", "username", "team-trello:token")
    assert found.stdout == "tok-123456"


def _files_containing(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            if any(n in data for n in needles):
                hits.append(str(p))
    return hits


@pytest.mark.parametrize("how", ["fail backend", "no session bus"])
def test_login_without_a_keyring_fails_clearly_and_writes_nothing(how, home, tmp_path):
    extra = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"} if how == "fail backend" else {}
    env = clean_env(home, **extra)
    assert "DBUS_SESSION_BUS_ADDRESS" not in env
    cfg = am_config(tmp_path / "config.toml", "http://127.0.0.1:9")
    r = secondline(["login", "prod-am", "--config", str(cfg)], env, input=SECRET + "\n")
    assert r.returncode != 0
    err = r.stderr
    assert "Traceback" not in err and SECRET not in r.stdout + err
    # One clear line naming the fixes: a Secret Service, or the environment variable.
    assert "no usable keyring" in err and "gnome-keyring" in err and "SECONDLINE_SECRET_PROD_AM" in err, err
    # No plaintext fallback: the secret (or its base64) is nowhere under HOME, XDG dirs included.
    needles = [SECRET.encode(), base64.b64encode(SECRET.encode())]
    assert _files_containing(home, needles) == []
    assert _files_containing(tmp_path, needles) == []


def test_locked_keyring_gives_the_fix_not_a_traceback(tmp_path, home):
    # A Secret Service that has no unlocked login keyring: creating one needs a prompt, and no
    # prompter exists on this bus, so the keyring refuses.
    with PrivateBus(tmp_path / "bus") as bus:
        proc = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--components=secrets"],
                                env={**os.environ, **bus.env, "HOME": str(home)}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            bus.wait_for_name("org.freedesktop.secrets")
            cfg = am_config(tmp_path / "config.toml", "http://127.0.0.1:9")
            r = secondline(["login", "prod-am", "--config", str(cfg)], clean_env(home, **bus.env),
                           input=SECRET + "\n", timeout=60)
        finally:
            proc.terminate()
            proc.wait(10)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "locked or refused access" in r.stderr and "SECONDLINE_SECRET_PROD_AM" in r.stderr, r.stderr
    assert _files_containing(home, [SECRET.encode()]) == []


def test_missing_secret_shows_in_status_json(run_app, home, tmp_path):
    """An empty keyring (the in-memory test backend): the source is unknown with the fix as its error."""
    with FakeAlertmanager(token=SECRET) as am:
        cfg = am_config(tmp_path / "config.toml", am.url)
        env = clean_env(home, PYTHON_KEYRING_BACKEND="memkeyring.MemoryKeyring")
        app = run_app(["run", "--headless", "--config", str(cfg)], env)
        doc = app.wait_status(lambda d: d["sources"][0]["checked_at"] or d["sources"][0]["error"], timeout=15)
        src = doc["sources"][0]
        assert src["name"] == "prod-am" and src["health"] == "unknown"
        assert src["error"] == NO_CREDENTIAL
        assert doc["health"] == "unknown"
        assert am.requests == []          # nothing was sent without the credential


def test_no_keyring_backend_makes_the_source_unknown_with_the_fix(run_app, home, tmp_path):
    """A source whose secret is required (Grafana's service-account token) on a machine without a
    keyring: the error says why and names the fixes (a Secret Service, or the environment)."""
    with FakeAlertmanager(token=SECRET) as am:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"""[[sources]]
name = "prod-grafana"
type = "grafana"
group = "production"
interval = 1
url = "{am.url}"
""")
        env = clean_env(home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        app = run_app(["run", "--headless", "--config", str(cfg)], env)
        doc = app.wait_status(lambda d: d["sources"][0]["error"], timeout=15)
        src = doc["sources"][0]
        assert src["health"] == "unknown"
        assert "no usable keyring" in src["error"] and "SECONDLINE_SECRET_PROD_GRAFANA" in src["error"], src
        assert am.requests == []


def test_secret_from_the_environment_without_any_keyring(run_app, home, tmp_path):
    with FakeAlertmanager(token=SECRET) as am:
        am.set_alerts([am_alert("DiskFull", "critical", "db01")])
        cfg = am_config(tmp_path / "config.toml", am.url)
        env = clean_env(home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                        SECONDLINE_SECRET_PROD_AM=SECRET)
        r = secondline(["check", "--config", str(cfg)], env)
        assert r.returncode == 0, r.stdout + r.stderr
        app = run_app(["run", "--headless", "--config", str(cfg)], env)
        doc = app.wait_status(lambda d: d["counts"]["critical"] == 1, timeout=15, what="one critical")
        assert doc["sources"][0]["error"] is None
        assert am.requests and all(h.get("Authorization") == f"Bearer {SECRET}" for h in am.requests)
