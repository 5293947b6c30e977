"""Never a false green: every fault of the shared list makes a poll raise SourceError of the right kind;
the filter fallback (403/404 on a filtered query) and the event stream's own faults."""
from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug import Response

from .helpers import FakeContext, make_source
from support.faults import FAULTS, REASON_WORDS, FaultServer, expected_kind, wait_until
from tray.core.errors import SourceError
from tray.engine.net import Http
from tray.sources.icinga2.stream import read_events, run_stream

GOOD = {"results": [{"name": "h!s", "type": "Service", "attrs": {"name": "s", "host_name": "h", "state": 2.0,
                                                                   "state_type": 1.0, "last_check": 1.0},
                     "joins": {"host": {"name": "h", "state": 0.0}}}]}


@pytest.fixture(scope="module")
def srv():
    with FaultServer() as s:
        yield s


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_is_a_typed_source_error(srv, fault):
    srv.ok(GOOD)
    src = make_source(url=srv.base_url(fault), timeout=2.0)
    with pytest.raises(SourceError) as exc:
        src.poll(Http())
    assert exc.value.kind == expected_kind(fault), exc.value.reason
    assert REASON_WORDS[fault].lower() in exc.value.reason.lower()
    assert "test-secret" not in exc.value.reason and "\n" not in exc.value.reason
    if fault == "tls":
        assert "ca_bundle" in exc.value.reason


def test_good_answer_through_the_fault_server(srv):
    srv.ok(GOOD)
    srv.route("/v1/objects/hosts", {"results": []})
    # No host in any answer, not even when the source lists their names: allow_empty says that is expected.
    src = make_source(url=srv.base_url(), allow_empty=True)
    [a] = src.poll(Http()).alerts
    assert a.id == "h!s" and a.raises
    sent = srv.requests[-1]
    assert sent.headers.get("x-http-method-override") == "GET"
    assert "test-secret" not in sent.path                   # Basic auth header, never the URL


@pytest.mark.parametrize("refusal", [403, 404])
def test_filter_refused_falls_back_to_client_side_filter_and_remembers(httpserver, refusal):
    seen: list[dict] = []

    def handler(request):
        body = json.loads(request.data or b"{}")
        seen.append(body)
        if "filter" in body:
            return Response(json.dumps({"error": refusal, "status": "No permission"}), status=refusal,
                            content_type="application/json")
        kind = request.path.rsplit("/", 1)[-1]
        results = ([{"name": "h", "attrs": {"name": "h", "state": 0.0, "last_check": 1.0}},
                    {"name": "g", "attrs": {"name": "g", "state": 1.0, "last_check": 1.0}}] if kind == "hosts" else
                   [{"name": "h!ok", "attrs": {"name": "ok", "host_name": "h", "state": 0.0, "last_check": 1.0}},
                    {"name": "h!bad", "attrs": {"name": "bad", "host_name": "h", "state": 2.0, "last_check": 1.0}}])
        if kind in body:        # by name, as Icinga does for the plural `hosts` / `services` parameter
            results = [r for r in results if r["name"] in body[kind]]
        if body.get("attrs") == ["state"]:
            results = [{"name": r["name"], "attrs": {"state": r["attrs"]["state"]}} for r in results]
        return Response(json.dumps({"results": results}), content_type="application/json")

    httpserver.expect_request("/v1/objects/services", method="POST").respond_with_handler(handler)
    httpserver.expect_request("/v1/objects/hosts", method="POST").respond_with_handler(handler)
    src = make_source(url=httpserver.url_for("/").rstrip("/"))
    http = Http()
    assert [a.id for a in src.poll(http).alerts] == ["g", "h!bad"]
    assert src.client_filter
    n = len(seen)
    assert [a.id for a in src.poll(http).alerts] == ["g", "h!bad"]
    # No more refused tries: each kind lists states alone, then asks for its problems by name.
    assert seen[n:] == [{"attrs": ["state"]}, {**seen[n + 1], "services": ["h!bad"]},
                        {"attrs": ["state"]}, {**seen[n + 3], "hosts": ["g"]}]
    assert all("filter" not in b for b in seen[n:]) and "joins" in seen[n + 1]


def test_by_name_fallback_reads_again_when_an_object_vanishes_between_the_queries(httpserver):
    """Icinga answers 404 when a named object no longer exists (deleted by a config deploy between
    the state list and the by-name read): the source lists again rather than failing the poll."""
    listed = {"n": 0}

    def handler(request):
        body = json.loads(request.data or b"{}")
        if "filter" in body:
            return Response(json.dumps({"error": 403}), status=403, content_type="application/json")
        kind = request.path.rsplit("/", 1)[-1]
        if kind == "hosts":
            return Response(json.dumps({"results": [{"name": "h", "attrs": {"state": 0.0}}]}),
                            content_type="application/json")
        if body.get("attrs") == ["state"]:
            listed["n"] += 1
            names = ["h!gone", "h!bad"] if listed["n"] == 1 else ["h!bad"]
            return Response(json.dumps({"results": [{"name": n, "attrs": {"state": 2.0}} for n in names]}),
                            content_type="application/json")
        if "h!gone" in body["services"]:
            return Response(json.dumps({"error": 404, "status": "No objects found."}), status=404,
                            content_type="application/json")
        return Response(json.dumps({"results": [{"name": "h!bad", "attrs": {
            "name": "bad", "host_name": "h", "state": 2.0, "last_check": 1.0}}]}), content_type="application/json")

    httpserver.expect_request("/v1/objects/services", method="POST").respond_with_handler(handler)
    httpserver.expect_request("/v1/objects/hosts", method="POST").respond_with_handler(handler)
    src = make_source(url=httpserver.url_for("/").rstrip("/"))
    assert [a.id for a in src.poll(Http()).alerts] == ["h!bad"] and listed["n"] == 2


def test_refused_everywhere_is_an_auth_error_not_a_fallback(srv):
    src = make_source(url=srv.base_url("http403"))
    with pytest.raises(SourceError) as exc:
        src.poll(Http())
    # Icinga answers 401 for a wrong password and 403 for a missing permission: the reason names it.
    assert exc.value.kind == "auth" and "objects/query/Service" in exc.value.reason, exc.value.reason
    assert "HTTP 403" in exc.value.reason and "'test'" in exc.value.reason
    assert not src.client_filter


@pytest.mark.parametrize("fault,kind", [("refused", "stream"), ("tls", "tls"), ("http401", "auth"),
                                        ("http403", "auth"), ("http500", "stream")])
def test_stream_faults_raise_source_errors(srv, fault, kind):
    src = make_source(url=srv.base_url(fault), timeout=2.0)
    ctx = FakeContext()
    with pytest.raises(SourceError) as exc:
        run_stream(src, Http(), ctx)
    assert exc.value.kind == kind
    assert ctx.connects == 0                                 # never reported as up


def test_stream_closed_by_server_raises_and_skips_garbage_lines(srv):
    # A 200 answer that ends: the stream was up (connected), then dropped -> SourceError for the back-off.
    line = {"type": "StateChange", "timestamp": 5.0, "host": "h", "service": "s", "state": 2.0, "state_type": 1.0}
    srv.ok(b"not json\n" + json.dumps(line).encode() + b"\n" + b'{"type": "Weird"}\n')
    src = make_source(url=srv.base_url())
    ctx = FakeContext()
    with pytest.raises(SourceError) as exc:
        run_stream(src, Http(), ctx)
    assert exc.value.kind == "stream" and "closed" in exc.value.reason
    assert ctx.connects == 1
    assert [a.id for a in ctx.latest()] == ["h!s"]
    assert ctx.polls >= 3                                    # connect + two unreadable lines reconcile


class _Raw:
    """A response body that delivers the given chunks, then blocks like a quiet stream until closed."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.closed = threading.Event()

    def read1(self, n):
        if self.chunks:
            return self.chunks.pop(0)
        self.closed.wait(5)
        raise OSError("closed")


def test_events_split_across_reads_and_stop_ends_quietly():
    class Resp:
        raw = _Raw([b'{"type": "Sta', b'teChange", "x": 1}\n{"a"', b': 2}\n'])
    got = []
    stop = threading.Event()

    def on_event(ev):
        got.append(ev)
        if len(got) == 2:
            stop.set()
            Resp.raw.closed.set()
    read_events(Resp, on_event, stop, "h")                   # returns, does not raise, once stopping
    assert got == [{"type": "StateChange", "x": 1}, {"a": 2}]


@pytest.mark.parametrize("fault,kind", [("refused", "refused"), ("tls", "tls"), ("http401", "auth"),
                                        ("http500", "server"), ("html_login", "bad_content"),
                                        ("wrong_shape", "bad_content"), ("truncated_json", "bad_content"),
                                        ("read_timeout", "timeout"), ("oversize", "oversize")])
def test_detector_faults_raise_source_errors(srv, fault, kind):
    from tray.sources.icinga2.stream import run_detector
    srv.ok(GOOD)
    src = make_source(url=srv.base_url(fault), timeout=1.0, detect_interval=0.1)
    ctx = FakeContext()
    with pytest.raises(SourceError) as exc:
        run_detector(src, Http(), ctx)
    assert exc.value.kind == kind, exc.value.reason
    assert "test-secret" not in exc.value.reason and ctx.polls == 0


def test_detector_asks_for_a_poll_only_when_counters_move(srv):
    from tray.sources.icinga2.stream import run_detector
    cib = lambda crit, uptime: {"results": [{"name": "CIB", "status": {   # noqa: E731
        "num_services_critical": crit, "num_hosts_down": 0.0, "uptime": uptime}}]}
    srv.ok(cib(1.0, 1.0))
    src = make_source(url=srv.base_url(), detect_interval=0.1)
    ctx = FakeContext()
    t = threading.Thread(target=lambda: run_detector(src, Http(), ctx), daemon=True)
    t.start()
    try:
        wait_until(lambda: ctx.connects == 1 and ctx.polls == 1, 10)   # up: connected() once
        srv.ok(cib(1.0, 9.0))                                # uptime moves on its own: not a change
        time.sleep(0.5)
        assert ctx.connects == 1 and ctx.polls == 1         # nothing moved since
        srv.ok(cib(2.0, 10.0))
        wait_until(lambda: ctx.polls >= 2, 3)
    finally:
        ctx.stop.set()
        t.join(3)
    assert not t.is_alive()


class _QuietStreamServer:
    """Answers every /v1/events with headers and one event, then says nothing (as 2.13 does when idle)."""

    def __init__(self) -> None:
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.done = threading.Event()
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.conns.append(conn)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            ev = {"type": "StateChange", "timestamp": 1.0 * self.connections, "host": "h", "service": "s",
                  "state": 2.0, "state_type": 1.0}
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + json.dumps(ev).encode() + b"\n")

    def close(self) -> None:
        self.done.set()
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_quiet_stream_is_reopened_without_an_error(monkeypatch):
    from tray.sources.icinga2 import stream as icinga2_stream
    monkeypatch.setattr(icinga2_stream, "STREAM_IDLE_S", 0.5)
    srv = _QuietStreamServer()
    src = make_source(url=srv.url)
    ctx = FakeContext()
    errors = []

    def run():
        try:
            run_stream(src, Http(), ctx)
        except BaseException as exc:
            errors.append(exc)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        wait_until(lambda: srv.connections >= 3, 10)
        assert not errors and t.is_alive()                  # silence is not a fault: no error to show
        assert ctx.connects == 1 and ctx.polls == 1          # the detector covers the gap: no extra polls
        assert [a.id for a in ctx.latest()] == ["h!s"]
    finally:
        ctx.stop.set()
        src.close()
        t.join(5)
        srv.close()
    assert not t.is_alive() and not errors


def test_a_quiet_stream_without_detector_asks_for_a_poll_on_reopen(monkeypatch):
    from tray.sources.icinga2 import stream as icinga2_stream
    monkeypatch.setattr(icinga2_stream, "STREAM_IDLE_S", 0.5)
    srv = _QuietStreamServer()
    src = make_source(url=srv.url, detect_interval=0)
    ctx = FakeContext()
    t = threading.Thread(target=lambda: run_stream(src, Http(), ctx), daemon=True)
    t.start()
    try:
        wait_until(lambda: srv.connections >= 2 and ctx.polls >= 2, 10)
        assert ctx.connects == 1
    finally:
        ctx.stop.set()
        src.close()
        t.join(5)
        srv.close()
    assert not t.is_alive()
