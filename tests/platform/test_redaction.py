"""Redaction end to end: a recognisable secret, given to a source through SECONDLINE_SECRET_<NAME>,
talking to a server that echoes the credential back in every way an HTTP answer can (error
bodies, HTML, the status line's reason phrase), never reaches the log file, the console, the
endpoint (status document, events, dashboard) or any process's command line."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from support.e2e import FakeAlertmanager, am_alert, am_config, clean_env

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each

SECRET = "zz-REDACT-ME-4u8Kq2-secret"


def _echoing(am: FakeAlertmanager):
    """Every other answer is the real alert list (so the poller's backoff stays short); the others
    are in turn a 401 echoing the header in the body, a 500 with it as the reason phrase, an HTML
    page quoting it, and a JSON error quoting it."""
    def respond(h) -> bool:
        count = len(am.requests)
        if count % 2 == 1:
            return False
        n = (count // 2) % 4 + 1
        auth = h.headers.get("Authorization", "")
        if n == 1:
            h._send(401, json.dumps({"error": f"invalid credential {auth}"}).encode())
        elif n == 2:
            h._send(500, b"{}", reason=f"Internal error for {auth}")
        elif n == 3:
            body = f"<html><body>Login required. You sent: {auth}</body></html>".encode()
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        elif n == 4:
            h._send(200, json.dumps({"error": f"bad token {auth}", "token": SECRET}).encode())
        return True
    return respond


def _read_events(port: int, seconds: float) -> bytes:
    data = b""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/events", timeout=seconds) as r:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                chunk = r.read1(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        pass      # the read timed out: what came is enough
    return data


def test_the_secret_never_leaves_the_process(run_app, home, tmp_path):
    with FakeAlertmanager(token=SECRET) as am:
        am.set_alerts([am_alert("DiskFull", "critical", "db01")])
        am.respond = _echoing(am)
        cfg = am_config(tmp_path / "config.toml", am.url)
        env = clean_env(home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                        SECONDLINE_SECRET_PROD_AM=SECRET)
        app = run_app(["run", "--headless", "--verbose", "--config", str(cfg)], env)
        docs, end = [], time.monotonic() + 40
        errors: set[str] = set()
        while time.monotonic() < end and (len(am.requests) < 12 or len(errors) < 4):
            code, body = app.get("/status.json")
            docs.append(body)
            err = json.loads(body)["sources"][0]["error"]
            if err:
                errors.add(err.split(" ")[0] + " " + err.split(" ")[1])
            time.sleep(0.2)
        # Every echo was answered and turned into a source error at least once.
        assert len(am.requests) >= 12, am.requests
        assert len(errors) >= 4, errors
        # The credential was really sent.
        assert all(h.get("Authorization") == f"Bearer {SECRET}" for h in am.requests)
        events = _read_events(app.port, 3)
        assert events.startswith(b"event: status") or b"event: status" in events, events[:200]
        _, dashboard = app.get("/")
        ps = subprocess.run(["ps", "-eww", "-o", "pid,args"], capture_output=True, text=True).stdout
        cmdlines = b"\n".join(p.read_bytes() for p in Path("/proc").glob("[0-9]*/cmdline") if _readable(p))
        assert app.stop() == 0

    log_file = home / ".local/state/secondline/log/secondline.log"
    assert log_file.exists(), app.output()
    log_text = log_file.read_text()
    assert "prod-am" in log_text and "DEBUG" in log_text       # it did log about this source, verbosely
    where = {"console (stdout/stderr)": app.output(), "log file": log_text,
             "status.json": b"".join(docs).decode(), "/events": events.decode(), "dashboard": dashboard.decode(),
             "ps": ps, "/proc/*/cmdline": cmdlines.decode(errors="replace")}
    leaks = {name: _context(text) for name, text in where.items() if SECRET in text}
    assert not leaks, f"the secret leaked into: {leaks}"
    # Not even the config or the state files hold it.
    for p in list(home.rglob("*")) + [cfg]:
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), p


def _readable(p: Path) -> bool:
    try:
        p.read_bytes()
        return True
    except OSError:
        return False


def _context(text: str) -> str:
    i = text.index(SECRET)
    return text[max(0, i - 120): i + len(SECRET) + 40]
