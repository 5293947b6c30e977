"""Secrets never leave the keyring/environment: a real `secondline run --headless -v` (debug logging)
with recognisable secrets for every type that takes one, against good and failing fake servers;
then every log file, every response, the config, the CLI's own output and `ps` are searched.
And with no keyring / a locked keyring: a clear message, non-zero `login`, sources unknown with the
reason, nothing written in plaintext anywhere under HOME."""
from __future__ import annotations

import secrets as pysecrets
import socket
import subprocess
from pathlib import Path

import pytest

from support.headless_app import run_cli, start_app
from support.sourcespecs import SPECS, serve_good, toml_for
from support.faults import FaultServer, wait_until
from tray.platform.credentials import env_var

HERE = Path(__file__).resolve().parent
SECRET_TYPES = [t for t, s in SPECS.items() if s.secrets]
MODES = ["good", "http401", "html_login", "refused", "tls", "read_timeout"]


def _files_containing(root: Path, needles: list[str]) -> list[tuple[str, str]]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file():
            try:
                data = p.read_bytes()
            except OSError:
                continue
            for n in needles:
                if n.encode() in data:
                    hits.append((str(p), n))
    return hits


def _sse_first_event(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        got = b""
        while b"event: status" not in got or not got.endswith(b"\n\n"):
            got += s.recv(65536)
    return got


@pytest.fixture(scope="module")
def servers():
    with FaultServer() as good, FaultServer() as f401, FaultServer() as html, FaultServer() as slow:
        for t in SPECS:
            serve_good(good, t)
        f401.fault("http401")
        html.fault("html_login")
        slow.fault("read_timeout")
        yield {"good": good.url, "http401": f401.url, "html_login": html.url,
               "refused": good.base_url("refused"), "tls": good.base_url("tls"),
               "read_timeout": slow.url, "_servers": [good, f401, html, slow]}


def _why(source: dict, servers: dict) -> str:
    """The whole document entry and what each server was asked (pytest would cut a dict short)."""
    import json
    asked = {srv.url: [r.path for r in srv.requests[-5:]] for srv in servers["_servers"]}
    return json.dumps(source, indent=1) + "\nlast requests per server: " + json.dumps(asked, indent=1)


def test_no_secret_leaks_anywhere(tmp_path, servers):
    home = tmp_path / "home"
    env: dict[str, str] = {}
    values: list[str] = []
    blocks = []
    i = 0
    for t in SECRET_TYPES:
        for mode in (MODES[i % len(MODES)], MODES[(i + 3) % len(MODES)]):
            i += 1
            name = f"{t}-{mode.replace('_', '-')}"
            extra = {"stream": True, "detect_interval": 0.5} if t == "icinga2" else {}
            blocks.append(toml_for(t, servers[mode], name, interval=1, timeout=2, **extra))
            for fld in SPECS[t].secrets:
                value = f"LeakCanary{pysecrets.token_hex(8)}"
                env[env_var(name, fld)] = value
                values.append(value)
    # Short fragments too: a secret cut by a reason's length limit is still a leak.
    needles = values + [v[:14] for v in values]
    cfg_text = "\n".join(blocks)
    app = start_app(home, cfg_text, env, verbose=True)
    try:
        names = [b.split('name = "', 1)[1].split('"', 1)[0] for b in blocks]
        wait_until(lambda: all(s["checked_at"] or s["error"] for s in app.status()["sources"]), timeout=30)
        wait_until(lambda: app.threads() > 0 and len(app.status()["sources"]) == len(names), timeout=5)
        doc_text = app.get()[2].decode()
        sources = {s["name"]: s for s in app.status()["sources"]}
        # the failing ones really failed (so their error paths were exercised) and say why
        for name, s in sources.items():
            if name.endswith("-http401"):
                assert s["health"] == "unknown" and "HTTP 401" in (s["error"] or ""), _why(s, servers)
            if name.endswith("-good"):
                assert s["error"] is None or "event stream" in s["error"], _why(s, servers)
        responses = [doc_text, _sse_first_event(app.port).decode(), app.get("/")[2].decode(),
                     app.get("/healthz")[2].decode(), app.get("/status.json", headers={"Host": "evil"})[2].decode()]
        ps = subprocess.run(["ps", "-eww", "-o", "pid,args"], capture_output=True, text=True).stdout
        status_cli = run_cli(home, "status", "--json", "--port", str(app.port), timeout=30)
        check_cli = run_cli(home, "check", "--config", str(app.config_path), env_extra=env, timeout=60)
        import time
        time.sleep(3)  # a few more rounds of failures and back-offs in the log
    finally:
        rc = app.stop()     # asserted below, so that a failure above is the one reported
    assert rc == 0, app.output()[-3000:]
    logs = app.log_files()
    assert logs, "no log file written"
    log_text = "\n".join(p.read_text(errors="replace") for p in logs)
    assert "DEBUG" in log_text            # verbose: the chattiest the app gets
    assert "HTTP 401" in log_text         # error paths were logged
    texts = {"log files": log_text, "console output": app.output(), "config": cfg_text, "ps": ps,
             "status --json": status_cli.stdout + status_cli.stderr,
             "check": check_cli.stdout + check_cli.stderr, **{f"response {i}": r for i, r in enumerate(responses)}}
    leaks = [(where, n) for where, text in texts.items() for n in needles if n in text]
    assert leaks == []
    # ... nor any file under HOME (state, cache, logs), nor any request URL the servers saw
    assert _files_containing(home, needles) == []
    for srv in servers["_servers"]:
        for req in srv.requests:
            assert not any(n in req.path for n in needles), req.path
    assert "Traceback" not in log_text and "internal error" not in log_text
    assert check_cli.returncode == 1 and "HTTP 401" in check_cli.stdout


# -- keyring absent or locked -------------------------------------------------------------------

KEYRINGS = {
    "absent": ({"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}, "no usable keyring"),
    "locked": ({"PYTHON_KEYRING_BACKEND": "lockedkeyring.LockedKeyring", "PYTHONPATH": str(HERE)}, "locked"),
}


@pytest.mark.parametrize("state", sorted(KEYRINGS))
def test_keyring_unusable(tmp_path, servers, state):
    env, words = KEYRINGS[state]
    home = tmp_path / "home"
    secret = f"PlainTextCanary{pysecrets.token_hex(8)}"
    cfg_text = (toml_for("zendesk", servers["good"], "helpdesk", interval=1)
                + toml_for("alertmanager", servers["good"], "alerts", interval=1)
                + toml_for("statuspage", servers["good"], "vendor", interval=1))
    home.mkdir(parents=True)
    cfg = home / "config.toml"
    cfg.write_text(cfg_text)
    # login: non-zero, a message naming the problem and the way out
    r = run_cli(home, "login", "helpdesk", "--config", str(cfg), stdin=secret + "\n", env_extra=env)
    assert r.returncode != 0, r
    assert words in r.stderr and "SECONDLINE_SECRET_HELPDESK" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and secret not in r.stdout + r.stderr
    # run: the sources needing a secret are unknown with the reason; the one without reads fine
    app = start_app(home / "run", cfg_text, env)
    try:
        wait_until(lambda: all(s["checked_at"] or s["error"] for s in app.status()["sources"]), timeout=20)
        sources = {s["name"]: s for s in app.status()["sources"]}
    finally:
        rc = app.stop()     # asserted below, so that a failure above is the one reported
    assert rc == 0, app.output()[-3000:]
    for name in ("helpdesk", "alerts"):
        assert sources[name]["health"] == "unknown" and words in (sources[name]["error"] or ""), \
            _why(sources[name], servers)
    assert sources["vendor"]["error"] is None and sources["vendor"]["health"] == "ok", _why(sources["vendor"], servers)
    assert "Traceback" not in app.output()
    # nothing written in plaintext anywhere
    assert _files_containing(home, [secret]) == []
