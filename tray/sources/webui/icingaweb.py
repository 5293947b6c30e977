"""Icinga Web 2 sources: the monitoring module (`icingaweb2`, IDO backend) and Icinga DB Web (`icingadb`).

Both read the same lists a user sees in the browser, as JSON. Icinga Web only honours HTTP Basic
auth when the request says `Accept: application/json`, so every request sends it (WebUISource).

Neither is typed consistently across versions: numbers arrive as strings ("2"), booleans as
"0"/"1", "y"/"n" or "sticky", timestamps as epoch seconds or ISO 8601. The coercers in common.py
accept those and turn anything else into a SourceError.

URL forms
    `url` is Icinga Web's address as the browser shows it, with or without a page: `https://host/icingaweb2`
    (Debian's and the RPMs' alias), `https://host/` for an Icinga Web at the root of its host, or any page
    pasted from the address bar (`.../icingaweb2/dashboard`, `.../monitoring/list/services?...#!/...`,
    `.../icingadb/hosts`, `.../authentication/login?redirect=...`): the path is cut before the first of
    Icinga Web's own route names (`web_base`). When the base answers a 404 that is not Icinga Web's own (a
    web server's page) and does not end in `/icingaweb2`, the source tries `BASE/icingaweb2` once and keeps
    it if Icinga Web answers there. Icinga Web's own 404 ("Page not found. Enabling the "monitoring" module
    might help!") means the module this type reads is not enabled: the reason says so and names the other
    type. A 403 carries Icinga Web's message ("No permission for module/monitoring"), shown as is.

Blindness (see base.py)
    A role restriction (`monitoring/filter/objects`; for Icinga DB Web `icingadb/filter/objects`,
    `icingadb/filter/hosts`, `icingadb/filter/services`) that matches no object makes both problem lists
    `[]` with 200, exactly what an all-OK estate answers. So when both are empty (at most once per
    VISIBILITY_RECHECK while they stay empty), the source asks for one host of any state (`limit=1`), and
    then one service: the same list the user's roles filter. None -> unknown: "Icinga Web 2 user 'x' sees
    0 hosts and 0 services: a monitoring/filter/objects restriction on its roles hides every object ...".
    Icinga Web has no JSON page telling a user its own restrictions, so the reason names where they live.
    Listed problems prove sight for free. `allow_empty = true` accepts an empty estate (and skips the check).
"""
import logging
from typing import Any, Callable
from urllib.parse import urlencode

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.engine.net import Response
from tray.sources.base import Finding, require
from tray.sources.common import cut_path
from tray.sources.webui.common import (HOST_SEVERITY, PENDING, SERVICE_SEVERITY, WebUISource, as_bool, as_int, as_text,
                                as_time, one_line)

log = logging.getLogger(__name__)

EMPTY_HINT = ("Icinga Web 2 never answers a JSON request with nothing: PHP probably failed mid-request (see the "
              "web server's and Icinga Web's logs), or a proxy in front answered instead")
ALIAS = "/icingaweb2"
# Where a pasted address of Icinga Web stops being its base: the first path segment naming one of its routes.
ROUTES = frozenset({"dashboard", "monitoring", "icingadb", "authentication", "health", "config", "account",
                    "navigation", "search", "doc", "about", "announcements", "index.php", "setup", "role",
                    "application-state", "static", "iframe"})


def web_base(url: str) -> str:
    """Icinga Web's base from any address of it (pure): no query, fragment or trailing slash, and cut
    before the first path segment that is one of Icinga Web's routes."""
    return cut_path(url, ROUTES)


def icingaweb_message(resp: Response) -> str | None:
    """Icinga Web's own error JSON (`{"status": "error", "message": "..."}`) -> the message; None when
    the answer did not come from Icinga Web (a web server's or proxy's page)."""
    try:
        body = resp.json()
    except SourceError:
        return None
    if isinstance(body, dict) and body.get("status") in ("error", "fail") and isinstance(body.get("message"), str):
        return one_line(body["message"], 160)
    return None


class _NotIcingaWeb(SourceError):
    """A 404 from something that is not Icinga Web (the base lacks its alias, or is wrong)."""


class IcingaWebSource(WebUISource):
    """What both Icinga Web 2 types share: the base URL, Icinga Web's errors, the blindness check."""
    empty_hint = EMPTY_HINT
    module = ""                 # the Icinga Web module the type reads
    other_type = ""             # the type that reads the other module
    restriction = ""            # the role restriction(s) that hide objects
    lists = ("", "")            # the host and the service list, below the base

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        self.base = web_base(self.settings.url)

    def _first(self, http: Any, path: str, params: Any) -> Any:
        """The poll's first request: finds Icinga Web below `/icingaweb2` when the base lacks it."""
        try:
            return self._get(http, self.base + path, params)
        except _NotIcingaWeb as exc:
            if self.base.lower().endswith(ALIAS):
                raise
            try:
                answer = self._get(http, self.base + ALIAS + path, params)
            except SourceError as again:
                if again.kind == "auth":        # something there wants a login: the more useful news
                    raise
                raise SourceError(f"{exc.reason.split(': `url`', 1)[0]} nor at {self.base + ALIAS}: {_URL_FORMS}",
                                  kind="http") from None
            self.base += ALIAS
            log.info("source %s: Icinga Web 2 answers at %s (set `url` to it)", self.name, self.base)
            return answer

    def not_found(self, url: str, resp: Response) -> SourceError:
        message = icingaweb_message(resp)
        if message is not None:
            return SourceError(f"Icinga Web 2 at {self.base} has no {self.module} pages (HTTP 404: {message}): "
                               f"enable its {self.module} module, or read it with type = \"{self.other_type}\"",
                               kind="http")
        return _NotIcingaWeb(f"no Icinga Web 2 at {self.base} (HTTP 404): {_URL_FORMS}", kind="http")

    def forbidden(self, url: str, resp: Response) -> SourceError:
        message = icingaweb_message(resp)
        if message is None:
            return super().forbidden(url, resp)
        return SourceError(f"{self.who('Icinga Web 2')} is not allowed there (HTTP 403 from Icinga Web 2: {message}): "
                           "give one of its roles that permission (Configuration > Access Control > Roles)",
                           kind="auth")

    def poll(self, http: Any) -> Reading:
        payload = self.fetch(http)
        alerts = self.parse(payload)
        listed = payload["hosts"] or payload["services"]
        # Every finding here is excusable: with allow_empty the check would be excused anyway.
        finding = None if listed or self.config.allow_empty else self.probe(self.visibility, lambda: self._sight(http))
        return Reading(alerts=self.sight(alerts, finding))

    def _sight(self, http: Any) -> Finding | None:
        """One host, then one service, of any state: None as soon as the user's roles let one through."""
        for path in self.lists:
            if require(self._get(http, self.base + path, {"limit": "1", "format": "json"}), list, "the list"):
                return None
        return self.blind(f"{self.who('Icinga Web 2')} sees 0 hosts and 0 services",
                          f"{self.restriction} on its roles hides every object: widen it (Configuration > Access "
                          "Control > Roles), or read as a user whose roles cover what this source should watch")


_URL_FORMS = ("`url` is Icinga Web 2's address as the browser shows it, e.g. https://HOST/icingaweb2 (a dashboard "
              "or list address of it works too)")


def _hard(value: Any, what: str) -> bool:
    """state_type: 1 / "1" / "hard" is HARD; a missing one is taken as HARD (never hide a problem)."""
    if value is None:
        return True
    if isinstance(value, str) and value.strip().lower() in ("hard", "soft"):
        return value.strip().lower() == "hard"
    return as_int(value, what) == 1


def host_and_service_rows(payload: Any, what: str, row: Callable[..., list[Alert]]) -> list[Alert]:
    """Both web UIs answer {"hosts": [...], "services": [...]} here (fetch() pairs the two lists)."""
    payload = require(payload, dict, what)
    alerts: list[Alert] = []
    for r in require(payload.get("hosts"), list, "the host list"):
        alerts.extend(row(require(r, dict, "a host row"), service=False))
    for r in require(payload.get("services"), list, "the service list"):
        alerts.extend(row(require(r, dict, "a service row"), service=True))
    return alerts


class IcingaWeb2Source(IcingaWebSource):
    """Icinga Web 2 monitoring module: `/monitoring/list/{hosts,services}?..._problem=1&format=json`."""
    type = "icingaweb2"
    module, other_type = "monitoring", "icingadb"
    restriction = "a monitoring/filter/objects restriction"
    lists = ("/monitoring/list/hosts", "/monitoring/list/services")

    def fetch(self, http: Any) -> dict[str, Any]:
        # addColumns: the state type is not among every version's default list columns.
        hosts = self._first(http, "/monitoring/list/hosts",
                            {"host_problem": "1", "addColumns": "host_state_type", "format": "json"})
        base = self.base
        services = self._get(http, f"{base}/monitoring/list/services",
                             {"service_problem": "1", "addColumns": "service_state_type", "format": "json"})
        return {"hosts": hosts, "services": services, "health": self._health(http, base)}

    def _health(self, http: Any, base: str) -> Any:
        """The IDO's program status, as Icinga Web's own health page reads it. The lists alone cannot
        tell a stopped Icinga from a quiet one: the IDO keeps the last states it was given."""
        return _optional(self._get, http, f"{base}/monitoring/health/info")

    def parse(self, payload: Any) -> list[Alert]:
        payload = require(payload, dict, "the Icinga Web answers")
        alerts = host_and_service_rows(payload, "the Icinga Web answers", self._row)
        if payload.get("health") is not None:
            _check_running(payload["health"])
        return alerts

    def _row(self, row: dict[str, Any], *, service: bool) -> list[Alert]:
        p = "service_" if service else "host_"
        host = as_text(row.get("host_name"), "host_name", required=True)
        state = as_int(row.get(p + "state"), p + "state")
        table = SERVICE_SEVERITY if service else HOST_SEVERITY
        if state != PENDING and state not in table:
            return []
        svc = as_text(row.get("service_description"), "service_description", required=True) if service else None
        base = self.base
        if service:
            link = f"{base}/monitoring/service/show?" + urlencode({"host": host, "service": svc})
        else:
            link = f"{base}/monitoring/host/show?" + urlencode({"host": host})
        return [self._alert(
            host=host, service=svc, host_display=as_text(row.get("host_display_name"), "host_display_name"),
            title_service=as_text(row.get("service_display_name"), "service_display_name") or svc or "",
            severity=table.get(state, Severity.UNKNOWN), pending=state == PENDING,
            hard=_hard(row.get(p + "state_type"), p + "state_type"),
            acknowledged=as_bool(row.get(p + "acknowledged"), p + "acknowledged"),
            downtime=as_bool(row.get(p + "in_downtime"), p + "in_downtime"),
            output=as_text(row.get(p + "output"), p + "output"),
            since=as_time(row.get(p + "last_state_change")), url=link)]


def _optional(get: Callable[..., Any], http: Any, url: str) -> Any:
    """A health page: None when it cannot be read for want of permission or of the page itself (an
    older version, an HTML answer), so that the lists alone are judged; other faults are the source's."""
    try:
        return get(http, url, {"format": "json"})
    except SourceError as exc:
        if exc.kind in ("auth", "http", "bad_content"):
            return None
        raise


def _check_health(answer: Any, module: str) -> None:
    """Icinga Web's own `/health` (2.9+): `{"status": "success", "data": [{module, name, state, message}]}`,
    state 0 OK 1 WARNING 2 CRITICAL 3 UNKNOWN. Icinga DB Web's checks say when Icinga DB has stopped
    writing (no heartbeat for a minute) or Redis is out of date: the lists are old then."""
    answer = require(answer, dict, "the health answer")
    # `data` is null for a user allowed no module's health check.
    for check in require(answer.get("data") or [], list, "the health checks"):
        check = require(check, dict, "a health check")
        if check.get("module") != module:
            continue
        if as_int(check.get("state", 0), "health state") >= 2:
            name = one_line(as_text(check.get("name"), "health check name") or module, 60)
            message = one_line(as_text(check.get("message"), "health message") or "not healthy")
            raise SourceError(f"Icinga Web 2 health: {name}: {message}", kind="server")


def _check_running(health: Any) -> None:
    """`/monitoring/health/info` rows: `is_currently_running` is Icinga Web's own verdict (0 once the
    IDO's status_update_time is a minute old: a killed Icinga); a clean stop clears `process_id` first."""
    rows = require(health, list, "the health answer")
    if not rows:
        raise SourceError("Icinga Web 2 has no program status in its IDO backend: Icinga is not running "
                          "(or has never written to the IDO)", kind="server")
    st = require(rows[0], dict, "the program status")
    since = as_time(st.get("status_update_time"))
    when = f" (last status update {since:%Y-%m-%d %H:%M:%S} UTC)" if since else ""
    who = as_text(st.get("endpoint_name"), "endpoint_name") or "Icinga"
    if not as_bool(st.get("is_currently_running", 1), "is_currently_running"):
        raise SourceError(f"Icinga Web 2 says the monitoring core ({one_line(who, 60)}) is not running{when}: "
                          "the states it shows are old", kind="server")
    if "process_id" in st and st["process_id"] is None:
        raise SourceError(f"Icinga Web 2 says the monitoring core ({one_line(who, 60)}) has stopped{when}: "
                          "the states it shows are old", kind="server")


_DB_SERVICE_COLUMNS = ",".join([
    "service.name", "service.display_name", "service.host.name", "service.host.display_name",
    "service.state.soft_state", "service.state.hard_state", "service.state.state_type",
    "service.state.is_acknowledged", "service.state.in_downtime", "service.state.is_reachable",
    "service.state.last_state_change", "service.state.output"])
_DB_HOST_COLUMNS = ",".join([
    "host.name", "host.display_name", "host.state.soft_state", "host.state.hard_state", "host.state.state_type",
    "host.state.is_acknowledged", "host.state.in_downtime", "host.state.is_reachable",
    "host.state.last_state_change", "host.state.output"])


class IcingaDBSource(IcingaWebSource):
    """Icinga DB Web: `/icingadb/{hosts,services}?<x>.state.is_problem=y&format=json` (nested `state`)."""
    type = "icingadb"
    module, other_type = "icingadb", "icingaweb2"
    restriction = "an icingadb/filter/objects (or icingadb/filter/hosts, icingadb/filter/services) restriction"
    lists = ("/icingadb/hosts", "/icingadb/services")

    def fetch(self, http: Any) -> dict[str, Any]:
        hosts = self._first(http, "/icingadb/hosts", {"host.state.is_problem": "y",
                                                      "columns": _DB_HOST_COLUMNS, "format": "json"})
        base = self.base
        services = self._get(http, f"{base}/icingadb/services", {"service.state.is_problem": "y",
                                                                 "columns": _DB_SERVICE_COLUMNS, "format": "json"})
        return {"hosts": hosts, "services": services, "health": _optional(self._get, http, f"{base}/health")}

    def parse(self, payload: Any) -> list[Alert]:
        payload = require(payload, dict, "the Icinga DB Web answers")
        alerts = host_and_service_rows(payload, "the Icinga DB Web answers", self._row)
        if payload.get("health") is not None:
            _check_health(payload["health"], "icingadb")
        return alerts

    def _row(self, row: dict[str, Any], *, service: bool) -> list[Alert]:
        st = require(row.get("state"), dict, "state")
        if service:
            h = require(row.get("host"), dict, "service host")
            host = as_text(h.get("name"), "host.name", required=True)
            host_display = as_text(h.get("display_name"), "host.display_name")
            svc: str | None = as_text(row.get("name"), "name", required=True)
        else:
            host = as_text(row.get("name"), "name", required=True)
            host_display = as_text(row.get("display_name"), "display_name")
            svc = None
        # soft_state is the current state; hard_state lags behind it during SOFT attempts.
        raw = st.get("soft_state", st.get("hard_state"))
        state = as_int(raw, "state.soft_state")
        reachable = st.get("is_reachable")
        reachable = True if reachable is None else as_bool(reachable, "state.is_reachable")
        if service:
            if state not in SERVICE_SEVERITY and state != PENDING:
                return []
            severity = SERVICE_SEVERITY.get(state, Severity.UNKNOWN)
        else:
            # Icinga DB hosts are 0 UP / 1 DOWN; "unreachable" is a separate flag.
            if state not in (1, 2, PENDING):
                return []
            severity = Severity.CRITICAL if (state == 1 and reachable) else Severity.UNKNOWN
        base = self.base
        if service:
            link = f"{base}/icingadb/service?" + urlencode({"name": svc, "host.name": host})
        else:
            link = f"{base}/icingadb/host?" + urlencode({"name": host})
        return [self._alert(
            host=host, service=svc, host_display=host_display,
            title_service=as_text(row.get("display_name"), "display_name") or svc or "" if service else "",
            severity=severity, pending=state == PENDING, hard=_hard(st.get("state_type"), "state.state_type"),
            acknowledged=as_bool(st.get("is_acknowledged"), "state.is_acknowledged"),
            downtime=as_bool(st.get("in_downtime"), "state.in_downtime"),
            output=as_text(st.get("output"), "state.output"),
            since=as_time(st.get("last_state_change")), url=link)]
