"""Against the REAL Icinga Web 2 (Debian's icingaweb2 2.11 + monitoring module) over a real IDO
(MariaDB, written by a private icinga2's ido-mysql feature), served by PHP's built-in server with
Icinga Web's own router (support/icingaweb.py). States, acknowledgements and downtimes are set through
the icinga2 API, as operators do, and read back the way Icinga Web shows them.

Objects (tests/support/mk-icinga.sh): h1 svc1..svc5 (severities, handled), h2 db/web (recovery;
h2!web is never checked: PENDING), h3!flappy (3 attempts: SOFT), h4 behind h2 (unreachable)."""
from __future__ import annotations

import pytest
import requests

from support.icingaweb import (ADMIN, ADMIN_PW, NEWCOMER, NEWCOMER_PW, OUTSIDER, OUTSIDER_PW, PREFIX, VIEWER, VIEWER_PW,
                              IcingaWeb)
from support.monitoring import make_source, summary
from support.faults import wait_until
from tray.core.errors import SourceError
from tray.engine.net import Http

pytestmark = pytest.mark.slow


def source(iw: IcingaWeb, **kw):
    kw.setdefault("username", ADMIN)
    kw.setdefault("secret", ADMIN_PW)
    kw.setdefault("url", iw.url)
    return make_source("icingaweb2", name="iw", timeout=15, **kw)


def on(alerts, *objs):
    return [a for a in alerts if a.id in objs]


@pytest.fixture
def reset(icingaweb):
    touched: list[str] = []
    yield touched
    for obj in touched:
        icingaweb.icinga.reset(obj)
    for obj in touched:
        col = "service" if "!" in obj else "host"
        icingaweb.wait_row(obj, **{f"{col}_state": 0, f"{col}_acknowledged": 0, f"{col}_in_downtime": 0})


def test_severities(icingaweb, reset):
    ic = icingaweb.icinga
    states = {"h1!svc1": (2, "HTTP CRITICAL - 503"), "h1!svc2": (1, "DISK WARNING"), "h1!svc3": (3, "UNKNOWN - no data")}
    reset.extend(states)
    for obj, (code, out) in states.items():
        ic.set_state(obj, code, out)
    for obj, (code, _) in states.items():
        icingaweb.wait_row(obj, service_state=code)
    alerts = on(source(icingaweb).poll(Http()).alerts, *states)
    assert summary(alerts) == [("h1!svc1", "critical", None, False), ("h1!svc2", "warning", None, False),
                               ("h1!svc3", "unknown", None, False)]
    crit = next(a for a in alerts if a.id == "h1!svc1")
    assert crit.title == "Host One: svc1" and crit.detail == "HTTP CRITICAL - 503" and crit.since is not None
    # The link is Icinga Web's own page for the service (as JSON here, since we ask for it).
    r = requests.get(crit.url, auth=(ADMIN, ADMIN_PW), headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 200 and r.json()["data"]["service_description"] == "svc1"


def test_acknowledged_and_downtime_listed_not_raised(icingaweb, reset):
    ic = icingaweb.icinga
    reset.extend(["h1!svc4", "h1!svc5"])
    ic.set_state("h1!svc4", 2, "CRIT")
    ic.set_state("h1!svc5", 1, "WARN")
    ic.acknowledge("h1!svc4")
    ic.downtime("h1!svc5")
    icingaweb.wait_row("h1!svc4", service_state=2, service_acknowledged=1)
    icingaweb.wait_row("h1!svc5", service_state=1, service_in_downtime=1)
    alerts = on(source(icingaweb).poll(Http()).alerts, "h1!svc4", "h1!svc5")
    assert summary(alerts) == [("h1!svc4", "critical", "acknowledged", False),
                               ("h1!svc5", "warning", "downtime", False)]
    assert not any(a.raises for a in alerts)


def test_recovery_clears(icingaweb, reset):
    ic = icingaweb.icinga
    reset.append("h2!db")
    src = source(icingaweb)
    ic.set_state("h2!db", 2, "DB CRITICAL")
    icingaweb.wait_row("h2!db", service_state=2)
    assert [a.id for a in on(src.poll(Http()).alerts, "h2!db")] == ["h2!db"]
    ic.set_state("h2!db", 0, "DB OK")
    icingaweb.wait_row("h2!db", service_state=0)
    assert on(src.poll(Http()).alerts, "h2!db") == []


def test_soft_and_pending_not_raised(icingaweb, reset):
    reset.append("h3!flappy")
    icingaweb.icinga.set_state("h3!flappy", 2, "flapping")
    row = icingaweb.wait_row("h3!flappy", service_state=2)
    assert row["service_state_type"] == 0                 # SOFT, as the IDO has it
    assert icingaweb.service("h2!web")["service_state"] == 99   # never checked: Icinga Web's PENDING
    alerts = on(source(icingaweb).poll(Http()).alerts, "h3!flappy", "h2!web")
    assert summary(alerts) == [("h2!web", "unknown", None, True), ("h3!flappy", "critical", None, True)]
    assert not any(a.raises for a in alerts)
    soft = on(source(icingaweb, soft=True).poll(Http()).alerts, "h3!flappy", "h2!web")
    assert [a.id for a in soft if a.raises] == ["h3!flappy"]


def test_host_down_and_unreachable(icingaweb, reset):
    ic = icingaweb.icinga
    reset.extend(["h4", "h2"])
    ic.set_state("h2", 1, "PING CRITICAL")
    ic.set_state("h4", 1, "PING CRITICAL")
    icingaweb.wait_row("h2", host_state=1)
    icingaweb.wait_row("h4", host_state=2)               # behind h2: the IDO writes 2, unreachable
    alerts = on(source(icingaweb).poll(Http()).alerts, "h2", "h4")
    assert summary(alerts) == [("h2", "critical", None, False), ("h4", "unknown", None, False)]


def test_wrong_password_and_no_login(icingaweb):
    with pytest.raises(SourceError) as err:
        source(icingaweb, secret="not the password").poll(Http())
    assert err.value.kind == "auth"
    assert 'HTTP 401, Basic realm "Icinga Web 2"' in err.value.reason and "secondline login iw" in err.value.reason
    assert "not the password" not in err.value.reason
    with pytest.raises(SourceError) as err:
        source(icingaweb, username=None).poll(Http())
    assert err.value.kind == "auth" and "set `username`" in err.value.reason


def test_role_restriction_limits_what_a_user_sees(icingaweb, reset):
    """roles.ini: `viewer` may see host h2 only (monitoring/filter/objects = host_name=h2)."""
    ic = icingaweb.icinga
    reset.extend(["h1!svc1", "h2!db"])
    ic.set_state("h1!svc1", 2, "CRIT")
    ic.set_state("h2!db", 2, "CRIT")
    icingaweb.wait_row("h1!svc1", service_state=2)
    icingaweb.wait_row("h2!db", service_state=2)
    admin = {a.id for a in source(icingaweb).poll(Http()).alerts if a.raises}
    viewer = {a.id for a in source(icingaweb, username=VIEWER, secret=VIEWER_PW).poll(Http()).alerts if a.raises}
    assert {"h1!svc1", "h2!db"} <= admin
    assert viewer == {"h2!db"}


def test_a_role_that_lets_nothing_through_is_unknown_never_ok(icingaweb):
    """roles.ini: `outsider` may read the monitoring module, restricted to host_name=no-such-host. Both problem
    lists are `[]` with 200, as for an all-OK estate: the visibility check (one host of any state) tells."""
    assert icingaweb.get("/monitoring/list/services", OUTSIDER, OUTSIDER_PW, service_problem="1") == []
    with pytest.raises(SourceError) as err:
        source(icingaweb, username=OUTSIDER, secret=OUTSIDER_PW).poll(Http())
    assert err.value.kind == "blind" and err.value.reason == (
        "Icinga Web 2 user 'outsider' sees 0 hosts and 0 services: a monitoring/filter/objects restriction on its "
        "roles hides every object: widen it (Configuration > Access Control > Roles), or read as a user whose roles "
        "cover what this source should watch (or set allow_empty = true on this source if nothing to see is expected)")
    assert source(icingaweb, username=OUTSIDER, secret=OUTSIDER_PW, allow_empty=True).poll(Http()).alerts == ()
    # `viewer` sees h2 (its role's filter): nothing raised there (h2!web is listed PENDING), and believed.
    assert not [a for a in source(icingaweb, username=VIEWER, secret=VIEWER_PW).poll(Http()).alerts if a.raises]


def test_a_user_without_a_role_gets_icinga_webs_own_words(icingaweb):
    with pytest.raises(SourceError) as err:
        source(icingaweb, username=NEWCOMER, secret=NEWCOMER_PW).poll(Http())
    assert err.value.kind == "auth" and err.value.reason == (
        "Icinga Web 2 user 'newcomer' is not allowed there (HTTP 403 from Icinga Web 2: No permission for "
        "module/monitoring): give one of its roles that permission (Configuration > Access Control > Roles)")


@pytest.mark.parametrize("pasted", ["/", "/dashboard", "/authentication/login",
                                    "/monitoring/list/services?service_problem=1&sort=service_severity"
                                    "#!/monitoring/service/show?host=h1&service=svc1"])
def test_pasted_url_forms_at_the_root(icingaweb, reset, pasted):
    """Icinga Web at the root of its host (this fixture's first server): any address from the browser."""
    reset.append("h1!svc2")
    icingaweb.icinga.set_state("h1!svc2", 1, "DISK WARNING")
    icingaweb.wait_row("h1!svc2", service_state=1)
    [alert] = on(source(icingaweb, url=icingaweb.url + pasted).poll(Http()).alerts, "h1!svc2")
    assert alert.url.startswith(icingaweb.url + "/monitoring/service/show?")


@pytest.mark.parametrize("pasted", [PREFIX, PREFIX + "/", PREFIX + "/dashboard", PREFIX + "/monitoring/list/hosts",
                                    ""])
def test_pasted_url_forms_below_icingaweb2(icingaweb, reset, pasted):
    """Icinga Web below /icingaweb2 only, as Debian's Apache alias serves it: the alias, its pages, and the
    bare host (Icinga Web is looked for below /icingaweb2 once, and kept)."""
    base = icingaweb.serve_prefixed()
    reset.append("h1!svc2")
    icingaweb.icinga.set_state("h1!svc2", 1, "DISK WARNING")
    icingaweb.wait_row("h1!svc2", service_state=1)
    src = source(icingaweb, url=base + pasted)
    [alert] = on(src.poll(Http()).alerts, "h1!svc2")
    assert src.base == base + PREFIX and alert.url.startswith(base + PREFIX + "/monitoring/service/show?")
    r = requests.get(alert.url, auth=(ADMIN, ADMIN_PW), headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 200 and r.json()["data"]["service_description"] == "svc2"


def test_a_url_where_icinga_web_is_not_says_which_form_to_use(icingaweb):
    base = icingaweb.serve_prefixed()
    with pytest.raises(SourceError) as err:
        source(icingaweb, url=base + "/icinga").poll(Http())
    assert err.value.kind == "http" and err.value.reason == (
        f"no Icinga Web 2 at {base}/icinga (HTTP 404) nor at {base}/icinga/icingaweb2: `url` is Icinga Web 2's "
        "address as the browser shows it, e.g. https://HOST/icingaweb2 (a dashboard or list address of it works too)")


def test_stopped_parts_are_unknown_never_ok(icingaweb):
    """icinga2 stopped (the IDO keeps its last states; the stop clears the process id), icinga2 gone
    without a word (a crash: the row keeps its pid and only ages, which Icinga Web itself judges after a
    minute: aged here), the database down, PHP down: each unknown with its reason. Restarted after."""
    src = source(icingaweb)
    src.poll(Http())
    try:
        pid = icingaweb.get("/monitoring/health/info")[0]["process_id"]
        icingaweb.stop_icinga(timeout=120)     # a clean stop, however loaded the machine: no SIGKILL
        log = (icingaweb.dir / "icinga2" / "log" / "icinga2.log").read_text(errors="replace")
        assert "'ido-mysql' paused." in log.rsplit("Received request to shut down", 1)[-1], \
            f"icinga2 did not stop cleanly: {log[-2000:]}"
        with pytest.raises(SourceError) as err:
            src.poll(Http())
        assert err.value.kind == "server" and "has stopped" in err.value.reason
        assert "the states it shows are old" in err.value.reason

        # What a crash leaves in the IDO, a few minutes on. (A real kill -9 leaves the same row, but an
        # icinga2 restarted after one here ignores SIGTERM, so the test does not crash it.)
        icingaweb.db.sql(f"UPDATE icinga_programstatus SET process_id = {int(pid)}, "
                         "status_update_time = NOW() - INTERVAL 5 MINUTE", "icinga")
        with pytest.raises(SourceError) as err:
            src.poll(Http())
        assert err.value.kind == "server" and "is not running" in err.value.reason
        icingaweb.start_icinga()
        icingaweb.wait_ready()
        wait_until(lambda: icingaweb.get("/monitoring/health/info")[0]["is_currently_running"] == 1, timeout=20)
        src.poll(Http())                                 # running again: readable

        icingaweb.db.stop()
        with pytest.raises(SourceError) as err:
            src.poll(Http())
        # Icinga Web cannot check the password without its database: it answers 401 like for a wrong one.
        assert err.value.kind == "auth" and "user database" in err.value.reason
        icingaweb.db.start()
        icingaweb.wait_ready()

        icingaweb.stop_php()
        with pytest.raises(SourceError) as err:
            src.poll(Http())
        assert err.value.kind == "refused"
    finally:
        if icingaweb.php.poll() is not None:
            icingaweb.start_php()
        if icingaweb.icinga.proc.poll() is not None:
            icingaweb.start_icinga()
        icingaweb.wait_ready()
        for host in ("h1", "h2", "h3", "h4"):
            icingaweb.icinga.set_state(host, 0, "UP")
