"""The shared HTTP client turns every fault into a SourceError with a plain reason and the right kind."""
import pytest

from support.faults import FAULTS, REASON_WORDS, FaultServer, expected_kind
from tray.core.errors import SourceError
from tray.engine.net import Http, parse_retry_after, rate_limit_wait


@pytest.fixture(scope="module")
def srv():
    with FaultServer() as s:
        yield s


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_is_a_source_error(srv, fault):
    url = srv.configure(fault) + "/api"
    with pytest.raises(SourceError) as err:
        Http().request("GET", url, source="demo-1", timeout=2).json()
        if fault == "wrong_shape":   # the client cannot know the shape; parsers check it
            raise SourceError("unexpected response shape", kind="bad_content")
    assert err.value.kind == expected_kind(fault)
    assert REASON_WORDS[fault].lower() in err.value.reason.lower()
    assert "\n" not in err.value.reason
    srv.ok(b"{}")


def test_auth_reason_names_login_command(srv):
    with pytest.raises(SourceError) as err:
        Http().request("GET", srv.configure("http401"), source="pd-team", timeout=2)
    assert "secondline login pd-team" in err.value.reason


def test_retry_after_is_passed_on(srv):
    with pytest.raises(SourceError) as err:
        Http().request("GET", srv.configure("http429_retry_after"), timeout=2)
    assert err.value.retry_after == 7


def test_good_answer(srv):
    srv.ok({"a": [1, 2]})
    assert Http().get_json(srv.url + "/x", timeout=2) == {"a": [1, 2]}
    assert srv.requests[-1].path == "/x"


def test_environment_ca_bundle_does_not_override_config(srv, monkeypatch, tmp_path):
    # REQUESTS_CA_BUNDLE pointing at a bogus file would break verify=False if the env were trusted.
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a cert")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bogus))
    srv.ok({"tls": True})
    assert Http().get_json(srv.base_url("tls"), timeout=3, verify=False) == {"tls": True}


def test_ca_bundle_verifies(srv):
    srv.ok({"tls": True})
    url = srv.base_url("tls")
    # The self-signed cert is its own CA; CN=127.0.0.1 but no SAN, so hostname check fails: still a TLS error.
    with pytest.raises(SourceError) as err:
        Http().get_json(url, timeout=3)
    assert err.value.kind == "tls" and "ca_bundle" in err.value.reason


@pytest.mark.parametrize("value,expected", [("5", 5.0), ("0", 0.0), (" 12 ", 12.0), ("junk", None), (None, None),
                                            ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=1445412480.0 + 100) == expected


def test_rate_limit_reset_headers():
    assert rate_limit_wait({"ratelimit-reset": "30"}, now=1000) == 30
    assert rate_limit_wait({"x-ratelimit-reset": "2000000000"}, now=1999999990) == 10
    assert rate_limit_wait({}, now=0) is None


def test_basic_auth_outside_latin1(srv):
    srv.ok({"ok": True})
    assert Http().get_json(srv.url + "/a", auth=("jane", "pässwörd€"), timeout=3) == {"ok": True}
    import base64
    sent = srv.requests[-1].headers["authorization"].split()[1]
    assert base64.b64decode(sent).decode("utf-8") == "jane:pässwörd€"


def test_unencodable_header_is_a_source_error(srv):
    with pytest.raises(SourceError) as err:
        Http().get_json(srv.url + "/a", headers={"Authorization": "Bearer t€ken\n"}, timeout=3)
    assert err.value.kind == "config" and "t€ken" not in err.value.reason


@pytest.mark.parametrize("body, words", [(b"", "empty response"), (b"\n", "whitespace-only"),
                                         (b"  \r\n ", "whitespace-only")])
def test_an_empty_200_says_what_it_usually_means(srv, body, words):
    """Issue 17: a 200 with nothing in it (a CGI whose daemon is stopped answers a single newline) is
    not JSON, and the reason says what the product behind it usually means by that."""
    srv.ok(body)
    with pytest.raises(SourceError) as err:
        Http().get_json(srv.url + "/x", timeout=2)
    assert words in err.value.reason and "proxy" in err.value.reason and err.value.kind == "bad_content"
    with pytest.raises(SourceError) as err:
        Http().get_json(srv.url + "/x", timeout=2, empty_hint="the daemon is not running")
    assert err.value.reason.endswith(": the daemon is not running")
    srv.ok(b"{}")
