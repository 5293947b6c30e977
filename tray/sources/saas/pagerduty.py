"""PagerDuty REST API v2: open incidents, and whether one user is on call.

Store the API token with `secondline login NAME` (a user or read-only account token).

Requests: `GET /incidents?statuses[]=triggered&statuses[]=acknowledged&date_range=all` plus the
configured filters, paged with `limit`/`offset` while `more` is true. `date_range=all` matters:
without it PagerDuty searches only the last month and older open incidents silently vanish.
With `user_id` set, `GET /oncalls?user_ids[]=ID&earliest=true` says whether that user is on call now.

Blindness (see base.py)
    No open incident is what a calm account answers, and also what a token that sees nothing answers
    (a restricted user's token outside every team, service ids from another account). When the list is
    empty (at most once per VISIBILITY_RECHECK while it stays empty) the scope is checked: each of
    `service_ids` (`GET /services/ID`), `team_ids` (`GET /teams/ID`) and `user_ids` (`GET /users/ID`)
    must exist for this token (a 404 is never excused: "service PX does not exist or the token cannot
    see it"); then `GET /services?limit=1&total=true` (narrowed to `team_ids`) must count at least one
    service ("the token sees no services", excused by allow_empty). An empty on-call answer for
    `user_id` is checked the same way (`GET /users/ID`): a user the token cannot see is never "not on
    call". Incidents on the page prove sight: no extra request then.

URL forms: `url` is the REST API (https://api.pagerduty.com, EU https://api.eu.pagerduty.com); the
web app's address (https://ACME.pagerduty.com) is refused at load with that advice.
"""
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from tray.core.errors import SourceError
from tray.core.model import Alert, OnCall, Reading, Severity
from tray.sources.common import check_http_url, parse_time
from tray.sources.base import ACKNOWLEDGE, Finding, Recheck, Source, require

DEFAULT_URL = "https://api.pagerduty.com"
ACCEPT = "application/vnd.pagerduty+json;version=2"
# PagerDuty documents no Retry-After on 429; without a `ratelimit-reset` we wait this long.
DEFAULT_BACKOFF_S = 30.0
# PagerDuty refuses offset + limit > 10000, so more than 100 pages of 100 can never be right.
MAX_OFFSET = 10000
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EMPTY_HINT = ("PagerDuty never answers an empty body: a proxy between here and api.pagerduty.com answered "
              "instead")


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
        host = urlsplit(self.url).hostname or ""
        if host.endswith(".pagerduty.com") and not host.startswith("api."):
            raise ValueError(f"url: {host} is the PagerDuty web app; the REST API is https://api.pagerduty.com "
                             "(EU accounts: https://api.eu.pagerduty.com): leave url unset for the default")
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
    capabilities = frozenset({ACKNOWLEDGE})      # the incident, as the user (From: [user] email)
    secrets = ("",)

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        self.visibility = Recheck()

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
        finding = None
        empty = not alerts and not seen
        off_call = on_call is not None and not on_call.on_call
        if empty or off_call:
            finding = self.probe(self.visibility, lambda: self._scope_finding(http, headers, incidents=empty,
                                                                           on_call=off_call))
        return Reading(alerts=self.sight(alerts, finding), on_call=on_call)

    def _scope_finding(self, http: Any, headers: dict[str, str], *, incidents: bool,
                       on_call: bool) -> Finding | None:
        """Why an empty answer may be blindness, or None when the token can see its scope."""
        s = self.settings
        who = self.reader("the PagerDuty token", "token")
        checks: list[tuple[str, str]] = []
        if incidents:
            checks += [(f"/services/{quote(v)}", f"service {v}") for v in s.service_ids]
            checks += [(f"/teams/{quote(v)}", f"team {v}") for v in s.team_ids]
            checks += [(f"/users/{quote(v)}", f"user {v}") for v in s.user_ids]
        if on_call and s.user_id:
            checks.append((f"/users/{quote(s.user_id)}", f"user_id {s.user_id}"))
        for path, what in checks:
            if self._missing(http, path, headers):
                return self.blind(f"{what} does not exist or {who} cannot see it",
                                  "check the id in the source's config (the last part of its PagerDuty page's "
                                  "address) and the token's team access", excusable=False)
        if not incidents or s.service_ids:
            return None
        params = [("limit", "1"), ("total", "true")] + [("team_ids[]", v) for v in s.team_ids]
        if count_services(self._get(http, "/services", params, headers).json()) == 0:
            scope = f" in team{'s' if len(s.team_ids) > 1 else ''} {', '.join(s.team_ids)}" if s.team_ids else ""
            return self.blind(f"{who} sees no services{scope}",
                              "use the token of a user in the teams that own the services, or a read-only "
                              "account API key")
        return None

    def _missing(self, http: Any, path: str, headers: dict[str, str]) -> bool:
        try:
            resp = http.request("GET", self._base() + path, source=self.name, headers=headers,
                                timeout=self.config.timeout, max_bytes=self.max_bytes, ok_statuses=(404,),
                                empty_hint=EMPTY_HINT)
        except SourceError as exc:
            raise _with_backoff(exc) from None
        return resp.status == 404

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
                                headers=headers, timeout=self.config.timeout, max_bytes=self.max_bytes,
                                empty_hint=EMPTY_HINT)
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


def count_services(payload: Any) -> int:
    """`GET /services?limit=1&total=true` -> how many services the token sees (`total`, else the page)."""
    body = require(payload, dict, "the PagerDuty services answer")
    services = require(body.get("services"), list, "services")
    total = body.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return max(total, len(services))
    return len(services)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
