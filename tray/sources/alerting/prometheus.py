"""Prometheus source: the server's own rule evaluation, `GET /api/v1/alerts`.

For teams without an Alertmanager in reach (or to watch what Prometheus itself fires). Firing
alerts count by their `severity` label like Alertmanager's; pending ones (the `for:` clause has not
elapsed) are listed with pending=True, so they never raise the colour or pop up.

Blindness (see base.py)
    Prometheus answers an empty alert list when all is well, and the same list when it has no alerting
    rule at all (no `rule_files` in prometheus.yml, or a file that matches nothing): then nothing can ever
    fire and the source would be green for good. No token or user narrows what Prometheus shows, so the
    telltale is the rules themselves: when the list is empty (at most once per VISIBILITY_RECHECK while
    it stays empty) the source reads `GET /api/v1/rules?type=alert&exclude_alerts=true` and counts the
    alerting rules of every group (a server that ignores those parameters sends recording rules and alerts
    too; only `type: alerting` rules count). None -> unknown: "Prometheus at X has no alerting rules
    loaded ...: load rule files with rule_files in prometheus.yml". Listed alerts prove rules exist.
    `allow_empty = true` accepts a Prometheus without alerting rules (and skips the check).

URL forms: any address of the UI or API (`http://prom:9090/graph?g0.expr=...`, `/alerts`, `/classic/graph`,
`/api/v1/alerts`) is cut back to the base before the first such route segment; a route prefix
(`http://host/prometheus`) is kept. A 404 says where the API was looked for.
"""
from typing import Any, Mapping
from urllib.parse import urlencode

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading
from tray.sources.alerting.alertmanager import ApiSource, str_map, detail_of, labels_id, severity_of, title_of
from tray.sources.base import Finding, Recheck, require
from tray.sources.common import cut_path, parse_time
from tray.sources.webui.common import one_line

EMPTY_HINT = ("Prometheus itself never answers an empty body: a proxy in front of it answered instead (is "
              "Prometheus running behind it?)")
# Path segments of the UI and API: a pasted address is cut before the first of them.
UI_ROUTES = ("api", "graph", "alerts", "classic", "query", "rules", "targets", "service-discovery", "status",
             "flags", "config", "tsdb-status", "agent", "new", "-")


def unwrap_v1(payload: Any, what: str) -> list[Any]:
    """`{"status": "success", "data": {"alerts": [...]}}` -> the alert list (Prometheus API v1 envelope)."""
    payload = require(payload, dict, what)
    status = payload.get("status")
    if status == "error":
        msg = payload.get("error")
        msg = one_line(msg) if isinstance(msg, str) and msg.strip() else "unknown error"
        raise SourceError(f"the server answered with an error: {msg}", kind="http")
    data = require(payload.get("data"), dict, f"{what}: data")
    return require(data.get("alerts"), list, f"{what}: data.alerts")


def rule_link(ui_base: str, labels: Mapping[str, str]) -> str:
    """The alert's own `ALERTS{...}` series in the graph page, the link Prometheus itself puts in the
    alerts it sends. /graph?g0.expr= is served by every UI: the React one, Prometheus 3 (which
    redirects it to /query) and the classic one Debian ships (redirected to /classic/graph), where
    /alerts is a 404."""
    matchers = ",".join(f'{k}="{_promql_str(v)}"' for k, v in sorted(labels.items()) if not k.startswith("__"))
    return f"{ui_base.rstrip('/')}/graph?" + urlencode({"g0.expr": "ALERTS{" + matchers + "}", "g0.tab": "1"})


def _promql_str(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def alerting_rules(payload: Any) -> int:
    """`GET /api/v1/rules` -> how many alerting rules are loaded (pure)."""
    payload = require(payload, dict, "the rules answer")
    if payload.get("status") == "error":
        unwrap_v1(payload, "the rules answer")
    data = require(payload.get("data"), dict, "the rules answer: data")
    count = 0
    for group in require(data.get("groups"), list, "data.groups"):
        for rule in require(require(group, dict, "a rule group").get("rules") or [], list, "a group's rules"):
            if require(rule, dict, "a rule").get("type") == "alerting":
                count += 1
    return count


class PrometheusSource(ApiSource):
    type = "prometheus"

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        self.visibility = Recheck()

    def _base(self) -> str:
        return cut_path(self.settings.url, UI_ROUTES)

    def _ui_base(self) -> str:
        return cut_path(self.settings.ui_url, UI_ROUTES) if self.settings.ui_url else self._base()

    def _get(self, http: Any, path: str, params: Any = None) -> Any:
        resp = http.request("GET", f"{self._base()}{path}", params=params, ok_statuses=(404,),
                            empty_hint=EMPTY_HINT, **self._request_kw())
        if resp.status == 404:
            raise SourceError(f"no Prometheus API at {self._base()}{path} (HTTP 404): `url` is the address "
                              "Prometheus serves its UI at (http://HOST:9090), with its route prefix if it has one "
                              "(http://HOST/prometheus)", kind="http")
        return resp.json()

    def fetch(self, http: Any) -> Any:
        return self._get(http, "/api/v1/alerts")

    def poll(self, http: Any) -> Reading:
        alerts = self.parse(self.fetch(http))
        # The finding is excusable: with allow_empty the check would be excused anyway.
        finding = None if alerts or self.config.allow_empty else self.probe(self.visibility,
                                                                             lambda: self._rules_finding(http))
        return Reading(alerts=self.sight(alerts, finding))

    def _rules_finding(self, http: Any) -> Finding | None:
        rules = self._get(http, "/api/v1/rules", {"type": "alert", "exclude_alerts": "true"})
        if alerting_rules(rules):
            return None
        return self.blind(f"Prometheus at {self._base()} has no alerting rules loaded, so no alert can ever fire",
                          "load rule files with rule_files in prometheus.yml (then reload Prometheus)")

    def parse(self, payload: Any) -> list[Alert]:
        alerts = []
        for item in unwrap_v1(payload, "the Prometheus alerts answer"):
            item = require(item, dict, "an alert")
            labels = str_map(item.get("labels"), "labels")
            state = item.get("state")
            if state not in ("firing", "pending", "inactive"):
                raise SourceError("unexpected response shape: alert state is not firing/pending",
                                  kind="bad_content")
            if state == "inactive":
                continue
            annotations = str_map(item.get("annotations"), "annotations")
            alerts.append(Alert(source=self.name, id=labels_id(labels), title=title_of(labels),
                                severity=severity_of(labels), detail=detail_of(annotations),
                                since=parse_time(item.get("activeAt")), url=rule_link(self._ui_base(), labels),
                                pending=state == "pending", ref={"labels": labels}))
        return alerts
