"""`secondline check --config X` against the REAL Nagios 4, Prometheus, Icinga Web 2 and Icinga DB Web of this session:
the right row per source, a wrong password unknown with the server's 401 (and the realm that asked)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import support.icingaweb as iwf
from support.nagios import ADMIN, ADMIN_PW, VIEWER, VIEWER_PW
from support.prometheus import PASSWORD, USER

pytestmark = pytest.mark.slow

SECONDLINE = str(Path(sys.executable).with_name("secondline"))

CONFIG = """
[[sources]]
name = "nag"
type = "nagios"
url = "{nagios}"
username = "{admin}"

[[sources]]
name = "nag-viewer"
type = "nagios"
url = "{nagios_cgi}"
username = "{viewer}"

[[sources]]
name = "nag-bad"
type = "nagios"
url = "{nagios}"
username = "{admin}"

[[sources]]
name = "prom"
type = "prometheus"
url = "{prom}"
username = "{prom_user}"

[[sources]]
name = "prom-bad"
type = "prometheus"
url = "{prom}"
username = "{prom_user}"

[[sources]]
name = "iw"
type = "icingaweb2"
url = "{iw}"
username = "{iw_user}"

[[sources]]
name = "idb"
type = "icingadb"
url = "{idb}"
username = "{iw_user}"
"""


def test_check_rows_against_the_real_servers(nagios, prometheus, exporter, icingaweb, icingadb, tmp_path):
    nagios.set_state("web01!http", 2, "HTTP CRITICAL - 503")
    exporter.set("HighLoad", 1, "web1")
    icingaweb.icinga.set_state("h1!svc2", 1, "DISK WARNING")
    icingaweb.icinga.set_state("h1!svc3", 2, "CRIT but acknowledged")
    icingaweb.icinga.acknowledge("h1!svc3")
    icingadb.icinga.set_state("h2!db", 2, "DB CRITICAL")
    try:
        icingadb.wait_state("h2!db", soft_state="2")
        nagios.wait_status("web01!http", 16)
        prometheus.wait_state("HighLoad", "firing", "web1")
        icingaweb.wait_row("h1!svc2", service_state=1)
        icingaweb.wait_row("h1!svc3", service_state=2, service_acknowledged=1)
        cfg = tmp_path / "config.toml"
        cfg.write_text(CONFIG.format(nagios=nagios.debian_url, nagios_cgi=nagios.debian_cgi_url, admin=ADMIN,
                                     viewer=VIEWER, prom=prometheus.url, prom_user=USER, iw=icingaweb.url,
                                     iw_user=iwf.ADMIN, idb=icingadb.url))
        env = dict(os.environ, SECONDLINE_SECRET_NAG=ADMIN_PW, SECONDLINE_SECRET_NAG_VIEWER=VIEWER_PW,
                   SECONDLINE_SECRET_NAG_BAD="wrong", SECONDLINE_SECRET_PROM=PASSWORD,
                   SECONDLINE_SECRET_PROM_BAD="wrong", SECONDLINE_SECRET_IW=iwf.ADMIN_PW,
                   SECONDLINE_SECRET_IDB=iwf.ADMIN_PW)
        proc = subprocess.run([SECONDLINE, "check", "--config", str(cfg)], env=env, capture_output=True, text=True,
                              timeout=120)
    finally:
        nagios.clear("web01!http")
        exporter.clear("HighLoad", "web1")
        icingaweb.icinga.reset("h1!svc2")
        icingaweb.icinga.reset("h1!svc3")
        icingadb.icinga.reset("h2!db")
    out = proc.stdout
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ("nag", "nag-viewer", "nag-bad", "prom", "prom-bad", "iw", "idb"):
            rows[parts[0]] = (parts[1], parts[2], parts[3])
    assert rows == {
        "nag": ("nagios", "critical", "1"),          # web01!http; lab01!never is PENDING and does not count
        "nag-viewer": ("nagios", "ok", "0"),         # viewer may only see db01, which is fine
        "nag-bad": ("nagios", "unknown", "-"),       # unreadable: no alert count
        "prom": ("prometheus", "warning", "1"),
        "prom-bad": ("prometheus", "unknown", "-"),
        "iw": ("icingaweb2", "warning", "1"),        # the acknowledged critical and the PENDING ones do not count
        "idb": ("icingadb", "critical", "1"),
    }, out + proc.stderr
    bad = next(line for line in out.splitlines() if line.startswith("nag-bad "))
    assert "HTTP 401" in bad and 'Digest realm "Nagios4"' in bad and "secondline login nag-bad" in bad
    assert "HTTP 401" in next(line for line in out.splitlines() if line.startswith("prom-bad "))
    assert proc.returncode == 1    # two sources could not be read
    print(out)
