"""The loopback endpoint: schema, ETag/304, SSE, Host rejection, CORS, methods, slow clients."""
import http.client
import json
import socket
import threading
import time

import jsonschema
import pytest

from support.faults import wait_until
from tray.core.document import schema
from tray.core.model import Alert, Reading, Severity
from tray.outputs.http.server import Endpoint, PortInUse
from tray.sources.base import SourceConfig
from tray.engine.store import Store


@pytest.fixture
def ep():
    store = Store()
    store.configure([SourceConfig(name="a", type="demo", group="production"),
                     SourceConfig(name="b", type="demo", group="staging")])
    e = Endpoint(store, 0, allowed_origins=("chrome-extension://abcdefghijklmnopabcdefghijklmnop",),
                 links=lambda: [{"title": "Manual", "url": "https://example.com/m", "group": None}])
    e.start()
    yield e
    e.stop()
    store.close()


def req(ep, method="GET", path="/status.json", headers=None, host=None):
    c = http.client.HTTPConnection("127.0.0.1", ep.port, timeout=5)
    h = {"Host": host or f"127.0.0.1:{ep.port}"}
    h.update(headers or {})
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def crit(source="a"):
    return Reading(alerts=(Alert(source=source, id="web!http", title="web: http", severity=Severity.CRITICAL,
                                 url="https://mon.example.com/x"),))


def test_document_validates_against_schema(ep):
    validator = jsonschema.Draft202012Validator(schema())
    r, body = req(ep)
    assert r.status == 200 and r.getheader("Content-Type") == "application/json"
    validator.validate(json.loads(body))
    ep.store.record_reading("a", crit())
    ep.store.record_error("b", "connection refused by x")
    r, body = req(ep)
    doc = json.loads(body)
    validator.validate(doc)
    assert doc["health"] == "critical" and doc["counts"]["critical"] == 1 and doc["counts"]["unknown"] == 1
    assert doc["sources"][0]["alerts"][0]["url"] == "https://mon.example.com/x"
    assert doc["sources"][1]["error"] == "connection refused by x"
    assert doc["links"][0]["title"] == "Manual"


def test_etag_and_304(ep):
    r, _ = req(ep)
    etag = r.getheader("ETag")
    assert etag
    r2, body2 = req(ep, headers={"If-None-Match": etag})
    assert r2.status == 304 and body2 == b""
    ep.store.record_reading("a", crit())
    time.sleep(1.1)   # generated_at has second resolution; content changed anyway
    r3, _ = req(ep, headers={"If-None-Match": etag})
    assert r3.status == 200 and r3.getheader("ETag") != etag


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:{port}", "127.0.0.1:1", "localhost", ""])
def test_foreign_host_is_refused(ep, host):
    r, body = req(ep, host=host.format(port=ep.port) or " ")
    assert r.status == 403


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_loopback_hosts_accepted(ep, host):
    r, _ = req(ep, host=host.format(port=ep.port))
    assert r.status == 200


def test_no_cors_by_default_and_only_for_configured_origin(ep):
    r, _ = req(ep, headers={"Origin": "https://evil.example.com"})
    assert r.getheader("Access-Control-Allow-Origin") is None
    origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
    r, _ = req(ep, headers={"Origin": origin})
    assert r.getheader("Access-Control-Allow-Origin") == origin


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_405(ep, method):
    r, _ = req(ep, method=method)
    assert r.status == 405 and "GET" in r.getheader("Allow")


def test_head_healthz_dashboard_404(ep):
    r, body = req(ep, "HEAD")
    assert r.status == 200 and body == b""
    r, body = req(ep, path="/healthz")
    assert r.status == 200 and body.strip() == b"ok"
    r, body = req(ep, path="/")
    assert r.status == 200 and b"<title>secondline</title>" in body and b"--critical: #ff3200" in body
    assert b"http://" not in body.replace(b"http://127.0.0.1", b"")  # no external assets
    r, _ = req(ep, path="/nope")
    assert r.status == 404


def _sse_events(ep, out, stop):
    s = socket.create_connection(("127.0.0.1", ep.port), timeout=20)
    s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{ep.port}\r\n\r\n".encode())
    buf = b""
    while not stop.is_set():
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            out.append(block.decode())
    s.close()


def test_sse_delivers_a_change(ep):
    out, stop = [], threading.Event()
    t = threading.Thread(target=_sse_events, args=(ep, out, stop), daemon=True)
    t.start()
    wait_until(lambda: any(b.startswith("HTTP/1.1 200") or "event: status" in b for b in out))
    wait_until(lambda: any("event: status" in b for b in out))
    ep.store.record_reading("a", crit())
    def got_critical():
        for b in out:
            if "event: status" in b:
                data = json.loads(b.split("data: ", 1)[1])
                if data["health"] == "critical":
                    jsonschema.validate(data, schema())
                    return True
        return False
    wait_until(got_critical, timeout=5)
    assert ep.sse_clients == 1
    stop.set()


def test_sse_survives_vanishing_clients(ep):
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", ep.port))
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{ep.port}\r\n\r\n".encode())
        s.recv(100)
        s.close()
    ep.store.record_reading("a", crit())
    ep.store.record_reading("a", Reading())
    r, _ = req(ep)
    assert r.status == 200
    wait_until(lambda: ep.sse_clients == 0, timeout=15)


def test_slow_clients_do_not_block_others(ep):
    idle = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", ep.port))
        s.sendall(b"GET /status.json HTTP/1.1\r\nHo")   # and never finish the request
        idle.append(s)
    t0 = time.monotonic()
    r, _ = req(ep)
    assert r.status == 200
    assert time.monotonic() - t0 < 5    # blocked would be "until the 10 s request timeout"
    for s in idle:
        s.close()


def test_huge_headers_refused(ep):
    s = socket.create_connection(("127.0.0.1", ep.port), timeout=5)
    s.sendall(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Big: %s\r\n\r\n" % (ep.port, b"a" * 70000))
    data = s.recv(200)
    s.close()
    assert data.startswith(b"HTTP/1.1 431") or data.startswith(b"HTTP/1.1 400") or data.startswith(b"HTTP/1.0 431")


def test_port_in_use():
    store = Store()
    e1 = Endpoint(store, 0)
    e1.start()
    try:
        with pytest.raises(PortInUse) as err:
            Endpoint(store, e1.port).start()
        assert str(e1.port) in str(err.value) and "--port" in str(err.value)
    finally:
        e1.stop()


def test_binds_loopback_only(ep):
    assert ep._server.server_address[0] == "127.0.0.1"


# -- framing, page secrets, connection cap and request deadline (issue 18) -------------------------

def _frame_headers_ok(headers) -> bool:
    return (headers.getheader("X-Frame-Options") == "DENY"
            and "frame-ancestors 'none'" in (headers.getheader("Content-Security-Policy") or ""))


@pytest.mark.parametrize("method,path,extra", [
    ("GET", "/", {}), ("GET", "/index.html", {}), ("GET", "/status.json", {}), ("HEAD", "/status.json", {}),
    ("GET", "/healthz", {}), ("GET", "/palette.json", {}), ("GET", "/nope", {}), ("PUT", "/", {}),
    ("GET", "/status.json", {"Host": "evil.example"}),
])
def test_no_answer_may_be_framed(ep, method, path, extra):
    host = extra.get("Host")
    r, _ = req(ep, method, path, host=host)
    assert _frame_headers_ok(r), (path, r.getheaders())
    assert r.getheader("X-Content-Type-Options") == "nosniff"


def test_304_and_events_forbid_framing_too(ep):
    r, _ = req(ep)
    r2, _ = req(ep, headers={"If-None-Match": r.getheader("ETag")})
    assert r2.status == 304 and _frame_headers_ok(r2)
    s = socket.create_connection(("127.0.0.1", ep.port), timeout=5)
    s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{ep.port}\r\n\r\n".encode())
    head = s.recv(4096).split(b"\r\n\r\n")[0].decode()
    s.close()
    assert "X-Frame-Options: DENY" in head and "frame-ancestors 'none'" in head


def test_each_dashboard_page_gets_its_own_secret(ep):
    import re
    secrets_seen = []
    for _ in range(3):
        r, body = req(ep, path="/")
        m = re.search(rb'<meta name="secondline-page" content="([^"]+)">', body)
        assert m, body[:300]
        secrets_seen.append(m.group(1).decode())
        assert "frame-ancestors 'none'" in r.getheader("Content-Security-Policy")
    assert len(set(secrets_seen)) == 3 and all(ep.pages.check(s) for s in secrets_seen)
    assert b"__SECONDLINE_PAGE_SECRET__" not in body


def test_a_header_that_decides_who_may_act_is_refused_twice(ep):
    s = socket.create_connection(("127.0.0.1", ep.port), timeout=5)
    s.sendall(f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:{ep.port}\r\nOrigin: a\r\nOrigin: b\r\n\r\n".encode())
    assert s.recv(100).startswith(b"HTTP/1.1 400")
    s.close()


@pytest.fixture
def small_ep():
    store = Store()
    store.configure([SourceConfig(name="a", type="demo", group="production")])
    e = Endpoint(store, 0, max_connections=8, request_deadline=1.0)
    e.start()
    yield e
    e.stop()
    store.close()


def _closed_by_server(s: socket.socket, timeout: float = 10) -> bool:
    s.settimeout(timeout)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_a_trickling_request_is_cut_at_the_deadline(small_ep):
    """A byte every 0.3 s arrives well within every socket timeout; the request as a whole must still
    arrive within the deadline (1 s here, REQUEST_DEADLINE in the app)."""
    s = socket.create_connection(("127.0.0.1", small_ep.port), timeout=5)
    line = f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:{small_ep.port}\r\nX-Slow: {'a' * 100}\r\n\r\n".encode()
    sent, cut = 0, False
    for byte in line:
        try:
            s.sendall(bytes([byte]))
        except OSError:
            cut = True
            break
        sent += 1
        r, _, _ = __import__("select").select([s], [], [], 0.3)
        if r:
            cut = s.recv(100) == b""
            break
    s.close()
    assert cut and sent < len(line), f"the server read {sent} of {len(line)} bytes and never hung up"
    assert small_ep.conns.expired >= 1
    r, _ = req(small_ep)                         # the others are served as ever
    assert r.status == 200


def test_connections_are_capped_and_the_longest_waiting_makes_room(small_ep):
    idle = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", small_ep.port))
        s.sendall(b"GET /status.json HTTP/1.1\r\nHo")
        idle.append(s)
    wait_until(lambda: len(small_ep.conns) == 8)
    r, _ = req(small_ep)                            # a ninth: the first idle one is hung up to make room
    assert r.status == 200
    assert _closed_by_server(idle[0])
    assert small_ep.conns.evicted >= 1 and len(small_ep.conns) <= 8
    for s in idle:
        s.close()


def test_when_every_slot_is_busy_a_new_connection_gets_503(small_ep):
    streams = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", small_ep.port), timeout=5)
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{small_ep.port}\r\n\r\n".encode())
        s.recv(65536)
        streams.append(s)
    wait_until(lambda: small_ep.sse_clients == 8)
    s = socket.create_connection(("127.0.0.1", small_ep.port), timeout=5)
    assert s.recv(100).startswith(b"HTTP/1.1 503")
    s.close()
    assert small_ep.conns.refused == 1
    streams.pop().close()
    # A stream finds its client gone at its next write: publish until it does.
    wait_until(lambda: small_ep.store.touch() or len(small_ep.conns) < 8, timeout=15)
    r, _ = req(small_ep)
    assert r.status == 200
    for s in streams:
        s.close()
