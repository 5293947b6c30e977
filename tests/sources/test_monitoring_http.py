"""Local HTTP servers (pytest-httpserver) replaying the documented shapes: each type asks for the right
paths and queries, really sends its credential (Basic + Accept: application/json for the web UIs,
Bearer for Grafana) and turns the answers into the right alerts."""
from __future__ import annotations

import base64
import json

import pytest
from werkzeug import Request

from support.monitoring import make_source, summary
from .test_monitoring_parse import am, gstate, i1, i1host, i1svc, nhost, nsvc, pa, sj
from .webui.test_icingaweb_parse import app_health, db_host, db_svc, iw_health, iw_host, iw_svc
from tray.core.errors import SourceError
from tray.engine.net import Http

USER, PASSWORD = "ops", "pa:ss wörd €"   # outside latin-1 on purpose
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
WEB_HEADERS = {"Authorization": BASIC, "Accept": "application/json"}


def test_icingaweb2_monitoring_module(httpserver):
    httpserver.expect_oneshot_request("/icingaweb2/monitoring/list/hosts", headers=WEB_HEADERS,
                                      query_string={"host_problem": "1", "addColumns": "host_state_type",
                                                    "format": "json"}) \
        .respond_with_json([iw_host("db01", "1")])
    httpserver.expect_oneshot_request("/icingaweb2/monitoring/list/services", headers=WEB_HEADERS,
                                      query_string={"service_problem": "1", "addColumns": "service_state_type",
                                                    "format": "json"}) \
        .respond_with_json([iw_svc(), iw_svc("web02", "disk", state="1", ack="1")])
    httpserver.expect_oneshot_request("/icingaweb2/monitoring/health/info", headers=WEB_HEADERS,
                                      query_string={"format": "json"}).respond_with_json(iw_health())
    src = make_source("icingaweb2", url=httpserver.url_for("/icingaweb2/"), username=USER, secret=PASSWORD)
    reading = src.poll(Http())
    httpserver.check_assertions()
    assert summary(list(reading.alerts)) == [("db01", "critical", None, False),
                                             ("web01!http", "critical", None, False),
                                             ("web02!disk", "warning", "acknowledged", False)]


def test_icingadb_web(httpserver):
    def columns_ok(req: Request) -> bool:
        return "service.state.soft_state" in req.args.get("columns", "") or "host.state.soft_state" in \
            req.args.get("columns", "")
    httpserver.expect_oneshot_request("/icingaweb2/icingadb/hosts", headers=WEB_HEADERS) \
        .respond_with_json([db_host("db01", soft=1, hard=1, reach=False)])
    httpserver.expect_oneshot_request("/icingaweb2/icingadb/services", headers=WEB_HEADERS) \
        .respond_with_json([db_svc(), db_svc("web02", "load", soft=1, hard=0, st="soft")])
    httpserver.expect_oneshot_request("/icingaweb2/health", headers=WEB_HEADERS, query_string={"format": "json"}) \
        .respond_with_json(app_health())
    src = make_source("icingadb", url=httpserver.url_for("/icingaweb2"), username=USER, secret=PASSWORD)
    reading = src.poll(Http())
    httpserver.check_assertions()
    reqs = [r for r, _ in httpserver.log][:2]
    assert [r.args.get("host.state.is_problem") or r.args.get("service.state.is_problem") for r in reqs] == ["y", "y"]
    assert all(r.args.get("format") == "json" and columns_ok(r) for r in reqs)
    assert summary(list(reading.alerts)) == [("db01", "unknown", None, False),
                                             ("web01!http", "critical", None, False),
                                             ("web02!load", "warning", None, True)]


def test_nagios_statusjson(httpserver):
    httpserver.expect_oneshot_request("/nagios/cgi-bin/statusjson.cgi", headers=WEB_HEADERS, query_string={
        "query": "servicelist", "details": "true", "servicestatus": "warning critical unknown pending"}) \
        .respond_with_json(sj("servicelist", {"web01": {"http": nsvc(16), "ssh": nsvc(4, st=0)}}))
    httpserver.expect_oneshot_request("/nagios/cgi-bin/statusjson.cgi", headers=WEB_HEADERS, query_string={
        "query": "hostlist", "details": "true", "hoststatus": "down unreachable pending"}) \
        .respond_with_json(sj("hostlist", {"db01": nhost(4)}))
    src = make_source("nagios", url=httpserver.url_for("/nagios"), username=USER, secret=PASSWORD)
    reading = src.poll(Http())
    httpserver.check_assertions()
    assert summary(list(reading.alerts)) == [("db01", "critical", None, False),
                                             ("web01!http", "critical", None, False),
                                             ("web01!ssh", "warning", None, True)]


def test_icinga1_classic_cgi(httpserver):
    payload = i1([i1svc("CRITICAL")], [i1host("db01", "DOWN")])
    httpserver.expect_oneshot_request("/icinga/cgi-bin/status.cgi", headers=WEB_HEADERS, query_string={
        "host": "all", "style": "servicedetail", "servicestatustypes": "29", "jsonoutput": "1"}) \
        .respond_with_json(payload["services"])
    httpserver.expect_oneshot_request("/icinga/cgi-bin/status.cgi", headers=WEB_HEADERS, query_string={
        "hostgroup": "all", "style": "hostdetail", "hoststatustypes": "13", "jsonoutput": "1"}) \
        .respond_with_json(payload["hosts"])
    src = make_source("icinga1", url=httpserver.url_for("/icinga/cgi-bin/"), username=USER, secret=PASSWORD)
    reading = src.poll(Http())
    httpserver.check_assertions()
    assert summary(list(reading.alerts)) == [("db01", "critical", None, False),
                                             ("web01!http", "critical", None, False)]


def test_web_ui_without_username_sends_no_auth(httpserver):
    # All quiet; the visibility check (any host, limit=1) sees one UP host.
    httpserver.expect_request("/icingaweb2/monitoring/list/hosts", query_string={"limit": "1", "format": "json"}) \
        .respond_with_json([iw_host("db01", "0")])
    httpserver.expect_request("/icingaweb2/monitoring/list/hosts").respond_with_json([])
    httpserver.expect_request("/icingaweb2/monitoring/list/services").respond_with_json([])
    httpserver.expect_request("/icingaweb2/monitoring/health/info").respond_with_json(iw_health())
    src = make_source("icingaweb2", url=httpserver.url_for("/icingaweb2"))
    assert src.poll(Http()).alerts == ()
    assert all("Authorization" not in r.headers and r.headers["Accept"] == "application/json"
               for r, _ in httpserver.log)


def test_prometheus_bearer_and_basic(httpserver):
    body = {"status": "success", "data": {"alerts": [pa("Up", "firing", "critical"), pa("Slow", "pending")]}}
    httpserver.expect_oneshot_request("/api/v1/alerts", headers={"Authorization": "Bearer tok"}) \
        .respond_with_json(body)
    httpserver.expect_oneshot_request("/api/v1/alerts", headers={"Authorization": BASIC}).respond_with_json(body)
    bearer = make_source("prometheus", url=httpserver.url_for("/"), auth="bearer", secret="tok\n")
    basic = make_source("prometheus", url=httpserver.url_for("/"), username=USER, secret=PASSWORD)
    for src in (bearer, basic):
        alerts = src.poll(Http()).alerts
        assert [(a.title, a.severity.value, a.pending) for a in alerts] == [("Up", "critical", False),
                                                                          ("Slow", "warning", True)]
    httpserver.check_assertions()


def test_grafana(httpserver):
    bearer = {"Authorization": "Bearer glsa_token"}
    httpserver.expect_oneshot_request("/api/alertmanager/grafana/api/v2/alerts", headers=bearer) \
        .respond_with_json([am("CPU", "critical", gen="https://graf/alerting/grafana/uid1/view"),
                            am("Mem", "warning", silenced=["s"])])
    httpserver.expect_oneshot_request("/api/prometheus/grafana/api/v1/alerts", headers=bearer) \
        .respond_with_json({"status": "success", "data": {"alerts": [
            gstate("CPU", "Alerting"), gstate("Disk", "NoData"), gstate("Net", "Normal (NoData)")]}})
    src = make_source("grafana", url=httpserver.url_for("/"), secret="glsa_token", filters=['team="ops"'])
    alerts = src.poll(Http()).alerts
    httpserver.check_assertions()
    am_req = httpserver.log[0][0]
    assert am_req.args.getlist("filter") == ['team="ops"']
    assert sorted((a.title, a.severity.value, a.handled) for a in alerts) == [
        ("CPU", "critical", False), ("Disk (NoData)", "unknown", False), ("Mem", "warning", True)]


def test_grafana_login_page_is_not_green(httpserver):
    """An SSO proxy answering 200 with its login page must make the source unknown."""
    httpserver.expect_request("/api/alertmanager/grafana/api/v2/alerts").respond_with_data(
        "<html><body>Sign in with SSO</body></html>", content_type="text/html")
    src = make_source("grafana", url=httpserver.url_for("/"), secret="t")
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "bad_content" and "HTML" in err.value.reason


def test_alertmanager_filters_are_repeated(httpserver):
    httpserver.expect_request("/api/v2/alerts").respond_with_json([])
    src = make_source("alertmanager", url=httpserver.url_for("/"), filters=['team="db"', 'env=~"prod|stage"'])
    src.poll(Http())
    req = httpserver.log[0][0]
    assert req.args.getlist("filter") == ['team="db"', 'env=~"prod|stage"']
    assert {k: req.args[k] for k in ("active", "silenced", "inhibited")} == {
        "active": "true", "silenced": "true", "inhibited": "true"}
    assert "Authorization" not in req.headers


def test_grafana_acknowledge_creates_a_grafana_silence(httpserver):
    httpserver.expect_oneshot_request("/api/alertmanager/grafana/api/v2/silences", method="POST",
                                      headers={"Authorization": "Bearer glsa_token"}) \
        .respond_with_json({"silenceID": "9f3c"}, status=202)
    src = make_source("grafana", url=httpserver.url_for("/"), secret="glsa_token")
    [alert] = src.parse({"alerts": [am("CPU", "critical", instance="web1")],
                         "rules": {"status": "success", "data": {"alerts": []}}})
    assert src.acknowledge(Http(), alert, author="carol", comment="on it", duration_s=3600) == "9f3c"
    httpserver.check_assertions()
    body = httpserver.log[0][0].get_json()
    assert body["createdBy"] == "carol" and body["comment"] == "on it"
    assert {m["name"]: m["value"] for m in body["matchers"]} == {"alertname": "CPU", "instance": "web1",
                                                                "severity": "critical"}
    assert all(m["isEqual"] and not m["isRegex"] for m in body["matchers"])


def test_acknowledge_needs_labels():
    from tray.core.model import Alert, Severity
    src = make_source("alertmanager")
    with pytest.raises(SourceError) as err:
        src.acknowledge(Http(), Alert(source="mon", id="x", title="x", severity=Severity.CRITICAL), author="a")
    assert err.value.kind == "config"


def test_web_ui_types_cannot_acknowledge():
    from tray.core.model import Alert, Severity
    with pytest.raises(SourceError):
        make_source("nagios").acknowledge(Http(), Alert(source="mon", id="h", title="h",
                                                        severity=Severity.CRITICAL), author="a")


def test_nagios_switches_to_digest_when_the_server_asks(httpserver):
    """Debian's nagios4-cgi Apache config uses Digest (realm "Nagios4"): Basic is answered with a Digest
    challenge, the source answers it, and from then on sends Digest straight away (one request per query)."""
    from werkzeug import Response
    challenge = 'Digest realm="Nagios4", nonce="n0nce", algorithm=MD5, domain="Nagios4", qop="auth"'

    def handler(req: Request) -> Response:
        auth = req.headers.get("Authorization", "")
        if not (auth.startswith("Digest ") and 'username="ops"' in auth and 'realm="Nagios4"' in auth):
            return Response("<html>401 Unauthorized</html>", status=401, content_type="text/html",
                            headers={"WWW-Authenticate": challenge})
        key = req.args["query"]
        body = sj(key, {"web01": {"http": nsvc(16)}} if key == "servicelist" else {})
        return Response(json.dumps(body), content_type="application/json")
    httpserver.expect_request("/cgi-bin/nagios4/statusjson.cgi").respond_with_handler(handler)
    src = make_source("nagios", url=httpserver.url_for("/cgi-bin/nagios4"), username=USER, secret=PASSWORD)
    assert [a.id for a in src.poll(Http()).alerts] == ["web01!http"]
    assert httpserver.log[0][0].headers["Authorization"] == BASIC          # Basic first
    assert all(r.headers.get("Authorization", "").startswith("Digest ") for r, _ in httpserver.log[-2:])
    n = len(httpserver.log)
    assert [a.id for a in src.poll(Http()).alerts] == ["web01!http"]
    assert len(httpserver.log) == n + 2                                      # no more challenges
    # A wrong password: Digest is refused again -> unknown, naming the realm, never retried forever.
    wrong = make_source("nagios", url=httpserver.url_for("/cgi-bin/nagios4"), username="someone", secret="x")
    with pytest.raises(SourceError) as err:
        wrong.poll(Http())
    assert err.value.kind == "auth" and 'HTTP 401, Digest realm "Nagios4"' in err.value.reason
    assert "secondline login mon" in err.value.reason


def test_web_ui_401_without_username_says_to_set_one(httpserver):
    httpserver.expect_request("/nagios/cgi-bin/statusjson.cgi").respond_with_data(
        "Unauthorized", status=401, headers={"WWW-Authenticate": 'Basic realm="Nagios Access"'})
    with pytest.raises(SourceError) as err:
        make_source("nagios", url=httpserver.url_for("/nagios")).poll(Http())
    assert err.value.kind == "auth"
    assert err.value.reason.endswith('wants a login (HTTP 401, Basic realm "Nagios Access"): set `username` and '
                                     'run `secondline login mon`')


def test_icingaweb2_health_page_not_allowed_is_not_an_error(httpserver):
    """A user without access to the health page (403), or a version answering it in HTML, still gets
    the lists: only a readable program status saying "not running" makes the source unknown."""
    httpserver.expect_request("/iw/monitoring/list/hosts").respond_with_json([])
    httpserver.expect_request("/iw/monitoring/list/services").respond_with_json([iw_svc()])
    httpserver.expect_oneshot_request("/iw/monitoring/health/info").respond_with_data("no", status=403)
    httpserver.expect_oneshot_request("/iw/monitoring/health/info").respond_with_data(
        "<html>Process Information</html>", content_type="text/html")
    src = make_source("icingaweb2", url=httpserver.url_for("/iw"), username=USER, secret=PASSWORD)
    for _ in range(2):
        assert [a.id for a in src.poll(Http()).alerts] == ["web01!http"]
    httpserver.expect_request("/iw/monitoring/health/info").respond_with_json(iw_health(pid=None))
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "server" and "has stopped" in err.value.reason
