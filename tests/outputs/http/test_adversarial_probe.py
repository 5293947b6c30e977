"""Issue 18's adversarial probe, replayed against a real `secondline run --headless` process: each attack
as the probe ran it (a local process or another user, loopback only), with the result that must hold now.

1. an impostor bound to the tray's port (tray down): the real CLI says it is not secondline and sends it
   nothing; a signed request it captures is refused by the tray after the tray starts;
2. the dashboard framed by a page on another loopback port in real Chromium: not rendered, marks nothing
   seen; opened as a page of its own it still does (its per-page secret);
3. `/actions/seen` with a forged `Sec-Fetch-Site: same-origin` and no page secret: refused;
4. pairing: a foreign extension origin refused; flooding one origin leaves another able to pair; the pop-up
   names the origin, not the name the caller chose;
5. a content type that merely contains application/json: refused;
6. an upstream hub's error text echoing a bearer token: redacted in /status.json and the dashboard;
7. the log file 0600 in a 0700 directory;
8. 300 slow clients: the thread count stays capped and a normal client is answered; a request trickled
   a byte at a time is cut at the deadline.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import threading
import time

import pytest

from support.headless_app import run_cli, start_app
from support.faults import FaultServer, wait_until
from support.procs import free_port, serve_page
from tray.outputs.http import signing

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
MASTER = "master-of-the-attacked-install-0123456789"
HUB_TOKEN = "hub-proxy-token-5c1e9a77f0"
EXT = "chrome-extension://kkpkhhhgpljijmnplonjmooccgfjojbh"


def upstream_document() -> dict:
    """A hub's status document whose source error echoes the hub reader's bearer token back."""
    return {"schema": 1, "generated_at": "2026-03-01T12:00:00Z", "health": "critical", "handled_only": False,
            "counts": {"critical": 1, "warning": 0, "unknown": 1, "handled": 0, "pending": 0},
            "groups": [], "notifications": {"snoozed_until": None},
            "sources": [
                {"name": "icinga-prod", "type": "icinga2", "group": "production", "health": "critical",
                 "checked_at": "2026-03-01T12:00:00Z", "error": None, "stale": False, "on_call": None,
                 "alerts": [{"id": "web01!http", "source": "icinga-prod", "title": "web01: http", "detail": "down",
                             "severity": "critical", "since": "2026-03-01T11:00:00Z", "url": None,
                             "handled": False, "handled_reason": None, "pending": False}]},
                {"name": "proxy-checked", "type": "http", "group": "production", "health": "unknown",
                 "checked_at": "2026-03-01T12:00:00Z", "stale": False, "on_call": None, "alerts": [],
                 "error": f"HTTP 401 from the proxy: it said 'Bearer {HUB_TOKEN} is not valid here'"}]}


@pytest.fixture(scope="module")
def upstream():
    with FaultServer() as srv:
        srv.route("/status.json", upstream_document())
        yield srv


@pytest.fixture(scope="module")
def app(tmp_path_factory, upstream):
    home = tmp_path_factory.mktemp("attacked-home")
    text = f'[[sources]]\nname = "teamhub"\ntype = "secondline"\nurl = "{upstream.url}"\ninterval = 1\n'
    a = start_app(home, text, {"SECONDLINE_SECRET_TEAMHUB": HUB_TOKEN, "SECONDLINE_SECRET___ENDPOINT__": MASTER})
    wait_until(lambda: any(al.get("new") for s in a.status()["sources"] for al in s["alerts"]), timeout=20)
    yield a
    assert a.stop() == 0
    assert "Traceback" not in a.output()


def post(port: int, path: str, body: bytes = b"{}", headers: dict | None = None) -> tuple[int, dict]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", path, body=body, headers={"Host": f"127.0.0.1:{port}", "Content-Type": "application/json",
                                                    **(headers or {})})
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        c.close()


def new_marks(app) -> int:
    return sum(1 for s in app.status()["sources"] for a in s["alerts"] if a.get("new"))


# -- 1. an impostor on the port ------------------------------------------------------------------

class Impostor:
    def __init__(self, port: int):
        self.received = b""
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            got = b""
            try:
                while b"\r\n\r\n" not in got:
                    data = conn.recv(65536)
                    if not data:
                        break
                    got += data
                if got:
                    head, _, rest = got.partition(b"\r\n\r\n")
                    length = int(next((ln.split(b":")[1] for ln in head.split(b"\r\n")
                                       if ln.lower().startswith(b"content-length:")), b"0"))
                    while len(rest) < length:
                        rest += conn.recv(65536)
                    got = head + b"\r\n\r\n" + rest
                    # What the probe's impostor answered: success, believing nothing of what it got.
                    body = b'{"ok": true, "client": null, "snoozed_until": "2099-01-01T00:00:00Z"}'
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)
            except OSError:
                pass
            self.received += got
            conn.close()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # wakes the accept() (a plain close leaves the port bound)
        except OSError:
            pass
        self.sock.close()


def test_the_cli_sends_an_impostor_on_the_port_nothing(tmp_path):
    port = free_port()
    impostor = Impostor(port)
    try:
        env = {"SECONDLINE_SECRET___ENDPOINT__": MASTER}
        for args in (("snooze", "1h"), ("pair", "123456"), ("pair", "--list"), ("pair", "--revoke", "x")):
            r = run_cli(tmp_path, *args, "--port", str(port), env_extra=env, timeout=30)
            assert r.returncode == 1, r
            assert f"something listens on 127.0.0.1:{port}, but it is not secondline" in r.stderr, r.stderr
            assert "approved" not in r.stdout and "snoozed until" not in r.stdout
        status = run_cli(tmp_path, "status", "--port", str(port), env_extra=env, timeout=30)
        assert status.returncode == 3 and "not secondline" in status.stdout
        time.sleep(0.3)
        assert impostor.received == b""
    finally:
        impostor.close()


def test_a_request_an_impostor_captured_is_refused_after_the_tray_starts(tmp_path):
    """A paired client (signing as the extension does) talks to an impostor while the tray is down; the
    impostor gets a signature, never the key, and replaying it to the tray once the tray is back fails."""
    env = {"SECONDLINE_SECRET___ENDPOINT__": MASTER}
    home = tmp_path / "home"
    port = free_port()
    text = '[[sources]]\nname = "demo-production"\ntype = "demo"\n'
    first = start_app(home, text, env, port=port)
    try:
        code, req = post(port, "/pair", headers={"Origin": EXT})
        approve = run_cli(home, "pair", req["code"], "--port", str(port), env_extra=env, timeout=30)
        assert approve.returncode == 0, approve.stderr
        code, creds = post(port, "/pair/status", json.dumps({"id": req["id"]}).encode(), {"Origin": EXT})
        client, key = creds["client"], creds["key"]
    finally:
        assert first.stop() == 0
    impostor = Impostor(port)
    body = b'{"preset":"1h"}'
    try:
        post(port, "/actions/snooze", body, {"Origin": EXT, "Authorization":
                                             signing.sign_request(key, "POST", "/actions/snooze", client, body)})
    finally:
        impostor.close()
    captured = impostor.received
    assert key.encode() not in captured and MASTER.encode() not in captured
    second = start_app(home, text, env, port=port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(captured)
            r = http.client.HTTPResponse(s)
            r.begin()
            status, answer = r.status, r.read()
        assert status == 401, answer
        assert b"signed before the tray started" in answer
        assert second.status()["notifications"]["snoozed_until"] is None
        # The same client, signing afresh, is still paired (clients.json survives the restart).
        code, data = post(port, "/actions/snooze", body, {"Origin": EXT, "Authorization": signing.sign_request(
            key, "POST", "/actions/snooze", client, body)})
        assert code == 200 and data["snoozed_until"], data
    finally:
        assert second.stop() == 0


# -- 2, 3. the dashboard: framing, and "seen" ---------------------------------------------------------

@pytest.fixture(scope="module")
def framing_site(app):
    page = (f'<!doctype html><title>innocent</title><p>a game</p>'
            f'<iframe id="f" src="http://127.0.0.1:{app.port}/" style="opacity:0.01" width="800" height="600">'
            f'</iframe>').encode()

    with serve_page(page) as url:
        yield url


def test_the_dashboard_cannot_be_framed_and_seen_needs_the_page(app, framing_site, playwright_instance):
    assert new_marks(app) >= 1
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
    try:
        page = browser.new_page()
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(framing_site)
        page.wait_for_timeout(5000)      # the dashboard posts "seen" 3 s after it renders new alerts
        frame = next(f for f in page.frames if f != page.main_frame)
        framed_text = frame.evaluate("document.body ? document.body.innerText : ''") if frame.url.startswith(
            "http://127.0.0.1") else ""
        assert "web01: http" not in framed_text, "the dashboard rendered inside another site's frame"
        assert not posts, posts
        assert new_marks(app) >= 1, "a framed dashboard marked the alerts seen"
        # The dashboard as a page of its own clears the marks, with its page secret.
        own = browser.new_page()
        own.goto(f"http://127.0.0.1:{app.port}/")
        wait_until(lambda: new_marks(app) == 0, timeout=15)
    finally:
        browser.close()


def test_seen_with_a_forged_sec_fetch_site_is_refused(app):
    """The probe's curl: any process can send the header the dashboard's requests carry."""
    wait_until(lambda: app.status() is not None)
    for headers in ({"Sec-Fetch-Site": "same-origin"},
                    {"Sec-Fetch-Site": "same-origin", "Origin": f"http://127.0.0.1:{app.port}"},
                    {"Sec-Fetch-Site": "same-origin", "X-Secondline-Page": "made.up"}):
        code, data = post(app.port, "/actions/seen", headers=headers)
        assert code in (401, 403) and data["ok"] is False, (headers, code, data)


# -- 4, 5. pairing and content types ---------------------------------------------------------------

def test_pairing_admits_the_published_extensions_only_and_names_the_origin(app):
    for origin in ("chrome-extension://evil.com", "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
                   "https://evil.example", "null"):
        code, data = post(app.port, "/pair", json.dumps({"client": "secondline official"}).encode(),
                          {"Origin": origin})
        assert code == 403 and "may not pair" in data["error"], (origin, data)
    flood = {"Origin": "moz-extension://6a1f3c2e-0d4b-4e8a-9b1c-3d5e7f9a1b2c"}
    for _ in range(20):
        assert post(app.port, "/pair", b"{}", flood)[0] == 200
    code, data = post(app.port, "/pair", json.dumps({"client": "secondline official"}).encode(), {"Origin": EXT})
    assert code == 200, data
    listed = run_cli(app.home, "pair", "--list", "--port", str(app.port), timeout=30)
    assert f"code {data['code']} from the secondline extension in Chrome/Chromium ({EXT})" in listed.stdout
    assert listed.stdout.count("moz-extension://6a1f3c2e") == 3            # that origin's newest three
    wait_until(lambda: f"Pairing request: code {data['code']}" in app.output(), timeout=10)
    line = next(ln for ln in app.output().splitlines() if f"Pairing request: code {data['code']}" in ln)
    assert EXT in line and "official" not in line


@pytest.mark.parametrize("ctype", ["text/plain; a=application/json", "text/plain;application/json",
                                   "application/json-seq", "multipart/form-data; boundary=application/json"])
def test_a_content_type_that_only_contains_json_is_refused(app, ctype):
    code, data = post(app.port, "/pair", b"{}", {"Origin": EXT, "Content-Type": ctype})
    assert code == 415, (ctype, code, data)


# -- 6, 7. what the endpoint and the log show --------------------------------------------------------

def test_upstream_text_is_redacted_in_the_status_and_the_dashboard(app):
    wait_until(lambda: any(a["id"] == "secondline:unreadable" for s in app.status()["sources"] for a in s["alerts"]),
               timeout=15)
    status_body = app.get()[2].decode()
    assert HUB_TOKEN not in status_body and "Bearer ***" in status_body
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as s:
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n\r\n".encode())
        got = b""
        while b"event: status" not in got or not got.endswith(b"\n\n"):
            got += s.recv(65536)
    assert HUB_TOKEN.encode() not in got


def test_the_log_file_and_its_directory_are_private(app):
    logs = app.log_files()
    assert logs, "no log file"
    for f in logs:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, (f, oct(f.stat().st_mode))
        assert stat.S_IMODE(f.parent.stat().st_mode) == 0o700, (f.parent, oct(f.parent.stat().st_mode))
        assert HUB_TOKEN not in f.read_text() and MASTER not in f.read_text()


# -- 8. connections ------------------------------------------------------------------------------------

def test_slow_clients_are_capped_and_cut_at_the_deadline(app):
    base = app.threads()
    slow = []
    try:
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
            s.sendall(f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\nX-Half: ".encode())
            slow.append(s)
        time.sleep(1)
        peak = app.threads()
        for _ in range(5):
            status, _, body = app.get(timeout=5)
            assert status == 200 and json.loads(body)["schema"] == 2
        print(f"300 slow clients: threads {base} -> {peak} (cap 64 connections)")
        assert peak <= base + 64 + 4, (base, peak)
    finally:
        for s in slow:
            s.close()
    # A byte every 2 s keeps every socket read under its 10 s timeout; the request deadline cuts it anyway.
    s = socket.create_connection(("127.0.0.1", app.port), timeout=30)
    request = f"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\nX-Slow: {'a' * 30}\r\n\r\n".encode()
    sent, cut = 0, False
    try:
        for byte in request:
            s.sendall(bytes([byte]))
            sent += 1
            s.settimeout(2)
            try:
                if s.recv(100) == b"":
                    cut = True
                    break
            except socket.timeout:
                pass
    except OSError:
        cut = True
    finally:
        s.close()
    print(f"trickled request: the tray hung up after {sent} of {len(request)} bytes")
    assert cut and sent < len(request)
    wait_until(lambda: app.threads() <= base + 2, timeout=30)
