"""Against the REAL Prometheus (Debian's 2.42): its own rule evaluation over a metric the test sets
(support/prometheus.py), Basic auth from its --web.config.file. Severities from the `severity` label,
pending (`for:` not yet elapsed) listed but not raised, recovery clears, a wrong password and a
stopped server are unknown. Silences live in Alertmanager, not in Prometheus: the last test sends
this Prometheus's alerts to a real Alertmanager, silences one there and reads both."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from support.alertmanager import Alertmanager
from support.monitoring import make_source
from support.prometheus import PASSWORD, USER, Exporter, Prometheus
from support.faults import wait_until
from tray.core.errors import SourceError
from tray.engine.net import Http

pytestmark = pytest.mark.slow


def source(prom: Prometheus, **kw):
    if prom.auth:
        kw.setdefault("username", USER)
        kw.setdefault("secret", PASSWORD)
    kw.setdefault("url", prom.url)
    return make_source("prometheus", name="prom", timeout=10, **kw)


def mine(alerts, *names):
    return {a.title: a for a in alerts if a.ref["labels"]["alertname"] in names}


@pytest.fixture
def cases(exporter):
    """Cases this test set, cleared afterwards so the next test starts from a quiet Prometheus."""
    touched: list[tuple[str, str]] = []

    def set_case(case: str, instance: str = "db1") -> None:
        touched.append((case, instance))
        exporter.set(case, 1, instance)
    yield set_case
    for case, instance in touched:
        exporter.clear(case, instance)


def test_severity_labels(prometheus, cases):
    for case, instance in (("DiskFull", "db1"), ("HighLoad", "web1"), ("Deploying", "ci"), ("NoSeverity", "batch")):
        cases(case, instance)
    for case, instance in (("DiskFull", "db1"), ("HighLoad", "web1"), ("Deploying", "ci"), ("NoSeverity", "batch")):
        prometheus.wait_state(case, "firing", instance)
    got = mine(source(prometheus).poll(Http()).alerts, "DiskFull", "HighLoad", "Deploying", "NoSeverity")
    assert {t: (a.severity.value, a.pending, a.raises) for t, a in got.items()} == {
        "DiskFull on db1": ("critical", False, True),
        "HighLoad on web1": ("warning", False, True),
        "Deploying on ci": ("info", False, False),
        "NoSeverity on batch": ("warning", False, True),     # no label: still shown, still raises
    }
    disk = got["DiskFull on db1"]
    assert disk.detail == "disk almost full on db1"
    # activeAt carries nanoseconds and a Z: read as a time near now.
    assert disk.since is not None and abs(datetime.now(timezone.utc) - disk.since) < timedelta(minutes=5)
    # The link opens a page of this Prometheus (Debian's classic UI has no /alerts page), and its
    # expression selects exactly this alert's ALERTS series.
    link = urlsplit(disk.url)
    assert disk.url.startswith(prometheus.url + "/graph?")
    assert requests.get(disk.url, auth=prometheus.auth, timeout=5).status_code == 200
    expr = parse_qs(link.query)["g0.expr"][0]
    series = prometheus.get("/api/v1/query", query=expr)["data"]["result"]
    assert [(r["metric"]["alertname"], r["metric"]["instance"], r["metric"]["alertstate"]) for r in series] == [
        ("DiskFull", "db1", "firing")]


def test_pending_then_firing(prometheus, cases):
    """Flapping has `for: 4s`: pending first (listed, never raised), then firing (raised); SlowBurn's
    `for: 1h` keeps it pending."""
    cases("Flapping")
    cases("SlowBurn")
    prometheus.wait_state("Flapping", "pending")
    prometheus.wait_state("SlowBurn", "pending")
    src = source(prometheus)
    got = mine(src.poll(Http()).alerts, "Flapping", "SlowBurn")
    if got["Flapping on db1"].pending:              # it may already have gone on to firing meanwhile
        assert not got["Flapping on db1"].raises
    assert got["SlowBurn on db1"].pending and not got["SlowBurn on db1"].raises
    assert got["SlowBurn on db1"].severity.value == "critical"   # its severity, for when it fires
    prometheus.wait_state("Flapping", "firing")
    got = mine(src.poll(Http()).alerts, "Flapping", "SlowBurn")
    assert (got["Flapping on db1"].pending, got["Flapping on db1"].raises) == (False, True)
    assert got["SlowBurn on db1"].pending


def test_recovery_clears(prometheus, exporter, cases):
    cases("CertExpiry", "lb1")
    prometheus.wait_state("CertExpiry", "firing", "lb1")
    src = source(prometheus)
    assert list(mine(src.poll(Http()).alerts, "CertExpiry")) == ["CertExpiry on lb1"]
    exporter.set("CertExpiry", 0, "lb1")
    prometheus.wait_state("CertExpiry", None, "lb1")
    assert mine(src.poll(Http()).alerts, "CertExpiry") == {}


def test_wrong_password_and_no_password(prometheus):
    with pytest.raises(SourceError) as err:
        source(prometheus, secret="not it").poll(Http())
    assert err.value.kind == "auth" and "HTTP 401" in err.value.reason
    assert "secondline login prom" in err.value.reason and "not it" not in err.value.reason
    with pytest.raises(SourceError) as err:
        make_source("prometheus", name="prom", url=prometheus.url).poll(Http())
    assert err.value.kind == "auth"


def test_no_alerting_rules_loaded_is_unknown_never_ok(exporter):
    """A Prometheus started without rule_files answers an empty alert list, exactly like a calm one:
    nothing can ever fire there. /api/v1/rules tells."""
    prom = Prometheus(exporter, auth=False, rules=False)
    prom.start(wait_scrape=False)
    try:
        assert prom.alerts() == [] and prom.get("/api/v1/rules")["data"]["groups"] == []
        with pytest.raises(SourceError) as err:
            source(prom).poll(Http())
        assert err.value.kind == "blind" and err.value.reason == (
            f"Prometheus at {prom.url} has no alerting rules loaded, so no alert can ever fire: load rule files with "
            "rule_files in prometheus.yml (then reload Prometheus) (or set allow_empty = true on this source if "
            "nothing to see is expected)")
        assert source(prom, allow_empty=True).poll(Http()).alerts == ()
    finally:
        prom.stop()


def test_a_calm_prometheus_with_rules_is_ok(prometheus):
    """Nothing firing, eight alerting rules loaded: believed (the rules are read once, then trusted)."""
    wait_until(lambda: prometheus.alerts() == [], timeout=30, step=0.2)     # earlier tests' alerts resolved
    src = source(prometheus)
    assert src.poll(Http()).alerts == ()
    assert not src.visibility.due()


@pytest.mark.parametrize("pasted", ["/", "/graph?g0.expr=up&g0.tab=1", "/alerts", "/classic/alerts",
                                    "/api/v1/alerts", "/api/v1"])
def test_pasted_url_forms(prometheus, cases, pasted):
    cases("DiskFull", "pasted")
    prometheus.wait_state("DiskFull", "firing", "pasted")
    got = mine(source(prometheus, url=prometheus.url + pasted).poll(Http()).alerts, "DiskFull")
    assert got["DiskFull on pasted"].url.startswith(prometheus.url + "/graph?")


def test_a_wrong_route_prefix_says_where_it_looked(prometheus):
    with pytest.raises(SourceError) as err:
        source(prometheus, url=prometheus.url + "/prometheus").poll(Http())
    assert err.value.kind == "http" and err.value.reason.startswith(
        f"no Prometheus API at {prometheus.url}/prometheus/api/v1/alerts (HTTP 404)")


def test_stopped_server_is_unknown(exporter):
    prom = Prometheus(exporter, auth=False)
    prom.start(wait_scrape=False)
    try:
        src = source(prom)
        src.poll(Http())
    finally:
        prom.stop()
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "refused" and "refused" in err.value.reason


def test_silenced_in_alertmanager(tmp_path):
    """Prometheus -> real Alertmanager: a silence made there hides nothing in Prometheus's own list
    (Prometheus does not know about silences) and is listed as handled by the alertmanager source."""
    exp = Exporter()
    am = Alertmanager(tmp_path / "am").start()
    prom = Prometheus(exp, auth=False, alertmanager=am.url)
    try:
        exp.set("DiskFull", 1, "db1")
        exp.set("HighLoad", 1, "web1")
        prom.start()
        am.silence({"alertname": "HighLoad"})
        am_src = make_source("alertmanager", name="am", url=am.url, timeout=10)

        def both_arrived():
            got = {a.title: a for a in am_src.poll(Http()).alerts}
            return got if {"DiskFull on db1", "HighLoad on web1"} <= set(got) else None
        got = wait_until(both_arrived, timeout=30, step=0.2)
        assert (got["HighLoad on web1"].handled, got["HighLoad on web1"].handled_reason) == (True, "silenced")
        assert not got["DiskFull on db1"].handled and got["DiskFull on db1"].severity.value == "critical"
        # The alert Alertmanager got links back to the rule's graph in Prometheus (its generatorURL).
        assert "/graph?g0.expr=" in got["DiskFull on db1"].url
        prom_alerts = mine(source(prom).poll(Http()).alerts, "DiskFull", "HighLoad")
        assert all(not a.handled for a in prom_alerts.values()) and len(prom_alerts) == 2
    finally:
        prom.stop()
        am.stop()
        exp.close()
