"""Blind is not green (issue 17) for the web-UI monitors and Prometheus, against local servers replaying the
shapes the real ones sent (the real servers: webui/test_*_real.py, alerting/test_*_real.py): a reader that sees nothing is unknown with
a reason naming it and the fix; a reader that sees something is believed; every URL form a user may paste
reaches the same API, or the error says which form to use."""
from __future__ import annotations

import json

import pytest
from werkzeug import Response

from support.monitoring import make_source
from .test_monitoring_parse import i1svc, nsvc, sj
from .webui.test_icingaweb_parse import iw_health, iw_host
from tray.core.errors import SourceError
from tray.engine.net import Http
from tray.sources.common import cut_path
from tray.sources.webui.icingaweb import web_base
from tray.sources.webui.nagios import cgi_base
from tray.sources.alerting.prometheus import UI_ROUTES, alerting_rules

USER, PASSWORD = "ops", "pw"
ALLOW = "(or set allow_empty = true on this source if nothing to see is expected)"


def counts(query: str, user: str = USER, **n: int) -> dict:
    keys = ("up", "down", "unreachable", "pending") if query == "hostcount" else \
        ("ok", "warning", "critical", "unknown", "pending")
    body = sj("count", {k: n.get(k, 0) for k in keys})
    body["result"].update(query=query, user=user)
    return body


def serve_nagios(httpserver, hosts: dict | None = None, services: dict | None = None, user: str = USER,
                 up: int = 0, ok: int = 0) -> None:
    """statusjson.cgi answering each query as Nagios 4.4 does for a user that sees `up` hosts, `ok` services."""
    answers = {"servicelist": sj("servicelist", services or {}), "hostlist": sj("hostlist", hosts or {}),
               "hostcount": counts("hostcount", user, up=up), "servicecount": counts("servicecount", user, ok=ok)}
    httpserver.expect_request("/nagios4/cgi-bin/statusjson.cgi").respond_with_handler(
        lambda req: Response(json.dumps(answers[req.args["query"]]), content_type="application/json"))


def queries(httpserver) -> list[str]:
    return [r.args.get("query") for r, _ in httpserver.log]


# -- Nagios ----------------------------------------------------------------------------------------

def test_nagios_user_cgi_cfg_does_not_authorize(httpserver):
    serve_nagios(httpserver, user="stranger")
    src = make_source("nagios", url=httpserver.url_for("/nagios4"), username="stranger", secret=PASSWORD)
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "blind"
    assert err.value.reason == (
        "Nagios user 'stranger' sees 0 hosts and 0 services: authorize it in cgi.cfg (authorized_for_all_hosts "
        "and authorized_for_all_services), or make it a contact of the hosts and services it should watch " + ALLOW)
    assert queries(httpserver) == ["servicelist", "hostlist", "hostcount", "servicecount"]
    assert make_source("nagios", url=httpserver.url_for("/nagios4"), username="stranger", secret=PASSWORD,
                       allow_empty=True).poll(Http()).alerts == ()


def test_nagios_sees_hosts_or_services_or_problems(httpserver):
    """A visible host is enough (one count, then trusted for minutes); a contact of a service alone sees
    the service without its host; listed problems prove sight without a count."""
    serve_nagios(httpserver, up=3)
    src = make_source("nagios", url=httpserver.url_for("/nagios4/"), username=USER, secret=PASSWORD)
    assert src.poll(Http()).alerts == () and src.poll(Http()).alerts == ()
    assert queries(httpserver) == ["servicelist", "hostlist", "hostcount", "servicelist", "hostlist"]
    httpserver.clear()
    serve_nagios(httpserver, ok=2)
    assert make_source("nagios", url=httpserver.url_for("/nagios4"), username=USER, secret=PASSWORD) \
        .poll(Http()).alerts == ()
    httpserver.clear()
    serve_nagios(httpserver, services={"web01": {"http": nsvc(16)}})
    assert [a.id for a in make_source("nagios", url=httpserver.url_for("/nagios4"), username=USER,
                                      secret=PASSWORD).poll(Http()).alerts] == ["web01!http"]
    assert "hostcount" not in queries(httpserver)


def test_nagios_gets_no_user_name(httpserver):
    """`result.user` is "" when the web server passes no login (REMOTE_USER): no cgi.cfg entry can help."""
    serve_nagios(httpserver, user="")
    with pytest.raises(SourceError) as err:
        make_source("nagios", url=httpserver.url_for("/nagios4"), username=USER, secret=PASSWORD).poll(Http())
    assert err.value.reason.startswith("Nagios gets no user name from the web server, which does not ask for the "
                                       "login of 'ops', and shows 0 hosts and 0 services: make the web server "
                                       "require the login for the CGIs")
    with pytest.raises(SourceError) as err:
        make_source("nagios", url=httpserver.url_for("/nagios4")).poll(Http())
    assert err.value.reason.startswith("Nagios gets no user name (no `username` is set, and the web server asks for "
                                       "no login) and shows 0 hosts and 0 services: set `username`")


@pytest.mark.parametrize("url,cgi", [
    ("https://nag.example/nagios4", "https://nag.example/nagios4/cgi-bin"),
    ("https://nag.example/nagios4/", "https://nag.example/nagios4/cgi-bin"),
    ("https://nag.example/nagios4/cgi-bin", "https://nag.example/nagios4/cgi-bin"),
    ("https://nag.example/nagios4/cgi-bin/", "https://nag.example/nagios4/cgi-bin"),
    ("https://nag.example/cgi-bin/nagios4", "https://nag.example/cgi-bin/nagios4"),
    ("https://nag.example/nagios4/cgi-bin/status.cgi?host=all&style=detail", "https://nag.example/nagios4/cgi-bin"),
    ("https://nag.example/cgi-bin/nagios4/statusjson.cgi?query=hostlist", "https://nag.example/cgi-bin/nagios4"),
    ("https://nag.example/nagios4/index.php?corewindow=cgi-bin%2Fstatus.cgi", "https://nag.example/nagios4/cgi-bin"),
    ("https://nag.example/nagios/main.php", "https://nag.example/nagios/cgi-bin"),
    ("https://nag.example/nagios/#top", "https://nag.example/nagios/cgi-bin"),
    ("https://nag.example", "https://nag.example/cgi-bin"),
])
def test_nagios_url_forms(url, cgi):
    assert cgi_base(url) == cgi


def test_nagios_404_says_which_url_to_use(httpserver):
    httpserver.expect_request("/cgi-bin/statusjson.cgi").respond_with_data("<h1>Not Found</h1>", status=404,
                                                                          content_type="text/html")
    with pytest.raises(SourceError) as err:
        make_source("nagios", url=httpserver.url_for("/")).poll(Http())
    assert err.value.kind == "http"
    assert err.value.reason.startswith(f"no statusjson.cgi at {httpserver.url_for('/cgi-bin')} (HTTP 404): `url` is "
                                       "the Nagios web UI's address (https://HOST/nagios4")


def test_nagios_lone_newline_says_the_daemon_is_not_running(httpserver):
    httpserver.expect_request("/nagios4/cgi-bin/statusjson.cgi").respond_with_data("\n",
                                                                                  content_type="application/json")
    with pytest.raises(SourceError) as err:
        make_source("nagios", url=httpserver.url_for("/nagios4")).poll(Http())
    assert err.value.kind == "bad_content"
    assert err.value.reason == ("empty (whitespace-only) response where JSON was expected: the Nagios daemon is not "
                                "running or its status data is missing (the CGIs answer nothing without status.dat)")


# -- Icinga 1 --------------------------------------------------------------------------------------

def serve_icinga1(httpserver, tac_hosts: int, tac_services: int, services=()) -> None:
    httpserver.expect_request("/icinga/cgi-bin/status.cgi", query_string={
        "host": "all", "style": "servicedetail", "servicestatustypes": "29", "jsonoutput": "1"}) \
        .respond_with_json({"cgi_json_version": "1.11.0", "status": {"service_status": list(services)}})
    httpserver.expect_request("/icinga/cgi-bin/status.cgi").respond_with_json(
        {"cgi_json_version": "1.11.0", "status": {"host_status": []}})
    httpserver.expect_request("/icinga/cgi-bin/tac.cgi", query_string={"jsonoutput": "1"}).respond_with_json(
        {"cgi_json_version": "1.11.0", "icinga_status": {},
         "tac": {"tac_overview": {"total_hosts": tac_hosts, "total_services": tac_services}}})


def test_icinga1_counts_through_the_tactical_overview(httpserver):
    serve_icinga1(httpserver, 0, 0)
    src = make_source("icinga1", url=httpserver.url_for("/icinga/"), username="guest", secret=PASSWORD)
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "blind" and err.value.reason.startswith(
        "Icinga user 'guest' sees 0 hosts and 0 services: authorize it in cgi.cfg")
    httpserver.clear()
    serve_icinga1(httpserver, 4, 0)
    assert src.poll(Http()).alerts == ()
    httpserver.clear()
    serve_icinga1(httpserver, 0, 0, services=[i1svc("CRITICAL")])
    assert [a.id for a in make_source("icinga1", url=httpserver.url_for("/icinga"), username="guest",
                                      secret=PASSWORD).poll(Http()).alerts] == ["web01!http"]
    assert not [r for r, _ in httpserver.log if r.path.endswith("tac.cgi")]


# -- Prometheus ------------------------------------------------------------------------------------

RULE = {"name": "DiskFull", "type": "alerting", "query": "x > 0", "health": "ok", "alerts": []}
RECORDING = {"name": "job:up:sum", "type": "recording", "query": "sum(up)", "health": "ok"}


def rules(*groups: list) -> dict:
    return {"status": "success", "data": {"groups": [{"name": f"g{i}", "file": "r.yml", "rules": list(g)}
                                                     for i, g in enumerate(groups)]}}


def test_prometheus_alerting_rules_counted():
    assert alerting_rules(rules()) == 0
    assert alerting_rules(rules([RECORDING])) == 0
    assert alerting_rules(rules([RECORDING, RULE], [RULE])) == 2
    with pytest.raises(SourceError) as err:
        alerting_rules({"status": "error", "errorType": "bad_data", "error": "nope"})
    assert "nope" in err.value.reason


def test_prometheus_without_alerting_rules(httpserver):
    httpserver.expect_request("/prom/api/v1/alerts").respond_with_json({"status": "success", "data": {"alerts": []}})
    httpserver.expect_oneshot_request("/prom/api/v1/rules", query_string={"type": "alert", "exclude_alerts": "true"}) \
        .respond_with_json(rules([RECORDING]))
    src = make_source("prometheus", url=httpserver.url_for("/prom/graph?g0.expr=up"))
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    base = httpserver.url_for("/prom")
    assert err.value.kind == "blind" and err.value.reason == (
        f"Prometheus at {base} has no alerting rules loaded, so no alert can ever fire: load rule files with "
        f"rule_files in prometheus.yml (then reload Prometheus) {ALLOW}")
    httpserver.expect_request("/prom/api/v1/rules").respond_with_json(rules([RULE]))
    assert src.poll(Http()).alerts == () and src.poll(Http()).alerts == ()
    assert [r.path for r, _ in httpserver.log].count("/prom/api/v1/rules") == 2      # then trusted for minutes


@pytest.mark.parametrize("url,base", [
    ("http://prom:9090", "http://prom:9090"),
    ("http://prom:9090/", "http://prom:9090"),
    ("http://prom:9090/graph?g0.expr=up&g0.tab=1", "http://prom:9090"),
    ("http://prom:9090/alerts", "http://prom:9090"),
    ("http://prom:9090/classic/graph", "http://prom:9090"),
    ("http://prom:9090/api/v1/alerts", "http://prom:9090"),
    ("https://ops.example/prometheus/query?g0.expr=up", "https://ops.example/prometheus"),
    ("https://alerts.example/graph", "https://alerts.example"),       # a host name never cuts
])
def test_prometheus_url_forms(url, base):
    assert cut_path(url, UI_ROUTES) == base


def test_prometheus_404_says_where_it_looked(httpserver):
    httpserver.expect_request("/wrong/api/v1/alerts").respond_with_data("404 page not found", status=404)
    with pytest.raises(SourceError) as err:
        make_source("prometheus", url=httpserver.url_for("/wrong")).poll(Http())
    assert err.value.reason.startswith(f"no Prometheus API at {httpserver.url_for('/wrong/api/v1/alerts')} (HTTP 404)")
    assert "route prefix" in err.value.reason


# -- Icinga Web 2 / Icinga DB Web ------------------------------------------------------------------

def serve_iw(httpserver, prefix: str = "/icingaweb2", visible: bool = False) -> None:
    httpserver.expect_request(f"{prefix}/monitoring/list/hosts", query_string={"limit": "1", "format": "json"}) \
        .respond_with_json([iw_host("h1", "0")] if visible else [])
    for kind in ("hosts", "services"):
        httpserver.expect_request(f"{prefix}/monitoring/list/{kind}").respond_with_json([])
    httpserver.expect_request(f"{prefix}/monitoring/health/info").respond_with_json(iw_health())


def test_icingaweb2_role_restriction_that_matches_nothing(httpserver):
    serve_iw(httpserver)
    with pytest.raises(SourceError) as err:
        make_source("icingaweb2", url=httpserver.url_for("/icingaweb2"), username="outsider",
                    secret=PASSWORD).poll(Http())
    assert err.value.kind == "blind" and err.value.reason == (
        "Icinga Web 2 user 'outsider' sees 0 hosts and 0 services: a monitoring/filter/objects restriction on its "
        "roles hides every object: widen it (Configuration > Access Control > Roles), or read as a user whose roles "
        f"cover what this source should watch {ALLOW}")
    probes = [r.args for r, _ in httpserver.log if r.args.get("limit")]
    assert [(a["limit"], a["format"]) for a in probes] == [("1", "json"), ("1", "json")]


@pytest.mark.parametrize("url,base", [
    ("https://mon.example/icingaweb2", "https://mon.example/icingaweb2"),
    ("https://mon.example/icingaweb2/", "https://mon.example/icingaweb2"),
    ("https://mon.example/icingaweb2/dashboard", "https://mon.example/icingaweb2"),
    ("https://mon.example/icingaweb2/dashboard#!/icingaweb2/monitoring/list/services",
     "https://mon.example/icingaweb2"),
    ("https://mon.example/icingaweb2/monitoring/list/services?service_problem=1&sort=service_severity",
     "https://mon.example/icingaweb2"),
    ("https://mon.example/icingaweb2/icingadb/services?service.state.is_problem=y", "https://mon.example/icingaweb2"),
    ("https://mon.example/icingaweb2/authentication/login?redirect=dashboard", "https://mon.example/icingaweb2"),
    ("https://icinga.example/", "https://icinga.example"),
    ("https://icinga.example/dashboard", "https://icinga.example"),
    ("https://dashboard.example/monitoring/tactical", "https://dashboard.example"),
])
def test_icingaweb_url_forms(url, base):
    assert web_base(url) == base


def test_icingaweb_found_below_its_alias(httpserver):
    """`url` without /icingaweb2 where the web server has Icinga Web only there: found and kept."""
    serve_iw(httpserver, visible=True)
    httpserver.expect_request("/monitoring/list/hosts").respond_with_data("<h1>Not Found</h1>", status=404,
                                                                         content_type="text/html")
    src = make_source("icingaweb2", url=httpserver.url_for("/"), username=USER, secret=PASSWORD)
    for _ in range(2):
        assert src.poll(Http()).alerts == ()
    assert src.base == httpserver.url_for("/icingaweb2")
    assert [r.path for r, _ in httpserver.log].count("/monitoring/list/hosts") == 1


def test_icingaweb_nowhere_says_which_url_to_use(httpserver):
    httpserver.expect_request("/nagios/monitoring/list/hosts").respond_with_data("nope", status=404)
    httpserver.expect_request("/nagios/icingaweb2/monitoring/list/hosts").respond_with_data("nope", status=404)
    with pytest.raises(SourceError) as err:
        make_source("icingaweb2", url=httpserver.url_for("/nagios"), username=USER, secret=PASSWORD).poll(Http())
    base = httpserver.url_for("/nagios")
    assert err.value.reason == (f"no Icinga Web 2 at {base} (HTTP 404) nor at {base}/icingaweb2: `url` is Icinga Web "
                                "2's address as the browser shows it, e.g. https://HOST/icingaweb2 (a dashboard or "
                                "list address of it works too)")


def test_icingaweb_own_404_and_403_say_what_is_missing(httpserver):
    """Messages as the real Icinga Web 2.11 sends them: a module that is not enabled, a user without a role."""
    httpserver.expect_request("/icingaweb2/monitoring/list/hosts").respond_with_json(
        {"status": "error", "message": 'Page not found. Enabling the "monitoring" module might help!'}, status=404)
    httpserver.expect_request("/icingaweb2/icingadb/hosts").respond_with_json(
        {"status": "error", "message": "No permission for module/icingadb"}, status=403)
    with pytest.raises(SourceError) as err:
        make_source("icingaweb2", url=httpserver.url_for("/icingaweb2"), username=USER, secret=PASSWORD).poll(Http())
    assert err.value.reason == (f"Icinga Web 2 at {httpserver.url_for('/icingaweb2')} has no monitoring pages (HTTP "
                                '404: Page not found. Enabling the "monitoring" module might help!): enable its '
                                'monitoring module, or read it with type = "icingadb"')
    with pytest.raises(SourceError) as err:
        make_source("icingadb", url=httpserver.url_for("/icingaweb2"), username="newcomer",
                    secret=PASSWORD).poll(Http())
    assert err.value.kind == "auth" and err.value.reason == (
        "Icinga Web 2 user 'newcomer' is not allowed there (HTTP 403 from Icinga Web 2: No permission for "
        "module/icingadb): give one of its roles that permission (Configuration > Access Control > Roles)")
