"""Prometheus Alertmanager (API v2) source, and the alert parser Grafana reuses.

Fetches every active alert, silenced and inhibited ones included, so that handled alerts are
listed (greyed) rather than vanishing: a silenced alert is still something on-call wants to see.
`severity` label: critical -> critical, warning or missing -> warning, info/none -> INFO (listed,
never raises). Silenced / inhibited / muted -> handled ("silenced").

Acknowledge = create a silence with equality matchers on the alert's labels (ref["labels"]).

Blindness (see base.py)
    An empty alert list is what a healthy Alertmanager answers, so emptiness itself says nothing. The
    telltale is elsewhere: the source's own narrowing naming nothing the server knows. When the answer
    is empty and `receiver` or `filters` are set (at most once per VISIBILITY_RECHECK while it stays
    empty): `receiver` must match one of `GET /api/v2/receivers` (a typo there is never excused);
    each positive matcher's label name (`team` in `team="db"`) must appear in the server's config
    (`GET /api/v2/status`, `config.original`: routes, inhibit rules) or on some current alert (`GET
    /api/v2/alerts` unfiltered), else "filters name label 'tema', which neither the Alertmanager config
    nor any current alert carries" (excused by allow_empty: a label set only by Prometheus rules, with no
    alert firing now, is possible). Matchers that an absent label satisfies (`!=`, `team=""`) are not asked.
    Without `receiver` or `filters` there is no signal: an empty list is all well.

URL forms: the UI address (`http://am:9093/#/alerts`) and API addresses (`.../api/v2`, `.../api/v2/alerts`)
are cut back to the base; a route prefix (`http://host/alertmanager`) is kept. A 404 says where the
API was looked for and that a route prefix belongs in `url`.
"""
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping
from urllib.parse import quote

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.sources.base import ACKNOWLEDGE, Finding, Recheck, Source, require
from tray.sources.common import api_base, parse_time

_CRITICAL = {"critical", "crit", "error", "page", "high", "disaster", "emergency", "fatal"}
_INFO = {"info", "informational", "information", "none", "debug", "notice", "ok"}
_AUTH_MODES = ("", "none", "basic", "bearer")
# Grafana turns a rule's "no data" / "error" handling into alerts with these names: they mean
# "cannot see", i.e. unknown, whatever severity label they carry.
GRAFANA_UNKNOWN_NAMES = ("DatasourceNoData", "DatasourceError")
_TARGET_LABELS = ("instance", "host", "hostname", "pod", "service", "job")
# Alertmanager (and Grafana's) answer JSON or nothing: an empty body came from something in front.
EMPTY_HINT = ("Alertmanager itself never answers an empty body: a proxy in front of it answered instead "
              "(is Alertmanager running behind it?)")
_MATCHER = re.compile(r'^\s*\{?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!=|!~|=)\s*"?(.*?)"?\s*\}?\s*$')


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
    receiver: str | None = None        # only alerts routed to this receiver (a name or regex), sent as receiver=

    def validate(self) -> None:
        super().validate()
        if self.receiver is not None:
            if not self.receiver.strip():
                raise ValueError("receiver: must not be empty")
            try:
                re.compile(self.receiver)
            except re.error as exc:
                raise ValueError(f"receiver: not a valid regular expression ({exc})") from None


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
    capabilities = frozenset({ACKNOWLEDGE})      # a silence on the alert's labels

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        self.visibility = Recheck()

    def _base(self) -> str:
        return api_base(self.settings.url, ("/api/v2", "/api/v1", "/#/"))

    def _ui_base(self) -> str:
        return api_base(self.settings.ui_url, ("/#/",)) if self.settings.ui_url else self._base()

    def _get(self, http: Any, path: str, params: Any = None) -> Any:
        kw = self._request_kw()
        resp = http.request("GET", f"{self._base()}{path}", params=params, ok_statuses=(400, 404),
                            empty_hint=EMPTY_HINT, **kw)
        if resp.status == 404:
            raise SourceError(f"no Alertmanager API at {self._base()}{path} (HTTP 404): `url` is the address "
                              "Alertmanager serves its UI at (http://HOST:9093), with its route prefix if it has "
                              "one (http://HOST/alertmanager)", kind="http")
        if resp.status == 400:
            detail = resp.body.decode("utf-8", "replace").strip().strip('"').splitlines()
            raise SourceError(f"Alertmanager refused the query (HTTP 400: {(detail or ['?'])[0][:160]}): "
                              "check `filters` (matchers like team=\"db\") and `receiver`", kind="config")
        return resp.json()

    def fetch(self, http: Any) -> Any:
        return self._get(http, "/api/v2/alerts", self._params())

    def _params(self, narrowed: bool = True) -> list[tuple[str, str]]:
        params = [("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true")]
        if narrowed:
            params += [("filter", f) for f in self.settings.filters]
            if self.settings.receiver:
                params.append(("receiver", self.settings.receiver))
        return params

    def parse(self, payload: Any) -> list[Alert]:
        ui = self._ui_base()
        return parse_am_alerts(payload, source=self.name, fallback_link=lambda labels: ui_alerts_link(ui, labels))

    def poll(self, http: Any) -> Reading:
        alerts = self.parse(self.fetch(http))
        s = self.settings
        if alerts or not (s.filters or s.receiver):
            return Reading(alerts=tuple(alerts))
        return Reading(alerts=self.sight(alerts, self.probe(self.visibility, lambda: self._narrowing_finding(http))))

    def _narrowing_finding(self, http: Any) -> Finding | None:
        """Does `receiver` / do `filters` name anything the server knows? (See the module docstring.)"""
        s = self.settings
        if s.receiver:
            finding = unknown_receiver(s.receiver, receiver_names(self._get(http, "/api/v2/receivers")))
            if finding:
                return self.blind(finding, "check `receiver` against the server's route tree", excusable=False)
        unknown = matcher_labels(s.filters)
        if unknown:
            config_text = status_config(self._get(http, "/api/v2/status"))
            unknown = [n for n in unknown if not label_in_config(n, config_text)]
        if unknown:
            present = labels_in_alerts(self._get(http, "/api/v2/alerts", self._params(narrowed=False)))
            unknown = [n for n in unknown if n not in present]
        if unknown:
            return self.blind(
                f"filters name label{'s' if len(unknown) > 1 else ''} {', '.join(repr(n) for n in unknown)}, which "
                "neither the Alertmanager config nor any current alert carries, so they can match nothing",
                "check the label names in `filters`")
        return None

    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        return create_silence(self, http, f"{self._base()}/api/v2/silences", alert, author=author,
                              comment=comment, duration_s=duration_s)


# -- blindness (pure) -------------------------------------------------------------------------

def receiver_names(payload: Any) -> list[str]:
    """`GET /api/v2/receivers` -> the receiver names."""
    out = []
    for item in require(payload, list, "the receiver list"):
        name = require(item, dict, "a receiver").get("name")
        if isinstance(name, str):
            out.append(name)
    return out


def unknown_receiver(receiver: str, names: list[str]) -> str | None:
    """A finding when `receiver` (a name or, as the API takes it, an anchored regex) matches no receiver."""
    try:
        pattern = re.compile(f"(?:{receiver})")
    except re.error:
        pattern = re.compile(re.escape(receiver))
    if any(pattern.fullmatch(n) for n in names):
        return None
    known = ", ".join(sorted(names)[:8]) + (", ..." if len(names) > 8 else "") if names else "none"
    return f"receiver {receiver!r} matches none of the server's receivers ({known})"


def matcher_labels(filters: list[str]) -> list[str]:
    """The label names of the matchers that need the label to exist: `=` / `=~` whose value does not
    match the empty string (an absent label reads as "", so `team=""` or `env=~"prod|"` match without it)."""
    out = []
    for f in filters:
        m = _MATCHER.match(f)
        if not m or m.group(2) not in ("=", "=~") or m.group(1) in out:
            continue
        name, op, value = m.groups()
        if op == "=" and value == "":
            continue
        if op == "=~":
            try:
                if re.fullmatch(value, ""):
                    continue
            except re.error:
                continue            # a regex Python cannot read (RE2 syntax): make no claim about it
        out.append(name)
    return out


def status_config(payload: Any) -> str:
    """`GET /api/v2/status` -> the server's config text (`config.original`), "" when absent."""
    body = require(payload, dict, "the status answer")
    config = body.get("config")
    original = config.get("original") if isinstance(config, dict) else None
    return original if isinstance(original, str) else ""


def label_in_config(name: str, config_text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", config_text) is not None


def labels_in_alerts(payload: Any) -> set[str]:
    names: set[str] = set()
    for item in require(payload, list, "the alert list"):
        labels = item.get("labels") if isinstance(item, dict) else None
        if isinstance(labels, dict):
            names.update(str(k) for k in labels)
    return names
