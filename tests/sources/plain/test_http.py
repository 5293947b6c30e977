"""HTTP check: up, slow, down (status, text, connection), and only bad config as a source error."""
import threading

import pytest

from support.faults import FAULTS, FaultServer
from support.team_apis import make
from tray.core.errors import SourceError
from tray.core.model import Severity
from tray.sources.plain.http import HttpCheckSource, Probe, check_alerts


def check(url, **kw):
    return make(HttpCheckSource, "web", url=url, timeout=kw.pop("timeout", 3.0), **kw)


def test_up(api, http):
    api.get("/health", b"OK all good")
    assert check(api.url + "/health", expect_text="all good", warn_ms=5000).poll(http).alerts == ()
    assert api.requests[0].method == "GET"


def test_slow_is_a_warning(api, http):
    release = threading.Event()

    def slow(req):
        release.wait(0.3)       # the answer takes at least 300 ms
        return 200, {}, b"OK"
    api.get("/health", slow)
    (a,) = check(api.url + "/health", warn_ms=100).poll(http).alerts
    assert a.severity is Severity.WARNING and "slow" in a.title and "warning above 100 ms" in a.detail


def test_wrong_status_is_critical(api, http):
    api.get("/health", {"status": "down"}, status=503)
    (a,) = check(api.url + "/health").poll(http).alerts
    assert a.severity is Severity.CRITICAL and "503" in a.title and a.url == api.url + "/health"


@pytest.mark.parametrize("status", [401, 403, 404, 429])
def test_any_unexpected_status_is_an_alert_not_an_error(api, http, status):
    api.get("/x", {"e": 1}, status=status)
    (a,) = check(api.url + "/x").poll(http).alerts
    assert a.severity is Severity.CRITICAL and str(status) in a.detail


def test_expected_non_200_status(api, http):
    api.get("/gone", b"", status=404)
    assert check(api.url + "/gone", expect_status=404).poll(http).alerts == ()


def test_missing_text_is_critical(api, http):
    api.get("/health", b"<html>maintenance page</html>")
    (a,) = check(api.url + "/health", expect_text="all good").poll(http).alerts
    assert a.severity is Severity.CRITICAL and "all good" in a.detail


def test_down_is_critical_with_reason(srv, http):
    (a,) = check(srv.base_url("refused")).poll(http).alerts
    assert a.severity is Severity.CRITICAL and "down" in a.title and "refused" in a.detail


def test_same_alert_id_whatever_the_fault():
    s = HttpCheckSource.Settings(url="http://x/", warn_ms=10)
    ids = {check_alerts("web", p, s)[0].id for p in (Probe(None, error="refused"), Probe(500),
                                                      Probe(200, b"", elapsed_ms=50))}
    assert ids == {"check"}
    assert check_alerts("web", Probe(200, b"", elapsed_ms=5), s) == []


def test_invalid_url_is_a_source_error(http):
    with pytest.raises(SourceError) as err:
        check("http://exa mple.invalid:99999/").poll(http)
    assert err.value.kind == "config"


@pytest.fixture(scope="module")
def srv():
    with FaultServer() as s:
        yield s


# A failing target is what this type watches: every fault is a critical alert (with a reason),
# except the ones where the target did answer 200 with a body that is fine for a plain check.
ANSWERED_200 = {"html_login", "empty", "wrong_shape"}


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_is_an_alert(srv, http, fault):
    url = srv.configure(fault) + "/health"
    # trickle sends a byte a second: keep the timeout well clear of that interval (see ../test_team_faults.py)
    alerts = check(url, timeout=2.5 if fault == "trickle" else 1.5).poll(http).alerts
    srv.ok(b"{}")
    if fault in ANSWERED_200:
        assert alerts == ()
    else:
        (a,) = alerts
        assert a.severity is Severity.CRITICAL and a.detail and "\n" not in a.detail


def test_expect_text_catches_a_login_page(srv, http):
    url = srv.configure("html_login") + "/health"
    (a,) = check(url, expect_text='"status": "ok"').poll(http).alerts
    srv.ok(b"{}")
    assert a.severity is Severity.CRITICAL


@pytest.mark.parametrize("settings", [{"url": "ftp://x"}, {"url": "http://x", "expect_status": 42},
                                      {"url": "http://x", "warn_ms": 0},
                                      {"url": "http://x", "method": "HEAD", "expect_text": "a"}])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        HttpCheckSource.Settings(**settings).validate()
