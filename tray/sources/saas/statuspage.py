"""Atlassian Statuspage: a vendor's public status page (`/api/v2/summary.json`, no credential).

One alert per component that is not operational: degraded performance warns, a partial or major
outage is critical, maintenance is listed as handled. When the page's overall indicator is up but no
component is named (an incident without components), one alert for the page itself says so.

Blindness (see base.py)
    No credential, so no reader that cannot see; but a page that lists no component and no incident
    tells nothing ("all operational" of nothing). Signal: `components` and `incidents` both empty in
    the one answer (no extra request); excused by allow_empty (a page that only posts incidents).

URL forms: the page (`https://www.githubstatus.com`), any of its pages (`/history`, `/incidents/ID`,
`/#...`) or API addresses (`/api/v2/summary.json`, `/api/v2/status.json`) all read
`/api/v2/summary.json` of the page. A 404 says that the page is not an Atlassian Statuspage.
"""
from dataclasses import dataclass
from typing import Any

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.sources.common import api_base, check_http_url, parse_time
from tray.sources.base import Finding, Source, require

COMPONENT_SEVERITY = {
    "degraded_performance": Severity.WARNING,
    "partial_outage": Severity.CRITICAL,
    "major_outage": Severity.CRITICAL,
    "under_maintenance": Severity.WARNING,    # listed as handled: "maintenance"
}
INDICATOR_SEVERITY = {"minor": Severity.WARNING, "major": Severity.CRITICAL, "critical": Severity.CRITICAL}
PAGE_ID = "page"
PAGE_PATHS = ("/api/v2", "/api/v1", "/history", "/incidents/", "/uptime", "/#", "/?")
EMPTY_HINT = ("a Statuspage page never answers an empty body: a proxy or a placeholder site answered "
              "instead; check `url`")


@dataclass(frozen=True)
class StatuspageSettings:
    url: str                            # the page, e.g. https://www.githubstatus.com

    def validate(self) -> None:
        check_http_url(self.url)


class StatuspageSource(Source):
    type = "statuspage"
    Settings = StatuspageSettings
    secrets = ()
    max_bytes = 5 * 1024 * 1024

    def page_url(self) -> str:
        return api_base(self.settings.url, PAGE_PATHS)

    def fetch(self, http: Any) -> Any:
        url = self.page_url() + "/api/v2/summary.json"
        resp = http.request("GET", url, source=self.name, timeout=self.config.timeout,
                            headers={"Accept": "application/json"}, max_bytes=self.max_bytes,
                            ok_statuses=(404,), empty_hint=EMPTY_HINT)
        if resp.status == 404:
            raise SourceError(f"no status page summary at {url} (HTTP 404): `url` must be an Atlassian "
                              "Statuspage page, e.g. https://www.githubstatus.com", kind="http")
        return resp.json()

    def parse(self, payload: Any) -> list[Alert]:
        return summary_alerts(self.name, payload, self.page_url())

    def poll(self, http: Any) -> Reading:
        payload = self.fetch(http)
        return Reading(alerts=self.sight(self.parse(payload), self.blindness(payload)))

    def blindness(self, payload: Any) -> Finding | None:
        """A page that lists no component and no incident tells nothing. Pure."""
        if not isinstance(payload, dict) or payload.get("components") or payload.get("incidents"):
            return None
        return self.blind(f"the status page at {self.page_url()} lists no components",
                          "is `url` the vendor's status page (the one listing its services)?")


# -- pure parsing ----------------------------------------------------------------------------

def summary_alerts(source: str, payload: Any, page_url: str) -> list[Alert]:
    body = require(payload, dict, "the status page summary")
    status = require(body.get("status"), dict, "status")
    indicator = status.get("indicator")
    if not isinstance(indicator, str):
        raise SourceError("unexpected response shape: status.indicator is not a string", kind="bad_content")
    components = require(body.get("components", []), list, "components")
    incidents = [i for i in require(body.get("incidents") or [], list, "incidents") if isinstance(i, dict)]
    page = body.get("page") if isinstance(body.get("page"), dict) else {}
    link = page.get("url") if isinstance(page.get("url"), str) else page_url

    alerts = []
    for item in components:
        comp = require(item, dict, "a component")
        state = comp.get("status")
        name = comp.get("name")
        if not isinstance(state, str) or not isinstance(name, str):
            raise SourceError("unexpected response shape: a component has no name or status",
                              kind="bad_content")
        # A group's status only repeats its children's: listing both would count an outage twice.
        if state == "operational" or comp.get("group") is True:
            continue
        cid = comp.get("id") if isinstance(comp.get("id"), str) and comp.get("id") else name
        incident = _incident_for(incidents, cid)
        detail = state.replace("_", " ")
        if incident and isinstance(incident.get("name"), str):
            detail += f" · {incident['name']}"
        maintenance = state == "under_maintenance"
        alerts.append(Alert(source=source, id=f"component:{cid}", title=name, detail=detail,
                            severity=COMPONENT_SEVERITY.get(state, Severity.UNKNOWN),
                            since=parse_time(comp.get("updated_at")),
                            url=_link(incident) or link, handled=maintenance,
                            handled_reason="maintenance" if maintenance else None,
                            ref={"component_id": cid}))

    if not any(a.raises for a in alerts) and indicator in INDICATOR_SEVERITY:
        # The page is unhappy but names no component: still show it.
        incident = incidents[0] if incidents else None
        description = status.get("description") if isinstance(status.get("description"), str) else indicator
        title = incident["name"] if incident and isinstance(incident.get("name"), str) else description
        alerts.append(Alert(source=source, id=PAGE_ID, title=title, detail=description,
                            severity=INDICATOR_SEVERITY[indicator],
                            since=parse_time(incident.get("created_at")) if incident else None,
                            url=_link(incident) or link))
    elif not alerts and indicator == "maintenance":
        alerts.append(Alert(source=source, id=PAGE_ID, title="Scheduled maintenance",
                            detail=status.get("description") if isinstance(status.get("description"), str)
                            else "maintenance", severity=Severity.WARNING, handled=True,
                            handled_reason="maintenance", url=link))
    return alerts


def _incident_for(incidents: list[dict], component_id: str) -> dict | None:
    for incident in incidents:
        comps = incident.get("components")
        if isinstance(comps, list) and any(isinstance(c, dict) and c.get("id") == component_id for c in comps):
            return incident
    return None


def _link(incident: dict | None) -> str | None:
    if incident is None:
        return None
    for key in ("shortlink", "url"):
        if isinstance(incident.get(key), str):
            return incident[key]
    return None
