"""End to end: `secondline run --headless` (interval 60 s, stream on) against the real icinga2: a state
change reaches /status.json well before the next poll (bounded loosely at 10 s; bench/detect_latency.py
measures it), and so do an acknowledgement and the recovery."""
from __future__ import annotations

import time

import pytest

from support.icinga2 import EXTENSION_ORIGIN, App, icinga_config
from support.procs import free_port

pytestmark = pytest.mark.slow


def _alert(app, name, alert_id):
    src = app.source(name) or {}
    return next((a for a in src.get("alerts", []) if a["id"] == alert_id), None)


def _wait(pred, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = pred()
        if v:
            return time.monotonic() - t0
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout}s")


def test_state_change_reaches_status_json_between_polls(icinga, tmp_path):
    icinga.reset("h1!svc2")
    cfg = icinga_config(tmp_path / "config.toml", icinga, interval=60)
    app = App(cfg, free_port(), {"ic": "sl-secret"}, tmp_path / "app.log")
    try:
        first = app.wait_ready("ic")
        assert first["error"] is None and first["type"] == "icinga2"
        assert _alert(app, "ic", "h1!svc2") is None
        time.sleep(1.0)                                    # let the stream's connect-poll settle

        icinga.set_state("h1!svc2", 2, "e2e disk full")
        took = _wait(lambda: (_alert(app, "ic", "h1!svc2") or {}).get("severity") == "critical", 10)
        assert took < 10
        src = app.source("ic")
        assert src["health"] == "critical" and src["error"] is None
        assert app.status()["health"] == "critical"
        a = _alert(app, "ic", "h1!svc2")
        assert a["title"] == "Host One: svc2" and a["detail"] == "e2e disk full" and not a["handled"]

        icinga.acknowledge("h1!svc2")
        _wait(lambda: (_alert(app, "ic", "h1!svc2") or {}).get("handled_reason") == "acknowledged", 10)
        assert app.source("ic")["health"] == "ok"

        icinga.reset("h1!svc2")
        _wait(lambda: _alert(app, "ic", "h1!svc2") is None, 10)
        assert app.source("ic")["error"] is None
    finally:
        app.stop()
    assert "Traceback" not in app.output()


def test_a_problem_seen_only_in_the_event_stream_has_its_display_names(icinga, tmp_path):
    """No change detector and no poll due: the alert comes from the StateChange event alone, which
    carries names only; its title must still be the one a poll shows ("Web Frontend", not "web").
    h2's services are all OK first, so no earlier poll has shown the app that display name."""
    icinga.reset("h2!web", "h2!db")
    cfg = icinga_config(tmp_path / "config.toml", icinga, interval=600, detect_interval=0)
    app = App(cfg, free_port(), {"ic": "sl-secret"}, tmp_path / "app.log")
    try:
        app.wait_ready("ic")
        time.sleep(1.0)                                    # the stream's connect-poll has been answered
        # From here only the stream can bring the change: no detector, the next poll is 10 minutes away.
        icinga.set_state("h2!web", 2, "seen in the stream")
        _wait(lambda: _alert(app, "ic", "h2!web") is not None, 15)    # 2.13 may hold an event ~5 s
        assert _alert(app, "ic", "h2!web")["title"] == "h2: Web Frontend"
    finally:
        icinga.reset("h2!web")
        app.stop()
    assert "Traceback" not in app.output()


def test_check_prints_the_icinga2_row_with_its_health(icinga, tmp_path):
    import os
    import subprocess
    import sys
    from support.icinga2 import REPO
    icinga.reset("h1!svc3")
    icinga.set_state("h1!svc3", 2, "check me")
    try:
        cfg = icinga_config(tmp_path / "config.toml", icinga, stream=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SECONDLINE_SECRET_")}
        env.update(SECONDLINE_SECRET_IC="sl-secret", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "c"),
                   XDG_STATE_HOME=str(tmp_path / "s"), XDG_CACHE_HOME=str(tmp_path / "k"))
        out = subprocess.run([sys.executable, "-m", "tray", "check", "--config", str(cfg)], env=env, cwd=str(REPO),
                             capture_output=True, text=True, timeout=60)
        row = next(line for line in out.stdout.splitlines() if line.startswith("ic "))
        assert out.returncode == 0, out.stdout + out.stderr
        assert "icinga2" in row and "critical" in row
        env["SECONDLINE_SECRET_IC"] = "wrong"
        out = subprocess.run([sys.executable, "-m", "tray", "check", "--config", str(cfg)], env=env, cwd=str(REPO),
                             capture_output=True, text=True, timeout=60)
        row = next(line for line in out.stdout.splitlines() if line.startswith("ic "))
        assert out.returncode == 1 and "unknown" in row and "HTTP 401" in row and "secondline login ic" in row
        # The credential came from the variable: the reason says so, and where to correct it.
        assert "SECONDLINE_SECRET_IC" in row, row
    finally:
        icinga.reset("h1!svc3")


def _check(cfg, secret, tmp_path):
    import os
    import subprocess
    import sys
    from support.icinga2 import REPO
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECONDLINE_SECRET_")}
    env.update(SECONDLINE_SECRET_IC=secret, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "c"),
               XDG_STATE_HOME=str(tmp_path / "s"), XDG_CACHE_HOME=str(tmp_path / "k"))
    out = subprocess.run([sys.executable, "-m", "tray", "check", "--config", str(cfg)], env=env, cwd=str(REPO),
                         capture_output=True, text=True, timeout=60)
    return out, next(line for line in out.stdout.splitlines() if line.startswith("ic "))


def test_check_says_a_blind_apiuser_is_unknown_unless_empty_is_allowed(icinga, tmp_path):
    """Issue 17 end to end: an ApiUser whose permission filters match nothing is not green."""
    icinga.reset("h1!svc3")
    cfg = icinga_config(tmp_path / "config.toml", icinga, stream=False, username="blind")
    out, row = _check(cfg, "blind-secret", tmp_path)
    assert out.returncode == 1 and "unknown" in row, out.stdout + out.stderr
    assert "ApiUser 'blind' (password from SECONDLINE_SECRET_IC) sees 0 of the server's" in out.stdout, out.stdout
    cfg = icinga_config(tmp_path / "config.toml", icinga, stream=False, username="blind", extra="allow_empty = true")
    out, row = _check(cfg, "blind-secret", tmp_path)
    assert out.returncode == 0 and "ok" in row, out.stdout + out.stderr


def test_stream_error_shows_only_while_icinga_is_down(tmp_path):
    """A second, private icinga2: stop it under a running app, start it again on the same port."""
    from support.icinga2 import start_icinga, stop_icinga
    port = free_port()
    ic = start_icinga(tmp_path / "icinga", port)
    app = None
    try:
        cfg = icinga_config(tmp_path / "config.toml", ic, interval=60)
        app = App(cfg, free_port(), {"ic": "sl-secret"}, tmp_path / "app.log")
        app.wait_ready("ic")
        time.sleep(1.0)
        assert app.source("ic")["error"] is None
        stop_icinga(ic.proc)
        _wait(lambda: app.source("ic")["error"], 15)               # the stream / detector say so
        err = app.source("ic")["error"]
        assert "stream" in err or "refused" in err or "connect" in err, err
        ic = start_icinga(tmp_path / "icinga", port)                 # same dir, same port, same CA
        _wait(lambda: app.source("ic")["error"] is None, 30)        # back: the error goes away by itself
        ic.set_state("h1!svc1", 2, "after restart")
        _wait(lambda: (_alert(app, "ic", "h1!svc1") or {}).get("severity") == "critical", 10)
    finally:
        if app:
            app.stop()
        stop_icinga(ic.proc)


def test_acknowledge_and_recheck_through_the_running_app(icinga, tmp_path):
    """POST /actions/acknowledge and /actions/recheck on the app's endpoint reach the real icinga2, and the
    acknowledgement comes back as a handled alert."""
    import json
    import requests
    from tray.outputs.http import signing
    icinga.reset("h1!svc5")
    cfg = icinga_config(tmp_path / "config.toml", icinga, interval=60)
    app = App(cfg, free_port(), {"ic": "sl-secret"}, tmp_path / "app.log")
    try:
        app.wait_ready("ic")
        client, key = app.pair()
        icinga.set_state("h1!svc5", 2, "ack me")
        _wait(lambda: (_alert(app, "ic", "h1!svc5") or {}).get("severity") == "critical", 10)

        def post(action, body):
            path, data = f"/actions/{action}", json.dumps(body).encode()
            return requests.post(f"http://127.0.0.1:{app.port}{path}", data=data, timeout=30, headers={
                "Content-Type": "application/json", "Origin": EXTENSION_ORIGIN,
                "Authorization": signing.sign_request(key, "POST", path, client, data)})
        r = post("acknowledge", {"source": "ic", "id": "h1!svc5", "comment": "on it", "hours": 1})
        assert r.status_code == 200, r.text
        _wait(lambda: (_alert(app, "ic", "h1!svc5") or {}).get("handled_reason") == "acknowledged", 10)
        attrs = icinga.api("GET", "objects/services/h1!svc5", params={"attrs": ["acknowledgement"]})
        assert attrs["results"][0]["attrs"]["acknowledgement"] == 2            # sticky
        r = post("recheck", {"source": "ic", "id": "h1!svc5"})
        assert r.status_code == 200 and "rescheduled" in r.json()["result"].lower(), r.text
        assert post("acknowledge", {"source": "ic", "id": "h1!nope"}).status_code == 404
    finally:
        app.stop()
        icinga.reset("h1!svc5")
