"""Prometheus source: the server's own rule evaluation, `GET /api/v1/alerts`.

For teams without an Alertmanager in reach (or to watch what Prometheus itself fires). Firing
alerts count by their `severity` label like Alertmanager's; pending ones (the `for:` clause has not
elapsed) are listed with pending=True, so they never raise the colour or pop up.
"""
from typing import Any, Mapping
from urllib.parse import urlencode

from tray.errors import SourceError
from tray.model import Alert
from tray.sources.alertmanager import ApiSource, str_map, detail_of, labels_id, severity_of, title_of
from tray.sources.base import require
from tray.sources.common import parse_time
from tray.sources.nagios import one_line


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


class PrometheusSource(ApiSource):
    type = "prometheus"

    def fetch(self, http: Any) -> Any:
        return http.get_json(f"{self._base()}/api/v1/alerts", **self._request_kw())

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
