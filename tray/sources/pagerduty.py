"""PagerDuty REST API v2: open incidents, and whether one user is on call.

Store the API token with `secondline login NAME` (a user or read-only account token).

Requests: `GET /incidents?statuses[]=triggered&statuses[]=acknowledged&date_range=all` plus the
configured filters, paged with `limit`/`offset` while `more` is true. `date_range=all` matters:
without it PagerDuty searches only the last month and older open incidents silently vanish.
With `user_id` set, `GET /oncalls?user_ids[]=ID&earliest=true` says whether that user is on call now.
"""
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tray.errors import SourceError
from tray.model import Alert, OnCall, Reading, Severity
from tray.sources.common import check_http_url, parse_time
from tray.sources.base import Source, require

DEFAULT_URL = "https://api.pagerduty.com"
ACCEPT = "application/vnd.pagerduty+json;version=2"
# PagerDuty documents no Retry-After on 429; without a `ratelimit-reset` we wait this long.
DEFAULT_BACKOFF_S = 30.0
# PagerDuty refuses offset + limit > 10000, so more than 100 pages of 100 can never be right.
MAX_OFFSET = 10000
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class PagerDutySettings:
    url: str = DEFAULT_URL
    service_ids: list[str] = field(default_factory=list)
    team_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    urgencies: list[str] = field(default_factory=list)
    user_id: str | None = None          # on-call status of this user
    from_email: str | None = None       # the `From` header PagerDuty requires to acknowledge
    page_size: int = 100
    max_pages: int = 50

    def validate(self) -> None:
        check_http_url(self.url)
        bad = [u for u in self.urgencies if u not in ("high", "low")]
        if bad:
            raise ValueError(f"urgencies: {bad[0]!r} is not high or low")
        if not 1 <= self.page_size <= 100:
            raise ValueError("page_size: must be between 1 and 100")
        if not 1 <= self.max_pages <= MAX_OFFSET // self.page_size:
            raise ValueError(f"max_pages: must be between 1 and {MAX_OFFSET // self.page_size}")
        for key in ("service_ids", "team_ids", "user_ids"):
            for v in getattr(self, key):
                if not _ID.match(v):
                    raise ValueError(f"{key}: {v!r} is not a PagerDuty id")
        if self.user_id is not None and not _ID.match(self.user_id):
            raise ValueError(f"user_id: {self.user_id!r} is not a PagerDuty id")


class PagerDutySource(Source):
    type = "pagerduty"
    Settings = PagerDutySettings
    secrets = ("",)

    # -- reading -----------------------------------------------------------------------------
    def poll(self, http: Any) -> Reading:
        headers = self._headers()
        alerts: list[Alert] = []
        seen: set[str] = set()
        offset = 0
        for _ in range(self.settings.max_pages):
            resp = self._get(http, "/incidents", self._incident_params(offset), headers)
            page_alerts, more, ids = parse_page(self.name, resp.json())
            new_ids = set(ids) - seen
            # Incidents move between pages while we read: keep the first copy of each.
            for alert in page_alerts:
                if alert.id not in seen:
                    seen.add(alert.id)
                    alerts.append(alert)
            seen.update(new_ids)
            if not more:
                break
            if not new_ids:
                # A page that says "more" but brings nothing new would be asked for forever.
                raise SourceError("PagerDuty paging does not advance (the same page again): "
                                  "stopped reading", kind="bad_content")
            offset += len(ids)
            if offset + self.settings.page_size > MAX_OFFSET:
                raise SourceError(f"more than {MAX_OFFSET} open incidents: narrow the filters",
                                  kind="bad_content")
            _check_budget(resp.headers)
        else:
            raise SourceError(f"PagerDuty paging did not end after {self.settings.max_pages} pages: "
                              "narrow the filters or raise max_pages", kind="bad_content")
        on_call = None
        if self.settings.user_id:
            resp = self._get(http, "/oncalls", [("user_ids[]", self.settings.user_id),
                                                ("earliest", "true")], headers)
            on_call = parse_oncall(resp.json())
        return Reading(alerts=tuple(alerts), on_call=on_call)

    def fetch(self, http: Any) -> Any:
        """One page of incidents (the first); `poll` is what reads them all."""
        return self._get(http, "/incidents", self._incident_params(0), self._headers()).json()

    def parse(self, payload: Any) -> list[Alert]:
        return parse_page(self.name, payload)[0]

    # -- actions -----------------------------------------------------------------------------
    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        if not self.settings.from_email:
            raise SourceError("set `from_email` (your PagerDuty login) on this source to acknowledge",
                              kind="config")
        incident = str(alert.ref.get("incident_id") or alert.id)
        if not _ID.match(incident):
            raise SourceError(f"not a PagerDuty incident id: {incident!r}", kind="config")
        headers = {**self._headers(), "From": self.settings.from_email}
        body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
        try:
            http.request("PUT", f"{self._base()}/incidents/{quote(incident)}", source=self.name,
                         headers=headers, json_body=body, timeout=self.config.timeout)
        except SourceError as exc:
            raise _with_backoff(exc) from None
        return f"acknowledged PagerDuty incident {incident}"

    # -- plumbing ----------------------------------------------------------------------------
    def _base(self) -> str:
        return self.settings.url.rstrip("/")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Token token={self.secret()}", "Accept": ACCEPT}

    def _incident_params(self, offset: int) -> list[tuple[str, str]]:
        s = self.settings
        params = [("statuses[]", "triggered"), ("statuses[]", "acknowledged"), ("date_range", "all"),
                  ("limit", str(s.page_size)), ("offset", str(offset))]
        for key, values in (("service_ids[]", s.service_ids), ("team_ids[]", s.team_ids),
                            ("user_ids[]", s.user_ids), ("urgencies[]", s.urgencies)):
            params.extend((key, v) for v in values)
        return params

    def _get(self, http: Any, path: str, params: list[tuple[str, str]], headers: dict[str, str]) -> Any:
        try:
            return http.request("GET", self._base() + path, source=self.name, params=params,
                                headers=headers, timeout=self.config.timeout, max_bytes=self.max_bytes)
        except SourceError as exc:
            raise _with_backoff(exc) from None


def _with_backoff(exc: SourceError) -> SourceError:
    """A 429 without `ratelimit-reset` still needs a wait, or the scheduler would hammer on."""
    if exc.kind == "rate_limited" and exc.retry_after is None:
        return SourceError(f"{exc.reason} (no ratelimit-reset: waiting {DEFAULT_BACKOFF_S:.0f}s)",
                           kind="rate_limited", retry_after=DEFAULT_BACKOFF_S)
    return exc


def _check_budget(headers: Any) -> None:
    """Stop paging before PagerDuty has to refuse us: the next page would be a 429."""
    remaining = headers.get("ratelimit-remaining")
    if remaining is None or not remaining.strip().lstrip("-").isdigit() or int(remaining) > 0:
        return
    reset = headers.get("ratelimit-reset", "")
    try:
        wait = max(0.0, float(reset))
    except ValueError:
        wait = DEFAULT_BACKOFF_S
    raise SourceError(f"PagerDuty rate limit used up mid-paging: retrying in {wait:.0f}s",
                      kind="rate_limited", retry_after=wait)


# -- pure parsing ----------------------------------------------------------------------------

def parse_page(source: str, payload: Any) -> tuple[list[Alert], bool, list[str]]:
    """One `/incidents` page -> (alerts, more, ids of every incident on the page)."""
    body = require(payload, dict, "the PagerDuty answer")
    incidents = require(body.get("incidents"), list, "incidents")
    more = body.get("more", False)
    if not isinstance(more, bool):
        raise SourceError("unexpected response shape: more is not true/false", kind="bad_content")
    alerts, ids = [], []
    for incident in incidents:
        alert = incident_alert(source, incident)
        ids.append(incident["id"])
        if alert is not None:
            alerts.append(alert)
    return alerts, more, ids


def incident_alert(source: str, incident: Any) -> Alert | None:
    inc = require(incident, dict, "an incident")
    inc_id = inc.get("id")
    if not isinstance(inc_id, str) or not inc_id:
        raise SourceError("unexpected response shape: an incident has no id", kind="bad_content")
    status = inc.get("status")
    if status == "resolved":
        return None
    # Anything but an explicit low urgency pages someone: read it as high.
    severity = Severity.WARNING if inc.get("urgency") == "low" else Severity.CRITICAL
    acked = status == "acknowledged"
    number = inc.get("incident_number")
    title = _text(inc.get("title")) or _text(inc.get("summary")) or f"incident {inc_id}"
    parts = []
    service = inc.get("service")
    if isinstance(service, dict) and _text(service.get("summary")):
        parts.append(_text(service["summary"]))
    priority = inc.get("priority")
    if isinstance(priority, dict) and _text(priority.get("summary")):
        parts.append(_text(priority["summary"]))
    if isinstance(number, int) and not isinstance(number, bool):
        parts.append(f"#{number}")
    parts.append(f"{inc.get('urgency') if inc.get('urgency') in ('high', 'low') else 'high'} urgency")
    url = inc.get("html_url")
    return Alert(source=source, id=inc_id, title=title, severity=severity, detail=" · ".join(parts),
                 since=parse_time(inc.get("created_at")), url=url if isinstance(url, str) else None,
                 handled=acked, handled_reason="acknowledged" if acked else None,
                 ref={"incident_id": inc_id})


def parse_oncall(payload: Any) -> OnCall:
    """`/oncalls?earliest=true` for one user: any entry means on call now; until = last end."""
    body = require(payload, dict, "the PagerDuty on-call answer")
    entries = require(body.get("oncalls"), list, "oncalls")
    if not entries:
        return OnCall(on_call=False)
    ends = []
    for entry in entries:
        require(entry, dict, "an on-call entry")
        end = parse_time(entry.get("end"))
        if end is None:
            # No end: on call through an escalation policy directly, with no shift to run out.
            return OnCall(on_call=True, until=None)
        ends.append(end)
    return OnCall(on_call=True, until=max(ends))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
