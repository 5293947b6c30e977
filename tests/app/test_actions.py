"""Actions through the endpoint: signed requests and answers, origin checks, pairing (per-client keys,
published extensions only, revocation, flooding), content types, the dashboard's page secret, snooze
persistence, acknowledge, Trello, "new" marks, and notification rules held back with a reason."""
import http.client
import json
import re
import time

import pytest

from support import fakesource
from support.faults import wait_until
from tray.outputs.http import signing
from tray.app.wiring import App
from tray.config.loader import loads
from tray.core.errors import ConfigError
from support.builders import CaptureNotifier

fakesource.register()
TOKEN = "test-token-0123456789"


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
    cap = CaptureNotifier()
    a = App(loads(CONFIG, str(tmp_path / "c.toml")), headless=True, port=0, backend=cap,
            state_path=str(tmp_path / "state.json"), token=TOKEN)
    a.capture = cap
    a.start()
    # The store publishes first; the app's own marks ("new") follow on the dispatcher thread.
    wait_until(lambda: a.store.latest.health.value == "critical" and any(map(a.user.is_new, a.store.latest.alerts())))
    yield a
    a.shutdown()


EXT = "chrome-extension://kkpkhhhgpljijmnplonjmooccgfjojbh"


def raw_post(app, path, body=None, headers=None, data=None):
    """(status, JSON, response headers) of one POST; `data` overrides the JSON body's bytes."""
    c = http.client.HTTPConnection("127.0.0.1", app.endpoint.port, timeout=10)
    h = {"Host": f"127.0.0.1:{app.endpoint.port}", "Content-Type": "application/json"}
    h.update(headers or {})
    payload = data if data is not None else json.dumps(body or {}).encode()
    c.request("POST", path, body=payload, headers=h)
    r = c.getresponse()
    out = r.read()
    c.close()
    return r.status, json.loads(out or b"{}"), {k.lower(): v for k, v in r.getheaders()}, out


def pair(app, origin=EXT):
    """Pair a client from `origin` the way the extension does; (client id, key)."""
    h = {"Origin": origin} if origin else {}
    code, data, _, _ = raw_post(app, "/pair", {}, headers=h)
    assert code == 200, data
    status, reply = app.actions.control("pair-approve", {"code": data["code"]})
    assert status == 200, reply
    code, creds, _, _ = raw_post(app, "/pair/status", {"id": data["id"]}, headers=h)
    assert creds["state"] == "approved", creds
    return creds["client"], creds["key"]


@pytest.fixture
def client(app):
    return pair(app)


def post(app, path, body=None, client=None, headers=None, sign=True, ts=None, nonce=None):
    """A signed POST as a paired client sends it; checks the answer's signature when there is one."""
    cid, key = client
    payload = json.dumps(body or {}).encode()
    h = {"Origin": EXT}
    if sign:
        h["Authorization"] = signing.sign_request(key, "POST", path, cid, payload, ts=ts, nonce=nonce)
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    code, data, rh, out = raw_post(app, path, headers=h, data=payload)
    if signing.RESPONSE_HEADER.lower() in rh:
        sig = signing.parse_authorization(h["Authorization"]).sig
        assert rh[signing.RESPONSE_HEADER.lower()] == signing.sign_response(key, sig, code, out)
    return code, data


def doc(app):
    return app.endpoint.document()


@pytest.mark.parametrize("headers,sign,status", [
    ({}, False, 401),                                               # unsigned
    ({"Authorization": f"Bearer {TOKEN}"}, False, 401),             # the raw master is no key
    ({"Origin": "https://evil.example.com"}, True, 403),
    ({"Origin": "null"}, True, 403),
    ({"Origin": None, "Sec-Fetch-Site": "cross-site"}, True, 403),
    ({}, True, 200),
    ({"Origin": None}, True, 200),                                  # a local script that paired
])
def test_signature_and_origin_checks(app, client, headers, sign, status):
    code, data = post(app, "/actions/refresh", client=client, headers=headers, sign=sign)
    assert code == status, data
    assert data["ok"] is (status == 200)


def test_answers_are_signed_and_requests_cannot_be_replayed_or_forged(app, client):
    cid, key = client
    payload = b"{}"
    auth = signing.sign_request(key, "POST", "/actions/refresh", cid, payload)
    h = {"Origin": EXT, "Authorization": auth}
    code, _, rh, out = raw_post(app, "/actions/refresh", headers=h, data=payload)
    sig = signing.parse_authorization(auth).sig
    assert code == 200 and rh[signing.RESPONSE_HEADER.lower()] == signing.sign_response(key, sig, 200, out)
    code, data, _, _ = raw_post(app, "/actions/refresh", headers=h, data=payload)
    assert code == 401 and "replayed" in data["error"]
    # Signed for another body: refused (and the refusal is signed for the client, who can tell it is the tray).
    code, data, rh, out = raw_post(app, "/actions/snooze", headers={**h, "Authorization": auth.replace(
        auth.split("nonce=")[1].split(",")[0], "n" * 22)}, data=b'{"preset": "1h"}')
    assert code == 401 and "bad signature" in data["error"]
    assert doc(app)["notifications"]["snoozed_until"] is None
    code, data = post(app, "/actions/refresh", client=client, ts=int(time.time() * 1000) - 120_000)
    assert code == 401 and "clock" in data["error"]
    code, data = post(app, "/actions/refresh", client=(cid, "not-the-key"))
    assert code == 401 and "bad signature" in data["error"]


def test_snooze_persists_across_restart(app, client, tmp_path):
    code, data = post(app, "/actions/snooze", {"preset": "1h"}, client=client)
    assert code == 200 and data["snoozed_until"]
    assert doc(app)["notifications"]["snoozed_until"] is not None
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["snoozed_until"]
    again = App(loads(CONFIG, str(tmp_path / "c.toml")), headless=True, port=0, backend=CaptureNotifier(),
                state_path=str(tmp_path / "state.json"), token=TOKEN)
    assert again.user.snoozed() and again.store.latest.snoozed_until is not None
    code, _ = post(app, "/actions/resume", client=client)
    assert code == 200 and doc(app)["notifications"]["snoozed_until"] is None
    code, data = post(app, "/actions/snooze", {"preset": "forever"}, client=client)
    assert code == 400 and "unknown snooze" in data["error"]


def test_pairing_flow(app):
    ext = {"Origin": EXT}
    code, data, _, _ = raw_post(app, "/pair", {"client": "secondline official"}, headers=ext)
    assert code == 200 and len(data["code"]) == 6
    rid, pin = data["id"], data["code"]
    shown = [n for n in app.capture.shown if pin in n.title]
    assert shown                                                     # the user is told the code ...
    assert EXT in shown[0].body and "official" not in shown[0].body   # ... and the origin, not a chosen name
    assert any(pin in line and EXT in line for line in app.popups.menu_lines())
    assert raw_post(app, "/pair/status", {"id": rid}, headers=ext)[1] == {"state": "pending"}
    status, reply = app.actions.control("pair-approve", {"code": pin})
    assert status == 200 and reply["origin"] == EXT and reply["client"]
    # Another origin cannot collect it, even knowing the request id.
    other = {"Origin": "moz-extension://0b0c7c54-2d6e-4bb5-8c3c-2a2b2c2d2e2f"}
    assert raw_post(app, "/pair/status", {"id": rid}, headers=other)[1] == {"state": "unknown"}
    creds = raw_post(app, "/pair/status", {"id": rid}, headers=ext)[1]
    assert creds["state"] == "approved" and creds["client"] == reply["client"]
    assert creds["key"] != TOKEN and TOKEN not in json.dumps(creds)
    assert raw_post(app, "/pair/status", {"id": rid}, headers=ext)[1] == {"state": "delivered"}
    assert post(app, "/actions/refresh", client=(creds["client"], creds["key"]))[0] == 200


def test_each_client_has_its_own_key_and_can_be_revoked(app):
    chrome = pair(app)
    firefox = pair(app, "moz-extension://0b0c7c54-2d6e-4bb5-8c3c-2a2b2c2d2e2f")
    script = pair(app, None)
    assert len({chrome[1], firefox[1], script[1]}) == 3
    assert post(app, "/actions/refresh", client=(chrome[0], firefox[1]))[0] == 401     # keys are not shared
    status, listed = app.actions.control("pair-list", {})
    assert status == 200
    assert [c["id"] for c in listed["clients"]] == [chrome[0], firefox[0], script[0]]
    assert [c["origin"] for c in listed["clients"]] == [EXT, "moz-extension://0b0c7c54-2d6e-4bb5-8c3c-2a2b2c2d2e2f",
                                                        "(no Origin)"]
    assert app.actions.control("pair-revoke", {"id": firefox[0]})[0] == 200
    code, data = post(app, "/actions/refresh", client=firefox, headers={"Origin": None})
    assert code == 401 and "not paired" in data["error"]
    assert post(app, "/actions/refresh", client=chrome)[0] == 200                      # the others go on
    assert app.actions.control("pair-revoke", {"id": firefox[0]})[0] == 404


def test_pairings_survive_a_restart_but_not_a_new_key(app, client, tmp_path):
    saved = json.loads((tmp_path / "clients.json").read_text())
    assert [c["id"] for c in saved["clients"]] == [client[0]]
    assert client[1] not in json.dumps(saved) and TOKEN not in json.dumps(saved)     # ids, not keys
    assert oct((tmp_path / "clients.json").stat().st_mode & 0o777) == "0o600"
    cfg = loads(CONFIG, str(tmp_path / "c.toml"))
    again = App(cfg, headless=True, port=0, backend=CaptureNotifier(), state_path=str(tmp_path / "state.json"),
                token=TOKEN)
    assert again.pairing.key_for(client[0]) == client[1]
    rekeyed = App(cfg, headless=True, port=0, backend=CaptureNotifier(), state_path=str(tmp_path / "state.json"),
                  token="another-master-key")
    assert rekeyed.pairing.key_for(client[0]) is None and rekeyed.pairing.clients() == []


def test_pair_approve_is_not_an_http_action(app, client):
    code, data, _, _ = raw_post(app, "/pair", {}, headers={"Origin": EXT})
    code, answer = post(app, "/actions/pair-approve", {"code": data["code"]}, client=client)
    assert code == 404, answer
    assert [r.code for r in app.pairing.pending()] == [data["code"]]


@pytest.mark.parametrize("origin", ["https://evil.example.com", "chrome-extension://evil.com",
                                    "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
                                    "moz-extension://not-a-uuid", "null"])
def test_only_published_extensions_may_ask_to_pair(app, origin):
    code, data, _, _ = raw_post(app, "/pair", {}, headers={"Origin": origin})
    assert code == 403 and "may not pair" in data["error"] and "code" not in data
    assert not app.pairing.pending()


def test_config_decides_which_extensions_may_pair(tmp_path):
    other = "abcdefghijklmnopabcdefghijklmnop"
    firefox = "moz-extension://0b0c7c54-2d6e-4bb5-8c3c-2a2b2c2d2e2f"
    cfg = loads(f'[server]\nextension_ids = ["{other}", "{firefox}"]\n', str(tmp_path / "c.toml"))
    a = App(cfg, headless=True, port=0, backend=CaptureNotifier(), state_path=str(tmp_path / "state.json"), token=TOKEN)
    policy = a.pairing.policy
    assert policy.label(f"chrome-extension://{other}") and policy.label(firefox)
    assert policy.label(EXT) is None                                          # replaced, not added to
    assert policy.label("moz-extension://1b0c7c54-2d6e-4bb5-8c3c-2a2b2c2d2e2f") is None   # only that profile
    with pytest.raises(ConfigError, match="extension_ids"):
        loads('[server]\nextension_ids = ["evil.com"]\n', str(tmp_path / "c.toml"))


def test_flooding_one_origin_does_not_lock_out_another(app):
    flood = {"Origin": "moz-extension://0b0c7c54-2d6e-4bb5-8c3c-2a2b2c2d2e2f"}
    before = len(app.capture.shown)
    for _ in range(50):
        assert raw_post(app, "/pair", {}, headers=flood)[0] == 200
    assert len(app.capture.shown) - before == 1                  # one pop-up, not fifty
    assert len(app.pairing.pending()) == 3                       # that origin's newest three
    code, data, _, _ = raw_post(app, "/pair", {}, headers={"Origin": EXT})
    assert code == 200
    assert app.actions.control("pair-approve", {"code": data["code"]})[0] == 200


@pytest.mark.parametrize("ctype,status", [
    ("text/plain; a=application/json", 415), ("application/jsonp", 415), ("text/plain", 415),
    ("application/json; charset=latin-1", 415), ("application/json, text/plain", 415),
    ("application/json", 200), ("Application/JSON; charset=UTF-8", 200),
])
def test_content_type_is_parsed(app, client, ctype, status):
    assert post(app, "/actions/refresh", client=client, headers={"Content-Type": ctype})[0] == status


def test_seen_from_the_dashboard_needs_its_page_secret(app):
    port = app.endpoint.port
    own = {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}
    # What the probe did: the dashboard's Sec-Fetch-Site, from anything.
    assert raw_post(app, "/actions/seen", headers=own)[0] == 401
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/", headers={"Host": f"127.0.0.1:{port}"})
    html = c.getresponse().read().decode()
    c.close()
    secret = re.search(r'name="secondline-page" content="([^"]+)"', html).group(1)
    assert raw_post(app, "/actions/seen", headers={**own, "X-Secondline-Page": secret})[0] == 200
    assert raw_post(app, "/actions/seen", headers={**own, "X-Secondline-Page": secret + "x"})[0] == 403
    other = {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site", "X-Secondline-Page": secret}
    assert raw_post(app, "/actions/seen", headers=other)[0] == 403
    # The page secret opens "seen" only.
    assert raw_post(app, "/actions/snooze", {"preset": "1h"}, headers={**own, "X-Secondline-Page": secret})[0] == 401


def test_acknowledge_recheck_trello(app, client):
    code, data = post(app, "/actions/acknowledge", {"source": "mon", "id": "x", "comment": "on it"}, client=client)
    assert code == 200
    assert fakesource.ACTIONS[-1] == ("acknowledge", "mon", "x", {"author": "Jane", "comment": "on it",
                                                                  "duration_s": 7200.0})
    assert any(n.title == "Acknowledged: x down" for n in app.capture.shown)
    assert post(app, "/actions/recheck", {"source": "mon", "id": "x"}, client=client)[0] == 200
    code, data = post(app, "/actions/trello", {"source": "mon", "id": "x"}, client=client)
    assert code == 200 and data["card_url"] == "https://trello.com/c/x"
    assert fakesource.ACTIONS[-1] == ("trello", "board", "x", {"list_id": "list1"})
    alert = doc(app)["sources"][0]["alerts"][0]
    assert alert["card_url"] == "https://trello.com/c/x"


def test_failed_action_changes_nothing_and_says_why(app, client):
    fakesource.FAIL_ACTIONS.add("acknowledge")
    before = doc(app)["sources"][0]["alerts"]
    code, data = post(app, "/actions/acknowledge", {"source": "mon", "id": "x"}, client=client)
    assert code == 502 and "HTTP 403" in data["error"]
    assert doc(app)["sources"][0]["alerts"] == before
    assert any(n.title == "Acknowledged failed: x down" or "failed" in n.title for n in app.capture.shown)
    assert post(app, "/actions/acknowledge", {"source": "mon", "id": "nope"}, client=client)[0] == 404
    assert post(app, "/actions/explode", {}, client=client)[0] == 404


def test_new_marks_until_seen(app):
    wait_until(lambda: app.store.latest.source("stg").checked_at is not None)
    fakesource.SCRIPTS["stg"] = ["crit"]
    wait_until(lambda: any(a["new"] for s in doc(app)["sources"] if s["name"] == "stg" for a in s["alerts"]))
    # the dashboard may mark them seen, with the secret of the page it served
    own = {"Sec-Fetch-Site": "same-origin", "Origin": f"http://127.0.0.1:{app.endpoint.port}",
           "X-Secondline-Page": app.endpoint.pages.mint()}
    code, _, _, _ = raw_post(app, "/actions/seen", headers=own)
    assert code == 200
    assert not any(a["new"] for s in doc(app)["sources"] for a in s["alerts"])
    assert raw_post(app, "/actions/seen", headers={**own, "Sec-Fetch-Site": "cross-site"})[0] == 403


def test_rules_hold_back_with_reason(app):
    # after stg's first reading (the baseline, which never pops up)
    wait_until(lambda: app.store.latest.source("stg").checked_at is not None)
    fakesource.SCRIPTS["stg"] = ["crit"]
    wait_until(lambda: any(h["reason"] == "rules: staging critical is off" for h in app.popups.held), timeout=5)
    assert doc(app)["notifications"]["held"][-1]["reason"] == "rules: staging critical is off"
    assert not any("staging" in n.body for n in app.capture.shown)
