"""Every fault of the shared fault server, for every team source type: a SourceError of the right kind.

(The `http` check type is the exception by design: there a failing target is an alert; see
plain/test_http.py::test_every_fault_is_an_alert.)
"""
import pytest

from support.faults import FAULTS, REASON_WORDS, RETRY_AFTER, FaultServer, expected_kind
from support.team_apis import make
from tray.core.errors import SourceError
from tray.sources.plain.hub import HubSource
from tray.sources.saas.pagerduty import PagerDutySource
from tray.sources.saas.statuspage import StatuspageSource
from tray.sources.saas.trello import TrelloSource
from tray.sources.saas.zendesk import ZendeskSource

SECRET = "s3cret-value-never-shown"

# The trickle fault sends a byte a second: a timeout well above that keeps "too slow overall" (the
# point of the fault) apart from "no byte within the socket timeout" even on a loaded machine.
TIMEOUT = {"trickle": 2.5}

TYPES = {
    "pagerduty": lambda url, t: make(PagerDutySource, "pd", secrets={"": SECRET}, url=url, user_id="PUSER1",
                                     timeout=t),
    "zendesk-view": lambda url, t: make(ZendeskSource, "zd", secrets={"": SECRET}, url=url,
                                        email="a@b.example", view_id=25, timeout=t),
    "zendesk-search": lambda url, t: make(ZendeskSource, "zd", secrets={"": SECRET}, url=url,
                                          email="a@b.example", query="status<solved", timeout=t),
    "trello": lambda url, t: make(TrelloSource, "tr", secrets={"key": "k" + SECRET, "token": SECRET}, url=url,
                                  board_id="board1", list_name="Incidents", timeout=t),
    "statuspage": lambda url, t: make(StatuspageSource, "sp", url=url, timeout=t),
    "secondline": lambda url, t: make(HubSource, "hub", secrets={"": SECRET}, url=url, timeout=t),
}


@pytest.fixture(scope="module")
def srv():
    with FaultServer() as s:
        yield s


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("type_name", sorted(TYPES))
def test_fault_is_a_source_error_of_the_right_kind(srv, http, type_name, fault):
    source = TYPES[type_name](srv.configure(fault), TIMEOUT.get(fault, 1.0))
    try:
        with pytest.raises(SourceError) as err:
            source.poll(http)
    finally:
        srv.ok(b"{}")
    e = err.value
    assert e.kind == expected_kind(fault), e.reason
    assert REASON_WORDS[fault].lower() in e.reason.lower(), e.reason
    assert "\n" not in e.reason and SECRET not in e.reason
    if fault in ("http401", "http403"):
        assert f"secondline login {source.name}" in e.reason
    if fault == "http429_retry_after":
        assert e.retry_after == RETRY_AFTER
    if fault == "http429_bare" and type_name == "pagerduty":
        assert e.retry_after == 30


def test_secrets_never_travel_in_urls(srv, http):
    srv.ok(b"{}")
    before = len(srv.requests)
    for build in TYPES.values():
        with pytest.raises(SourceError):
            build(srv.url, 2.0).poll(http)    # "{}" is the wrong shape for every type
    sent = srv.requests[before:]
    assert len(sent) == len(TYPES)
    for req in sent:
        assert SECRET not in req.path
