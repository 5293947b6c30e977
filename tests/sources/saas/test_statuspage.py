"""Statuspage: indicator and components -> alerts; maintenance is handled; links; no credential."""
import pytest

from support.team_apis import make, statuspage_summary
from tray.core.errors import SourceError
from tray.core.model import Severity
from tray.sources.saas.statuspage import StatuspageSource, summary_alerts

PAGE = "https://status.acme.example"


def test_all_operational_is_quiet(api, http):
    api.get("/api/v2/summary.json", statuspage_summary("none", [("API", "operational"), ("Web", "operational")]))
    src = make(StatuspageSource, "acme-status", url=api.url)
    assert src.poll(http).alerts == ()
    (req,) = api.requests
    assert req.path == "/api/v2/summary.json" and "authorization" not in req.headers


@pytest.mark.parametrize("state, severity, handled", [
    ("degraded_performance", Severity.WARNING, False),
    ("partial_outage", Severity.CRITICAL, False),
    ("major_outage", Severity.CRITICAL, False),
    ("under_maintenance", Severity.WARNING, True),
])
def test_component_states(state, severity, handled):
    doc = statuspage_summary("minor", [("API", "operational"), ("Webhooks", state)])
    alerts = summary_alerts("sp", doc, PAGE)
    comp = [a for a in alerts if a.id.startswith("component:")]
    assert len(comp) == 1
    a = comp[0]
    assert a.title == "Webhooks" and a.severity is severity and a.handled is handled
    assert a.handled_reason == ("maintenance" if handled else None)
    assert a.url == PAGE


def test_incident_link_and_name_on_its_component():
    incident = {"id": "inc1", "name": "Elevated webhook errors", "status": "investigating", "impact": "major",
                "shortlink": "https://stspg.io/abc", "created_at": "2026-03-01T12:00:00Z",
                "components": [{"id": "cmp1", "name": "Webhooks"}]}
    doc = statuspage_summary("major", [("API", "operational"), ("Webhooks", "major_outage")], [incident])
    (a,) = summary_alerts("sp", doc, PAGE)
    assert a.url == "https://stspg.io/abc" and "Elevated webhook errors" in a.detail


def test_indicator_without_components_still_shows():
    incident = {"id": "inc1", "name": "Login trouble", "status": "investigating", "impact": "minor",
                "shortlink": "https://stspg.io/xyz", "created_at": "2026-03-01T12:00:00Z", "components": []}
    doc = statuspage_summary("minor", [("API", "operational")], [incident])
    (a,) = summary_alerts("sp", doc, PAGE)
    assert a.id == "page" and a.severity is Severity.WARNING and a.title == "Login trouble"
    assert a.url == "https://stspg.io/xyz"
    critical = summary_alerts("sp", statuspage_summary("critical", []), PAGE)
    assert critical[0].severity is Severity.CRITICAL


def test_page_maintenance_is_handled():
    (a,) = summary_alerts("sp", statuspage_summary("maintenance", [("API", "operational")]), PAGE)
    assert a.handled and a.handled_reason == "maintenance" and not a.raises


def test_group_components_are_not_counted_twice():
    doc = statuspage_summary("major", [("Group", "major_outage"), ("Child", "major_outage")])
    doc["components"][0]["group"] = True
    assert [a.title for a in summary_alerts("sp", doc, PAGE)] == ["Child"]


def test_url_may_be_the_summary_itself(api, http):
    api.get("/api/v2/summary.json", statuspage_summary("none", [("API", "operational")]))
    for pasted in ("/api/v2/summary.json", "/api/v2/status.json", "/api/v2", "/history", "/#incidents", "/"):
        assert make(StatuspageSource, "sp", url=api.url + pasted).poll(http).alerts == ()
    assert {r.path for r in api.requests} == {"/api/v2/summary.json"}


@pytest.mark.parametrize("doc", [{}, {"status": {}}, {"status": {"indicator": "none"}, "components": {}},
                                 {"status": {"indicator": "none"}, "components": [{"name": "x"}]}])
def test_wrong_shapes(doc):
    with pytest.raises(SourceError):
        summary_alerts("sp", doc, PAGE)
