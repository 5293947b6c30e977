"""Never a false green: every fault from support.faults, for every monitoring type, through poll(Http()),
is a SourceError of the expected kind with a plain one-line reason."""
from __future__ import annotations

import pytest

from support.monitoring import MY_TYPES, make_source
from support.faults import FAULTS, REASON_WORDS, FaultServer, expected_kind
from tray.core.errors import SourceError
from tray.engine.net import Http

# How each type is configured: a path under the server root, and whether it logs in.
SETUP = {
    "icingaweb2": {"path": "/icingaweb2", "username": "ops"},
    "icingadb": {"path": "/icingaweb2", "username": "ops"},
    "nagios": {"path": "/nagios/cgi-bin", "username": "nagiosadmin"},
    "icinga1": {"path": "/icinga", "username": "icingaadmin"},
    "alertmanager": {"path": "", "auth": "basic", "username": "ops"},
    "prometheus": {"path": "", "auth": "bearer"},
    "grafana": {"path": ""},
}


@pytest.fixture(scope="module")
def srv():
    with FaultServer() as s:
        yield s


def source_for(type_name: str, base: str, timeout: float = 1.0, **extra):
    setup = dict(SETUP[type_name])
    path = setup.pop("path")
    return make_source(type_name, name="mon-x", secret="s3cret", timeout=timeout, url=base + path, **setup, **extra)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("type_name", MY_TYPES)
def test_fault(srv, type_name, fault):
    # The trickle sends a byte a second: the timeout must exceed that gap, or it reads as a stalled answer.
    src = source_for(type_name, srv.configure(fault), timeout=2.5 if fault == "trickle" else 1.0)
    try:
        with pytest.raises(SourceError) as err:
            src.poll(Http())
    finally:
        srv.ok(b"{}")
    assert err.value.kind == expected_kind(fault), err.value.reason
    assert REASON_WORDS[fault].lower() in err.value.reason.lower()
    assert "\n" not in err.value.reason and "s3cret" not in err.value.reason
    if fault == "tls":
        assert "ca_bundle" in err.value.reason
    if fault in ("http401", "http403"):
        assert "secondline login mon-x" in err.value.reason
    if fault == "http429_retry_after":
        assert err.value.retry_after == 7


@pytest.mark.parametrize("type_name", ["icingaweb2", "icingadb", "nagios", "icinga1", "alertmanager", "grafana"])
def test_missing_credential(srv, type_name):
    src = source_for(type_name, srv.url)
    src._secret_lookup = lambda name, field: None
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "credential"
    assert "secondline login mon-x" in err.value.reason


def test_tls_with_verify_off_reads(srv):
    """verify_tls = false reaches the server through the self-signed certificate (and so does ca_bundle
    up to the hostname check): the TLS switch really is passed on."""
    srv.route("/api/v2/alerts", [])
    try:
        src = source_for("alertmanager", srv.base_url("tls"), verify_tls=False)
        assert src.poll(Http()).alerts == ()
    finally:
        srv._routes.clear()


def test_bad_token_is_a_credential_error(srv):
    src = source_for("grafana", srv.url)
    src._secret_lookup = lambda name, field: "tök\n"   # a trailing newline alone is stripped, not refused
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "credential" and "tök" not in err.value.reason
