"""Table-driven parse tests: small hand-written payloads in each documented shape -> the right alerts.
(Icinga Web 2 and Icinga DB Web: webui/test_icingaweb_parse.py.)"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from support.monitoring import make_source, summary
from tray.core.errors import SourceError
from tray.core.model import Severity

T0 = 1767254400            # 2026-01-01T08:00:00Z
T0_DT = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)
C, W, U, I = "critical", "warning", "unknown", "info"


# -- Nagios statusjson.cgi ------------------------------------------------------------------
def sj(key, data, type_code=0, message="", updated_ago=1):
    """statusjson.cgi's envelope as nagios4 4.4.6 sends it (times in epoch ms; `last_data_update` is
    when Nagios last wrote status.dat, `query_time` when the CGI answered)."""
    now = (T0 + 3600) * 1000
    return {"format_version": 0,
            "result": {"query_time": now, "cgi": "statusjson.cgi", "user": "nagiosadmin", "query": key,
                       "query_status": "released", "program_start": T0 * 1000,
                       "last_data_update": now - updated_ago * 1000, "type_code": type_code,
                       "type_text": "Success" if not type_code else "Option Missing", "message": message},
            "data": {"selectors": {}, key: data}}


def nsvc(status, st=1, ack=False, dt=0):
    return {"host_name": "web01", "description": "http", "status": status, "state_type": st,
            "last_state_change": T0 * 1000, "plugin_output": "HTTP CRITICAL - 503",
            "problem_has_been_acknowledged": ack, "scheduled_downtime_depth": dt}


def nhost(status, st=1):
    return {"name": "db01", "status": status, "state_type": st, "last_state_change": T0 * 1000,
            "plugin_output": "PING CRITICAL", "problem_has_been_acknowledged": False,
            "scheduled_downtime_depth": 0}


def nagios_payload(services=None, hosts=None):
    return {"services": sj("servicelist", services or {}), "hosts": sj("hostlist", hosts or {})}


NAGIOS_CASES = [
    ("critical hard", nagios_payload({"web01": {"http": nsvc(16)}}), [("web01!http", C, None, False)]),
    ("warning soft", nagios_payload({"web01": {"http": nsvc(4, st=0)}}), [("web01!http", W, None, True)]),
    ("unknown acknowledged", nagios_payload({"web01": {"http": nsvc(8, ack=True)}}),
     [("web01!http", U, "acknowledged", False)]),
    ("critical in downtime", nagios_payload({"web01": {"http": nsvc(16, dt=1)}}),
     [("web01!http", C, "downtime", False)]),
    ("pending", nagios_payload({"web01": {"http": nsvc(1)}}), [("web01!http", U, None, True)]),
    ("ok ignored", nagios_payload({"web01": {"http": nsvc(2)}}), []),
    ("hosts down / unreachable / up / pending",
     nagios_payload(hosts={"a": nhost(4), "b": nhost(8), "c": nhost(2), "d": nhost(1)}),
     [("a", C, None, False), ("b", U, None, False), ("d", U, None, True)]),
    ("enumerated state_type", nagios_payload({"web01": {"http": nsvc(16, st="soft")}}),
     [("web01!http", C, None, True)]),
]


@pytest.mark.parametrize("label,payload,expected", NAGIOS_CASES, ids=[c[0] for c in NAGIOS_CASES])
def test_nagios(label, payload, expected):
    assert summary(make_source("nagios").parse(payload)) == expected


def test_nagios_epoch_ms_and_link():
    src = make_source("nagios", url="https://nag.example/nagios")
    [a] = src.parse(nagios_payload({"web01": {"http": nsvc(16)}}))
    assert a.since == T0_DT
    assert a.url == "https://nag.example/nagios/cgi-bin/extinfo.cgi?type=2&host=web01&service=http"


@pytest.mark.parametrize("url,cgi", [
    ("https://nag.example/nagios", "https://nag.example/nagios/cgi-bin"),
    ("https://nag.example/nagios4/", "https://nag.example/nagios4/cgi-bin"),
    ("https://nag.example/nagios/cgi-bin", "https://nag.example/nagios/cgi-bin"),
    ("https://nag.example/cgi-bin/nagios4", "https://nag.example/cgi-bin/nagios4"),     # Debian's other alias
    ("https://nag.example/cgi-bin/nagios4/", "https://nag.example/cgi-bin/nagios4"),
])
def test_nagios_cgi_directory(url, cgi):
    [a] = make_source("nagios", url=url).parse(nagios_payload({"web01": {"http": nsvc(16)}}))
    assert a.url == cgi + "/extinfo.cgi?type=2&host=web01&service=http"


def test_nagios_stale_status_file_is_unknown():
    """A killed Nagios leaves status.dat behind and the CGI serves it as it was: only the age of the
    data (last_data_update against query_time, both the server's) tells."""
    fresh = {"services": sj("servicelist", {}, updated_ago=299), "hosts": sj("hostlist", {}, updated_ago=299)}
    assert make_source("nagios").parse(fresh) == []
    old = {"services": sj("servicelist", {}, updated_ago=900), "hosts": sj("hostlist", {}, updated_ago=900)}
    with pytest.raises(SourceError) as err:
        make_source("nagios").parse(old)
    assert err.value.kind == "server" and "15 min" in err.value.reason and "not running" in err.value.reason
    assert make_source("nagios", stale_after=0).parse(old) == []           # 0: the check is off
    with pytest.raises(SourceError):
        make_source("nagios", stale_after=60).parse(
            {"services": sj("servicelist", {}, updated_ago=61), "hosts": sj("hostlist", {})})
    # An envelope without the times (a replay, an older CGI) is not judged.
    bare = nagios_payload()
    del bare["services"]["result"]["last_data_update"]
    assert make_source("nagios").parse(bare) == []


def test_nagios_stale_after_must_not_be_negative():
    with pytest.raises(ValueError, match="stale_after"):
        make_source("nagios", stale_after=-1)


def test_nagios_cgi_error_is_source_error():
    payload = {"services": sj("servicelist", {}, type_code=4, message="not authorized"), "hosts": sj("hostlist", {})}
    with pytest.raises(SourceError, match="not authorized"):
        make_source("nagios").parse(payload)


# -- Icinga 1 classic CGI -------------------------------------------------------------------
def i1svc(status, st="HARD", ack=False, dt=False, **kw):
    row = {"host_name": "web01", "host_display_name": "web01", "service_description": "http",
           "service_display_name": "HTTP", "status": status, "last_check": "2026-01-01 08:00:00",
           "duration": "0d 1h 0m 0s", "attempts": "3/3", "state_type": st, "is_flapping": False,
           "in_scheduled_downtime": dt, "has_been_acknowledged": ack, "status_information": "HTTP CRIT"}
    row.update(kw)
    return row


def i1host(name, status):
    return {"host_name": name, "host_display_name": name, "status": status, "attempts": "1/1",
            "state_type": "HARD", "in_scheduled_downtime": False, "has_been_acknowledged": False,
            "status_information": "PING"}


def i1(services=(), hosts=()):
    return {"services": {"cgi_json_version": "1.11.0", "status": {"service_status": list(services)}},
            "hosts": {"cgi_json_version": "1.11.0", "status": {"host_status": list(hosts)}}}


ICINGA1_CASES = [
    ("critical hard", i1([i1svc("CRITICAL")]), [("web01!http", C, None, False)]),
    ("warning soft", i1([i1svc("WARNING", st="SOFT")]), [("web01!http", W, None, True)]),
    ("soft by attempts", i1([{k: v for k, v in i1svc("WARNING", attempts="1/3").items() if k != "state_type"}]),
     [("web01!http", W, None, True)]),
    ("acknowledged", i1([i1svc("UNKNOWN", ack=True)]), [("web01!http", U, "acknowledged", False)]),
    ("downtime", i1([i1svc("CRITICAL", dt=True)]), [("web01!http", C, "downtime", False)]),
    ("pending", i1([i1svc("PENDING")]), [("web01!http", U, None, True)]),
    ("ok ignored", i1([i1svc("OK")]), []),
    ("hosts", i1(hosts=[i1host("a", "DOWN"), i1host("b", "UNREACHABLE"), i1host("c", "UP")]),
     [("a", C, None, False), ("b", U, None, False)]),
]


@pytest.mark.parametrize("label,payload,expected", ICINGA1_CASES, ids=[c[0] for c in ICINGA1_CASES])
def test_icinga1(label, payload, expected):
    assert summary(make_source("icinga1").parse(payload)) == expected


# -- Alertmanager ---------------------------------------------------------------------------
def am(name, severity=None, fp=None, silenced=(), inhibited=(), muted=(), state=None, gen="", **labels):
    lab = {"alertname": name, **labels}
    if severity is not None:
        lab["severity"] = severity
    muted_any = silenced or inhibited or muted
    return {"labels": lab, "annotations": {"summary": f"{name} summary", "description": "longer"},
            "startsAt": "2026-01-01T08:00:00.123456789Z", "endsAt": "2026-01-01T09:00:00Z",
            "updatedAt": "2026-01-01T08:00:01Z", "fingerprint": fp or f"fp-{name}", "generatorURL": gen,
            "receivers": [{"name": "null"}],
            "status": {"state": state or ("suppressed" if muted_any else "active"), "silencedBy": list(silenced),
                       "inhibitedBy": list(inhibited), "mutedBy": list(muted)}}


AM_CASES = [
    ("critical", [am("A", "critical")], [("fp-A", C, None, False)]),
    ("warning", [am("B", "warning")], [("fp-B", W, None, False)]),
    ("unlabelled is warning", [am("C")], [("fp-C", W, None, False)]),
    ("info listed not raised", [am("D", "info")], [("fp-D", I, None, False)]),
    ("upper-case severity", [am("E", "CRITICAL")], [("fp-E", C, None, False)]),
    ("silenced", [am("F", "critical", silenced=["s1"])], [("fp-F", C, "silenced", False)]),
    ("inhibited", [am("G", "warning", inhibited=["fp-A"])], [("fp-G", W, "silenced", False)]),
    ("muted (time interval)", [am("H", "critical", muted=["night"])], [("fp-H", C, "silenced", False)]),
    ("suppressed without lists", [am("J", "critical", state="suppressed")], [("fp-J", C, "silenced", False)]),
    ("unprocessed counts", [am("K", "critical", state="unprocessed")], [("fp-K", C, None, False)]),
    ("empty", [], []),
]


@pytest.mark.parametrize("label,payload,expected", AM_CASES, ids=[c[0] for c in AM_CASES])
def test_alertmanager(label, payload, expected):
    assert summary(make_source("alertmanager").parse(payload)) == expected


def test_alertmanager_fields_and_links():
    src = make_source("alertmanager", url="http://am:9093", ui_url="https://am.example/")
    gen, ui = src.parse([am("Disk", "critical", gen="http://prom:9090/graph?g0.expr=x", instance="db1"),
                         am("Load", "warning", instance="web1")])
    assert gen.url == "http://prom:9090/graph?g0.expr=x"
    assert gen.title == "Disk on db1" and gen.detail == "Disk summary"
    assert gen.since == datetime(2026, 1, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)
    assert gen.ref == {"labels": {"alertname": "Disk", "instance": "db1", "severity": "critical"}}
    assert ui.url == ("https://am.example/#/alerts?filter=%7Balertname%3D%22Load%22%2Cinstance%3D%22web1%22%2C"
                      "severity%3D%22warning%22%7D")


def test_alertmanager_id_without_fingerprint_is_stable():
    a = am("X", "critical")
    del a["fingerprint"]
    first = make_source("alertmanager").parse([a])[0].id
    assert first == make_source("alertmanager").parse([dict(a)])[0].id
    b = am("X", "critical", instance="other")
    del b["fingerprint"]
    assert make_source("alertmanager").parse([b])[0].id != first


# -- Prometheus -----------------------------------------------------------------------------
def prom(*alerts, status="success"):
    return {"status": status, "data": {"alerts": list(alerts)}}


def pa(name, state, severity=None):
    labels = {"alertname": name}
    if severity:
        labels["severity"] = severity
    # As Prometheus 2.42 sends it: activeAt in nanoseconds, value as a string.
    return {"labels": labels, "annotations": {"summary": "s"}, "state": state,
            "activeAt": "2026-01-01T08:00:00.669814297Z", "value": "1e+00"}


PROM_CASES = [
    ("firing critical", prom(pa("A", "firing", "critical")), [C]),
    ("firing unlabelled", prom(pa("B", "firing")), [W]),
    ("firing info", prom(pa("C", "firing", "info")), [I]),
    ("pending listed", prom(pa("D", "pending", "critical")), ["critical-pending"]),
    ("inactive dropped", prom(pa("E", "inactive", "critical")), []),
]


@pytest.mark.parametrize("label,payload,expected", PROM_CASES, ids=[c[0] for c in PROM_CASES])
def test_prometheus(label, payload, expected):
    alerts = make_source("prometheus").parse(payload)
    assert [a.severity.value + ("-pending" if a.pending else "") for a in alerts] == expected
    for a in alerts:    # nanoseconds cut to microseconds, not dropped, not an error
        assert a.since == T0_DT.replace(microsecond=669814) and not a.handled


def test_prometheus_link_is_the_alerts_own_series():
    """/graph?g0.expr=ALERTS{...}: every Prometheus UI serves it (Debian's classic UI has no /alerts)."""
    from urllib.parse import parse_qs, urlsplit
    alert = pa("Disk \"Full\"", "firing", "critical")
    alert["labels"]["instance"] = "db1\\x"
    [a] = make_source("prometheus", url="http://prom:9090/", ui_url="https://prom.example/").parse(prom(alert))
    link = urlsplit(a.url)
    assert (link.scheme, link.netloc, link.path) == ("https", "prom.example", "/graph")
    assert parse_qs(link.query) == {"g0.tab": ["1"], "g0.expr": [
        'ALERTS{alertname="Disk \\"Full\\"",instance="db1\\\\x",severity="critical"}']}


def test_prometheus_error_envelope():
    with pytest.raises(SourceError, match="bad query") as err:
        make_source("prometheus").parse({"status": "error", "errorType": "bad_data", "error": "bad query"})
    assert err.value.kind == "http"


# -- Grafana --------------------------------------------------------------------------------
def gstate(name, state, **labels):
    return {"labels": {"alertname": name, "grafana_folder": "ops", **labels}, "annotations": {},
            "state": state, "activeAt": "2026-01-01T08:00:00Z", "value": ""}


def grafana(alerts=(), rules=()):
    return {"alerts": list(alerts), "rules": {"status": "success", "data": {"alerts": list(rules)}}}


GRAFANA_CASES = [
    ("alerting via alertmanager", grafana([am("CPU", "critical")], [gstate("CPU", "Alerting")]), [("fp-CPU", C)]),
    ("Normal (NoData) is fine", grafana([], [gstate("Mem", "Normal (NoData)")]), []),
    ("Normal / Pending / Recovering ignored", grafana([], [gstate("a", "Normal"), gstate("b", "Pending"),
                                                           gstate("c", "Recovering")]), []),
    ("NoData is unknown", grafana([], [gstate("Disk", "NoData")]), [("Disk", U)]),
    ("Error is unknown", grafana([], [gstate("Net", "Error")]), [("Net", U)]),
    ("NoData with reason", grafana([], [gstate("Disk", "NoData (MissingSeries)")]), [("Disk", U)]),
    ("DatasourceNoData alert is unknown, listed once",
     grafana([am("DatasourceNoData", "critical", rulename="Disk")], [gstate("Disk", "NoData")]),
     [("fp-DatasourceNoData", U)]),
    ("silenced in grafana", grafana([am("CPU", "warning", silenced=["x"])]), [("fp-CPU", W)]),
]


@pytest.mark.parametrize("label,payload,expected", GRAFANA_CASES, ids=[c[0] for c in GRAFANA_CASES])
def test_grafana(label, payload, expected):
    alerts = make_source("grafana", secret="tok").parse(payload)
    got = sorted((a.id if a.id.startswith("fp-") else a.title.split(" ")[0], a.severity.value) for a in alerts)
    assert got == sorted(expected)


def test_grafana_handled_and_links():
    src = make_source("grafana", url="https://graf.example/", secret="tok")
    alerts = src.parse(grafana([am("CPU", "warning", silenced=["x"])], [gstate("Disk", "Error")]))
    by = {a.severity: a for a in alerts}
    assert by[Severity.WARNING].handled and by[Severity.WARNING].handled_reason == "silenced"
    assert by[Severity.WARNING].url == "https://graf.example/alerting/list?search=CPU"
    assert by[Severity.UNKNOWN].url == "https://graf.example/alerting/list?search=Disk"
    assert by[Severity.UNKNOWN].raises


# -- wrong shapes are SourceErrors with kind bad_content -------------------------------------
WRONG = [
    ("icingaweb2", {"hosts": {}, "services": []}),
    ("icingaweb2", {"hosts": [], "services": [{"host_name": "a", "service_description": "b",
                                               "service_state": "CRITICAL"}]}),
    ("icingaweb2", {"hosts": [], "services": [{"host_name": None, "service_state": 2}]}),
    ("icingadb", {"hosts": [], "services": [{"name": "x", "state": {"soft_state": 2}}]}),
    ("icingadb", {"hosts": [{"name": "x", "state": [1]}], "services": []}),
    ("icingadb", {"hosts": [], "services": [{"name": "x", "host": {"name": "h"},
                                             "state": {"soft_state": 2, "is_acknowledged": "maybe"}}]}),
    ("nagios", {"services": {"data": {}}, "hosts": sj("hostlist", {})}),
    ("nagios", {"services": sj("servicelist", {"h": [1, 2]}), "hosts": sj("hostlist", {})}),
    ("icinga1", {"services": {"status": {"service_status": {}}}, "hosts": {"status": {}}}),
    ("alertmanager", {"alerts": []}),
    ("alertmanager", [{"labels": ["a"]}]),
    ("alertmanager", [{"labels": {"alertname": "x"}, "status": {"silencedBy": "s1"}}]),
    ("prometheus", [1, 2]),
    ("prometheus", {"status": "success", "data": {"alerts": [{"labels": {}, "state": 7}]}}),
    ("grafana", {"alerts": [], "rules": []}),
    ("grafana", ["unexpected", 42, None]),
]


@pytest.mark.parametrize("type_name,payload", WRONG, ids=[f"{t}-{i}" for i, (t, _) in enumerate(WRONG)])
def test_wrong_shape(type_name, payload):
    with pytest.raises(SourceError) as err:
        make_source(type_name, secret="s").parse(payload)
    assert err.value.kind == "bad_content"
    assert "\n" not in err.value.reason
