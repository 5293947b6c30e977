"""Against the REAL Nagios 4 (nagios4-core) and its real statusjson.cgi (nagios4-cgi) behind a private
Apache: states come from real active checks (check.sh reads the state files the test writes),
acknowledgements and downtimes from the real external command file, auth from Apache (Debian's
Digest config and upstream's Basic one) and Nagios's own cgi.cfg authorization.

Each test drives its own hosts (see support/nagios.py HOSTS) and puts them back to OK afterwards, so the
session-wide server is shared without one test seeing another's problems."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from support.monitoring import make_source, summary
from support.nagios import ADMIN, ADMIN_PW, STRANGER, STRANGER_PW, VIEWER, VIEWER_PW, Nagios
from support.faults import wait_until
from tray.core.errors import SourceError
from tray.engine.net import Http

pytestmark = pytest.mark.slow

CRITICAL, WARNING, UNKNOWN, DOWN, UNREACHABLE, PENDING = 16, 4, 8, 4, 8, 1


def source(nagios: Nagios, url: str | None = None, **kw):
    kw.setdefault("username", ADMIN)
    kw.setdefault("secret", ADMIN_PW)
    return make_source("nagios", name="nag", url=url or nagios.debian_url, timeout=10, **kw)


def on(alerts, *hosts):
    return [a for a in alerts if a.ref["host"] in hosts]


@pytest.fixture
def cleanup(nagios):
    touched: list[str] = []
    yield touched
    for obj in touched:
        nagios.clear(obj)
    for obj in touched:
        nagios.wait_status(obj, 2, problem_has_been_acknowledged=False, scheduled_downtime_depth=0)


def test_critical_warning_unknown_map_to_their_severities(nagios, cleanup):
    states = {"web01!http": (2, "HTTP CRITICAL - 503 Service Unavailable"), "web01!disk": (1, "DISK WARNING - 85%"),
              "web01!load": (3, "UNKNOWN - cannot read /proc/loadavg")}
    cleanup.extend(states)
    for obj, (code, out) in states.items():
        nagios.set_state(obj, code, out)
    for obj, bit in (("web01!http", CRITICAL), ("web01!disk", WARNING), ("web01!load", UNKNOWN)):
        nagios.wait_status(obj, bit)
    src = source(nagios)     # Debian's /nagios4 path, Digest auth
    alerts = on(src.poll(Http()).alerts, "web01")
    assert summary(alerts) == [("web01!disk", "warning", None, False), ("web01!http", "critical", None, False),
                               ("web01!load", "unknown", None, False)]
    http = next(a for a in alerts if a.id == "web01!http")
    assert http.title == "web01: http" and http.detail == "HTTP CRITICAL - 503 Service Unavailable"
    # last_state_change is epoch milliseconds in statusjson: a date near now, not 1970 or year 50000.
    assert http.since is not None and abs(datetime.now(timezone.utc) - http.since) < timedelta(minutes=5)
    link = urlsplit(http.url)
    assert link.path == "/nagios4/cgi-bin/extinfo.cgi"
    assert parse_qs(link.query) == {"type": ["2"], "host": ["web01"], "service": ["http"]}
    # The link is a real page of this Nagios.
    assert nagios.session.get(http.url, timeout=10).status_code == 200


def test_acknowledged_and_downtime_are_listed_not_raised(nagios, cleanup):
    cleanup.extend(["app01!api", "app01!queue", "app01!cert", "edge01"])
    nagios.set_state("app01!api", 2, "API CRITICAL")
    nagios.set_state("app01!queue", 2, "QUEUE CRITICAL")
    nagios.set_state("app01!cert", 1, "CERT WARNING - 20 days")
    nagios.set_state("edge01", 2, "PING CRITICAL - 100% loss")
    for obj in ("app01!api", "app01!queue"):
        nagios.wait_status(obj, CRITICAL)
    nagios.wait_status("edge01", DOWN)
    nagios.acknowledge("app01!api")
    nagios.acknowledge("edge01")
    nagios.downtime("app01!queue")
    nagios.wait_status("app01!api", CRITICAL, problem_has_been_acknowledged=True)
    nagios.wait_status("edge01", DOWN, problem_has_been_acknowledged=True)
    nagios.wait_status("app01!queue", CRITICAL, scheduled_downtime_depth=1)
    nagios.wait_status("app01!cert", WARNING)
    alerts = on(source(nagios).poll(Http()).alerts, "app01", "edge01")
    assert summary(alerts) == [("app01!api", "critical", "acknowledged", False),
                               ("app01!cert", "warning", None, False),
                               ("app01!queue", "critical", "downtime", False),
                               ("edge01", "critical", "acknowledged", False)]
    assert sorted(a.id for a in alerts if a.raises) == ["app01!cert"]


def test_recovery_clears(nagios, cleanup):
    cleanup.append("db01!mysql")
    src = source(nagios)
    nagios.set_state("db01!mysql", 2, "MYSQL CRITICAL - connection refused")
    nagios.wait_status("db01!mysql", CRITICAL)
    assert [a.id for a in on(src.poll(Http()).alerts, "db01")] == ["db01!mysql"]
    nagios.set_state("db01!mysql", 0)
    nagios.wait_status("db01!mysql", 2)
    assert on(src.poll(Http()).alerts, "db01") == []


def test_soft_and_pending_are_not_raised(nagios, cleanup):
    """lab01!flappy has 10 attempts: its first CRITICAL is SOFT. lab01!never has never been checked."""
    cleanup.append("lab01!flappy")
    nagios.set_state("lab01!flappy", 2, "flapping")
    d = nagios.wait_status("lab01!flappy", CRITICAL)
    assert d["state_type"] == 0 and d["current_attempt"] == 1    # SOFT, as the real server says
    assert nagios.status("lab01!never")["status"] == PENDING
    alerts = on(source(nagios).poll(Http()).alerts, "lab01")
    assert summary(alerts) == [("lab01!flappy", "critical", None, True), ("lab01!never", "unknown", None, True)]
    assert not any(a.raises for a in alerts)
    # `soft = true` raises the SOFT one (a PENDING one still never does).
    alerts = on(source(nagios, soft=True).poll(Http()).alerts, "lab01")
    assert [a.id for a in alerts if a.raises] == ["lab01!flappy"]


def test_host_down_and_unreachable(nagios, cleanup):
    cleanup.extend(["edge02", "edge01"])
    nagios.set_state("edge01", 2, "PING CRITICAL")
    nagios.wait_status("edge01", DOWN)
    nagios.set_state("edge02", 2, "PING CRITICAL")
    nagios.wait_status("edge02", UNREACHABLE)      # its parent edge01 is down: Nagios says unreachable
    alerts = on(source(nagios).poll(Http()).alerts, "edge01", "edge02")
    assert summary(alerts) == [("edge01", "critical", None, False), ("edge02", "unknown", None, False)]
    edge = next(a for a in alerts if a.id == "edge01")
    assert parse_qs(urlsplit(edge.url).query) == {"type": ["1"], "host": ["edge01"]}


@pytest.mark.parametrize("path", ["debian_url", "debian_cgi_url", "upstream_url"])
def test_each_documented_path_and_auth_scheme(nagios, cleanup, path):
    """/nagios4 and /cgi-bin/nagios4 (Debian, Digest), /nagios (upstream, Basic): same alert, links on
    the same path."""
    cleanup.append("db01!backup")
    nagios.set_state("db01!backup", 2, "BACKUP CRITICAL")
    nagios.wait_status("db01!backup", CRITICAL)
    url = getattr(nagios, path)
    [alert] = on(source(nagios, url=url).poll(Http()).alerts, "db01")
    assert alert.id == "db01!backup"
    cgi = url if "cgi-bin" in url else url + "/cgi-bin"
    assert alert.url.startswith(cgi + "/extinfo.cgi?")


@pytest.mark.parametrize("pasted", [
    "/nagios4/cgi-bin", "/nagios4/cgi-bin/", "/nagios4/", "/cgi-bin/nagios4/",
    "/nagios4/cgi-bin/status.cgi?host=all&servicestatustypes=28",            # a CGI page from the browser
    "/cgi-bin/nagios4/statusjson.cgi?query=hostlist&details=true",           # the JSON CGI itself
    "/nagios4/index.php?corewindow=%2Fcgi-bin%2Fnagios4%2Fstatus.cgi",       # the web UI's frame page
])
def test_pasted_url_forms(nagios, cleanup, pasted):
    """Any address a user may copy from Debian's Nagios 4 reaches the same CGIs, and the links follow."""
    cleanup.append("db01!backup")
    nagios.set_state("db01!backup", 2, "BACKUP CRITICAL")
    nagios.wait_status("db01!backup", CRITICAL)
    [alert] = on(source(nagios, url=nagios.base + pasted).poll(Http()).alerts, "db01")
    prefix = "/cgi-bin/nagios4" if pasted.startswith("/cgi-bin") else "/nagios4/cgi-bin"
    assert alert.id == "db01!backup" and alert.url.startswith(nagios.base + prefix + "/extinfo.cgi?")
    assert nagios.session.get(alert.url, timeout=10).status_code == 200


def test_a_url_with_no_nagios_says_which_forms_to_use(nagios):
    with pytest.raises(SourceError) as err:
        source(nagios, url=nagios.base).poll(Http())
    assert err.value.kind == "http" and err.value.reason.startswith(
        f"no statusjson.cgi at {nagios.base}/cgi-bin (HTTP 404): `url` is the Nagios web UI's address "
        "(https://HOST/nagios4, upstream https://HOST/nagios) or its CGI directory (https://HOST/cgi-bin/nagios4)")


def test_a_user_cgi_cfg_does_not_authorize_is_unknown_never_ok(nagios):
    """`stranger` gets past Apache, but cgi.cfg authorizes it for nothing and it is no object's contact:
    statusjson answers success with empty lists, exactly like an all-OK estate. The counts tell."""
    with pytest.raises(SourceError) as err:
        source(nagios, username=STRANGER, secret=STRANGER_PW).poll(Http())
    assert err.value.kind == "blind"
    assert err.value.reason == (
        "Nagios user 'stranger' sees 0 hosts and 0 services: authorize it in cgi.cfg (authorized_for_all_hosts "
        "and authorized_for_all_services), or make it a contact of the hosts and services it should watch (or set "
        "allow_empty = true on this source if nothing to see is expected)")
    assert nagios.query("hostlist")["data"]["hostlist"]          # the estate is there, for nagiosadmin
    assert source(nagios, username=STRANGER, secret=STRANGER_PW, allow_empty=True).poll(Http()).alerts == ()
    # `viewer` sees db01 only (a contact of it): all OK there, and believed.
    assert on(source(nagios, username=VIEWER, secret=VIEWER_PW).poll(Http()).alerts, "db01") == []


def test_no_login_in_front_of_the_cgis_is_unknown(nagios):
    """Where the web server asks no login, the CGIs get no REMOTE_USER and show nothing (use_authentication=1)."""
    assert nagios.session.get(nagios.nologin_url + "/cgi-bin/statusjson.cgi", params={"query": "hostcount"},
                              timeout=10).json()["result"]["user"] == ""
    with pytest.raises(SourceError) as err:
        source(nagios, url=nagios.nologin_url, username=None).poll(Http())
    assert err.value.kind == "blind" and err.value.reason.startswith(
        "Nagios gets no user name (no `username` is set, and the web server asks for no login) and shows 0 hosts "
        "and 0 services: set `username` to a user cgi.cfg authorizes")
    with pytest.raises(SourceError) as err:
        source(nagios, url=nagios.nologin_url).poll(Http())           # a username the web server never asks for
    assert err.value.reason.startswith("Nagios gets no user name from the web server, which does not ask for the "
                                       "login of 'nagiosadmin', and shows 0 hosts and 0 services")


@pytest.mark.parametrize("path,realm", [("debian_url", "Digest realm \"Nagios4\""),
                                        ("upstream_url", "Basic realm \"Nagios Access\"")])
def test_wrong_password_is_unknown_with_the_realm(nagios, path, realm):
    url = getattr(nagios, path)
    with pytest.raises(SourceError) as err:
        source(nagios, url=url, secret="wrong password").poll(Http())
    assert err.value.kind == "auth"
    assert "HTTP 401" in err.value.reason and realm in err.value.reason
    assert "secondline login nag" in err.value.reason and "wrong password" not in err.value.reason
    with pytest.raises(SourceError) as err:
        source(nagios, url=url, username=None).poll(Http())
    assert err.value.kind == "auth" and "set `username`" in err.value.reason and realm in err.value.reason


def test_cgi_cfg_authorization_limits_what_a_user_sees(nagios, cleanup):
    """`viewer` is a contact of db01 only, and not in cgi.cfg's authorized_for_all_*: Nagios shows it db01."""
    cleanup.extend(["db01!backup", "web01!ssh"])
    nagios.set_state("db01!backup", 2, "BACKUP CRITICAL")
    nagios.set_state("web01!ssh", 2, "SSH CRITICAL")
    nagios.wait_status("db01!backup", CRITICAL)
    nagios.wait_status("web01!ssh", CRITICAL)
    admin = {a.id for a in source(nagios).poll(Http()).alerts}
    viewer = {a.id for a in source(nagios, username=VIEWER, secret=VIEWER_PW).poll(Http()).alerts}
    assert {"db01!backup", "web01!ssh"} <= admin
    assert viewer == {"db01!backup"}


def test_stopped_server_is_unknown_never_ok():
    """A private instance, so the session's stays up: killed Nagios (status.dat left behind, served as
    it was) -> stale; stopped Nagios (status.dat removed) -> empty answer; Apache stopped -> refused."""
    n = Nagios().start()
    try:
        n.set_state("web01!http", 2, "HTTP CRITICAL")
        n.wait_status("web01!http", CRITICAL)
        src = source(n, stale_after=3)
        assert [a.id for a in on(src.poll(Http()).alerts, "web01")] == ["web01!http"]

        n.nagios.kill()
        n.nagios.wait(10)

        def stale():
            try:
                src.poll(Http())
            except SourceError as exc:
                return exc
            return None
        err = wait_until(stale, timeout=20, step=0.5)
        assert err.kind == "server" and "not updated its status" in err.reason and "not running" in err.reason
        # The stale answer still looks healthy to a reader without the check: the CGI serves it as it was.
        assert n.status("web01!http")["status"] == CRITICAL

        n.start_nagios()
        n.wait_ready()
        n.stop_nagios()                       # a clean stop removes status.dat
        with pytest.raises(SourceError) as exc:
            src.poll(Http())
        assert exc.value.reason == ("empty (whitespace-only) response where JSON was expected: the Nagios daemon is "
                                    "not running or its status data is missing (the CGIs answer nothing without "
                                    "status.dat)")

        n.stop_apache()
        with pytest.raises(SourceError) as exc:
            src.poll(Http())
        assert exc.value.kind == "refused" and "refused" in exc.value.reason
    finally:
        n.stop()
