"""End to end: `secondline run --headless` (interval 60 s, stream on) against the real icinga2: a state
change reaches /status.json well before the next poll (bounded loosely at 10 s; bench/detect_latency.py
measures it), and so do an acknowledgement and the recovery."""
from __future__ import annotations

import time

import pytest

from icinga_server import App, free_port, icinga_config

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
