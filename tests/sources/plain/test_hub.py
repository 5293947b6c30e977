"""secondline hub: another instance's /status.json re-exposed, names and links kept, errors shown."""
import json
from pathlib import Path

import jsonschema
import pytest

from support.team_apis import make
from tray.core.errors import SourceError
from tray.core.model import Severity
from tray.sources.plain.hub import UNREADABLE_ID, HubSource, upstream_alerts

SCHEMA = json.loads((Path(__file__).parents[3] / "shared" / "status.schema.json").read_text())
COUNTS = {"critical": 0, "warning": 0, "unknown": 0, "handled": 0, "pending": 0}


def alert(source, aid, severity="critical", **kw):
    base = {"id": aid, "source": source, "title": f"{aid} is bad", "detail": "d", "severity": severity,
            "since": "2026-03-01T08:00:00Z", "url": f"https://{source}.example/{aid}", "handled": False,
            "handled_reason": None, "pending": False}
    return {**base, **kw}


def source(name, alerts=(), error=None, stale=False, health="ok", type_="icinga2"):
    return {"name": name, "type": type_, "group": "production", "health": health,
            "checked_at": "2026-03-01T08:05:00Z", "error": error, "stale": stale, "on_call": None,
            "counts": COUNTS, "capabilities": [], "alerts": list(alerts)}


def document(*sources):
    return {"schema": 2, "generated_at": "2026-03-01T08:05:01Z", "health": "critical", "handled_only": False,
            "summary": "", "counts": COUNTS, "groups": [], "sources": list(sources),
            "notifications": {"snoozed_until": None}}


UPSTREAM = document(
    source("prod-icinga", [alert("prod-icinga", "web1!http"),
                           alert("prod-icinga", "db1!disk", "warning", handled=True, handled_reason="downtime")]),
    source("pd-team", [alert("pd-team", "PINC1", "warning", pending=True)], type_="pagerduty"),
    source("zendesk", error="zendesk.example refused the credential (HTTP 401)", health="unknown"),
    source("am", stale=True, health="unknown"),
)


def test_fixture_document_follows_the_shared_schema():
    jsonschema.validate(UPSTREAM, SCHEMA)


def test_alerts_keep_their_upstream_names_and_links():
    alerts = upstream_alerts(UPSTREAM)
    keys = [a.key for a in alerts]
    assert ("prod-icinga", "web1!http") in keys and ("pd-team", "PINC1") in keys
    web = next(a for a in alerts if a.id == "web1!http")
    assert web.source == "prod-icinga" and web.url == "https://prod-icinga.example/web1!http"
    assert web.severity is Severity.CRITICAL and web.raises
    disk = next(a for a in alerts if a.id == "db1!disk")
    assert disk.handled and disk.handled_reason == "downtime" and not disk.raises
    assert next(a for a in alerts if a.id == "PINC1").pending


def test_broken_upstream_sources_show_as_unknown_with_their_reason():
    alerts = {a.source: a for a in upstream_alerts(UPSTREAM) if a.id == UNREADABLE_ID}
    assert set(alerts) == {"zendesk", "am"}
    assert alerts["zendesk"].severity is Severity.UNKNOWN and alerts["zendesk"].raises
    assert "HTTP 401" in alerts["zendesk"].detail
    assert "stale" in alerts["am"].detail


def test_other_schema_versions_are_refused():
    # An upstream one version behind (schema 1: no capabilities, which a hub does not use) is read.
    older = {**UPSTREAM, "schema": 1, "sources": [{k: v for k, v in s.items() if k != "capabilities"}
                                                 for s in UPSTREAM["sources"]]}
    assert upstream_alerts(older) == upstream_alerts(UPSTREAM)
    with pytest.raises(SourceError) as err:
        upstream_alerts({**UPSTREAM, "schema": 3})
    assert err.value.kind == "bad_content" and "schema" in err.value.reason
    with pytest.raises(SourceError):
        upstream_alerts({k: v for k, v in UPSTREAM.items() if k != "schema"})


def test_unknown_values_degrade_safely():
    doc = document(source("x", [alert("x", "a1", "purple", handled=True, handled_reason="bored", since="soon")]))
    (a,) = upstream_alerts(doc)
    assert a.severity is Severity.UNKNOWN and a.handled and a.handled_reason is None and a.since is None


def test_fetch_with_and_without_bearer(api, http):
    api.get("/status.json", document(source("s1", [alert("s1", "a")])))
    hub = make(HubSource, "team-hub", secrets={"": "proxy-token"}, url=api.url)
    assert [a.source for a in hub.poll(http).alerts] == ["s1"]
    assert api.requests[-1].headers["authorization"] == "Bearer proxy-token"
    anon = make(HubSource, "team-hub", url=api.url + "/status.json")
    anon.poll(http)
    assert api.requests[-1].path == "/status.json" and "authorization" not in api.requests[-1].headers


@pytest.mark.parametrize("doc", [[], {"schema": 1}, {"schema": 1, "sources": [{"alerts": []}]},
                                 {"schema": 1, "sources": [{"name": "a", "alerts": [{"id": ""}]}]},
                                 {"schema": 1, "sources": [{"name": "a", "alerts": "x"}]}])
def test_wrong_shapes(doc):
    with pytest.raises(SourceError):
        upstream_alerts(doc)
