"""tray.outputs.http.signing: the signed-request format (pinned by vectors the extension's lib/signing.js test shares),
the verifier's checks (window, restart, replay, key), page secrets and the TCP handshake's challenges."""
import pytest

from tray.outputs.http import signing

KEY = "test-key-0123456789"
BODY = b'{"preset":"1h"}'
TS = 1767225600000
NONCE = "nonce-0123456789abcdef"
# The same vectors are in extension/test/signing.test.js: the two implementations must agree byte for byte.
AUTH = ("Secondline client=client-1, ts=1767225600000, nonce=nonce-0123456789abcdef, "
        "sig=i3uNY6fZTyWLV-MQ5Y-uCJP49uRy34rmyzr1-t7lvOQ")
RESPONSE_SIG = "71lpYsn2mQCyHihfPY8SIGXgZFat-Q6f3C4BCLiz2B8"


def test_vectors():
    assert signing.sign_request(KEY, "POST", "/actions/snooze", "client-1", BODY, ts=TS, nonce=NONCE) == AUTH
    sig = signing.parse_authorization(AUTH).sig
    assert signing.sign_response(KEY, sig, 200, b'{"ok": true}') == RESPONSE_SIG
    assert signing.derive("master-0123456789", "client:client-1") == "t9qUqcrMZYOJ1LailHTOsokF-XmC_JgfebWRueQ-O5c"


@pytest.mark.parametrize("value", [None, "", "Bearer abc", "Secondline", "Secondline client=a",
                                   "Secondline client=a, ts=1, nonce=n, sig=s, sig=t",
                                   "Secondline client=a, ts=x1, nonce=n, sig=s",
                                   "Secondline client=a b, ts=1, nonce=n, sig=s",
                                   "secondline client=a, ts=1, nonce=n, sig=s"])
def test_malformed_authorization(value):
    assert signing.parse_authorization(value) is None


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def verifier(now_s=TS / 1000 + 1, started_s=TS / 1000 - 10):
    clock = Clock(started_s)
    v = signing.Verifier(lambda c: KEY if c == "client-1" else None, clock=clock)
    clock.t = now_s
    return v


def test_verifier_accepts_once_and_refuses_what_it_must():
    v = verifier()
    signed, key = v.check("POST", "/actions/snooze", AUTH, BODY)
    assert signed.client == "client-1" and key == KEY
    with pytest.raises(ValueError, match="replayed"):
        v.check("POST", "/actions/snooze", AUTH, BODY)
    for method, path, body in (("POST", "/actions/snooze", b'{"preset":"15m"}'),   # another body
                               ("POST", "/actions/resume", BODY),                    # another path
                               ("PUT", "/actions/snooze", BODY)):
        with pytest.raises(ValueError, match="bad signature"):
            verifier().check(method, path, AUTH, body)
    with pytest.raises(ValueError, match="not paired"):
        verifier().check("POST", "/actions/snooze", AUTH.replace("client-1", "client-2"), BODY)
    with pytest.raises(ValueError, match="not signed"):
        verifier().check("POST", "/actions/snooze", "Bearer " + KEY, BODY)


def test_time_window_and_restart():
    with pytest.raises(ValueError, match="off the tray's clock"):
        verifier(now_s=TS / 1000 + 61).check("POST", "/actions/snooze", AUTH, BODY)
    with pytest.raises(ValueError, match="off the tray's clock"):
        verifier(now_s=TS / 1000 - 61, started_s=TS / 1000 - 100).check("POST", "/actions/snooze", AUTH, BODY)
    # Signed while the tray was down (an impostor on the port captured it): refused after the start.
    with pytest.raises(ValueError, match="before the tray started"):
        verifier(started_s=TS / 1000 + 0.5).check("POST", "/actions/snooze", AUTH, BODY)


def test_nonce_table_is_bounded():
    n = signing.Nonces(window_ms=1000, cap=3)
    assert all(n.fresh(f"n{i}", 0) for i in range(3))
    assert not n.fresh("n4", 10)            # full of nonces still in the window: refuse
    assert n.fresh("n5", 5000)              # the old ones fell out
    assert not n.fresh("n5", 5001)


def test_page_secrets():
    pages = signing.PageSecrets()
    a, b = pages.mint(), pages.mint()
    assert a != b and pages.check(a) and pages.check(b)
    assert not pages.check(None) and not pages.check("") and not pages.check(a + "x")
    assert not pages.check(a.split(".")[0] + "." + b.split(".")[1])
    assert not signing.PageSecrets().check(a)      # another process (a restart) does not know it


def test_challenges_are_single_use_and_expire():
    clock = Clock(0.0)
    ch = signing.Challenges(clock=clock)
    c = ch.issue()
    assert ch.take(c) and not ch.take(c)
    d = ch.issue()
    clock.t = 31
    assert not ch.take(d)
    assert not ch.take("never-issued")


def test_a_client_id_never_starts_with_a_dash(monkeypatch):
    """`secondline pair --revoke ID` must take any id the tray hands out: argparse reads "-x..." as an option."""
    drawn = iter(["-HPkC2XQAQ_D", "-abcdefghijk", "xuuw-0y1jG0J"])
    monkeypatch.setattr(signing.secrets, "token_urlsafe", lambda n: next(drawn))
    assert signing.new_id() == "xuuw-0y1jG0J"


def test_revoke_takes_an_old_id_that_starts_with_a_dash():
    from tray.cli.main import build_parser
    args = build_parser().parse_args(["pair", "--revoke=-HPkC2XQAQ_D"])
    assert args.revoke == "-HPkC2XQAQ_D"
