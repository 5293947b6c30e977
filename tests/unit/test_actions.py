"""Actions through the endpoint: token, origin checks, pairing, snooze persistence, acknowledge,
Trello, "new" marks, and notification rules held back with a reason."""
import http.client
import json

import pytest

from support import fakesource
from support.faults import wait_until
from tray.app import App
from tray.config import loads

fakesource.register()
TOKEN = "test-token-0123456789"


class Capture:
    name = "capture"

    def __init__(self):
        self.shown = []

    def show(self, n):
        self.shown.append(n)


CONFIG = """
[notifications]
min_gap = 0
[notifications.rules]
staging = []
[actions]
trello = "board"
trello_list_id = "list1"
[user]
name = "Jane"
[[sources]]
name = "mon"
type = "fake"
group = "production"
interval = 1
[[sources]]
name = "stg"
type = "fake"
group = "staging"
interval = 1
[[sources]]
name = "board"
type = "fake"
group = "team"
interval = 60
"""


@pytest.fixture
def app(tmp_path):
    fakesource.SCRIPTS.clear(); fakesource.POLLS.clear(); fakesource.ACTIONS.clear()
    fakesource.FAIL_ACTIONS.clear()
    fakesource.SCRIPTS["mon"] = ["crit"]
    cap = Capture()
    a = App(loads(CONFIG, str(tmp_path / "c.toml")), headless=True, port=0, backend=cap,
            state_path=str(tmp_path / "state.json"), token=TOKEN)
    a.capture = cap
    a.start()
    # The store publishes first; the app's own marks ("new") follow on the dispatcher thread.
    wait_until(lambda: a.store.latest.health.value == "critical" and any(map(a.is_new, a.store.latest.alerts())))
    yield a
    a.shutdown()


def post(app, path, body=None, token=TOKEN, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", app.endpoint.port, timeout=10)
    h = {"Host": f"127.0.0.1:{app.endpoint.port}", "Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    c.request("POST", path, body=json.dumps(body or {}), headers=h)
    r = c.getresponse()
    data = json.loads(r.read() or b"{}")
    c.close()
    return r.status, data


def doc(app):
    return app.endpoint.document()


@pytest.mark.parametrize("token,headers,status", [
    (None, {}, 401),
    ("wrong", {}, 401),
    (TOKEN, {"Origin": "https://evil.example.com"}, 403),
    (TOKEN, {"Origin": "null"}, 403),
    (TOKEN, {"Sec-Fetch-Site": "cross-site"}, 403),
    (TOKEN, {"Origin": "chrome-extension://kkpkhhhgpljijmnplonjmooccgfjojbh"}, 200),
    (TOKEN, {}, 200),
])
def test_token_and_origin_checks(app, token, headers, status):
    code, data = post(app, "/actions/refresh", token=token, headers=headers)
    assert code == status, data
    assert data["ok"] is (status == 200)


def test_snooze_persists_across_restart(app, tmp_path):
    code, data = post(app, "/actions/snooze", {"preset": "1h"})
    assert code == 200 and data["snoozed_until"]
    assert doc(app)["notifications"]["snoozed_until"] is not None
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["snoozed_until"]
    again = App(loads(CONFIG, str(tmp_path / "c.toml")), headless=True, port=0, backend=Capture(),
                state_path=str(tmp_path / "state.json"), token=TOKEN)
    assert again.snoozed() and again.store.latest.snoozed_until is not None
    code, _ = post(app, "/actions/resume")
    assert code == 200 and doc(app)["notifications"]["snoozed_until"] is None
    code, data = post(app, "/actions/snooze", {"preset": "forever"})
    assert code == 400 and "unknown snooze" in data["error"]


def test_pairing_flow(app):
    ext = {"Origin": "chrome-extension://kkpkhhhgpljijmnplonjmooccgfjojbh"}
    code, data = post(app, "/pair", {"client": "Chrome extension"}, token=None, headers=ext)
    assert code == 200 and len(data["code"]) == 6
    rid, pin = data["id"], data["code"]
    assert any(pin in n.title for n in app.capture.shown)          # the user is told the code
    assert any(pin in line for line in app.menu_lines())
    assert post(app, "/pair/status", {"id": rid}, token=None, headers=ext)[1] == {"state": "pending"}
    code, _ = post(app, "/actions/pair-approve", {"code": pin})
    assert code == 200
    status = post(app, "/pair/status", {"id": rid}, token=None, headers=ext)[1]
    assert status == {"state": "approved", "token": TOKEN}
    assert post(app, "/pair/status", {"id": rid}, token=None, headers=ext)[1] == {"state": "delivered"}


def test_web_pages_cannot_ask_to_pair(app):
    code, data = post(app, "/pair", {}, token=None, headers={"Origin": "https://evil.example.com"})
    assert code == 403 and "token" not in data


def test_acknowledge_recheck_trello(app):
    code, data = post(app, "/actions/acknowledge", {"source": "mon", "id": "x", "comment": "on it"})
    assert code == 200
    assert fakesource.ACTIONS[-1] == ("acknowledge", "mon", "x", {"author": "Jane", "comment": "on it",
                                                                  "duration_s": 7200.0})
    assert any(n.title == "Acknowledged: x down" for n in app.capture.shown)
    assert post(app, "/actions/recheck", {"source": "mon", "id": "x"})[0] == 200
    code, data = post(app, "/actions/trello", {"source": "mon", "id": "x"})
    assert code == 200 and data["card_url"] == "https://trello.com/c/x"
    assert fakesource.ACTIONS[-1] == ("trello", "board", "x", {"list_id": "list1"})
    alert = doc(app)["sources"][0]["alerts"][0]
    assert alert["card_url"] == "https://trello.com/c/x"


def test_failed_action_changes_nothing_and_says_why(app):
    fakesource.FAIL_ACTIONS.add("acknowledge")
    before = doc(app)["sources"][0]["alerts"]
    code, data = post(app, "/actions/acknowledge", {"source": "mon", "id": "x"})
    assert code == 502 and "HTTP 403" in data["error"]
    assert doc(app)["sources"][0]["alerts"] == before
    assert any(n.title == "Acknowledged failed: x down" or "failed" in n.title for n in app.capture.shown)
    assert post(app, "/actions/acknowledge", {"source": "mon", "id": "nope"})[0] == 404
    assert post(app, "/actions/explode", {})[0] == 404


def test_new_marks_until_seen(app):
    wait_until(lambda: app.store.latest.source("stg").checked_at is not None)
    fakesource.SCRIPTS["stg"] = ["crit"]
    wait_until(lambda: any(a["new"] for s in doc(app)["sources"] if s["name"] == "stg" for a in s["alerts"]))
    # the dashboard (same origin, no token) may mark them seen
    code, _ = post(app, "/actions/seen", token=None, headers={"Sec-Fetch-Site": "same-origin",
                                                             "Origin": f"http://127.0.0.1:{app.endpoint.port}"})
    assert code == 200
    assert not any(a["new"] for s in doc(app)["sources"] for a in s["alerts"])
    assert post(app, "/actions/seen", token=None, headers={"Sec-Fetch-Site": "cross-site"})[0] == 403


def test_rules_hold_back_with_reason(app):
    # after stg's first reading (the baseline, which never pops up)
    wait_until(lambda: app.store.latest.source("stg").checked_at is not None)
    fakesource.SCRIPTS["stg"] = ["crit"]
    wait_until(lambda: any(h["reason"] == "rules: staging critical is off" for h in app.held), timeout=5)
    assert doc(app)["notifications"]["held"][-1]["reason"] == "rules: staging critical is off"
    assert not any("staging" in n.body for n in app.capture.shown)
