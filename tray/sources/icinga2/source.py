"""Icinga 2 REST API source (type "icinga2"): a filtered object query, plus an event stream.

Reading
    Two queries per poll, `POST /v1/objects/{hosts,services}` with `X-HTTP-Method-Override: GET`,
    asking only for the attributes we use, the host join for services, and the filter
    `state != 0` (problems, soft problems and never-checked objects; OK objects stay on the server).
    Icinga >= 2.14.9/2.15.4/2.16.2 wants the `filter-expression` permission for `filter`; without it
    the server answers 403 (2.13 answers 404 for a missing permission). Then the source lists every
    object's state alone and asks for the non-OK ones by name (the plural `hosts` / `services`
    parameter, which needs no filter), and keeps doing so for the life of the source.

States
    host DOWN -> critical, host DOWN and unreachable (`last_reachable == false`) -> unknown; service
    WARNING / CRITICAL / UNKNOWN. Only HARD states raise: SOFT ones are listed with `pending=True`
    (unless `soft = true`). Objects never checked yet are listed as pending. Acknowledged ->
    handled "acknowledged", `downtime_depth > 0` -> handled "downtime" (downtime wins when both).
    Services of a host that is DOWN (checked, any state type), and services Icinga marks unreachable,
    are still listed with their own state, but as pending with "host DOWN" in the detail: the host's
    own alert carries the outage, so one dead host raises (and pops up) once, not fifty times, while
    the menu still shows what is behind it.

Blindness (see base.py)
    An ApiUser whose `objects/query/Host` or `objects/query/Service` permission carries a `filter` that
    matches nothing gets `{"results": []}`: exactly what a filtered query answers when all is OK. So an
    empty answer for a kind is checked: does this ApiUser see at least one object of that kind? The probe
    asks for one object it saw before by name (`{"attrs": ["__name"], "hosts": [NAME]}`, ~100 bytes; 404
    when it is gone or hidden), else lists the kind's names. A probe that saw something is trusted for
    a minute (VISIBILITY_RECHECK): an all-OK estate costs at most one tiny request per kind per minute.
    A non-empty answer, or the by-name fallback's full state list, proves sight for free. Each kind must
    be visible: "ApiUser 'x' sees 0 services"; /v1/status/CIB (when `status/query` is granted) adds how
    many the server has, which tells a hiding filter from an empty server. `allow_empty = true` accepts
    an empty kind. A missing permission is a 403, named as such.

Alert ids are "host" and "host!service" (Icinga's own object names): stable across polls and events.
`ref` = {"host": ..., "service": ... or None} for the acknowledge / recheck actions.

Links
    `web_url` + `web_ui = "icingadb"` (default): `{web_url}/icingadb/service?name=S&host.name=H`,
    `{web_url}/icingadb/host?name=H`; `web_ui = "monitoring"` (the older monitoring module):
    `{web_url}/monitoring/service/show?host=H&service=S`, `{web_url}/monitoring/host/show?host=H`.

The pure parsing is `parse.py`. The event stream and the sub-second change detector live in
`stream.py` (see its docstring for the design and the measured figures); how events and polls
merge, in `live.py`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading
from tray.sources.base import ACKNOWLEDGE, RECHECK, Finding, Recheck, Source, require
from tray.sources.icinga2.parse import (View, alerts_from_objects, blindness, cib_totals, parse_payload,
                                        problem_names)

log = logging.getLogger(__name__)

SERVICE_ATTRS = ["name", "display_name", "host_name", "state", "state_type", "last_state_change",
                 "acknowledgement", "downtime_depth", "last_check", "last_check_result",
                 "last_reachable"]
HOST_ATTRS = ["name", "display_name", "state", "state_type", "last_state_change", "acknowledgement",
              "downtime_depth", "last_check", "last_check_result", "last_reachable"]
SERVICE_JOINS = ["host.name", "host.display_name", "host.state", "host.last_check"]
# Without the filter permission the first query lists every object's state: ~80 bytes an object
# (4 MB for 50,000 services); a larger estate may pass the usual 20 MB cap.
FALLBACK_MAX_BYTES = 256 * 1024 * 1024
VISIBILITY_RECHECK = 60.0
EMPTY_HINT = ("Icinga 2 itself never answers an empty body: a proxy or load balancer in front of the API "
              "answered instead (is the icinga2 daemon running?)")


@dataclass(frozen=True)
class Icinga2Settings:
    url: str                               # https://icinga.example.com:5665
    username: str                          # the ApiUser; its password is the source's secret
    ca_bundle: str | None = None           # PEM file of the CA that signed the API certificate
    verify_tls: bool = True
    web_url: str | None = None             # Icinga Web 2 base, e.g. https://icinga.example.com/icingaweb2
    web_ui: str = "icingadb"               # "icingadb" (Icinga DB Web) or "monitoring" (monitoring module)
    stream: bool = True                    # keep a /v1/events connection and a change detector
    soft: bool = False                     # let SOFT states raise too
    detect_interval: float = 0.25          # seconds between /v1/status/CIB checks (0 = no detector)

    def validate(self) -> None:
        if not self.url.lower().startswith(("https://", "http://")):
            raise ValueError("url: must start with https:// (Icinga 2 API, port 5665 by default)")
        if "/icingaweb2" in self.url.lower() or "/icingadb" in self.url.lower():
            raise ValueError("url: that is Icinga Web 2's address; the Icinga 2 API has its own port, by default "
                             "https://HOST:5665 (or read through Icinga Web 2 with type = \"icingadb\")")
        if not self.username:
            raise ValueError("username: must not be empty")
        if self.web_ui not in ("icingadb", "monitoring"):
            raise ValueError('web_ui: must be "icingadb" or "monitoring"')
        if self.web_url is not None and not self.web_url.lower().startswith(("https://", "http://")):
            raise ValueError("web_url: must start with https:// or http://")
        if self.detect_interval < 0 or (0 < self.detect_interval < 0.1):
            raise ValueError("detect_interval: 0 (off) or at least 0.1 seconds")


# -- the source ----------------------------------------------------------------------------------

class Icinga2Source(Source):
    type = "icinga2"
    Settings = Icinga2Settings
    capabilities = frozenset({ACKNOWLEDGE, RECHECK})   # acknowledge-problem, reschedule-check
    secrets = ("",)

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        from tray.sources.icinga2.live import LiveState
        s: Icinga2Settings = self.settings
        self.base_url = _api_base(s.url)
        self.view = View(source=self.name, soft=s.soft, web_url=s.web_url, web_ui=s.web_ui)
        # Becomes True (for good) once the server refused a filtered query from this ApiUser.
        self.client_filter: bool = False
        self.live = LiveState(self.view)
        self.last_poll_seconds = 0.0
        self._stream_sock: Any = None       # the event stream's socket, to wake its reader on close()
        self.visibility = Recheck(VISIBILITY_RECHECK)
        self._seen_name: dict[str, str] = {}  # kind -> one object this ApiUser could see (the cheap probe)
        self.blind_finding: Finding | None = None   # the last poll's blindness reason (the stream obeys it too)

    # -- transport helpers -----------------------------------------------------------------------
    @property
    def verify(self) -> bool | str:
        s: Icinga2Settings = self.settings
        if s.ca_bundle:
            return s.ca_bundle
        return bool(s.verify_tls)

    def auth(self) -> tuple[str, str]:
        return (self.settings.username, self.secret("") or "")

    def _query(self, http: Any, kind: str) -> Any:
        """One object query; returns the decoded answer."""
        body: dict[str, Any] = {"attrs": SERVICE_ATTRS if kind == "service" else HOST_ATTRS}
        if kind == "service":
            body["joins"] = SERVICE_JOINS
        headers = {"Accept": "application/json", "X-HTTP-Method-Override": "GET"}
        url = f"{self.base_url}/v1/objects/{kind}s"
        common = dict(source=self.name, headers=headers, auth=self.auth(), timeout=self.config.timeout,
                      verify=self.verify, max_bytes=self.max_bytes, empty_hint=EMPTY_HINT)
        if not self.client_filter:
            filtered = dict(body, filter=f"{kind}.state != 0")
            resp = http.request("POST", url, json_body=filtered, ok_statuses=(403, 404), **common)
            if resp.status not in (403, 404):
                answer = resp.json()
                self._note_sight(kind, answer)
                return answer
            # Newer Icinga refuses `filter` without the filter-expression permission (2.13: 404).
            # Read by name instead; only if that works is the choice remembered.
            answer = self._query_by_names(http, url, kind, body, common)
            self.client_filter = True
            log.warning("%s: the ApiUser may not send filters, so every poll lists all objects' states and "
                        "then asks for the problems by name; grant it the `filter-expression` permission to "
                        "fetch only problems in one query", self.name)
            return answer
        return self._query_by_names(http, url, kind, body, common)

    def _query_by_names(self, http: Any, url: str, kind: str, body: dict[str, Any],
                        common: dict[str, Any]) -> Any:
        """The filter-free way: every object's state alone (about 80 bytes an object), then the full
        attributes of the non-OK ones, named in the plural `hosts` / `services` parameter, which needs
        no filter permission. Fetching every object's full attributes instead cost 57 MB and 1.9 s of
        JSON decoding for 50,000 services (bench/parse_scale.py)."""
        common = dict(common, max_bytes=max(self.max_bytes, FALLBACK_MAX_BYTES))
        for _ in range(2):
            states = self._list(http, url, kind, ["state"], common)
            self._note_sight(kind, states)
            names = problem_names(states, kind)
            if not names:
                return {"results": []}
            resp = http.request("POST", url, json_body=dict(body, **{f"{kind}s": names}),
                                ok_statuses=(404,), **common)
            if resp.status != 404:
                return resp.json()
            # 404: one of the names was deleted between the two queries (a config deploy). Again.
        raise SourceError(f"{kind}s kept disappearing between listing and reading them (a config deploy "
                          "in progress?); reading again at the next poll")

    def _list(self, http: Any, url: str, kind: str, attrs: list[str], common: dict[str, Any]) -> Any:
        """Every object of the kind with only these attributes. A 403 here is a missing permission."""
        resp = http.request("POST", url, json_body={"attrs": attrs}, ok_statuses=(403,), **common)
        if resp.status == 403:
            raise SourceError(f"Icinga 2 ApiUser '{self.settings.username}' may not query {kind}s (HTTP 403): "
                              f"add objects/query/{kind.title()} to its permissions", kind="auth")
        return resp.json()

    def learn_display_names(self, http: Any, host: str, service: str | None) -> None:
        """Ask for one object's display names (a StateChange event carries only names), so that an alert
        raised from the stream has the title a poll gives it. One small query, once per object; on any
        failure the event is applied with names and the next poll puts the display names in."""
        from tray.sources.icinga2.parse import display_names, object_id
        kind = "service" if service else "host"
        body: dict[str, Any] = {"attrs": ["display_name"], f"{kind}s": [object_id(host, service)]}
        if service:
            body["joins"] = ["host.display_name"]
        try:
            resp = http.request("POST", f"{self.base_url}/v1/objects/{kind}s", json_body=body,
                                ok_statuses=(403, 404), source=self.name, auth=self.auth(),
                                headers={"Accept": "application/json", "X-HTTP-Method-Override": "GET"},
                                timeout=min(float(self.config.timeout), 5.0), verify=self.verify,
                                max_bytes=64 * 1024)
            names = display_names(resp.json(), host, service) if resp.status == 200 else None
        except SourceError:
            names = None
        if names is not None:
            self.live.learn_names(host, names[0], service, names[1])

    # -- sight -----------------------------------------------------------------------------------
    def _note_sight(self, kind: str, answer: Any) -> bool:
        """An answer listing any object of the kind proves this ApiUser can see that kind."""
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or not results:
            return False
        first = results[0]
        name = first.get("name") if isinstance(first, dict) else None
        if isinstance(name, str) and name:
            self._seen_name[kind] = name
        self.visibility.saw(kind)
        return True

    def _sees(self, http: Any, kind: str) -> bool:
        """Does this ApiUser see any object of the kind? Asked only when its answer was empty."""
        if not self.visibility.due(kind):
            return True
        url = f"{self.base_url}/v1/objects/{kind}s"
        common = dict(source=self.name, headers={"Accept": "application/json", "X-HTTP-Method-Override": "GET"},
                      auth=self.auth(), timeout=self.config.timeout, verify=self.verify,
                      max_bytes=max(self.max_bytes, FALLBACK_MAX_BYTES), empty_hint=EMPTY_HINT)
        known = self._seen_name.pop(kind, None)
        if known:
            resp = http.request("POST", url, json_body={"attrs": ["__name"], f"{kind}s": [known]},
                                ok_statuses=(404,), **common)
            if resp.status != 404 and self._note_sight(kind, resp.json()):
                return True
            # 404: gone, or hidden now: look at the whole list.
        return self._note_sight(kind, self._list(http, url, kind, ["__name"], common))

    def _server_totals(self, http: Any) -> dict[str, int] | None:
        """How many hosts / services the server has (/v1/status/CIB), or None without status/query."""
        try:
            resp = http.request("GET", f"{self.base_url}/v1/status/CIB", source=self.name,
                                headers={"Accept": "application/json"}, auth=self.auth(),
                                timeout=self.config.timeout, verify=self.verify, max_bytes=1024 * 1024,
                                ok_statuses=(403, 404))
            if resp.status != 200:
                return None
            return cib_totals(resp.json())
        except SourceError:
            return None

    def _finding(self, http: Any, hidden: list[str]) -> Finding | None:
        if not hidden:
            return None
        totals = self._server_totals(http) or {}
        user = self.reader(f"Icinga 2 ApiUser '{self.settings.username}'", "password")
        return self.blind(*blindness(user, hidden, totals))

    # -- reading ---------------------------------------------------------------------------------
    def fetch(self, http: Any) -> dict[str, Any]:
        # Services first: their host join says whether the host is DOWN at that moment.
        services = self._query(http, "service")
        hosts = self._query(http, "host")
        # allow_empty excuses every Icinga 2 finding: then the check is not worth its requests.
        hidden = [] if self.config.allow_empty else [
            kind for kind, answer in (("host", hosts), ("service", services))
            if not _has_results(answer) and not self._sees(http, kind)]
        return {"hosts": hosts, "services": services, "client_filter": self.client_filter, "hidden": hidden}

    def parse(self, payload: Any) -> list[Alert]:
        payload = require(payload, dict, "the Icinga 2 answer")
        objects = parse_payload(payload, self.view, bool(payload.get("client_filter")))
        return alerts_from_objects(objects, self.view)

    def poll(self, http: Any) -> Reading:
        started = time.monotonic()
        token = self.live.begin_poll()
        try:
            payload = self.fetch(http)
            objects = parse_payload(payload, self.view, bool(payload.get("client_filter")))
        except BaseException:
            self.live.abort_poll()
            raise
        alerts = self.live.finish_poll(token, objects)
        # The change detector spaces the polls it asks for by this (see stream.PollBudget).
        self.last_poll_seconds = time.monotonic() - started
        self.blind_finding = self._finding(http, payload.get("hidden") or [])
        return Reading(alerts=self.sight(alerts, self.blind_finding))

    def stream_view(self, alerts: list[Alert]) -> tuple[Alert, ...] | None:
        """What the event stream may publish: the alerts (plus the blind line while blind), or None when
        the source is blind with nothing else to show (then only a poll can say so)."""
        try:
            return self.sight(alerts, self.blind_finding)
        except SourceError:
            return None

    def watchers(self) -> list[Callable[[Any, Any], None]]:
        if not self.settings.stream:
            return []
        from tray.sources.icinga2 import stream as st
        out: list[Callable[[Any, Any], None]] = [lambda http, ctx: st.run_stream(self, http, ctx)]
        if self.settings.detect_interval > 0:
            out.append(lambda http, ctx: st.run_detector(self, http, ctx))
        return out

    def close(self) -> None:
        from tray.sources.icinga2.stream import close_stream
        close_stream(self)

    # -- actions ---------------------------------------------------------------------------------
    def _action(self, http: Any, action: str, alert: Alert, body: dict[str, Any]) -> str:
        host = alert.ref.get("host") if alert.ref else None
        service = alert.ref.get("service") if alert.ref else None
        if not host:
            raise SourceError(f"{alert.id}: not an Icinga 2 object", kind="config")
        if service:
            target = {"type": "Service", "service": f"{host}!{service}"}
        else:
            target = {"type": "Host", "host": host}
        resp = http.request("POST", f"{self.base_url}/v1/actions/{action}", source=self.name,
                            params=target, json_body=dict(body, type=target["type"]),
                            headers={"Accept": "application/json"}, auth=self.auth(),
                            timeout=self.config.timeout, verify=self.verify, max_bytes=1024 * 1024,
                            ok_statuses=(400, 404, 409, 500))
        return _action_result(resp, action, alert.id)

    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        body: dict[str, Any] = {"author": author, "comment": comment or f"acknowledged by {author}",
                                "sticky": True, "notify": False}
        if duration_s and duration_s > 0:
            body["expiry"] = time.time() + float(duration_s)
        return self._action(http, "acknowledge-problem", alert, body)

    def recheck(self, http: Any, alert: Alert) -> str:
        return self._action(http, "reschedule-check", alert, {"force": True})


def _action_result(resp: Any, action: str, alert_id: str) -> str:
    try:
        data = resp.json()
    except SourceError:
        data = None
    results = data.get("results") if isinstance(data, dict) else None
    first = results[0] if isinstance(results, list) and results and isinstance(results[0], dict) else {}
    status = first.get("status") or (data.get("status") if isinstance(data, dict) else None) or ""
    code = first.get("code", resp.status)
    if resp.status >= 300 or not results or (isinstance(code, (int, float)) and code >= 300):
        reason = str(status).strip() or f"HTTP {resp.status}"
        raise SourceError(f"{action} on {alert_id} failed: {reason[:200]}", kind="http")
    return str(status) or f"{action} done"


def _has_results(answer: Any) -> bool:
    results = answer.get("results") if isinstance(answer, dict) else None
    return isinstance(results, list) and bool(results)


def _api_base(url: str) -> str:
    """The API root from any form a user may paste: https://HOST:5665, .../v1, .../v1/objects/hosts."""
    base = url.strip().split("#", 1)[0].split("?", 1)[0].rstrip("/")
    cut = base.find("/v1/")
    if cut != -1:
        base = base[:cut]
    if base.endswith("/v1"):
        base = base[:-3]
    return base


__all__ = ["Icinga2Source", "Icinga2Settings"]
