"""The local endpoint of a real `secondline run --headless` process, attacked from outside:
bind address, DNS rebinding, a page on another origin in real headless Chromium, oversized
requests, 200 slow clients, SSE clients that vanish."""
from __future__ import annotations

import json
import socket
import struct
import time
from pathlib import Path

import pytest

from support.headless_app import run_cli, start_app
from support.procs import free_port, serve_page
from support.sourcespecs import serve_good, toml_for
from support.faults import FaultServer, wait_until
from tray.config import loader as config_mod
from tray.core.errors import ConfigError

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def upstream():
    with FaultServer() as srv:
        serve_good(srv, "statuspage")
        serve_good(srv, "zendesk")
        yield srv


@pytest.fixture(scope="module")
def app(tmp_path_factory, upstream):
    home = tmp_path_factory.mktemp("endpoint-home")
    text = (toml_for("statuspage", upstream.url, "vendor", interval=1)
            + toml_for("zendesk", upstream.url, "helpdesk", interval=1))
    a = start_app(home, text, {"SECONDLINE_SECRET_HELPDESK": "zendesk-token-ep-1"})
    wait_until(lambda: all(s["checked_at"] for s in a.status()["sources"]), timeout=15)
    yield a
    assert a.stop() == 0
    assert "Traceback" not in a.output()


# -- bind ---------------------------------------------------------------------------------------

def _listeners(port: int) -> list[str]:
    """Local addresses listening on `port`, from /proc/net/tcp{,6} (state 0A = LISTEN)."""
    out = []
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            parts = line.split()
            addr, p = parts[1].split(":")
            if int(p, 16) == port and parts[3] == "0A":
                if name == "tcp":
                    out.append(socket.inet_ntoa(struct.pack("<I", int(addr, 16))))
                else:
                    out.append("v6:" + addr)
    return out


def test_binds_loopback_only(app):
    assert _listeners(app.port) == ["127.0.0.1"]
    # Another loopback address (and so any other interface) is not served.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", app.port), timeout=2).close()


@pytest.mark.parametrize("key", ["bind", "host", "address", "listen"])
def test_config_cannot_change_the_bind_address(key, tmp_path):
    with pytest.raises(ConfigError) as err:
        config_mod.loads(f'[server]\n{key} = "0.0.0.0"\n', "cfg.toml")
    assert f"server.{key}" in str(err.value) and "unknown key" in str(err.value)
    # ... and the real CLI refuses to start with it, listening nowhere.
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[server]\n{key} = "0.0.0.0"\n')
    port = free_port()
    r = run_cli(tmp_path, "run", "--headless", "--config", str(cfg), "--port", str(port), timeout=30)
    assert r.returncode == 2 and f"server.{key}" in r.stderr, r.stderr
    assert _listeners(port) == []


def test_no_command_line_option_changes_the_bind_address(tmp_path):
    r = run_cli(tmp_path, "run", "--headless", "--bind", "0.0.0.0", timeout=30)
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr


# -- Host header (DNS rebinding) ----------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}",
                                  "localhost.evil.example:{port}", "0.0.0.0:{port}", "127.0.0.2:{port}",
                                  "[::ffff:127.0.0.1]:{port}", "127.0.0.1:{other}"])
@pytest.mark.parametrize("path", ["/status.json", "/events", "/"])
def test_foreign_host_is_refused(app, host, path):
    status, headers, body = app.get(path, headers={"Host": host.format(port=app.port, other=app.port + 1)})
    assert status == 403
    assert b"sources" not in body and "Access-Control-Allow-Origin" not in headers


def test_loopback_hosts_are_served(app):
    for host in (f"127.0.0.1:{app.port}", f"localhost:{app.port}"):
        status, _, body = app.get(headers={"Host": host})
        assert status == 200 and json.loads(body)["schema"] == 2


# -- a page on another origin, in real Chromium -------------------------------------------------

ATTACK_PAGE = """<!doctype html><html><body><script>
const T = "http://127.0.0.1:%(port)d";
window.results = {};
async function attempt(name, fn) {
  try { window.results[name] = await fn(); } catch (e) { window.results[name] = "blocked: " + e.name; }
}
(async () => {
  await attempt("cors_get", async () => { const r = await fetch(T + "/status.json"); return "read: " + (await r.text()).slice(0, 40); });
  await attempt("nocors_get", async () => { const r = await fetch(T + "/status.json", {mode: "no-cors"});
                                            return "type=" + r.type + " len=" + (await r.text()).length; });
  await attempt("cors_post", async () => { const r = await fetch(T + "/actions/acknowledge", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: '{"source":"helpdesk","id":"4711"}'});
      return "read: " + r.status; });
  await attempt("nocors_post", async () => { const r = await fetch(T + "/actions/acknowledge", {method: "POST",
      mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"source":"helpdesk","id":"4711"}'});
      return "type=" + r.type + " status=" + r.status; });
  await attempt("xhr", () => new Promise((ok) => { const x = new XMLHttpRequest(); x.open("GET", T + "/status.json");
      x.onload = () => ok("read: " + x.responseText.slice(0, 40)); x.onerror = () => ok("blocked: xhr error"); x.send(); }));
  await attempt("eventsource", () => new Promise((ok) => { const es = new EventSource(T + "/events");
      es.addEventListener("status", (e) => { es.close(); ok("read: " + e.data.slice(0, 40)); });
      es.onerror = () => { es.close(); ok("blocked: eventsource error"); }; }));
  window.done = true;
})();
</script>
<form id="f" method="POST" action="http://127.0.0.1:%(port)d/actions/snooze" target="sink" enctype="text/plain">
<input name='{"minutes":60,"x":"' value='"}'></form><iframe name="sink" id="sink"></iframe>
</body></html>"""


@pytest.fixture(scope="module")
def attacker_site(app):
    page = (ATTACK_PAGE % {"port": app.port}).encode()

    with serve_page(page) as url:
        yield url


def test_other_origin_page_in_chromium_cannot_read_or_act(app, attacker_site, playwright_instance):
    before = app.status()
    p = playwright_instance
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                args=BROWSER_ARGS + ["--host-resolver-rules=MAP rebind.test 127.0.0.1"])
    try:
        page = browser.new_page()
        seen: list[tuple[str, str, int, dict]] = []
        page.on("response", lambda r: seen.append((r.request.method, r.url, r.status, r.headers)))
        page.goto(attacker_site)
        page.wait_for_function("window.done === true", timeout=20000)
        results = page.evaluate("window.results")
        with page.expect_response(lambda r: "/actions/snooze" in r.url, timeout=10000):
            page.evaluate("document.getElementById('f').submit()")
        page.wait_for_timeout(300)   # let the listener see every response (events pump in API calls)
        # DNS rebinding: a name the attacker controls now resolves to 127.0.0.1.
        rebound = page.goto(f"http://rebind.test:{app.port}/status.json")
        rebound_status, rebound_text = rebound.status, page.content()
    finally:
        browser.close()
    # The page reads nothing: CORS blocks the readable modes, no-cors gives an opaque empty answer.
    assert results["cors_get"].startswith("blocked"), results
    assert results["nocors_get"] == "type=opaque len=0", results
    assert results["cors_post"].startswith("blocked"), results
    assert results["xhr"].startswith("blocked") and results["eventsource"].startswith("blocked"), results
    assert results["nocors_post"] == "type=opaque status=0", results
    # What reached the endpoint was refused there: GETs without a CORS grant, POSTs 405 (no action
    # is possible on this endpoint) or 403.
    to_app = [(m, u, s, h) for m, u, s, h in seen if f":{app.port}/" in u and "rebind.test" not in u]
    assert to_app, seen
    for method, url, status, headers in to_app:
        assert "access-control-allow-origin" not in headers, (url, headers)
        if method == "POST":
            assert status in (403, 405), (url, status)
    assert any(m == "POST" and "/actions/snooze" in u for m, u, _, _ in to_app)
    assert rebound_status == 403 and "sources" not in rebound_text
    after = app.status()
    assert after["notifications"] == before["notifications"]     # nothing snoozed


# -- oversized requests -------------------------------------------------------------------------

def _raw(app, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", app.port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and len(out) > 12:
                    break
        except (ConnectionResetError, socket.timeout):
            pass
    return out


def _status_of(raw: bytes) -> int | None:
    if not raw.startswith(b"HTTP/"):
        return None
    return int(raw.split(b" ", 2)[1])


def test_oversized_header_line_refused(app):
    host = f"Host: 127.0.0.1:{app.port}\r\n".encode()
    raw = _raw(app, b"GET /status.json HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert _status_of(raw) in (400, 431), raw[:200]
    assert b'"sources"' not in raw


def test_too_many_headers_refused(app):
    host = f"Host: 127.0.0.1:{app.port}\r\n".encode()
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(300))
    raw = _raw(app, b"GET /status.json HTTP/1.1\r\n" + host + many + b"\r\n")
    assert _status_of(raw) in (400, 431), raw[:200]


def test_oversized_request_line_refused(app):
    raw = _raw(app, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    assert _status_of(raw) == 414, raw[:200]


def test_oversized_body_refused_without_reading_it(app):
    """A POST announcing 100 MB is answered at once (nothing waits for the body)."""
    head = (f"POST /actions/acknowledge HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n").encode()
    t0 = time.monotonic()
    raw = _raw(app, head + b"{" * 1000)
    assert _status_of(raw) in (403, 405, 413), raw[:200]
    assert time.monotonic() - t0 < 5
    assert app.get()[0] == 200


# -- slow clients and vanishing SSE clients -----------------------------------------------------

def test_200_slow_clients_do_not_stop_a_normal_client(app):
    slow = []
    try:
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
            s.sendall(f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\nX-Half: ".encode())
            slow.append(s)
        t0 = time.monotonic()
        for _ in range(5):
            status, _, body = app.get(timeout=5)
            assert status == 200 and json.loads(body)["schema"] == 2
        # Well under the 10 s a slow client is given to finish its request.
        assert time.monotonic() - t0 < 5
    finally:
        for s in slow:
            s.close()
    # The server lets go of them: threads come back down.
    wait_until(lambda: app.threads() < 60, timeout=20)


def test_sse_survives_clients_that_vanish(app, upstream):
    base_threads = app.threads()
    for i in range(30):
        s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n\r\n".encode())
        got = b""
        while b"event: status" not in got:
            got += s.recv(65536)
        if i % 2:   # half vanish with a reset, half with a plain close
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    # A change to broadcast: the vendor's status page now reports a problem.
    from support.sourcespecs import _statuspage
    doc = _statuspage()
    doc["status"] = {"indicator": "major", "description": "Partial System Outage"}
    doc["components"] = [{"id": "c1", "name": "API", "status": "major_outage", "updated_at": "2026-03-01T12:00:00Z",
                          "group": False, "only_show_if_degraded": False}]
    # A new client still gets the document and then the change.
    s = socket.create_connection(("127.0.0.1", app.port), timeout=15)
    try:
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n\r\n".encode())
        got = b""
        while got.count(b"event: status") < 1:
            got += s.recv(65536)
        upstream.route("/api/v2/summary.json", doc)
        end = time.monotonic() + 15
        while got.count(b"event: status") < 2 and time.monotonic() < end:
            got += s.recv(65536)
        assert got.count(b"event: status") >= 2, got[-300:]
        assert b"major_outage" in got or b"Partial System Outage" in got or b"API" in got
    finally:
        s.close()
        upstream.route("/api/v2/summary.json", _statuspage())
    assert app.get()[0] == 200
    # The vanished clients' threads end (a write to a dead socket fails at the next event or ping).
    wait_until(lambda: app.threads() <= base_threads + 2, timeout=25)
