"""The whole app against the REAL Alertmanager: `secondline run --headless` with an alertmanager source
(Basic auth, password from the environment) follows alerts, silences and an outage in /status.json."""
from __future__ import annotations

import pytest

from support.alertmanager import Alertmanager
from support.e2e import AppProcess, clean_env
from support.procs import free_port

pytestmark = pytest.mark.slow


def source(doc: dict, name: str) -> dict:
    return next(s for s in doc["sources"] if s["name"] == name)


def test_run_follows_alertmanager(tmp_path):
    server = Alertmanager(tmp_path / "am", user="ops", password="pw-ops").start()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[[sources]]\nname = "am-prod"\ntype = "alertmanager"\ngroup = "production"\n'
                   f'interval = 1\ntimeout = 3\nurl = "{server.url}"\nusername = "ops"\n')
    env = clean_env(tmp_path / "home", SECONDLINE_SECRET_AM_PROD="pw-ops")
    port = free_port()
    app = AppProcess(["run", "--headless", "--config", str(cfg), "--port", str(port)], env,
                     tmp_path / "app.out", port).start()
    try:
        app.wait_ready()
        app.wait_status(lambda d: source(d, "am-prod")["checked_at"] and source(d, "am-prod")["health"] == "ok",
                        timeout=15, what="am-prod ok")
        server.post_alerts([{"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
                             "annotations": {"summary": "/var 97%"}},
                            {"labels": {"alertname": "Deploy", "severity": "info"}}])
        doc = app.wait_status(lambda d: source(d, "am-prod")["health"] == "critical", timeout=15,
                              what="critical")
        alerts = {a["title"]: a for a in source(doc, "am-prod")["alerts"]}
        assert set(alerts) == {"DiskFull on db1", "Deploy"}
        assert alerts["Deploy"]["severity"] == "info" and alerts["DiskFull on db1"]["detail"] == "/var 97%"
        assert doc["health"] == "critical"

        server.silence({"alertname": "DiskFull"})
        doc = app.wait_status(lambda d: source(d, "am-prod")["health"] == "ok", timeout=15, what="silenced")
        disk = next(a for a in source(doc, "am-prod")["alerts"] if a["title"] == "DiskFull on db1")
        assert disk["handled"] and disk["handled_reason"] == "silenced"
        assert source(doc, "am-prod")["counts"]["handled"] == 1

        server.stop()
        doc = app.wait_status(lambda d: source(d, "am-prod")["health"] == "unknown", timeout=20, what="unknown")
        assert "refused" in source(doc, "am-prod")["error"]
        assert "pw-ops" not in app.output()
    finally:
        app.stop()
        server.stop()
