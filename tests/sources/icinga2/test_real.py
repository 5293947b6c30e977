"""Against a real icinga2 (Debian package) on loopback: states set through process-check-result,
acknowledgements, downtimes, the filter fallback, TLS/credential faults, the stream, the detector,
and the acknowledge / recheck actions."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from .helpers import FakeContext, make_source, summary
from support.faults import wait_until
from tray.core.errors import SourceError
from tray.core.model import Health
from tray.engine.net import Http
from tray.core.rules import source_snapshot
from tray.sources.icinga2.stream import run_detector, run_stream

pytestmark = pytest.mark.slow


def src_for(ic, **kw):
    kw.setdefault("url", ic.url)
    kw.setdefault("username", "secondline")
    kw.setdefault("ca_bundle", ic.ca)
    kw.setdefault("secret", "sl-secret")
    return make_source(**kw)


def snap(alerts):
    return source_snapshot(name="ic", type="icinga2", group="g", alerts=alerts, checked_at=None, error=None)


def by_id(alerts):
    return {a.id: a for a in alerts}


ALL = ["h1", "h2", "h3", "h4", "h1!svc1", "h1!svc2", "h1!svc3", "h1!svc4", "h1!svc5", "h2!web", "h2!db",
       "h3!flappy"]


@pytest.fixture
def ic(icinga):
    """The session's icinga2 with every object UP/OK, no acks, no downtimes (before and after)."""
    icinga.reset(*ALL)
    yield icinga
    icinga.reset(*ALL)


def test_states_acks_and_downtimes(ic):
    ic.set_state("h1!svc1", 2, "CRIT disk full")
    ic.set_state("h1!svc2", 1, "WARN load")
    ic.acknowledge("h1!svc2")
    ic.set_state("h1!svc3", 3, "UNKNOWN no data")
    ic.set_state("h1!svc5", 2)
    ic.downtime("h1!svc5")
    ic.set_state("h2", 1, "PING CRITICAL")
    ic.set_state("h2!web", 2)
    ic.set_state("h4", 1, "behind h2")
    ic.set_state("h3!flappy", 2)                 # first of 3 attempts: SOFT
    src = src_for(ic, web_url="https://mon.example.com/icingaweb2")
    alerts = src.poll(Http()).alerts
    assert summary(alerts) == [
        ("h1!svc1", "critical", None, False),
        ("h1!svc2", "warning", "acknowledged", False),
        ("h1!svc3", "unknown", None, False),
        ("h1!svc5", "critical", "downtime", False),
        ("h2", "critical", None, False),
        ("h2!web", "critical", None, True),          # behind a DOWN host: listed, not raised
        ("h3!flappy", "critical", None, True),       # SOFT
        ("h4", "unknown", None, False),              # unreachable behind h2
    ]
    a = by_id(alerts)
    assert a["h1!svc1"].title == "Host One: svc1" and a["h1!svc1"].detail == "CRIT disk full"
    assert a["h1!svc1"].url == "https://mon.example.com/icingaweb2/icingadb/service?name=svc1&host.name=h1"
    assert a["h2!web"].title == "h2: Web Frontend"
    assert a["h1!svc1"].since is not None and abs(a["h1!svc1"].since.timestamp() - time.time()) < 60
    s = snap(alerts)
    assert s.health is Health.CRITICAL
    assert (s.counts.critical, s.counts.warning, s.counts.unknown, s.counts.handled, s.counts.pending) == (2, 0, 2, 2, 2)

    # Recover the raising ones: only handled and pending alerts remain -> ok.
    for o in ("h1!svc1", "h1!svc3", "h2", "h4"):
        ic.set_state(o, 0)
    s = snap(src.poll(Http()).alerts)
    assert s.health is Health.OK and s.counts.handled == 2 and s.counts.problems == 0
    assert src_for(ic, soft=True).poll(Http()).alerts and snap(src_for(ic, soft=True).poll(Http()).alerts).health \
        is Health.CRITICAL                            # soft = true lets h3!flappy raise


def test_credential_and_tls_faults(ic):
    with pytest.raises(SourceError) as exc:
        src_for(ic, secret="wrong").poll(Http())
    assert exc.value.kind == "auth" and "secondline login ic" in exc.value.reason
    with pytest.raises(SourceError) as exc:
        src_for(ic, ca_bundle=None).poll(Http())      # the private CA is not in the system store
    assert exc.value.kind == "tls" and "ca_bundle" in exc.value.reason
    src_for(ic, ca_bundle=None, verify_tls=False).poll(Http())


class _FilterRefusingProxy:
    """Plain-HTTP front for the real API that answers like a newer Icinga to an ApiUser without the
    filter-expression permission (403), or like 2.13 for a missing permission (404)."""

    def __init__(self, ic, status: int) -> None:
        upstream = requests.Session()
        upstream.verify = ic.ca
        upstream.trust_env = False
        self.refused = 0
        self.bodies: list[dict] = []
        self.answers: list[bytes] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.bodies.append(json.loads(body) if body else {})
                if body and "filter" in json.loads(body):
                    proxy.refused += 1
                    out, code = json.dumps({"error": status, "status": "No permission"}).encode(), status
                else:
                    r = upstream.post(ic.url + self.path, data=body, timeout=10,
                                      headers={k: v for k, v in self.headers.items()
                                               if k.lower() in ("authorization", "accept", "content-type",
                                                                "x-http-method-override")})
                    out, code = r.content, r.status_code
                    proxy.answers.append(out)
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status", [403, 404])
def test_filter_refused_falls_back_to_client_side_filtering(ic, status):
    ic.set_state("h1!svc1", 2)
    ic.set_state("h2", 1)
    direct = summary(src_for(ic).poll(Http()).alerts)
    proxy = _FilterRefusingProxy(ic, status)
    try:
        src = src_for(ic, url=proxy.url)
        http = Http()
        assert summary(src.poll(http).alerts) == direct
        assert src.client_filter and proxy.refused == 1
        # The real server takes the by-name read (the plural parameter) and answers only those.
        asked = [b["services"] for b in proxy.bodies if "services" in b]
        assert asked and "h1!svc1" in asked[-1]
        got = [sorted(r["name"] for r in json.loads(a)["results"]) for a in proxy.answers]
        assert sorted(asked[-1]) in got
        ic.set_state("h1!svc1", 0)
        assert "h1!svc1" not in by_id(src.poll(http).alerts)
        assert proxy.refused == 1                     # the choice is remembered
    finally:
        proxy.close()


def _run(target, *args):
    errors: list[BaseException] = []

    def run():
        try:
            target(*args)
        except BaseException as exc:  # surfaced by the test
            errors.append(exc)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


def test_stream_applies_state_ack_and_downtime_events(ic):
    src = src_for(ic, detect_interval=0)
    ctx = FakeContext()
    t, errors = _run(run_stream, src, Http(), ctx)
    try:
        wait_until(lambda: ctx.connects == 1, 5)
        time.sleep(0.3)                               # the server registers the queue
        latest = lambda: by_id(ctx.latest() or [])    # noqa: E731
        ic.set_state("h1!svc4", 2, "stream crit")
        wait_until(lambda: "h1!svc4" in latest() and latest()["h1!svc4"].raises, 8)
        assert latest()["h1!svc4"].detail == "stream crit"
        ic.acknowledge("h1!svc4")
        wait_until(lambda: latest()["h1!svc4"].handled_reason == "acknowledged", 8)
        ic.remove_ack("h1!svc4")
        wait_until(lambda: latest()["h1!svc4"].handled_reason is None, 8)
        ic.downtime("h1!svc4")
        wait_until(lambda: latest()["h1!svc4"].handled_reason == "downtime", 8)
        polls = ctx.polls
        ic.remove_downtimes("h1!svc4")
        wait_until(lambda: latest()["h1!svc4"].handled_reason is None, 8)
        assert ctx.polls > polls                      # DowntimeRemoved also asks for a reconciling poll
        ic.set_state("h1!svc4", 0)
        wait_until(lambda: "h1!svc4" not in latest(), 8)
        assert not errors
    finally:
        ctx.stop.set()
        src.close()
        t.join(5)
    assert not t.is_alive() and not errors            # stops without hanging in a read or raising


def test_detector_requests_a_poll_on_each_change(ic):
    src = src_for(ic, detect_interval=0.2)
    ctx = FakeContext()
    t, errors = _run(run_detector, src, Http(), ctx)
    try:
        wait_until(lambda: ctx.connects == 1 and ctx.polls == 1, 10)   # up (connected): one poll
        time.sleep(0.6)
        assert ctx.connects == 1 and ctx.polls == 1   # then nothing changed, nothing asked
        for i, (obj, st) in enumerate([("h1!svc3", 2), ("h1!svc3", 1), ("h1!svc3", 0)]):
            before = ctx.polls
            t0 = time.monotonic()
            ic.set_state(obj, st)
            # Generous: without the detector no poll is asked for at all, so only "never" fails.
            assert wait_until(lambda: ctx.polls > before, 10), (obj, st)
            assert time.monotonic() - t0 < 10
        assert not errors
    finally:
        ctx.stop.set()
        t.join(5)
    assert not t.is_alive() and not errors


def test_detector_without_status_permission_degrades_quietly(ic, caplog):
    src = src_for(ic, username="nostatus", secret="ns-secret", detect_interval=0.2)
    ctx = FakeContext()
    t, errors = _run(run_detector, src, Http(), ctx)
    try:
        wait_until(lambda: "status/query" in caplog.text, 5)
        assert t.is_alive() and not errors
    finally:
        ctx.stop.set()
        t.join(5)
    assert not errors


def test_acknowledge_and_recheck_actions(ic):
    ic.set_state("h1!svc1", 2)
    ic.set_state("h2", 1)
    src = src_for(ic)
    http = Http()
    alerts = by_id(src.poll(http).alerts)
    msg = src.acknowledge(http, alerts["h1!svc1"], author="alice", comment="looking", duration_s=600)
    assert "acknowledged" in msg.lower()
    attrs = ic.api("GET", "objects/services/h1!svc1", params={"attrs": ["acknowledgement", "acknowledgement_expiry"]})
    assert attrs["results"][0]["attrs"]["acknowledgement"] == 2          # sticky
    assert attrs["results"][0]["attrs"]["acknowledgement_expiry"] > time.time() + 500
    assert by_id(src.poll(http).alerts)["h1!svc1"].handled_reason == "acknowledged"
    src.acknowledge(http, alerts["h2"], author="alice")
    assert by_id(src.poll(http).alerts)["h2"].handled_reason == "acknowledged"
    assert "rescheduled" in src.recheck(http, alerts["h1!svc1"]).lower()
    assert "rescheduled" in src.recheck(http, alerts["h2"]).lower()
    ic.set_state("h1!svc1", 0)
    with pytest.raises(SourceError) as exc:          # nothing to acknowledge on an OK service
        src.acknowledge(http, alerts["h1!svc1"], author="alice")
    assert "acknowledge-problem" in exc.value.reason and "\n" not in exc.value.reason
