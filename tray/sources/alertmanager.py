"""Prometheus Alertmanager (API v2) source, and the alert parser Grafana reuses.

Fetches every active alert, silenced and inhibited ones included, so that handled alerts are
listed (greyed) rather than vanishing: a silenced alert is still something on-call wants to see.
`severity` label: critical -> critical, warning or missing -> warning, info/none -> INFO (listed,
never raises). Silenced / inhibited / muted -> handled ("silenced").

Acknowledge = create a silence with equality matchers on the alert's labels (ref["labels"]).
"""
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping
from urllib.parse import quote

from tray.errors import SourceError
from tray.model import Alert, Severity
from tray.sources.base import Source, require
from tray.sources.common import parse_time

_CRITICAL = {"critical", "crit", "error", "page", "high", "disaster", "emergency", "fatal"}
_INFO = {"info", "informational", "information", "none", "debug", "notice", "ok"}
_AUTH_MODES = ("", "none", "basic", "bearer")
# Grafana turns a rule's "no data" / "error" handling into alerts with these names: they mean
# "cannot see", i.e. unknown, whatever severity label they carry.
GRAFANA_UNKNOWN_NAMES = ("DatasourceNoData", "DatasourceError")
_TARGET_LABELS = ("instance", "host", "hostname", "pod", "service", "job")


def severity_of(labels: Mapping[str, Any]) -> Severity:
    raw = labels.get("severity", labels.get("priority"))
    value = raw.strip().lower() if isinstance(raw, str) else ""
    if value in _CRITICAL:
        return Severity.CRITICAL
    if value in _INFO:
        return Severity.INFO
    return Severity.WARNING   # "warning", missing, or a word we do not know: still shown, still raises


def labels_id(labels: Mapping[str, str]) -> str:
    """A stable id for an alert without a fingerprint: the hash of its label set."""
    return hashlib.sha1(json.dumps(dict(labels), sort_keys=True).encode()).hexdigest()[:16]


def str_map(value: Any, what: str) -> dict[str, str]:
    value = require(value if value is not None else {}, dict, what)
    out = {}
    for k, v in value.items():
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise SourceError(f"unexpected response shape: {what}[{str(k)!r}] is not text", kind="bad_content")
        out[str(k)] = str(v)
    return out


def title_of(labels: Mapping[str, str]) -> str:
    name = labels.get("alertname") or labels.get("__name__") or "alert"
    for key in _TARGET_LABELS:
        if labels.get(key):
            return f"{name} on {labels[key]}"
    return name


def detail_of(annotations: Mapping[str, str]) -> str:
    for key in ("summary", "description", "message"):
        text = annotations.get(key, "").strip()
        if text:
            return text.splitlines()[0]
    return ""


def ui_alerts_link(ui_base: str, labels: Mapping[str, str]) -> str:
    """The Alertmanager UI's alert list filtered to this alert's label set."""
    matchers = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if not k.startswith("__"))
    return f"{ui_base.rstrip('/')}/#/alerts?filter=" + quote("{" + matchers + "}", safe="")


def parse_am_alerts(payload: Any, *, source: str, fallback_link: Callable[[dict[str, str]], str]) -> list[Alert]:
    """Alertmanager v2 `GET /api/v2/alerts` (also Grafana's managed Alertmanager) -> alerts. Pure.

    `fallback_link(labels)` gives the link for alerts without a usable generatorURL.
    """
    alerts = []
    for item in require(payload, list, "the alert list"):
        item = require(item, dict, "an alert")
        labels = str_map(item.get("labels"), "labels")
        annotations = str_map(item.get("annotations"), "annotations")
        status = require(item.get("status") if item.get("status") is not None else {}, dict, "status")
        state = status.get("state", "active")
        if not isinstance(state, str):
            raise SourceError("unexpected response shape: status.state is not text", kind="bad_content")
        muted = False
        for key in ("silencedBy", "inhibitedBy", "mutedBy"):
            by = status.get(key) or []
            if require(by, list, f"status.{key}"):
                muted = True
        handled = muted or state == "suppressed"
        fingerprint = item.get("fingerprint")
        aid = fingerprint if isinstance(fingerprint, str) and fingerprint else labels_id(labels)
        generator = item.get("generatorURL")
        link = generator if isinstance(generator, str) and generator.startswith(("http://", "https://")) \
            else fallback_link(labels)
        severity = severity_of(labels)
        if labels.get("alertname") in GRAFANA_UNKNOWN_NAMES:
            severity = Severity.UNKNOWN
        alerts.append(Alert(source=source, id=aid, title=title_of(labels), severity=severity,
                            detail=detail_of(annotations), since=parse_time(item.get("startsAt")), url=link,
                            handled=handled, handled_reason="silenced" if handled else None,
                            ref={"labels": labels}))
    return alerts


# -- settings and auth shared with prometheus.py / grafana.py ---------------------------------
@dataclass(frozen=True)
class ApiSettings:
    url: str
    auth: str = ""                 # "none" | "basic" | "bearer"; empty = basic when `username` is set
    username: str | None = None
    ui_url: str | None = None      # where links point when the API URL is not the one users browse
    ca_bundle: str | None = None
    verify_tls: bool = True

    def validate(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.url or ""):
            raise ValueError("url: must start with http:// or https://")
        if self.auth not in _AUTH_MODES:
            raise ValueError("auth: must be one of none, basic, bearer")
        if self.auth == "basic" and not self.username:
            raise ValueError("username: required with auth = \"basic\"")


@dataclass(frozen=True)
class AlertmanagerSettings(ApiSettings):
    filters: list[str] = field(default_factory=list)   # matchers, e.g. 'team="db"', sent as filter=


class ApiSource(Source):
    """Basic / bearer / no auth from settings + keyring; CA settings; JSON requests."""
    Settings = ApiSettings
    secrets = ("",)
    secret_optional = True

    def _mode(self) -> str:
        mode = self.settings.auth or ("basic" if self.settings.username else "none")
        return mode

    def _request_kw(self) -> dict[str, Any]:
        mode = self._mode()
        headers = {"Accept": "application/json"}
        kw: dict[str, Any] = {"source": self.name, "timeout": self.config.timeout, "max_bytes": self.max_bytes,
                              "verify": self.settings.ca_bundle or self.settings.verify_tls}
        if mode in ("basic", "bearer"):
            secret = self.secret("", required=True)
            assert secret is not None
            if mode == "basic":
                # UTF-8 bytes: requests would encode str as latin-1 and crash on anything outside it.
                kw["auth"] = ((self.settings.username or "").encode(), secret.encode())
            else:
                secret = secret.strip()   # a token pasted or piped into the keyring often ends in a newline
                if not secret.isascii() or any(c in secret for c in "\r\n"):
                    raise SourceError(f"the stored token is not a valid token (non-ASCII or line breaks): "
                                      f"run `secondline login {self.name}`", kind="credential")
                headers["Authorization"] = f"Bearer {secret}"
        kw["headers"] = headers
        return kw

    def _base(self) -> str:
        return self.settings.url.rstrip("/")

    def _ui_base(self) -> str:
        return (self.settings.ui_url or self.settings.url).rstrip("/")


def create_silence(source: ApiSource, http: Any, url: str, alert: Alert, *, author: str, comment: str,
                   duration_s: float) -> str:
    """POST a silence matching exactly the alert's labels; return the silence id."""
    labels = alert.ref.get("labels") if isinstance(alert.ref, Mapping) else None
    if not isinstance(labels, Mapping) or not labels:
        raise SourceError("this alert carries no labels to silence", kind="config")
    if duration_s <= 0:
        raise SourceError("the silence duration must be positive", kind="config")
    now = datetime.now(timezone.utc)
    body = {
        "matchers": [{"name": k, "value": str(v), "isRegex": False, "isEqual": True}
                     for k, v in sorted(labels.items())],
        "startsAt": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "endsAt": (now + timedelta(seconds=duration_s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "createdBy": author or "secondline",
        # Alertmanager rejects a silence without a comment.
        "comment": comment or f"acknowledged from secondline by {author or 'secondline'}",
    }
    kw = source._request_kw()
    kw["headers"] = {**kw["headers"], "Content-Type": "application/json"}
    answer = http.request("POST", url, json_body=body, **kw).json()
    answer = require(answer, dict, "the silence answer")
    sid = answer.get("silenceID") or answer.get("id")
    if not isinstance(sid, str) or not sid:
        raise SourceError("unexpected response shape: no silenceID in the answer", kind="bad_content")
    return sid


class AlertmanagerSource(ApiSource):
    type = "alertmanager"
    Settings = AlertmanagerSettings

    def fetch(self, http: Any) -> Any:
        params = [("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true")]
        params += [("filter", f) for f in self.settings.filters]
        return http.get_json(f"{self._base()}/api/v2/alerts", params=params, **self._request_kw())

    def parse(self, payload: Any) -> list[Alert]:
        ui = self._ui_base()
        return parse_am_alerts(payload, source=self.name, fallback_link=lambda labels: ui_alerts_link(ui, labels))

    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        return create_silence(self, http, f"{self._base()}/api/v2/silences", alert, author=author,
                              comment=comment, duration_s=duration_s)
