"""Table-driven parse tests for the icinga2 source over small hand-written API answers."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from .helpers import make_source, summary
from tray.core.errors import SourceError
from tray.core.model import Severity
from tray.sources.icinga2.parse import problem_names

T = 1767254400.12


def svc(host: str, name: str, state: float, *, state_type: float = 1.0, ack: float = 0.0, dt: float = 0.0,
        lsc: float = T, output: str | None = "plugin says", last_check: float = T, reachable: bool = True,
        host_state: float = 0.0, host_checked: bool = True, display: str | None = None) -> dict:
    return {"name": f"{host}!{name}", "type": "Service",
            "attrs": {"name": name, "display_name": display or name, "host_name": host, "state": state,
                      "state_type": state_type, "acknowledgement": ack, "downtime_depth": dt,
                      "last_state_change": lsc, "last_check": last_check if output is not None else -1.0,
                      "last_check_result": None if output is None else {"output": output, "state": state},
                      "last_reachable": reachable},
            "joins": {"host": {"name": host, "display_name": host.upper(), "state": host_state,
                               "last_check": T if host_checked else -1.0}},
            "meta": {}}


def host(name: str, state: float, *, state_type: float = 1.0, ack: float = 0.0, dt: float = 0.0,
         reachable: bool = True, output: str | None = "PING CRITICAL", lsc: float = T) -> dict:
    return {"name": name, "type": "Host",
            "attrs": {"name": name, "display_name": name.upper(), "state": state, "state_type": state_type,
                      "acknowledgement": ack, "downtime_depth": dt, "last_state_change": lsc,
                      "last_check": T if output is not None else -1.0,
                      "last_check_result": None if output is None else {"output": output},
                      "last_reachable": reachable},
            "joins": {}, "meta": {}}


def payload(hosts=(), services=(), client_filter=False) -> dict:
    return {"hosts": {"results": list(hosts)}, "services": {"results": list(services)},
            "client_filter": client_filter}


CASES = [
    # (what, hosts, services, settings, expected summary)
    ("nothing wrong", [], [], {}, []),
    ("service warning hard", [], [svc("web", "http", 1.0)], {}, [("web!http", "warning", None, False)]),
    ("service critical hard", [], [svc("web", "http", 2.0)], {}, [("web!http", "critical", None, False)]),
    ("service unknown hard", [], [svc("web", "http", 3.0)], {}, [("web!http", "unknown", None, False)]),
    ("service OK is not listed", [], [svc("web", "http", 0.0)], {}, []),
    ("soft critical is pending", [], [svc("web", "http", 2.0, state_type=0.0)], {},
     [("web!http", "critical", None, True)]),
    ("soft critical raises with soft=true", [], [svc("web", "http", 2.0, state_type=0.0)], {"soft": True},
     [("web!http", "critical", None, False)]),
    ("acknowledged normal", [], [svc("web", "http", 2.0, ack=1.0)], {},
     [("web!http", "critical", "acknowledged", False)]),
    ("acknowledged sticky", [], [svc("web", "http", 1.0, ack=2.0)], {},
     [("web!http", "warning", "acknowledged", False)]),
    ("in downtime", [], [svc("web", "http", 2.0, dt=1.0)], {}, [("web!http", "critical", "downtime", False)]),
    ("downtime wins over ack", [], [svc("web", "http", 2.0, dt=2.0, ack=1.0)], {},
     [("web!http", "critical", "downtime", False)]),
    ("never checked is pending unknown", [], [svc("web", "http", 3.0, state_type=0.0, output=None)], {},
     [("web!http", "unknown", None, True)]),
    ("host down", [host("db1", 1.0)], [], {}, [("db1", "critical", None, False)]),
    ("host unreachable", [host("db1", 1.0, reachable=False)], [], {}, [("db1", "unknown", None, False)]),
    ("host up is not listed", [host("db1", 0.0)], [], {}, []),
    ("host soft down is pending", [host("db1", 1.0, state_type=0.0)], [], {}, [("db1", "critical", None, True)]),
    ("host pending", [host("db1", 1.0, state_type=0.0, output=None)], [], {}, [("db1", "unknown", None, True)]),
    ("host acknowledged", [host("db1", 1.0, ack=1.0)], [], {}, [("db1", "critical", "acknowledged", False)]),
    ("host in downtime", [host("db1", 1.0, dt=1.0)], [], {}, [("db1", "critical", "downtime", False)]),
    ("services behind a down host are pending",
     [host("db1", 1.0)], [svc("db1", "mysql", 2.0, host_state=1.0)], {},
     [("db1", "critical", None, False), ("db1!mysql", "critical", None, True)]),
    ("a pending host does not hide its services", [host("db1", 1.0, output=None)],
     [svc("db1", "mysql", 2.0, host_state=1.0, host_checked=False)], {},
     [("db1", "unknown", None, True), ("db1!mysql", "critical", None, False)]),
    ("unreachable service is pending", [], [svc("web", "http", 2.0, reachable=False)], {},
     [("web!http", "critical", None, True)]),
    ("integers as well as floats", [host("db1", 1)], [svc("web", "http", 2, state_type=1, ack=0, dt=0)], {},
     [("db1", "critical", None, False), ("web!http", "critical", None, False)]),
]


@pytest.mark.parametrize("what,hosts,services,settings,expected", CASES, ids=[c[0] for c in CASES])
def test_states(what, hosts, services, settings, expected):
    src = make_source(**settings)
    assert summary(src.parse(payload(hosts, services))) == expected


def test_client_side_filter_drops_ok_objects():
    src = make_source()
    p = payload([host("a", 0.0), host("b", 1.0)], [svc("a", "x", 0.0), svc("a", "y", 2.0)], client_filter=True)
    assert [a.id for a in src.parse(p)] == ["b", "a!y"]


def test_alert_fields_service():
    src = make_source(name="prod-icinga", web_url="https://mon.example.com/icingaweb2/")
    [a] = src.parse(payload([], [svc("web 1", "http/s", 2.0, output="HTTP CRITICAL - 503\nmore lines",
                                     display="HTTPS check")]))
    assert a.source == "prod-icinga"
    assert a.id == "web 1!http/s"
    assert a.title == "WEB 1: HTTPS check"
    assert a.detail == "HTTP CRITICAL - 503"
    assert a.severity is Severity.CRITICAL
    assert a.since == datetime.fromtimestamp(T, tz=timezone.utc)
    assert a.url == "https://mon.example.com/icingaweb2/icingadb/service?name=http%2Fs&host.name=web%201"
    assert dict(a.ref) == {"host": "web 1", "service": "http/s"}
    assert a.raises


def test_alert_fields_host_monitoring_links():
    src = make_source(web_url="https://mon.example.com/icingaweb2", web_ui="monitoring")
    [h, s] = src.parse(payload([host("db&1", 1.0, lsc=0.0)], [svc("db&1", "disk", 1.0, host_state=0.0)]))
    assert h.title == "DB&1: host DOWN" and h.detail == "PING CRITICAL"
    assert h.since is None                      # last_state_change 0 = never changed
    assert h.url == "https://mon.example.com/icingaweb2/monitoring/host/show?host=db%261"
    assert s.url == "https://mon.example.com/icingaweb2/monitoring/service/show?host=db%261&service=disk"
    assert dict(h.ref) == {"host": "db&1", "service": None}


def test_no_web_url_no_link():
    [a] = make_source().parse(payload([host("x", 1.0)]))
    assert a.url is None


def test_detail_marks_soft_and_host_down():
    src = make_source()
    alerts = src.parse(payload([host("h", 1.0)], [svc("h", "a", 2.0, host_state=1.0), svc("k", "b", 1.0, state_type=0)]))
    details = {a.id: a.detail for a in alerts}
    assert details["h!a"].startswith("[host DOWN]")
    assert details["k!b"].startswith("[SOFT]")


def test_output_is_cut_to_one_line_of_bounded_length():
    [a] = make_source().parse(payload([], [svc("h", "s", 2.0, output="x" * 5000 + "\nsecond")]))
    assert len(a.detail) == 400


def test_ids_are_stable_across_polls():
    src = make_source()
    p = payload([host("h", 1.0)], [svc("h", "s", 2.0, host_state=1.0)])
    assert [a.id for a in src.parse(p)] == [a.id for a in src.parse(p)] == ["h", "h!s"]


@pytest.mark.parametrize("bad", [
    [], None, {"hosts": []}, {"hosts": {"results": {}}, "services": {"results": []}},
    payload([{"name": "h"}]), payload([], [{"name": "h!s", "attrs": {"state": "2"}}]),
    payload([], [{"name": "h!s", "attrs": {"state": True}}]),
    payload([], [{"name": "h!s", "attrs": {"state": float("nan")}}]),
    payload([], [{"name": 5, "attrs": {"state": 2.0}}]),
    payload([], [{"name": "h!s", "attrs": {"state": 2.0}, "joins": "host"}]),
])
def test_wrong_shapes_are_source_errors(bad):
    with pytest.raises(SourceError) as exc:
        make_source().parse(bad)
    assert exc.value.kind == "bad_content"


@pytest.mark.parametrize("settings,key", [
    ({"url": "ftp://x"}, "url"), ({"web_ui": "nagvis"}, "web_ui"), ({"username": ""}, "username"),
    ({"web_url": "mon.example.com"}, "web_url"), ({"detect_interval": 0.01}, "detect_interval"),
])
def test_settings_validation(settings, key):
    with pytest.raises(ValueError, match=f"^{key}:"):
        make_source(**settings)


def test_api_base_accepts_trailing_slash_and_v1():
    assert make_source(url="https://icinga:5665/v1/").base_url == "https://icinga:5665"
    assert make_source(url="https://icinga:5665").base_url == "https://icinga:5665"


def test_verify_prefers_ca_bundle():
    assert make_source(ca_bundle="/etc/ca.pem").verify == "/etc/ca.pem"
    assert make_source(verify_tls=False).verify is False
    assert make_source().verify is True


def test_watchers_follow_stream_and_detector_settings():
    assert len(make_source().watchers()) == 2
    assert len(make_source(detect_interval=0).watchers()) == 1
    assert make_source(stream=False).watchers() == []


def test_problem_names_from_a_state_only_list():
    """The by-name fallback's first answer: OK objects are skipped, anything else (a problem, or a
    state that cannot be read) is named so that the full read says what it is."""
    answer = {"results": [{"name": "h!ok", "attrs": {"state": 0.0}}, {"name": "h!bad", "attrs": {"state": 2.0}},
                          {"name": "h!odd", "attrs": {"state": "x"}}, {"name": "h!none", "attrs": {}},
                          {"name": "h!bool", "attrs": {"state": False}}]}
    assert problem_names(answer, "service") == ["h!bad", "h!odd", "h!none", "h!bool"]
    assert problem_names({"results": []}, "host") == []
    for bad in ({"results": [{"attrs": {"state": 1.0}}]}, {"results": "x"}, [], {"results": [3]}):
        with pytest.raises(SourceError):
            problem_names(bad, "host")
