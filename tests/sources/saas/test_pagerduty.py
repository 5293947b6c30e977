"""PagerDuty: incidents over several pages, the exact requests, rate limits, on call, acknowledge."""
from datetime import datetime, timezone

import pytest

from support.team_apis import make, pd_incident, pd_pager, pd_user
from tray.core.errors import SourceError
from tray.core.model import Severity
from tray.sources.saas.pagerduty import PagerDutySource, parse_oncall, parse_page

TOKEN = "u+s3cr3tT0ken"


def pd(api, **kw):
    return make(PagerDutySource, "pd", secrets={"": TOKEN}, url=api.url, **kw)


def test_reads_three_pages_with_exact_requests(api, http):
    incidents = [pd_incident(n) for n in range(7)]
    api.get("/incidents", pd_pager(incidents))
    src = pd(api, page_size=3, service_ids=["PSVC01", "PSVC02"], team_ids=["PTEAM1"],
             urgencies=["high", "low"])
    reading = src.poll(http)
    assert [a.id for a in reading.alerts] == [f"PINC{n:04d}" for n in range(7)]
    assert len(api.requests) == 3
    assert [r.arg("offset") for r in api.requests] == ["0", "3", "6"]
    for r in api.requests:
        assert r.path == "/incidents"
        assert r.headers["authorization"] == f"Token token={TOKEN}"
        assert r.headers["accept"] == "application/vnd.pagerduty+json;version=2"
        assert r.args("statuses[]") == ["triggered", "acknowledged"]
        assert r.arg("date_range") == "all"
        assert r.arg("limit") == "3"
        assert r.args("service_ids[]") == ["PSVC01", "PSVC02"]
        assert r.args("team_ids[]") == ["PTEAM1"]
        assert r.args("urgencies[]") == ["high", "low"]
        assert r.args("user_ids[]") == []
        assert TOKEN not in r.path and all(TOKEN not in v for _, v in r.query)
    assert reading.on_call is None


def test_incident_mapping():
    page = {"incidents": [pd_incident(1, "triggered", "high"), pd_incident(2, "triggered", "low"),
                          pd_incident(3, "acknowledged", "high"), pd_incident(4, "resolved", "high")],
            "more": False}
    alerts, more, ids = parse_page("pd", page)
    assert not more and ids == ["PINC0001", "PINC0002", "PINC0003", "PINC0004"]
    by_id = {a.id: a for a in alerts}
    assert set(by_id) == {"PINC0001", "PINC0002", "PINC0003"}   # resolved is not listed
    assert by_id["PINC0001"].severity is Severity.CRITICAL and by_id["PINC0001"].raises
    assert by_id["PINC0002"].severity is Severity.WARNING and by_id["PINC0002"].raises
    acked = by_id["PINC0003"]
    assert acked.handled and acked.handled_reason == "acknowledged" and not acked.raises
    a = by_id["PINC0001"]
    assert a.url == "https://acme.pagerduty.com/incidents/PINC0001"
    assert a.ref == {"incident_id": "PINC0001"}
    assert a.title == "Incident 1"
    assert "Billing DB" in a.detail and "#1001" in a.detail
    assert a.since == datetime(2026, 3, 1, 8, 12, tzinfo=timezone.utc)
    assert a.source == "pd"


@pytest.mark.parametrize("page", [[], {"incidents": "x"}, {"incidents": [{"id": 5}]},
                                  {"incidents": [], "more": "yes"}, {"incidents": [[]]}])
def test_wrong_shapes_are_source_errors(page):
    with pytest.raises(SourceError) as err:
        parse_page("pd", page)
    assert err.value.kind == "bad_content"


def test_429_with_ratelimit_reset(api, http):
    api.get("/incidents", {"error": {"code": 2020, "message": "Rate Limit Exceeded"}}, status=429,
            headers={"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "12"})
    with pytest.raises(SourceError) as err:
        pd(api).poll(http)
    assert err.value.kind == "rate_limited"
    assert err.value.retry_after == 12


def test_429_without_headers_still_backs_off(api, http):
    api.get("/incidents", {"error": {"code": 2020, "message": "Rate Limit Exceeded"}}, status=429)
    with pytest.raises(SourceError) as err:
        pd(api).poll(http)
    assert err.value.kind == "rate_limited"
    assert err.value.retry_after == 30
    assert "\n" not in err.value.reason


def test_rate_budget_used_up_mid_paging_stops_before_a_429(api, http):
    incidents = [pd_incident(n) for n in range(5)]
    api.get("/incidents", pd_pager(incidents, headers={"ratelimit-remaining": "0", "ratelimit-reset": "9"}))
    with pytest.raises(SourceError) as err:
        pd(api, page_size=2).poll(http)
    assert err.value.kind == "rate_limited" and err.value.retry_after == 9
    assert len(api.requests) == 1


def test_paging_that_repeats_is_cut_off(api, http):
    # A broken proxy ignores `offset`: the same page, "more": true, forever.
    api.get("/incidents", {"incidents": [pd_incident(1), pd_incident(2)], "limit": 2, "offset": 0,
                           "more": True})
    with pytest.raises(SourceError) as err:
        pd(api, page_size=2).poll(http)
    assert err.value.kind == "bad_content" and "paging" in err.value.reason
    assert len(api.requests) == 2


def test_paging_that_never_ends_is_cut_off(api, http):
    counter = iter(range(10 ** 6))

    def endless(req):
        return 200, {}, {"incidents": [pd_incident(next(counter))], "more": True, "limit": 1,
                         "offset": int(req.arg("offset"))}
    api.get("/incidents", endless)
    with pytest.raises(SourceError) as err:
        pd(api, page_size=1, max_pages=7).poll(http)
    assert err.value.kind == "bad_content" and "7 pages" in err.value.reason
    assert len(api.requests) == 7


def test_empty_page_with_more_is_cut_off(api, http):
    api.get("/incidents", {"incidents": [], "more": True, "limit": 25, "offset": 0})
    with pytest.raises(SourceError):
        pd(api).poll(http)
    assert len(api.requests) == 1


def test_on_call_now(api, http):
    api.get("/incidents", pd_pager([]))
    api.get("/oncalls", {"oncalls": [
        {"user": {"id": "PUSER1"}, "schedule": {"id": "PSCHED1"}, "escalation_level": 1,
         "start": "2026-03-01T08:00:00Z", "end": "2026-03-02T08:00:00Z"},
        {"user": {"id": "PUSER1"}, "schedule": {"id": "PSCHED2"}, "escalation_level": 2,
         "start": "2026-03-01T00:00:00Z", "end": "2026-03-03T00:00:00Z"}],
        "limit": 25, "offset": 0, "more": False})
    reading = pd(api, user_id="PUSER1").poll(http)
    assert reading.on_call is not None and reading.on_call.on_call
    assert reading.on_call.until == datetime(2026, 3, 3, tzinfo=timezone.utc)
    oncall_req = [r for r in api.requests if r.path == "/oncalls"][0]
    assert oncall_req.args("user_ids[]") == ["PUSER1"]
    assert oncall_req.arg("earliest") == "true"
    assert oncall_req.headers["authorization"] == f"Token token={TOKEN}"


def test_off_call(api, http):
    api.get("/incidents", pd_pager([pd_incident(1)]))
    api.get("/oncalls", {"oncalls": [], "limit": 25, "offset": 0, "more": False})
    api.get("/users/PUSER1", pd_user("PUSER1"))      # "not on call" is only believed of a user it can see
    reading = pd(api, user_id="PUSER1").poll(http)
    assert reading.on_call is not None and reading.on_call.on_call is False
    assert reading.on_call.until is None
    assert len(reading.alerts) == 1


def test_on_call_without_end_is_open_ended():
    assert parse_oncall({"oncalls": [{"start": None, "end": None}]}).until is None
    with pytest.raises(SourceError):
        parse_oncall({"oncalls": "no"})


def test_no_token_names_login(http):
    src = make(PagerDutySource, "pd-team", url="http://127.0.0.1:9")
    with pytest.raises(SourceError) as err:
        src.poll(http)
    assert err.value.kind == "credential" and "secondline login pd-team" in err.value.reason


def test_auth_failure_names_login_and_hides_token(api, http):
    api.get("/incidents", {"error": {"message": "Unauthorized", "code": 2006}}, status=401)
    with pytest.raises(SourceError) as err:
        pd(api).poll(http)
    assert err.value.kind == "auth" and "secondline login pd" in err.value.reason
    assert TOKEN not in err.value.reason


def test_acknowledge_puts_the_documented_request(api, http):
    api.on("PUT", "/incidents/PINC0001", {"incident": {"id": "PINC0001", "status": "acknowledged"}})
    src = pd(api, from_email="oncall@acme.example")
    alert = parse_page("pd", {"incidents": [pd_incident(1)]})[0][0]
    message = src.acknowledge(http, alert, author="me")
    assert "PINC0001" in message
    req = api.requests[-1]
    assert req.method == "PUT" and req.path == "/incidents/PINC0001"
    assert req.headers["from"] == "oncall@acme.example"
    assert req.headers["authorization"] == f"Token token={TOKEN}"
    assert req.json() == {"incident": {"type": "incident_reference", "status": "acknowledged"}}


def test_acknowledge_needs_from_email(api, http):
    alert = parse_page("pd", {"incidents": [pd_incident(1)]})[0][0]
    with pytest.raises(SourceError) as err:
        pd(api).acknowledge(http, alert, author="me")
    assert err.value.kind == "config" and "from_email" in err.value.reason
    assert api.requests == []


@pytest.mark.parametrize("settings", [{"urgencies": ["urgent"]}, {"url": "ftp://x"}, {"page_size": 500},
                                      {"service_ids": ["a/../b"]}, {"max_pages": 0}])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        PagerDutySource.Settings(**settings).validate()
