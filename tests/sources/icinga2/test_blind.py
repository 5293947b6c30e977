"""Blind is not green (issue 17), against the real icinga2: ApiUsers that the server authenticates but
whose permission filters match nothing (mk-icinga.sh: "blind", "noservices", "nohosts") get
`{"results": []}`, exactly what a healthy all-OK estate answers. The source must say so.
"""
from __future__ import annotations

import re

import pytest

from .helpers import FakeContext, make_source
from .test_real import ALL, _FilterRefusingProxy, by_id
from tray.core.errors import SourceError
from tray.engine.net import Http
from tray.sources.base import BLIND_ALERT_ID
from tray.sources.icinga2.parse import blindness, cib_totals
from tray.sources.icinga2.stream import run_stream

pytestmark = pytest.mark.slow

USERS = {"blind": "blind-secret", "noservices": "nosvc-secret", "nohosts": "nohost-secret",
         "secondline": "sl-secret"}


@pytest.fixture
def ic(icinga):
    icinga.reset(*ALL)
    yield icinga
    icinga.reset(*ALL)


def src_for(ic, user, **kw):
    kw.setdefault("url", ic.url)
    kw.setdefault("ca_bundle", ic.ca)
    kw.setdefault("stream", False)
    return make_source(username=user, secret=USERS[user], **kw)


class CountingHttp(Http):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict | None]] = []

    def request(self, method, url, **kw):
        self.sent.append((method, url.rsplit("/v1/", 1)[-1], kw.get("json_body")))
        return super().request(method, url, **kw)


def test_a_user_that_sees_nothing_is_unknown_naming_user_and_fix(ic):
    with pytest.raises(SourceError) as exc:
        src_for(ic, "blind").poll(Http())
    reason = exc.value.reason
    assert exc.value.kind == "blind"
    assert "ApiUser 'blind'" in reason
    # status/query is granted: the server's own counts prove the filter hides what exists.
    assert re.search(r"sees 0 of the server's [1-9]\d* hosts and 0 of the server's [1-9]\d* services", reason), reason
    assert "objects/query/Host and objects/query/Service" in reason and "permissions" in reason
    assert "allow_empty = true" in reason and "\n" not in reason and "blind-secret" not in reason


def test_allow_empty_makes_the_same_answer_ok(ic):
    assert src_for(ic, "blind", allow_empty=True).poll(Http()).alerts == ()


def test_hidden_services_with_visible_host_problems(ic):
    """Sees hosts, not services: the host alerts stay (a DOWN host stays critical) and one unknown
    alert says what cannot be seen; with nothing wrong on the hosts, the source is unknown."""
    with pytest.raises(SourceError) as exc:
        src_for(ic, "noservices").poll(Http())
    assert exc.value.kind == "blind" and "ApiUser 'noservices'" in exc.value.reason
    assert "services" in exc.value.reason and "hosts" not in exc.value.reason.split(":")[0]
    ic.set_state("h2", 1, "PING CRITICAL")
    ic.set_state("h1!svc1", 2)               # invisible to this user
    alerts = by_id(src_for(ic, "noservices").poll(Http()).alerts)
    assert set(alerts) == {"h2", BLIND_ALERT_ID}
    assert alerts["h2"].severity.value == "critical" and alerts["h2"].raises
    blind = alerts[BLIND_ALERT_ID]
    assert blind.severity.value == "unknown" and blind.raises and "sees 0 of the server's" in blind.detail


def test_hidden_hosts(ic):
    ic.set_state("h1!svc1", 2)
    alerts = by_id(src_for(ic, "nohosts").poll(Http()).alerts)
    assert set(alerts) == {"h1!svc1", BLIND_ALERT_ID}
    assert "0 of the server's" in alerts[BLIND_ALERT_ID].detail and "hosts" in alerts[BLIND_ALERT_ID].detail


def test_a_seeing_user_with_everything_ok_is_ok_and_the_check_is_cheap(ic):
    """All OK: each empty answer is checked once (a listing of names), then trusted for a minute; once
    it is due again the check asks for one known object by name, not for the whole list."""
    src = src_for(ic, "secondline")
    http = CountingHttp()
    assert src.poll(http).alerts == ()
    first = [body for _, path, body in http.sent]
    assert {"attrs": ["__name"]} in first and len(http.sent) == 4      # 2 queries + 2 listings
    http.sent.clear()
    assert src.poll(http).alerts == ()
    assert len(http.sent) == 2                                          # trusted: no check
    src.visibility.every = 0.0                                          # a minute later
    http.sent.clear()
    assert src.poll(http).alerts == ()
    probes = [body for _, _, body in http.sent[2:]]
    assert len(probes) == 2 and all(len(next(v for k, v in b.items() if k in ("hosts", "services"))) == 1
                                    for b in probes), probes
    # A problem in the answer proves sight by itself: no check at all.
    ic.set_state("h1!svc1", 2)
    ic.set_state("h2", 1)
    http.sent.clear()
    assert {"h1!svc1", "h2"} <= set(by_id(src.poll(http).alerts))
    assert len(http.sent) == 2


def test_blind_through_the_by_name_fallback(ic):
    """Without the filter permission the source lists every state: an empty list is blindness too."""
    proxy = _FilterRefusingProxy(ic, 403)
    try:
        src = src_for(ic, "blind", url=proxy.url)
        with pytest.raises(SourceError) as exc:
            src.poll(Http())
        assert exc.value.kind == "blind" and src.client_filter
        # The proxy forwards POST only, so no /v1/status/CIB: the reason cannot count, and says both causes.
        assert "sees 0 hosts and 0 services" in exc.value.reason and "or the server has none" in exc.value.reason
        assert src_for(ic, "secondline", url=proxy.url).poll(Http()).alerts == ()
    finally:
        proxy.close()


def test_permission_fixed_reads_at_the_next_poll(ic):
    """A blind poll is not trusted: the next poll checks again (no back-off on the check either)."""
    src = src_for(ic, "blind")
    with pytest.raises(SourceError):
        src.poll(Http())
    assert src.visibility.due("host") and src.visibility.due("service")


def test_the_stream_does_not_paint_over_blindness(ic):
    """An event cannot clear a blind poll's verdict: with nothing to show, the watcher asks for a poll;
    with visible alerts, it publishes them with the blind line."""
    src = src_for(ic, "noservices", stream=True, detect_interval=0)
    with pytest.raises(SourceError):
        src.poll(Http())
    assert src.stream_view([]) is None
    ic.set_state("h2", 1)
    alerts = src.poll(Http()).alerts
    shown = src.stream_view([a for a in alerts if a.id != BLIND_ALERT_ID])
    assert shown is not None and shown[-1].id == BLIND_ALERT_ID


def test_cib_totals_and_the_reason_shapes():
    cib = {"results": [{"name": "CIB", "status": {"num_hosts_up": 2.0, "num_hosts_down": 1.0,
                                                  "num_hosts_unreachable": 0.0, "num_services_ok": 5.0,
                                                  "num_services_warning": 1.0, "num_services_critical": 0.0,
                                                  "num_services_unknown": 0.0}}]}
    assert cib_totals(cib) == {"host": 3, "service": 6}
    assert cib_totals({"results": [{"status": {"num_hosts_up": "x"}}]}) is None
    assert cib_totals([]) is None
    finding, fix = blindness("ApiUser 'x'", ["service"], {"host": 3, "service": 6})
    assert finding == "ApiUser 'x' sees 0 of the server's 6 services" and "hide them" in fix
    finding, fix = blindness("ApiUser 'x'", ["host", "service"], {"host": 0, "service": 0})
    assert finding == "ApiUser 'x' sees 0 hosts and 0 services" and "the server has none" in fix and "`url`" in fix
    finding, fix = blindness("ApiUser 'x'", ["host"], {})
    assert "or the server has none" in fix


def test_icinga_web_address_is_refused_with_the_api_form():
    with pytest.raises(ValueError) as exc:
        make_source(url="https://mon.example.com/icingaweb2")
    assert "5665" in str(exc.value) and "icingadb" in str(exc.value)
    for pasted in ("https://mon.example.com:5665/v1", "https://mon.example.com:5665/v1/objects/hosts",
                   "https://mon.example.com:5665/"):
        assert make_source(url=pasted).base_url == "https://mon.example.com:5665"


def test_blind_stream_watcher_requests_a_poll_instead_of_publishing(ic):
    """run_stream with a blind source: events that would publish an empty list ask for a poll instead."""
    src = src_for(ic, "secondline", stream=True, detect_interval=0)
    src.blind_finding = src.blind("ApiUser 'secondline' sees 0 services", "fix it")
    ctx = FakeContext()
    import threading
    t = threading.Thread(target=lambda: _quiet(run_stream, src, Http(), ctx), daemon=True)
    t.start()
    try:
        with ctx.changed:
            ctx.changed.wait_for(lambda: ctx.connects >= 1, timeout=10)
        polls = ctx.polls
        ic.set_state("h1!svc1", 2)
        ic.set_state("h1!svc1", 0)
        with ctx.changed:
            assert ctx.changed.wait_for(lambda: ctx.polls > polls, timeout=10)
        assert all(BLIND_ALERT_ID in {a.id for a in p} for p in ctx.published), ctx.published
    finally:
        ctx.stop.set()
        src.close()
        t.join(10)


def _quiet(fn, *args):
    try:
        fn(*args)
    except SourceError:
        pass
