"""Against the REAL Icinga DB Web (Debian's icingadb-web 1.0.2 in icingaweb2 2.11) over a real Icinga DB
(icingadb 1.1.0 syncing a private redis-server, written by a private icinga2's icingadb feature, into
a private MariaDB): support/icingadb.py. The same objects and operator actions as the Icinga Web 2 tests.

What the real thing showed: every value is a string ("2", "hard", "1"; false is ""), timestamps are
epoch seconds as text ("1796535196.013", "0" for never), `columns=` is ignored in JSON (all columns
come), and never-checked objects are not problems, so they are not listed at all."""
from __future__ import annotations

import pytest
import requests

from support.icingadb import IcingaDBWeb
from support.icingaweb import ADMIN, ADMIN_PW, OUTSIDER, OUTSIDER_PW, VIEWER, VIEWER_PW
from support.monitoring import make_source, summary
from support.faults import wait_until
from tray.core.errors import SourceError
from tray.engine.net import Http

pytestmark = pytest.mark.slow


def source(idb: IcingaDBWeb, **kw):
    kw.setdefault("username", ADMIN)
    kw.setdefault("secret", ADMIN_PW)
    return make_source("icingadb", name="idb", url=idb.url, timeout=15, **kw)


def on(alerts, *objs):
    return [a for a in alerts if a.id in objs]


@pytest.fixture
def reset(icingadb):
    touched: list[str] = []
    yield touched
    for obj in touched:
        icingadb.icinga.reset(obj)
    for obj in touched:
        icingadb.wait_state(obj, soft_state="0", is_acknowledged="", in_downtime="")


def test_severities(icingadb, reset):
    ic = icingadb.icinga
    states = {"h1!svc1": (2, "HTTP CRITICAL - 503"), "h1!svc2": (1, "DISK WARNING"), "h1!svc3": (3, "UNKNOWN")}
    reset.extend(states)
    for obj, (code, out) in states.items():
        ic.set_state(obj, code, out)
    for obj, (code, _) in states.items():
        icingadb.wait_state(obj, soft_state=str(code))
    alerts = on(source(icingadb).poll(Http()).alerts, *states)
    assert summary(alerts) == [("h1!svc1", "critical", None, False), ("h1!svc2", "warning", None, False),
                               ("h1!svc3", "unknown", None, False)]
    crit = next(a for a in alerts if a.id == "h1!svc1")
    assert crit.title == "Host One: svc1" and crit.detail == "HTTP CRITICAL - 503" and crit.since is not None
    r = requests.get(crit.url, auth=(ADMIN, ADMIN_PW), headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 200          # Icinga DB Web's own page for the service


def test_acknowledged_and_downtime_listed_not_raised(icingadb, reset):
    ic = icingadb.icinga
    reset.extend(["h1!svc4", "h1!svc5"])
    ic.set_state("h1!svc4", 2, "CRIT")
    ic.set_state("h1!svc5", 1, "WARN")
    icingadb.wait_state("h1!svc4", soft_state="2")
    ic.acknowledge("h1!svc4")
    ic.downtime("h1!svc5")
    icingadb.wait_state("h1!svc4", is_acknowledged="1")
    icingadb.wait_state("h1!svc5", soft_state="1", in_downtime="1")
    alerts = on(source(icingadb).poll(Http()).alerts, "h1!svc4", "h1!svc5")
    assert summary(alerts) == [("h1!svc4", "critical", "acknowledged", False),
                               ("h1!svc5", "warning", "downtime", False)]


def test_recovery_clears(icingadb, reset):
    ic = icingadb.icinga
    reset.append("h2!db")
    src = source(icingadb)
    ic.set_state("h2!db", 2, "DB CRITICAL")
    icingadb.wait_state("h2!db", soft_state="2")
    assert [a.id for a in on(src.poll(Http()).alerts, "h2!db")] == ["h2!db"]
    ic.set_state("h2!db", 0, "DB OK")
    icingadb.wait_state("h2!db", soft_state="0")
    assert on(src.poll(Http()).alerts, "h2!db") == []


def test_soft_not_raised_and_pending_not_listed(icingadb, reset):
    reset.append("h3!flappy")
    icingadb.icinga.set_state("h3!flappy", 2, "flapping")
    st = icingadb.wait_state("h3!flappy", soft_state="2")
    assert st["state_type"] == "soft"                               # hard_state lags (3 here: its last HARD)
    assert icingadb.state("h2!web")["soft_state"] == "99"          # never checked
    alerts = on(source(icingadb).poll(Http()).alerts, "h3!flappy", "h2!web")
    assert summary(alerts) == [("h3!flappy", "critical", None, True)]   # h2!web: not a problem for Icinga DB
    assert [a.id for a in on(source(icingadb, soft=True).poll(Http()).alerts, "h3!flappy") if a.raises] == \
        ["h3!flappy"]


def test_host_down_and_unreachable(icingadb, reset):
    ic = icingadb.icinga
    reset.extend(["h4", "h2"])
    ic.set_state("h2", 1, "PING CRITICAL")
    icingadb.wait_state("h2", soft_state="1")
    ic.set_state("h4", 1, "PING CRITICAL")
    icingadb.wait_state("h4", soft_state="1", is_reachable="")       # behind h2: DOWN but unreachable
    alerts = on(source(icingadb).poll(Http()).alerts, "h2", "h4")
    assert summary(alerts) == [("h2", "critical", None, False), ("h4", "unknown", None, False)]


def test_wrong_password_and_no_login(icingadb):
    with pytest.raises(SourceError) as err:
        source(icingadb, secret="nope").poll(Http())
    assert err.value.kind == "auth" and 'Basic realm "Icinga Web 2"' in err.value.reason
    with pytest.raises(SourceError) as err:
        source(icingadb, username=None).poll(Http())
    assert err.value.kind == "auth" and "set `username`" in err.value.reason


def test_role_restriction_limits_what_a_user_sees(icingadb, reset):
    ic = icingadb.icinga
    reset.extend(["h1!svc1", "h2!db"])
    ic.set_state("h1!svc1", 2, "CRIT")
    ic.set_state("h2!db", 2, "CRIT")
    icingadb.wait_state("h1!svc1", soft_state="2")
    icingadb.wait_state("h2!db", soft_state="2")
    admin = {a.id for a in source(icingadb).poll(Http()).alerts if a.raises}
    viewer = {a.id for a in source(icingadb, username=VIEWER, secret=VIEWER_PW).poll(Http()).alerts if a.raises}
    assert {"h1!svc1", "h2!db"} <= admin
    assert viewer == {"h2!db"}


def test_a_role_that_lets_nothing_through_is_unknown_never_ok(icingadb):
    """roles.ini: `outsider` may read Icinga DB Web, restricted to host.name=no-such-host."""
    with pytest.raises(SourceError) as err:
        source(icingadb, username=OUTSIDER, secret=OUTSIDER_PW).poll(Http())
    assert err.value.kind == "blind" and err.value.reason.startswith(
        "Icinga Web 2 user 'outsider' sees 0 hosts and 0 services: an icingadb/filter/objects (or "
        "icingadb/filter/hosts, icingadb/filter/services) restriction on its roles hides every object: widen it")
    assert source(icingadb, username=OUTSIDER, secret=OUTSIDER_PW, allow_empty=True).poll(Http()).alerts == ()
    src = source(icingadb, username=VIEWER, secret=VIEWER_PW)
    assert not [a for a in src.poll(Http()).alerts if a.raises] and not src.visibility.due()


def test_the_other_module_type_says_which_type_to_use(icingadb):
    """This Icinga Web has Icinga DB Web, not the monitoring module: the `icingaweb2` type says so."""
    with pytest.raises(SourceError) as err:
        make_source("icingaweb2", name="iw", url=icingadb.url + "/dashboard", username=ADMIN, secret=ADMIN_PW,
                    timeout=15).poll(Http())
    assert err.value.kind == "http" and err.value.reason == (
        f"Icinga Web 2 at {icingadb.url} has no monitoring pages (HTTP 404: Page not found. Enabling the "
        '"monitoring" module might help!): enable its monitoring module, or read it with type = "icingadb"')


def test_stopped_icingadb_is_unknown_never_ok(icingadb):
    """The icingadb daemon gone (or icinga2, after which it stops writing): the database keeps the last
    states, and Icinga Web's health check says so once the heartbeat is a minute old (aged here)."""
    src = source(icingadb)
    src.poll(Http())
    try:
        icingadb.stop_icingadb()
        icingadb.db.sql("UPDATE icingadb_instance SET heartbeat = heartbeat - 300000", "icingadb")
        with pytest.raises(SourceError) as err:
            src.poll(Http())
        assert err.value.kind == "server"
        assert "Icinga DB" in err.value.reason and "not running" in err.value.reason
        icingadb.start_icingadb()
        wait_until(lambda: all(c["state"] < 2 for c in icingadb.get("/health")["data"]), timeout=30, step=0.3)
        src.poll(Http())
        icingadb.stop_php()
        with pytest.raises(SourceError) as err:
            src.poll(Http())
        assert err.value.kind == "refused"
    finally:
        if icingadb.icingadb.poll() is not None:
            icingadb.start_icingadb()
        if icingadb.php.poll() is not None:
            icingadb.start_php()
        icingadb.wait_ready()
