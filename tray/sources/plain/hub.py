"""Another secondline instance as a source: one shared poller, any number of readers.

A team runs `secondline run --headless` on a shared host (behind its own reverse proxy) and every
member's tray reads its `/status.json`. The alerts keep their upstream source names and links: the
hub source's own name and group only decide where they are listed and counted here.

An upstream source that cannot read its own target (an error, or stale data) shows here as one
unknown alert with the upstream's reason, rather than vanishing.

`url` is the upstream's base (`http://host:port`, or the proxy's path). A bearer token for the
proxy is optional: `secondline login NAME` stores it. The upstream endpoint only answers requests
whose Host is its own loopback address (DNS-rebinding guard), so the proxy must rewrite it, e.g.
nginx `proxy_set_header Host 127.0.0.1:17474;`.

Blindness (see base.py)
    The upstream's own blind sources arrive as its errors (one unknown alert each, above). The hub's
    signal is an upstream that watches nothing: `sources` empty in its status document (a shared
    instance started with an empty or wrong config). Said from the one answer, no extra request;
    excused by allow_empty.

URL forms: the upstream's base (`http://host:17474`), its dashboard or any endpoint of it
(`/status.json`, `/events`, `/healthz`, `/#...`) all read `/status.json` under the same prefix.
"""
from dataclasses import dataclass
from typing import Any

from tray.platform.credentials import REDACTOR
from tray.core.errors import SourceError
from tray.core.model import HANDLED_REASONS, Alert, Reading, Severity
from tray.sources.common import api_base, check_http_url, parse_time
from tray.sources.base import Source, require

# The status schemas this reader understands: 2 only adds what each source can do, which a hub (whose
# alerts are another tray's to act on) does not use, so a tray of either version can be read.
SCHEMA_VERSIONS = (1, 2)
UNREADABLE_ID = "secondline:unreadable"
_SEVERITIES = {s.value: s for s in Severity}
ENDPOINTS = ("/status.json", "/events", "/healthz", "/index.html", "/#", "/?")
EMPTY_HINT = ("secondline never answers an empty body: the proxy in front of the upstream answered instead "
              "(is `secondline run --headless` running behind it?)")


@dataclass(frozen=True)
class HubSettings:
    url: str
    verify_tls: bool = True
    ca_bundle: str | None = None

    def validate(self) -> None:
        check_http_url(self.url)


class HubSource(Source):
    type = "secondline"
    Settings = HubSettings
    secrets = ("",)
    secret_optional = True

    def status_url(self) -> str:
        return api_base(self.settings.url, ENDPOINTS) + "/status.json"

    def fetch(self, http: Any) -> Any:
        headers = {"Accept": "application/json"}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        s = self.settings
        return http.get_json(self.status_url(), source=self.name, headers=headers,
                             timeout=self.config.timeout, max_bytes=self.max_bytes,
                             verify=s.ca_bundle if s.ca_bundle else s.verify_tls, empty_hint=EMPTY_HINT)

    def parse(self, payload: Any) -> list[Alert]:
        return upstream_alerts(payload)

    def poll(self, http: Any) -> Reading:
        payload = self.fetch(http)
        alerts = self.parse(payload)
        finding = None
        if not payload.get("sources"):      # parse() has checked it is a list
            finding = self.blind(f"the upstream at {self.status_url()} watches no sources",
                                 "check the config of the shared `secondline run --headless` (its [[sources]])")
        return Reading(alerts=self.sight(alerts, finding))

    def _token(self) -> str | None:
        try:
            return self.secret()
        except SourceError as exc:
            # The token is optional: a headless hub reader on a server with no keyring at all must
            # still read an upstream that needs none. If the proxy does want one, its 401 says so.
            if exc.kind == "credential":
                return None
            raise


# -- pure parsing ----------------------------------------------------------------------------

def upstream_alerts(payload: Any) -> list[Alert]:
    doc = require(payload, dict, "the upstream status document")
    version = doc.get("schema")
    if version not in SCHEMA_VERSIONS:
        raise SourceError(f"the upstream speaks status schema {version!r}, this secondline reads "
                          f"{' and '.join(map(str, SCHEMA_VERSIONS))}: run the same version on both",
                          kind="bad_content")
    alerts: list[Alert] = []
    keys: set[tuple[str, str]] = set()
    for item in require(doc.get("sources"), list, "sources"):
        src = require(item, dict, "an upstream source")
        name = src.get("name")
        if not isinstance(name, str) or not name:
            raise SourceError("unexpected response shape: an upstream source has no name", kind="bad_content")
        for raw in require(src.get("alerts", []), list, "alerts"):
            alert = upstream_alert(name, raw)
            if alert.key not in keys:
                keys.add(alert.key)
                alerts.append(alert)
        problem = _unreadable_reason(src)
        if problem is not None:
            alerts.append(Alert(source=name, id=UNREADABLE_ID, title=f"{name} cannot be read upstream",
                                severity=Severity.UNKNOWN, detail=problem,
                                since=parse_time(src.get("checked_at"))))
    return alerts


def _unreadable_reason(src: dict) -> str | None:
    error = src.get("error")
    if isinstance(error, str) and error:
        # Upstream text, shown in this endpoint and dashboard: redacted like a log line (an upstream may
        # echo our token, or its own, back in it).
        return REDACTOR.redact(error)
    if src.get("stale") is True:
        return "stale: the upstream has not read it for too long"
    return None   # fine, or not polled yet upstream: nothing known, nothing wrong


def upstream_alert(source_name: str, raw: Any) -> Alert:
    a = require(raw, dict, "an upstream alert")
    aid = a.get("id")
    if not isinstance(aid, str) or not aid:
        raise SourceError("unexpected response shape: an upstream alert has no id", kind="bad_content")
    source = a.get("source") if isinstance(a.get("source"), str) and a.get("source") else source_name
    # _str first: a list or an object here (garbage from a broken hub) is not hashable.
    severity = _SEVERITIES.get(_str(a.get("severity")), Severity.UNKNOWN)
    reason = a.get("handled_reason") if a.get("handled_reason") in HANDLED_REASONS else None
    handled = a.get("handled") is True
    url = a.get("url")
    return Alert(source=source, id=aid, title=REDACTOR.redact(_str(a.get("title"))) or aid, severity=severity,
                 detail=REDACTOR.redact(_str(a.get("detail"))), since=parse_time(a.get("since")),
                 url=url if isinstance(url, str) else None, handled=handled,
                 handled_reason=reason if handled else None, pending=a.get("pending") is True,
                 ref={"upstream_source": source_name})


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
