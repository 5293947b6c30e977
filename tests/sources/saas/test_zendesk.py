"""Zendesk: a view with cursor paging, a count still being computed, search, thresholds, auth."""
import pytest

from support.team_apis import basic, make, zd_me, zd_ticket, zd_view_pager
from tray.core.errors import SourceError
from tray.core.model import Severity
from tray.sources.saas.zendesk import ZendeskSource, parse_count, ticket_alerts

TOKEN = "zdT0ken:with/odd+chars"
EMAIL = "agent@acme.example"


def zd(api, **kw):
    kw.setdefault("email", EMAIL)
    return make(ZendeskSource, "zd", secrets={"": TOKEN}, url=api.url, **kw)


def count(value, fresh=True):
    return {"view_count": {"view_id": 25, "url": "https://acme.zendesk.com/api/v2/views/25/count.json",
                           "value": value, "pretty": str(value), "fresh": fresh}}


def test_view_with_cursor_paging_and_exact_requests(api, http):
    tickets = [zd_ticket(n) for n in range(1, 6)] + [zd_ticket(6, status="pending"),
                                                      zd_ticket(7, status="hold"),
                                                      zd_ticket(8, "urgent", "new")]
    api.get("/api/v2/views/25/count.json", count(len(tickets)))
    api.get("/api/v2/views/25/tickets.json", zd_view_pager(tickets))
    reading = zd(api, view_id=25, page_size=3).poll(http)
    ids = [a.id for a in reading.alerts]
    assert ids == ["1", "2", "3", "4", "5", "8"]        # pending and hold do not count
    assert [r.path for r in api.requests] == ["/api/v2/views/25/count.json"] + \
        ["/api/v2/views/25/tickets.json"] * 3
    assert [r.arg("page[after]") for r in api.requests[1:]] == [None, "c3", "c6"]
    assert all(r.arg("page[size]") == "3" for r in api.requests[1:])
    for r in api.requests:
        assert r.headers["authorization"] == basic(f"{EMAIL}/token", TOKEN)
        assert TOKEN not in r.path and all(TOKEN not in v for _, v in r.query)
    by_id = {a.id: a for a in reading.alerts}
    assert by_id["8"].severity is Severity.CRITICAL          # urgent
    assert by_id["1"].severity is Severity.WARNING           # 6 open >= warning_at 1, no critical_at
    assert by_id["1"].url == f"{api.url}/agent/tickets/1"
    assert by_id["1"].title == "Ticket 1"


def test_link_uses_the_subdomain():
    alerts = ticket_alerts("zd", {"tickets": [zd_ticket(42)]}, "https://acme.zendesk.com")
    assert alerts[0].url == "https://acme.zendesk.com/agent/tickets/42"
    src = make(ZendeskSource, "zd", subdomain="acme", email=EMAIL, view_id=1)
    assert src.web_base() == "https://acme.zendesk.com"


def test_not_fresh_count_is_counting_not_an_error(api, http):
    api.get("/api/v2/views/25/count.json", count(None, fresh=False))
    reading = zd(api, view_id=25).poll(http)
    assert len(reading.alerts) == 1
    a = reading.alerts[0]
    assert a.id == "counting" and a.severity is Severity.INFO and a.pending and not a.raises
    assert len(api.requests) == 1      # no ticket fetch while Zendesk is counting


def test_fresh_zero_count_reads_no_tickets(api, http):
    api.get("/api/v2/views/25/count.json", count(0))
    api.get("/api/v2/users/me.json", zd_me("agent"))
    api.get("/api/v2/views/25.json", {"view": {"id": 25, "title": "2nd line", "active": True}})
    src = zd(api, view_id=25)
    assert src.poll(http).alerts == ()
    # No ticket fetch; once, who the token is and that the view is live (0 must mean a quiet queue).
    assert [r.path for r in api.requests] == ["/api/v2/views/25/count.json", "/api/v2/users/me.json",
                                              "/api/v2/views/25.json"]
    assert src.poll(http).alerts == () and len(api.requests) == 4     # trusted for a while: count only


def test_stale_value_with_fresh_false_is_counting():
    assert parse_count(count(3, fresh=False)) == (False, 3)
    assert parse_count(count(3)) == (True, 3)
    for bad in ({}, {"view_count": {"value": -1, "fresh": True}}, {"view_count": {"value": 1}},
                {"view_count": {"value": "3", "fresh": True}}):
        with pytest.raises(SourceError):
            parse_count(bad)


def test_thresholds_like_the_govuk_screen():
    tickets = {"tickets": [zd_ticket(n, "normal") for n in range(1, 5)] + [zd_ticket(9, "urgent")]}
    # 5 open, critical_at 5: every ticket critical.
    assert {a.severity for a in ticket_alerts("zd", tickets, "u", 1, 5)} == {Severity.CRITICAL}
    # 5 open, critical_at 6: urgent critical, the rest warnings.
    sev = {a.id: a.severity for a in ticket_alerts("zd", tickets, "u", 1, 6)}
    assert sev["9"] is Severity.CRITICAL and sev["1"] is Severity.WARNING
    # 5 open, warning_at 6: listed without raising, urgent still critical.
    sev = {a.id: a.severity for a in ticket_alerts("zd", tickets, "u", 6, None)}
    assert sev["9"] is Severity.CRITICAL and sev["1"] is Severity.INFO


def test_search_pages_and_query(api, http):
    def search(req):
        page = int(req.arg("page", "1"))
        results = [dict(zd_ticket(page * 10 + i), result_type="ticket") for i in range(2)]
        if page == 1:
            results.append({"id": 77, "result_type": "user", "name": "Not a ticket"})
        nxt = f"{api.url}/api/v2/search.json?page={page + 1}&per_page=2&query=x" if page < 3 else None
        return 200, {}, {"results": results, "next_page": nxt, "previous_page": None, "count": 6}
    api.get("/api/v2/search.json", search)
    reading = zd(api, query='status<solved group:"2nd Line"').poll(http)
    assert sorted(a.id for a in reading.alerts) == ["10", "11", "20", "21", "30", "31"]
    first = api.requests[0]
    assert first.arg("query") == 'type:ticket status<solved group:"2nd Line"'
    assert len(api.requests) == 3
    assert all(r.headers["authorization"] == basic(f"{EMAIL}/token", TOKEN) for r in api.requests)


def test_search_next_page_to_another_host_is_refused(api, http):
    api.get("/api/v2/search.json", {"results": [], "next_page": "https://evil.example/api/v2/search.json?page=2"})
    with pytest.raises(SourceError) as err:
        zd(api, query="type:ticket").poll(http)
    assert "another host" in err.value.reason
    assert len(api.requests) == 1


def test_view_cursor_loop_is_cut_off(api, http):
    api.get("/api/v2/views/25/count.json", count(5))
    api.get("/api/v2/views/25/tickets.json", {"tickets": [zd_ticket(1)],
                                              "meta": {"has_more": True, "after_cursor": "same"}})
    with pytest.raises(SourceError) as err:
        zd(api, view_id=25).poll(http)
    assert err.value.kind == "bad_content" and "loops" in err.value.reason
    assert len(api.requests) == 3


def test_view_has_more_without_cursor_is_an_error(api, http):
    api.get("/api/v2/views/25/count.json", count(5))
    api.get("/api/v2/views/25/tickets.json", {"tickets": [], "meta": {"has_more": True}})
    with pytest.raises(SourceError):
        zd(api, view_id=25).poll(http)


def test_429_retry_after_is_passed_on(api, http):
    api.get("/api/v2/views/25/count.json", {"error": "too many"}, status=429, headers={"Retry-After": "45"})
    with pytest.raises(SourceError) as err:
        zd(api, view_id=25).poll(http)
    assert err.value.kind == "rate_limited" and err.value.retry_after == 45


@pytest.mark.parametrize("settings", [
    {"email": EMAIL, "subdomain": "acme"},                                   # neither view nor query
    {"email": EMAIL, "subdomain": "acme", "view_id": 1, "query": "x"},      # both
    {"email": EMAIL, "view_id": 1},                                          # no subdomain or url
    {"email": EMAIL, "subdomain": "acme.zendesk.com/x", "view_id": 1},
    {"email": "nobody", "subdomain": "acme", "view_id": 1},
    {"email": EMAIL, "subdomain": "acme", "view_id": 1, "warning_at": 3, "critical_at": 2},
])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        ZendeskSource.Settings(**settings).validate()


def test_search_that_never_ends_is_cut_off(api, http):
    def endless(req):
        page = int(req.arg("page", "1"))
        return 200, {}, {"results": [dict(zd_ticket(page), result_type="ticket")],
                         "next_page": f"{api.url}/api/v2/search.json?page={page + 1}"}
    api.get("/api/v2/search.json", endless)
    with pytest.raises(SourceError) as err:
        zd(api, query="status<solved", max_pages=4).poll(http)
    assert err.value.kind == "bad_content" and "4 pages" in err.value.reason
    assert len(api.requests) == 4
