"""Table-driven parse tests for the Icinga Web 2 monitoring module and Icinga DB Web: hand-written
payloads in each shape met (older versions' strings, and rows exactly as the real 2.11 / 1.0.2 send them)."""
from __future__ import annotations

import pytest

from support.monitoring import make_source, summary
from ..test_monitoring_parse import C, T0, T0_DT, U, W
from tray.core.errors import SourceError


# -- Icinga Web 2 monitoring module ----------------------------------------------------------
def iw_svc(host="web01", svc="http", state="2", st="1", ack="0", dt="0", **kw):
    row = {"host_name": host, "host_display_name": host.upper(), "service_description": svc,
           "service_display_name": svc.upper(), "service_state": state, "service_state_type": st,
           "service_acknowledged": ack, "service_in_downtime": dt, "service_handled": "0",
           "service_last_state_change": str(T0), "service_output": "out\nsecond line"}
    row.update(kw)
    return row


def iw_host(host="db01", state="1", st="1", ack="0", dt="0"):
    return {"host_name": host, "host_display_name": host, "host_state": state, "host_state_type": st,
            "host_acknowledged": ack, "host_in_downtime": dt, "host_last_state_change": T0,
            "host_output": "PING CRITICAL"}


def iw_health(running=1, pid=4242, updated=T0):
    """`/monitoring/health/info` with Accept: application/json, as Icinga Web 2.11 answers over an IDO."""
    return [{"is_currently_running": running, "process_id": pid, "endpoint_name": "master1",
             "program_start_time": T0 - 3600, "status_update_time": updated, "program_version": "r2.13.6-1",
             "last_command_check": updated, "last_log_rotation": None, "global_service_event_handler": None,
             "global_host_event_handler": None, "notifications_enabled": 1, "disable_notif_expire_time": None,
             "active_service_checks_enabled": 1, "passive_service_checks_enabled": 1,
             "active_host_checks_enabled": 1, "passive_host_checks_enabled": 1, "event_handlers_enabled": 1,
             "obsess_over_services": 0, "obsess_over_hosts": 0, "flap_detection_enabled": 1,
             "process_performance_data": 1}]


def iw_svc_real(host="h1", svc="svc1", state=2, st=1, ack=0, dt=0, lsc=T0):
    """A row exactly as Icinga Web 2.11 (PHP 8.2, MySQL IDO) sends it: numbers as numbers, the attempt as
    "1/1", null times for never-checked (99) objects, and `service_handled` 1 whenever the host is not UP."""
    return {"host_name": host, "host_display_name": "Host One", "host_state": 99, "service_description": svc,
            "service_display_name": svc, "service_state": state, "service_in_downtime": dt,
            "service_acknowledged": ack, "service_handled": 1, "service_output": "CRIT now" if state != 99 else None,
            "service_perfdata": "", "service_attempt": "1/1", "service_last_state_change": lsc,
            "service_icon_image": "", "service_icon_image_alt": "", "service_is_flapping": 0,
            "service_state_type": st, "service_severity": 1152, "service_notifications_enabled": 1,
            "service_active_checks_enabled": 0, "service_passive_checks_enabled": 1,
            "service_check_command": "passive", "service_next_update": lsc}


ICINGAWEB2_CASES = [
    # service_handled is 1 because the host is not UP (99 here): only ack / downtime make it handled for us.
    ("as 2.11 sends it", {"hosts": [], "services": [iw_svc_real()]}, {}, [("h1!svc1", C, None, False)]),
    ("as 2.11 sends a never-checked one", {"hosts": [], "services": [iw_svc_real(state=99, st=0, lsc=None)]}, {},
     [("h1!svc1", U, None, True)]),
    ("strings critical hard", {"hosts": [], "services": [iw_svc()]}, {}, [("web01!http", C, None, False)]),
    ("numbers critical hard", {"hosts": [], "services": [iw_svc(state=2, st=1, ack=0, dt=0)]}, {},
     [("web01!http", C, None, False)]),
    ("warning soft is pending", {"hosts": [], "services": [iw_svc(state="1", st="0")]}, {},
     [("web01!http", W, None, True)]),
    ("warning soft raises with soft=true", {"hosts": [], "services": [iw_svc(state="1", st="0")]},
     {"soft": True}, [("web01!http", W, None, False)]),
    ("unknown acknowledged", {"hosts": [], "services": [iw_svc(state="3", ack="1")]}, {},
     [("web01!http", U, "acknowledged", False)]),
    ("critical in downtime", {"hosts": [], "services": [iw_svc(dt="1")]}, {},
     [("web01!http", C, "downtime", False)]),
    ("pending 99", {"hosts": [], "services": [iw_svc(state="99")]}, {}, [("web01!http", U, None, True)]),
    ("ok service ignored", {"hosts": [], "services": [iw_svc(state="0")]}, {}, []),
    ("host down / unreachable / up", {"hosts": [iw_host("a", "1"), iw_host("b", "2"), iw_host("c", "0")],
                                      "services": []}, {},
     [("a", C, None, False), ("b", U, None, False)]),
    ("host down acknowledged", {"hosts": [iw_host(ack=True)], "services": []}, {},
     [("db01", C, "acknowledged", False)]),
]


@pytest.mark.parametrize("label,payload,settings,expected", ICINGAWEB2_CASES, ids=[c[0] for c in ICINGAWEB2_CASES])
def test_icingaweb2(label, payload, settings, expected):
    assert summary(make_source("icingaweb2", **settings).parse(payload)) == expected


def test_icingaweb2_core_not_running_is_unknown():
    """The IDO keeps the last states a stopped Icinga wrote: the program status tells."""
    src = make_source("icingaweb2")
    quiet = {"hosts": [], "services": []}
    assert src.parse({**quiet, "health": iw_health()}) == []
    assert src.parse({**quiet, "health": None}) == []          # health page not readable: lists alone
    for health, words in ((iw_health(running=0), "is not running"), (iw_health(pid=None), "has stopped"),
                          ([], "no program status")):
        with pytest.raises(SourceError) as err:
            src.parse({**quiet, "health": health})
        assert err.value.kind == "server" and words in err.value.reason
    with pytest.raises(SourceError) as err:
        src.parse({**quiet, "health": iw_health(running="0")})
    assert "master1" in err.value.reason and "2026-01-01 08:00:00 UTC" in err.value.reason


def test_icingaweb2_fields():
    src = make_source("icingaweb2", url="https://mon.example/icingaweb2/")
    [a] = src.parse({"hosts": [], "services": [iw_svc(svc="disk /var")]})
    assert a.title == "WEB01: DISK /VAR"
    assert a.detail == "out"
    assert a.since == T0_DT
    assert a.url == "https://mon.example/icingaweb2/monitoring/service/show?host=web01&service=disk+%2Fvar"
    assert a.ref == {"host": "web01", "service": "disk /var"}
    assert a.raises


# -- Icinga DB Web ---------------------------------------------------------------------------
def db_state(soft=2, hard=2, st="hard", ack=False, dt=False, reach=True, lsc="2026-01-01T08:00:00+00:00"):
    return {"soft_state": soft, "hard_state": hard, "state_type": st, "is_acknowledged": ack,
            "in_downtime": dt, "is_reachable": reach, "last_state_change": lsc, "output": "CRIT - 503",
            "is_problem": True}


def db_svc(host="web01", name="http", **st):
    return {"name": name, "display_name": name.title(), "host": {"name": host, "display_name": host},
            "state": db_state(**st)}


def db_host(name="db01", **st):
    return {"name": name, "display_name": name, "state": db_state(**st)}


def app_health(*checks):
    """Icinga Web 2's `/health` as JSON; each check (module, name, state, message) as icingadb-web 1.0.2 gives it."""
    checks = checks or (("icingadb", "Icinga DB", 0, "Icinga DB is running and writing into the database"),
                        ("icingadb", "Icinga Redis", 0, "Icinga Redis available and up to date."))
    return {"status": "success", "data": [{"module": m, "name": n, "url": None, "state": st, "message": msg,
                                           "metrics": {}} for m, n, st, msg in checks]}


def db_svc_real(host="h1", name="svc1", soft="2", hard="2", st="hard", ack="", dt="", lsc="1796535196.013"):
    """A service as Icinga DB Web 1.0.2 sends it (trimmed): every value a string, false as "", epoch
    seconds with milliseconds as text, "0" for never."""
    return {"name": name, "display_name": name, "host": {"name": host, "display_name": host},
            "state": {"state_type": st, "soft_state": soft, "hard_state": hard, "previous_soft_state": "99",
                      "check_attempt": "1", "severity": "1152", "output": "CRIT", "long_output": None,
                      "is_problem": "1", "is_handled": "1" if (ack or dt) else "", "is_reachable": "1",
                      "is_flapping": "", "is_overdue": "", "is_acknowledged": ack, "in_downtime": dt,
                      "last_state_change": lsc, "last_update": lsc}}


ICINGADB_CASES = [
    ("as 1.0.2 sends it", {"hosts": [], "services": [db_svc_real()]}, {}, [("h1!svc1", C, None, False)]),
    ("as 1.0.2 sends an acknowledged one", {"hosts": [], "services": [db_svc_real(ack="1")]}, {},
     [("h1!svc1", C, "acknowledged", False)]),
    ("as 1.0.2 sends a SOFT one", {"hosts": [], "services": [db_svc_real(hard="0", st="soft")]}, {},
     [("h1!svc1", C, None, True)]),
    ("critical hard", {"hosts": [], "services": [db_svc()]}, {}, [("web01!http", C, None, False)]),
    ("string numbers and y/n", {"hosts": [], "services": [db_svc(soft="1", hard="1", ack="n", dt="n",
                                                                 reach="y")]}, {},
     [("web01!http", W, None, False)]),
    ("sticky ack", {"hosts": [], "services": [db_svc(ack="sticky")]}, {},
     [("web01!http", C, "acknowledged", False)]),
    ("downtime y", {"hosts": [], "services": [db_svc(soft=3, hard=3, dt="y")]}, {},
     [("web01!http", U, "downtime", False)]),
    ("soft: current state, pending", {"hosts": [], "services": [db_svc(soft=2, hard=0, st="soft")]}, {},
     [("web01!http", C, None, True)]),
    ("soft with soft=true", {"hosts": [], "services": [db_svc(soft=2, hard=0, st="soft")]}, {"soft": True},
     [("web01!http", C, None, False)]),
    ("numeric state_type", {"hosts": [], "services": [db_svc(st=0)]}, {}, [("web01!http", C, None, True)]),
    ("host down reachable / unreachable / up", {"hosts": [db_host("a", soft=1, hard=1),
                                                          db_host("b", soft=1, hard=1, reach=False),
                                                          db_host("c", soft=0, hard=0)], "services": []}, {},
     [("a", C, None, False), ("b", U, None, False)]),
    ("pending", {"hosts": [db_host("p", soft=99, hard=99)], "services": []}, {}, [("p", U, None, True)]),
]


@pytest.mark.parametrize("label,payload,settings,expected", ICINGADB_CASES, ids=[c[0] for c in ICINGADB_CASES])
def test_icingadb(label, payload, settings, expected):
    assert summary(make_source("icingadb", **settings).parse(payload)) == expected


@pytest.mark.parametrize("lsc", ["2026-01-01T08:00:00+00:00", "2026-01-01T08:00:00Z", str(T0), T0, T0 * 1000,
                                 "1767254400.000"])
def test_icingadb_timestamps(lsc):
    [a] = make_source("icingadb").parse({"hosts": [], "services": [db_svc(lsc=lsc)]})
    assert a.since == T0_DT


def test_icingadb_health():
    """Icinga DB keeps the last states when Icinga (or the icingadb daemon) stops: Icinga Web's health
    checks for its module say so; other modules' checks and warnings do not count."""
    src = make_source("icingadb")
    quiet = {"hosts": [], "services": [db_svc_real()]}
    assert len(src.parse({**quiet, "health": app_health()})) == 1
    assert len(src.parse({**quiet, "health": None})) == 1
    assert len(src.parse({**quiet, "health": app_health(("monitoring", "Icinga", 2, "Backend icinga is not running"),
                                                         ("icingadb", "Icinga DB", 1, "Notifications are disabled"))})) == 1
    with pytest.raises(SourceError) as err:
        src.parse({**quiet, "health": app_health(
            ("icingadb", "Icinga DB", 2, "Icinga DB is not running or not writing into the database"))})
    assert err.value.kind == "server"
    assert err.value.reason == "Icinga Web 2 health: Icinga DB: Icinga DB is not running or not writing into the database"
    with pytest.raises(SourceError):
        src.parse({**quiet, "health": app_health(("icingadb", "Icinga Redis", 3, "Can't check Icinga Redis"))})


def test_icingadb_link_and_title():
    [a] = make_source("icingadb", url="https://mon/icingaweb2").parse({"hosts": [], "services": [db_svc()]})
    assert a.url == "https://mon/icingaweb2/icingadb/service?name=http&host.name=web01"
    assert a.title == "web01: Http"
