"""Grafana alerting source (Grafana-managed rules), authenticated with a service-account token.

Two reads per poll:
- `/api/alertmanager/grafana/api/v2/alerts`: Grafana's built-in Alertmanager, same shape as
  Alertmanager v2, parsed by alertmanager.parse_am_alerts (silences there -> handled);
- `/api/prometheus/grafana/api/v1/alerts`: every rule instance with its evaluation state. Only
  `NoData` and `Error` matter here: the rule cannot see its data, so the alert is unknown. The state
  may carry a reason ("Normal (NoData)" = NoData handled as OK by the rule): only the first word counts.

When the rule routes NoData/Error to the Alertmanager (alertname DatasourceNoData/DatasourceError,
label `rulename`), the same fact appears in both answers; it is listed once, from the Alertmanager.

Blindness (see base.py)
    The rule-state answer lists every rule instance the token may read, Normal ones included. A
    service-account token without the Viewer role or View on the folders holding the rules gets an
    empty list, and so does a Grafana with no alert rules: both are "nothing to watch", never green.
    Signal: no rule instance in the second answer and no alert in the first (no extra request).
    `allow_empty = true` accepts it (a Grafana whose rules are yet to come).

URL forms: a pasted UI address (`https://grafana/alerting/list?search=x`, `.../d/uid/name`, `/#...`)
is cut back to the base; a sub path (`https://host/grafana`) is kept. A 404 says so.
"""
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tray.core.model import Alert, Severity
from tray.core.errors import SourceError
from tray.core.model import Reading
from tray.sources.alerting.alertmanager import (GRAFANA_UNKNOWN_NAMES, ApiSource, str_map, create_silence, detail_of,
                                       labels_id, parse_am_alerts, title_of)
from tray.sources.base import ACKNOWLEDGE, Finding, require
from tray.sources.common import api_base, parse_time
from tray.sources.alerting.prometheus import unwrap_v1

_BLIND_STATES = {"nodata": "NoData", "error": "Error"}
# Where a pasted Grafana UI address stops being the base (a sub path before these is kept).
UI_PATHS = ("/alerting", "/d/", "/dashboards", "/dashboard/", "/explore", "/login", "/api/", "/?", "/#")
EMPTY_HINT = ("Grafana itself never answers an empty body: a proxy in front of it answered instead "
              "(is Grafana running behind it?)")


@dataclass(frozen=True)
class GrafanaSettings:
    url: str                                           # https://grafana.example
    filters: list[str] = field(default_factory=list)   # Alertmanager matchers, sent as filter=
    ca_bundle: str | None = None
    verify_tls: bool = True

    def validate(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.url or ""):
            raise ValueError("url: must start with http:// or https://")


class GrafanaSource(ApiSource):
    type = "grafana"
    Settings = GrafanaSettings
    capabilities = frozenset({ACKNOWLEDGE})      # a silence in Grafana's own Alertmanager
    secrets = ("",)            # the service-account token
    secret_optional = False

    def _mode(self) -> str:
        return "bearer"

    def _base(self) -> str:
        return api_base(self.settings.url, UI_PATHS)

    def _ui_base(self) -> str:
        return self._base()

    def _get(self, http: Any, path: str, params: Any = None) -> Any:
        resp = http.request("GET", f"{self._base()}{path}", params=params, ok_statuses=(404,),
                            empty_hint=EMPTY_HINT, **self._request_kw())
        if resp.status == 404:
            raise SourceError(f"no Grafana alerting API at {self._base()}{path} (HTTP 404): `url` is the address "
                              "Grafana's UI is served at, with its sub path if it has one "
                              "(https://HOST/grafana); Grafana 8 or later with unified alerting", kind="http")
        return resp.json()

    def fetch(self, http: Any) -> dict[str, Any]:
        params = [("active", "true"), ("silenced", "true"), ("inhibited", "true")]
        params += [("filter", f) for f in self.settings.filters]
        alerts = self._get(http, "/api/alertmanager/grafana/api/v2/alerts", params)
        rules = self._get(http, "/api/prometheus/grafana/api/v1/alerts")
        return {"alerts": alerts, "rules": rules}

    def poll(self, http: Any) -> Reading:
        payload = self.fetch(http)
        alerts = self.parse(payload)
        return Reading(alerts=self.sight(alerts, self.blindness(payload)))

    def blindness(self, payload: Any) -> Finding | None:
        """A finding when the token sees no rule instance at all (see the module docstring). Pure."""
        if not isinstance(payload, dict) or payload.get("alerts"):
            return None
        rules = payload.get("rules")
        data = rules.get("data") if isinstance(rules, dict) else None
        if not isinstance(data, dict) or data.get("alerts") != []:
            return None
        return self.blind(
            f"{self.reader('the Grafana service-account token', 'token')} sees no alert rules",
            "give the service account the Viewer role, or View on the folders that hold the rules "
            "(or the Grafana has no Grafana-managed alert rules)")

    def parse(self, payload: Any) -> list[Alert]:
        payload = require(payload, dict, "the Grafana answers")
        base = self._base()
        # Grafana sets generatorURL to the rule's view; without one, search the alert rule list.
        alerts = parse_am_alerts(payload.get("alerts"), source=self.name,
                                 fallback_link=lambda labels: _search_link(base, labels.get("alertname", "")))
        covered = {a.ref["labels"].get("rulename") for a in alerts
                   if a.ref["labels"].get("alertname") in GRAFANA_UNKNOWN_NAMES}
        for item in unwrap_v1(payload.get("rules"), "the Grafana rule states"):
            item = require(item, dict, "a rule instance")
            state = item.get("state")
            word = state.strip().split(" ", 1)[0].lower() if isinstance(state, str) else ""
            if word not in _BLIND_STATES:
                continue   # Normal, Alerting (already in the Alertmanager answer), Pending, Recovering
            labels = str_map(item.get("labels"), "labels")
            if labels.get("alertname") in covered:
                continue
            annotations = str_map(item.get("annotations"), "annotations")
            detail = detail_of(annotations) or f"the rule reports {_BLIND_STATES[word]}"
            alerts.append(Alert(source=self.name, id="state:" + labels_id(labels),
                                title=f"{title_of(labels)} ({_BLIND_STATES[word]})", severity=Severity.UNKNOWN,
                                detail=detail, since=parse_time(item.get("activeAt")),
                                url=_search_link(self._base(), labels.get("alertname", "")),
                                ref={"labels": labels}))
        return alerts

    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        return create_silence(self, http, f"{self._base()}/api/alertmanager/grafana/api/v2/silences", alert,
                              author=author, comment=comment, duration_s=duration_s)


def _search_link(base: str, name: str) -> str:
    return f"{base}/alerting/list?search=" + quote(name, safe="")
