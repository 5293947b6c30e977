"""Zendesk Support: open tickets of one view, or of one search, counted like a 2nd-line display screen.

Store the API token with `secondline login NAME`; `email` is the agent the token belongs to
(Zendesk's Basic auth user is `EMAIL/token`, the password is the token).

- `view_id`: `GET /api/v2/views/ID/count.json` first (cheap, and 0 means nothing to read). While
  Zendesk is still computing it (`fresh: false`) the source shows one "counting" line that never
  raises: that is not an error. Otherwise `GET /api/v2/views/ID/tickets.json` with cursor paging.
- `query`: `GET /api/v2/search.json?query=type:ticket ...`, following `next_page` on the same host.

Only new/open tickets count (hold, pending, solved and closed are someone else's move). Urgent tickets
are critical; the others warn once `warning_at` tickets are open, and turn critical at `critical_at`
(GOV.UK's screen: amber at 1, red at 5); below `warning_at` they are listed without raising.

Blindness (see base.py)
    A count of 0 or a search with no result is what a quiet queue answers. Two telltales:
    - a `view_id` that does not exist, or that the agent cannot see, answers 404 on count.json: the
      source says so (never excused: a typo is not an empty queue);
    - when the answer is empty (at most once per VISIBILITY_RECHECK while it stays empty), the token's
      identity, `GET /api/v2/users/me.json`: an end-user (or an anonymous answer, `id` null) sees only
      their own requests, so 0 tickets means nothing. The reason names the user and their role; with
      `view_id`, `GET /api/v2/views/ID.json` must also say `active: true` (an inactive view is nobody's
      queue). Tickets in the answer prove sight: no extra request then.

URL forms: `url` may be any address of the account (`https://acme.zendesk.com/agent/filters/25`,
`.../api/v2`, `.../hc/en-us`): it is cut back to the account's base (a proxy's path prefix is kept).
"""
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.sources.common import api_base, check_http_url, parse_time
from tray.sources.base import Finding, Recheck, Source, blind_error, require

IGNORED_STATUSES = frozenset({"hold", "pending", "solved", "closed"})
COUNTING_ID = "counting"
_SUBDOMAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
AGENT_ROLES = ("agent", "admin")
# Where a pasted address of the account stops being its base (agent UI, API, help centre, sign-in).
ACCOUNT_PATHS = ("/agent", "/api/v2", "/hc/", "/access/", "/#", "/?")
EMPTY_HINT = ("Zendesk never answers an empty body: a proxy between here and Zendesk answered instead")


@dataclass(frozen=True)
class ZendeskSettings:
    email: str
    subdomain: str | None = None
    url: str | None = None              # default https://SUBDOMAIN.zendesk.com
    view_id: int | None = None
    query: str | None = None
    warning_at: int = 1
    critical_at: int | None = None
    page_size: int = 100
    max_pages: int = 20

    def validate(self) -> None:
        if (self.view_id is None) == (self.query is None):
            raise ValueError("view_id: set exactly one of view_id or query")
        if self.query is not None and not self.query.strip():
            raise ValueError("query: must not be empty")
        if self.subdomain is None and self.url is None:
            raise ValueError("subdomain: set subdomain (or url)")
        if self.subdomain is not None and not _SUBDOMAIN.match(self.subdomain):
            raise ValueError(f"subdomain: {self.subdomain!r} is not a Zendesk subdomain (the ACME "
                             "in acme.zendesk.com)")
        check_http_url(self.url)
        if "@" not in self.email:
            raise ValueError("email: the agent's email address, as in `agent@example.com`")
        if self.warning_at < 1:
            raise ValueError("warning_at: must be 1 or more")
        if self.critical_at is not None and self.critical_at < self.warning_at:
            raise ValueError("critical_at: must not be below warning_at")
        if not 1 <= self.page_size <= 100:
            raise ValueError("page_size: must be between 1 and 100")
        if self.max_pages < 1:
            raise ValueError("max_pages: must be 1 or more")


class ZendeskSource(Source):
    type = "zendesk"
    Settings = ZendeskSettings
    secrets = ("",)

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        self.visibility = Recheck()

    def poll(self, http: Any) -> Reading:
        if self.settings.view_id is not None:
            count = self._get(http, f"/api/v2/views/{self.settings.view_id}/count.json")
            fresh, value = parse_count(count)
            if not fresh:
                return Reading(alerts=(self.counting_alert(),))
            tickets = self._view_tickets(http) if value else []
        else:
            tickets = self._search(http)
        alerts = self.parse({"tickets": tickets})
        finding = None if tickets else self.probe(self.visibility, lambda: self._sight_finding(http))
        return Reading(alerts=self.sight(alerts, finding))

    def _sight_finding(self, http: Any) -> Finding | None:
        """Who the token signs in as, and (with view_id) whether the view is active. Asked on empty answers."""
        me = self._get(http, "/api/v2/users/me.json")
        finding = agent_finding(me, self.settings.email)
        if finding:
            from tray.platform.credentials import refused_fix
            return self.blind(finding, f"set `email` to an agent's address and use that agent's API token; "
                              f"{refused_fix(self.name)}", excusable=False)
        if self.settings.view_id is not None:
            view = self._get(http, f"/api/v2/views/{self.settings.view_id}.json")
            if view_inactive(view):
                return self.blind(f"view {self.settings.view_id} is inactive (nobody's queue)",
                                  "point view_id to the view the team works from", excusable=False)
        return None

    def fetch(self, http: Any) -> Any:
        tickets = self._view_tickets(http) if self.settings.view_id is not None else self._search(http)
        return {"tickets": tickets}

    def parse(self, payload: Any) -> list[Alert]:
        return ticket_alerts(self.name, payload, self.web_base(), self.settings.warning_at,
                             self.settings.critical_at)

    def counting_alert(self) -> Alert:
        return Alert(source=self.name, id=COUNTING_ID,
                     title=f"Zendesk is still counting view {self.settings.view_id}",
                     severity=Severity.INFO, pending=True, detail="the count is not fresh yet",
                     url=f"{self.web_base()}/agent/filters/{self.settings.view_id}")

    # -- plumbing ----------------------------------------------------------------------------
    def web_base(self) -> str:
        if self.settings.url:
            return api_base(self.settings.url, ACCOUNT_PATHS)
        return f"https://{self.settings.subdomain}.zendesk.com"

    def _get(self, http: Any, path_or_url: str, params: Any = None) -> Any:
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.web_base() + path_or_url
        resp = http.request("GET", url, source=self.name, params=params, timeout=self.config.timeout,
                            auth=(f"{self.settings.email}/token", self.secret()),
                            headers={"Accept": "application/json"}, max_bytes=self.max_bytes,
                            ok_statuses=(404,), empty_hint=EMPTY_HINT)
        if resp.status == 404:
            view = self.settings.view_id
            if view is not None and f"/views/{view}" in url:
                who = self.reader(f"agent {self.settings.email}", "token")
                raise blind_error(f"view {view} does not exist, or {who} cannot see it (HTTP 404): check view_id "
                                  f"(the number in the view's address, {self.web_base()}/agent/filters/ID)")
            raise SourceError(f"no Zendesk API at {url.split('?', 1)[0]} (HTTP 404): `url` is the account's "
                              "address, https://SUBDOMAIN.zendesk.com (or set `subdomain`)", kind="http")
        return resp.json()

    def _view_tickets(self, http: Any) -> list[Any]:
        path = f"/api/v2/views/{self.settings.view_id}/tickets.json"
        tickets: list[Any] = []
        cursors: set[str] = set()
        params: dict[str, Any] = {"page[size]": self.settings.page_size}
        for _ in range(self.settings.max_pages):
            page = require(self._get(http, path, params), dict, "the Zendesk answer")
            tickets.extend(require(page.get("tickets"), list, "tickets"))
            cursor = next_cursor(page)
            if cursor is None:
                return tickets
            if cursor in cursors:
                raise SourceError("Zendesk paging loops (the same cursor again): stopped reading",
                                  kind="bad_content")
            cursors.add(cursor)
            params = {"page[size]": self.settings.page_size, "page[after]": cursor}
        raise SourceError(f"Zendesk view paging did not end after {self.settings.max_pages} pages: "
                          "raise max_pages or narrow the view", kind="bad_content")

    def _search(self, http: Any) -> list[Any]:
        query = self.settings.query.strip()
        if "type:ticket" not in query:
            query = f"type:ticket {query}"
        url: str | None = self.web_base() + "/api/v2/search.json"
        params: Any = {"query": query, "per_page": self.settings.page_size}
        results: list[Any] = []
        seen: set[str] = set()
        for _ in range(self.settings.max_pages):
            page = require(self._get(http, url, params), dict, "the Zendesk answer")
            results.extend(require(page.get("results"), list, "results"))
            url = page.get("next_page")
            if url is None:
                return results
            if not isinstance(url, str) or url in seen:
                raise SourceError("Zendesk search paging loops or is malformed: stopped reading",
                                  kind="bad_content")
            if not _same_origin(url, self.web_base()):
                # next_page carries our credential along: never to another host.
                raise SourceError("Zendesk search next_page points to another host: stopped reading",
                                  kind="bad_content")
            seen.add(url)
            params = None   # next_page already holds the query
        raise SourceError(f"Zendesk search paging did not end after {self.settings.max_pages} pages: "
                          "narrow the query", kind="bad_content")


def agent_finding(payload: Any, email: str) -> str | None:
    """`users/me.json` -> why this identity cannot see a queue (an end-user, anonymous), or None. Pure."""
    user = require(require(payload, dict, "the users/me answer").get("user"), dict, "user")
    role = user.get("role")
    name = user.get("name") if isinstance(user.get("name"), str) else "?"
    if user.get("id") is None:
        return (f"the credential for {email} signs in as nobody (Zendesk answers as {name!r}), who sees no "
                "tickets")
    if role not in AGENT_ROLES:
        return (f"{email} signs in as {name!r} (role {role or 'none'}), who sees only their own requests, "
                "never a team's queue")
    return None


def view_inactive(payload: Any) -> bool:
    view = require(require(payload, dict, "the view answer").get("view"), dict, "view")
    return view.get("active") is False


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


# -- pure parsing ----------------------------------------------------------------------------

def parse_count(payload: Any) -> tuple[bool, int | None]:
    """`count.json` -> (fresh, value). A null value reads as not fresh whatever the flag says."""
    body = require(payload, dict, "the Zendesk count answer")
    count = require(body.get("view_count"), dict, "view_count")
    value = count.get("value")
    fresh = count.get("fresh")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise SourceError("unexpected response shape: view_count.value is not a count", kind="bad_content")
    if not isinstance(fresh, bool):
        raise SourceError("unexpected response shape: view_count.fresh is not true/false",
                          kind="bad_content")
    return (fresh and value is not None), value


def next_cursor(page: dict) -> str | None:
    """The cursor of the next view page, or None at the end."""
    meta = page.get("meta")
    if meta is None:
        return None
    meta = require(meta, dict, "meta")
    has_more = meta.get("has_more", False)
    if not isinstance(has_more, bool):
        raise SourceError("unexpected response shape: meta.has_more is not true/false", kind="bad_content")
    if not has_more:
        return None
    cursor = meta.get("after_cursor")
    if not isinstance(cursor, str) or not cursor:
        raise SourceError("Zendesk says there are more tickets but gives no cursor", kind="bad_content")
    return cursor


def ticket_alerts(source: str, payload: Any, web_base: str, warning_at: int = 1,
                  critical_at: int | None = None) -> list[Alert]:
    """Tickets (a view's `tickets` or a search's `results`) -> one alert per open ticket."""
    body = require(payload, dict, "the Zendesk answer")
    items = body.get("tickets") if "tickets" in body else body.get("results")
    items = require(items, list, "tickets")
    open_tickets = []
    seen: set[str] = set()
    for item in items:
        t = require(item, dict, "a ticket")
        if t.get("result_type", "ticket") != "ticket":
            continue
        status = t.get("status")
        if isinstance(status, str) and status in IGNORED_STATUSES:
            continue
        tid = t.get("id")
        if not isinstance(tid, (int, str)) or isinstance(tid, bool) or str(tid) == "":
            raise SourceError("unexpected response shape: a ticket has no id", kind="bad_content")
        if str(tid) in seen:
            continue
        seen.add(str(tid))
        open_tickets.append(t)
    count = len(open_tickets)
    if critical_at is not None and count >= critical_at:
        others = Severity.CRITICAL
    elif count >= warning_at:
        others = Severity.WARNING
    else:
        others = Severity.INFO
    alerts = []
    for t in open_tickets:
        tid = str(t["id"])
        priority = t.get("priority") if isinstance(t.get("priority"), str) else None
        severity = Severity.CRITICAL if priority == "urgent" else others
        subject = t.get("subject") if isinstance(t.get("subject"), str) and t.get("subject").strip() else ""
        status = t.get("status") if isinstance(t.get("status"), str) else "open"
        detail = f"{priority or 'no'} priority · {status} · {count} open"
        alerts.append(Alert(source=source, id=tid, title=subject.strip() or f"ticket #{tid}",
                            severity=severity, detail=detail, since=parse_time(t.get("created_at")),
                            url=f"{web_base}/agent/tickets/{tid}", ref={"ticket_id": tid}))
    return alerts
