"""Blind is not green (issue 17) for the team types, against documented-shape servers: a successful,
well-formed answer that shows nothing because the reader cannot see is unknown with a reason naming
the reader and the fix, never ok; `allow_empty = true` makes an excusable one ok; the visibility check
costs nothing while the answer has content and once per VISIBILITY_RECHECK while it stays empty."""
import pytest

from support.team_apis import make, pd_incident, pd_pager, pd_services, pd_user, statuspage_summary, trello_card, zd_me, \
    zd_ticket, zd_view_pager
from tray.core.errors import SourceError
from tray.core.model import Severity
from tray.sources.base import BLIND_ALERT_ID
from tray.sources.plain.http import HttpCheckSource
from tray.sources.plain.hub import HubSource
from tray.sources.saas.pagerduty import PagerDutySource
from tray.sources.saas.statuspage import StatuspageSource
from tray.sources.saas.trello import TrelloSource
from tray.sources.saas.zendesk import ZendeskSource


def blind(src, http) -> str:
    with pytest.raises(SourceError) as exc:
        src.poll(http)
    assert exc.value.kind == "blind", exc.value.reason
    assert "\n" not in exc.value.reason
    return exc.value.reason


# -- PagerDuty ---------------------------------------------------------------------------------

def pd(api, **kw):
    return make(PagerDutySource, "pd", secrets={"": "pdT0ken"}, url=api.url, **kw)


def no_incidents(api):
    api.get("/incidents", pd_pager([]))


def test_pagerduty_token_that_sees_no_services(api, http):
    no_incidents(api)
    api.get("/services", pd_services(0))
    reason = blind(pd(api), http)
    assert reason.startswith("the PagerDuty token sees no services:")
    assert "allow_empty = true" in reason and "pdT0ken" not in reason
    svc = [r for r in api.requests if r.path == "/services"][-1]
    assert svc.arg("limit") == "1" and svc.arg("total") == "true"
    assert pd(api, allow_empty=True).poll(http).alerts == ()


def test_pagerduty_sees_services_then_no_incidents_is_ok_and_checked_once(api, http):
    no_incidents(api)
    api.get("/services", pd_services(12))
    src = pd(api)
    assert src.poll(http).alerts == ()
    assert src.poll(http).alerts == ()
    assert [r.path for r in api.requests] == ["/incidents", "/services", "/incidents"]
    src.visibility.every = 0.0              # VISIBILITY_RECHECK later, still nothing open: checked again
    src.poll(http)
    assert [r.path for r in api.requests][-2:] == ["/incidents", "/services"]


def test_pagerduty_incidents_prove_sight_without_a_request(api, http):
    api.get("/incidents", pd_pager([pd_incident(1)]))
    assert len(pd(api).poll(http).alerts) == 1
    assert [r.path for r in api.requests] == ["/incidents"]


def test_pagerduty_team_with_no_services_and_missing_ids(api, http):
    no_incidents(api)
    api.get("/teams/PTEAM1", {"team": {"id": "PTEAM1", "name": "DB"}})
    api.get("/services", pd_services(0))
    reason = blind(pd(api, team_ids=["PTEAM1"]), http)
    assert "sees no services in team PTEAM1" in reason
    assert [r for r in api.requests if r.path == "/services"][-1].args("team_ids[]") == ["PTEAM1"]
    # An id that does not exist for this token is a config mistake: never excused by allow_empty.
    reason = blind(pd(api, service_ids=["PNOPE01"], allow_empty=True), http)
    assert reason.startswith("service PNOPE01 does not exist or the PagerDuty token cannot see it")
    assert "allow_empty" not in reason
    reason = blind(pd(api, team_ids=["PGONE"]), http)
    assert "team PGONE does not exist" in reason


def test_pagerduty_on_call_user_it_cannot_see_is_not_off_call(api, http):
    api.get("/incidents", pd_pager([pd_incident(1)]))
    api.get("/oncalls", {"oncalls": [], "limit": 25, "offset": 0, "more": False})
    reading = pd(api, user_id="PNOUSER").poll(http)
    ids = [a.id for a in reading.alerts]
    assert ids == ["PINC0001", BLIND_ALERT_ID]           # the visible incident stays, one unknown line
    line = reading.alerts[-1]
    assert line.severity is Severity.UNKNOWN and "user_id PNOUSER does not exist" in line.detail
    api.get("/users/PNOUSER", pd_user("PNOUSER"))
    reading = pd(api, user_id="PNOUSER").poll(http)
    assert [a.id for a in reading.alerts] == ["PINC0001"] and reading.on_call.on_call is False


def test_pagerduty_failing_check_tells_nothing(api, http):
    """A 500 on the visibility check leaves the main answer standing (and the check waits its turn)."""
    no_incidents(api)
    api.get("/services", {"error": "boom"}, status=500)
    src = pd(api)
    assert src.poll(http).alerts == ()
    assert not src.visibility.due()


def test_pagerduty_web_address_is_refused_with_the_api_address():
    with pytest.raises(ValueError) as exc:
        make(PagerDutySource, "pd", url="https://acme.pagerduty.com")
    assert "https://api.pagerduty.com" in str(exc.value) and "api.eu.pagerduty.com" in str(exc.value)
    make(PagerDutySource, "pd", url="https://api.eu.pagerduty.com")


# -- Zendesk -------------------------------------------------------------------------------------

def zd(api, **kw):
    kw.setdefault("email", "agent@acme.example")
    return make(ZendeskSource, "zd", secrets={"": "zdT0ken"}, url=api.url, **kw)


def count(value):
    return {"view_count": {"view_id": 25, "value": value, "pretty": str(value), "fresh": True}}


def test_zendesk_view_that_does_not_exist(api, http):
    api.get("/api/v2/views/999/count.json", {"error": "RecordNotFound", "description": "Not found"}, status=404)
    reason = blind(zd(api, view_id=999, allow_empty=True), http)
    assert reason.startswith("view 999 does not exist, or agent agent@acme.example cannot see it (HTTP 404)")
    assert f"{api.url}/agent/filters/ID" in reason and "allow_empty" not in reason


@pytest.mark.parametrize("me, words", [
    (zd_me("end-user", name="Eve Customer"), "signs in as 'Eve Customer' (role end-user)"),
    (zd_me("end-user", uid=None, name="Anonymous user"), "signs in as nobody"),
])
def test_zendesk_token_of_someone_who_sees_no_queue(api, http, me, words):
    api.get("/api/v2/search.json", {"results": [], "count": 0, "next_page": None})
    api.get("/api/v2/users/me.json", me)
    reason = blind(zd(api, query="status<solved", allow_empty=True), http)
    assert words in reason and "an agent's address" in reason and "`secondline login zd`" in reason


def test_zendesk_inactive_view_and_the_agent_path(api, http):
    api.get("/api/v2/views/25/count.json", count(0))
    api.get("/api/v2/users/me.json", zd_me("agent"))
    api.get("/api/v2/views/25.json", {"view": {"id": 25, "title": "Old queue", "active": False}})
    assert "view 25 is inactive" in blind(zd(api, view_id=25), http)
    # Tickets in the answer prove sight: no identity check.
    api.get("/api/v2/views/25/count.json", count(1))
    api.get("/api/v2/views/25/tickets.json", zd_view_pager([zd_ticket(1)]))
    before = len(api.requests)
    assert len(zd(api, view_id=25).poll(http).alerts) == 1
    assert [r.path for r in api.requests[before:]] == ["/api/v2/views/25/count.json",
                                                       "/api/v2/views/25/tickets.json"]


def test_zendesk_url_may_be_any_address_of_the_account(api, http):
    api.get("/api/v2/views/25/count.json", count(1))
    api.get("/api/v2/views/25/tickets.json", zd_view_pager([zd_ticket(1)]))
    for pasted in ("/agent/filters/25", "/api/v2", "/"):
        src = make(ZendeskSource, "zd", secrets={"": "t"}, url=api.url + pasted, email="a@b.c", view_id=25)
        assert src.web_base() == api.url
        assert src.poll(http).alerts[0].url == f"{api.url}/agent/tickets/1"


# -- Trello --------------------------------------------------------------------------------------

def trello(api, **kw):
    return make(TrelloSource, "board", secrets={"key": "k3y", "token": "t0k"}, url=api.url, **kw)


def test_trello_archived_list(api, http):
    api.get("/1/lists/list1/cards", [])
    api.get("/1/lists/list1", {"id": "list1", "name": "Incidents", "closed": True})
    reason = blind(trello(api, list_id="list1", allow_empty=True), http)
    assert reason.startswith("list list1 ('Incidents') is archived") and "list_id" in reason
    api.get("/1/lists/list1", {"id": "list1", "name": "Incidents", "closed": False})
    assert trello(api, list_id="list1").poll(http).alerts == ()          # open and empty: all well


def test_trello_list_it_cannot_see_names_the_member(api, http):
    api.get("/1/members/me", {"id": "m1", "username": "alice_ops"})
    reason = blind(trello(api, list_id="nolist"), http)                   # FakeApi answers 404
    assert "list nolist does not exist, or the token's member 'alice_ops' cannot see it (HTTP 404)" in reason


def test_trello_board_address_is_a_board_id(api, http):
    api.get("/1/boards/AbCd1234/cards/open", [trello_card("5f1e3a9c0000000000000001", "x", ["red"])])
    src = trello(api, board_id="https://trello.com/b/AbCd1234/ops-board")
    assert [a.severity for a in src.poll(http).alerts] == [Severity.CRITICAL]
    with pytest.raises(ValueError):
        trello(api, board_id="https://trello.com/c/AbCd1234")


def test_trello_cards_prove_sight(api, http):
    api.get("/1/lists/list1/cards", [trello_card("5f1e3a9c0000000000000001", "x", [])])
    trello(api, list_id="list1").poll(http)
    assert [r.path for r in api.requests] == ["/1/lists/list1/cards"]


# -- Statuspage, hub, http -----------------------------------------------------------------------

def test_statuspage_listing_nothing(api, http):
    api.get("/api/v2/summary.json", statuspage_summary("none", []))
    reason = blind(make(StatuspageSource, "sp", url=api.url), http)
    assert "lists no components" in reason and "allow_empty = true" in reason
    assert make(StatuspageSource, "sp", url=api.url, allow_empty=True).poll(http).alerts == ()


def test_statuspage_404_says_what_url_must_be(api, http):
    with pytest.raises(SourceError) as exc:
        make(StatuspageSource, "sp", url=api.url + "/nothing").poll(http)
    assert "HTTP 404" in exc.value.reason and "Atlassian Statuspage" in exc.value.reason


def test_hub_upstream_watching_nothing(api, http):
    api.get("/status.json", {"schema": 1, "sources": []})
    reason = blind(make(HubSource, "hub", url=api.url), http)
    assert "watches no sources" in reason and "[[sources]]" in reason
    assert make(HubSource, "hub", url=api.url, allow_empty=True).poll(http).alerts == ()
    for pasted in ("/status.json", "/events", "/#/", "/healthz"):
        assert make(HubSource, "hub", url=api.url + pasted).status_url() == api.url + "/status.json"


def test_empty_200_says_what_it_usually_means(api, http):
    api.get("/status.json", b"\n")
    with pytest.raises(SourceError) as exc:
        make(HubSource, "hub", url=api.url).poll(http)
    assert "empty (whitespace-only) response" in exc.value.reason and "secondline run --headless" in exc.value.reason
    api.get("/health", b"  \n")
    [alert] = make(HttpCheckSource, "web", url=api.url + "/health", expect_text="ok").poll(http).alerts
    assert alert.severity is Severity.CRITICAL and "only whitespace" in alert.detail
