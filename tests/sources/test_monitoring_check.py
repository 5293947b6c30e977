"""`secondline check --config X` with one of each monitoring type against local servers (replayed shapes,
plus the real Alertmanager) prints the table with the right health per source; a source behind an SSO
login page is unknown, never ok, and the others carry on."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.alertmanager import Alertmanager
from .test_monitoring_parse import am, gstate, i1, i1svc, nsvc, pa, sj
from .webui.test_icingaweb_parse import app_health, db_svc, iw_health, iw_svc

pytestmark = pytest.mark.slow

SECONDLINE = str(Path(sys.executable).with_name("secondline"))


def replay(httpserver) -> None:
    """One server, one path prefix per type. Each answers in its documented shape."""
    ok = httpserver.expect_request
    # icingaweb2: a HARD critical, unhandled -> critical
    ok("/iw/monitoring/list/hosts").respond_with_json([])
    ok("/iw/monitoring/list/services").respond_with_json([iw_svc()])
    ok("/iw/monitoring/health/info").respond_with_json(iw_health())
    # icingadb: a warning, plus an acknowledged critical -> warning
    ok("/idb/icingadb/hosts").respond_with_json([])
    ok("/idb/health").respond_with_json(app_health())
    ok("/idb/icingadb/services").respond_with_json([db_svc("h1", "load", soft=1, hard=1),
                                                    db_svc("h2", "disk", ack=True)])
    # nagios: only an acknowledged critical -> ok (handled)
    ok("/nagios/cgi-bin/statusjson.cgi", query_string={"query": "servicelist", "details": "true",
                                                       "servicestatus": "warning critical unknown pending"}) \
        .respond_with_json(sj("servicelist", {"web01": {"http": nsvc(16, ack=True)}}))
    ok("/nagios/cgi-bin/statusjson.cgi", query_string={"query": "hostlist", "details": "true",
                                                       "hoststatus": "down unreachable pending"}) \
        .respond_with_json(sj("hostlist", {}))
    # icinga1: an UNKNOWN service -> unknown
    payload = i1([i1svc("UNKNOWN")])
    ok("/icinga/cgi-bin/status.cgi", query_string={"host": "all", "style": "servicedetail",
                                                   "servicestatustypes": "29", "jsonoutput": "1"}) \
        .respond_with_json(payload["services"])
    ok("/icinga/cgi-bin/status.cgi", query_string={"hostgroup": "all", "style": "hostdetail",
                                                   "hoststatustypes": "13", "jsonoutput": "1"}) \
        .respond_with_json(payload["hosts"])
    # prometheus: firing warning, pending critical -> warning
    ok("/prom/api/v1/alerts").respond_with_json(
        {"status": "success", "data": {"alerts": [pa("Slow", "firing", "warning"), pa("Down", "pending", "critical")]}})
    # grafana: a NoData rule -> unknown; an info alert does not raise
    ok("/graf/api/alertmanager/grafana/api/v2/alerts", headers={"Authorization": "Bearer glsa_x"}) \
        .respond_with_json([am("Deploy", "info")])
    ok("/graf/api/prometheus/grafana/api/v1/alerts", headers={"Authorization": "Bearer glsa_x"}) \
        .respond_with_json({"status": "success", "data": {"alerts": [gstate("Disk", "NoData")]}})
    # an Icinga Web behind an SSO proxy: 200 with a login page
    ok("/sso/monitoring/list/hosts").respond_with_data("<html><form>Sign in</form></html>",
                                                       content_type="text/html")


CONFIG = """
[[sources]]
name = "iw"
type = "icingaweb2"
url = "{base}/iw"
username = "ops"

[[sources]]
name = "idb"
type = "icingadb"
url = "{base}/idb"
username = "ops"

[[sources]]
name = "nag"
type = "nagios"
url = "{base}/nagios"
username = "nagiosadmin"

[[sources]]
name = "ic1"
type = "icinga1"
url = "{base}/icinga/cgi-bin"

[[sources]]
name = "am"
type = "alertmanager"
url = "{am}"

[[sources]]
name = "prom"
type = "prometheus"
url = "{base}/prom"

[[sources]]
name = "graf"
type = "grafana"
url = "{base}/graf"

[[sources]]
name = "sso"
type = "icingaweb2"
url = "{base}/sso"
timeout = 5
"""


def test_check_prints_health_per_source(httpserver, tmp_path):
    replay(httpserver)
    server = Alertmanager(tmp_path / "am").start()
    try:
        server.post_alerts([{"labels": {"alertname": "DiskFull", "severity": "critical"}},
                            {"labels": {"alertname": "Quiet", "severity": "critical"}}])
        server.silence({"alertname": "Quiet"})
        cfg = tmp_path / "config.toml"
        cfg.write_text(CONFIG.format(base=httpserver.url_for("").rstrip("/"), am=server.url))
        env = dict(os.environ, SECONDLINE_SECRET_IW="pw", SECONDLINE_SECRET_IDB="pw", SECONDLINE_SECRET_NAG="pw",
                   SECONDLINE_SECRET_GRAF="glsa_x")
        proc = subprocess.run([SECONDLINE, "check", "--config", str(cfg)], env=env, capture_output=True,
                              text=True, timeout=60)
    finally:
        server.stop()
    out = proc.stdout
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ("iw", "idb", "nag", "ic1", "am", "prom", "graf", "sso"):
            rows[parts[0]] = (parts[1], parts[2], parts[3])
    assert rows == {
        "iw": ("icingaweb2", "critical", "1"),
        "idb": ("icingadb", "warning", "1"),
        "nag": ("nagios", "ok", "0"),
        "ic1": ("icinga1", "unknown", "1"),
        "am": ("alertmanager", "critical", "1"),
        "prom": ("prometheus", "warning", "1"),
        "graf": ("grafana", "unknown", "1"),
        "sso": ("icingaweb2", "unknown", "-"),      # cannot be read: no alerts to count
    }, out + proc.stderr
    sso_line = next(line for line in out.splitlines() if line.startswith("sso "))
    assert "HTML" in sso_line
    assert proc.returncode == 1   # one source could not be read
    print(out)
