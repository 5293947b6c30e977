"""Nagios Core (statusjson.cgi) and Icinga 1 classic CGI (status.cgi?jsonoutput) sources.

URL forms
    `url` may be any address of the classic UI a user may paste: the web UI (`https://host/nagios4`,
    upstream `/nagios`, with or without a trailing slash, or a page of it such as `/nagios4/index.php?...`),
    the CGI directory (`/nagios/cgi-bin`, and Debian's two aliases `/nagios4/cgi-bin` and `/cgi-bin/nagios4`),
    or one CGI's full address (`.../cgi-bin/status.cgi?host=all`). The CGI directory is derived from it
    (`cgi_base`); a 404 there says which forms to use. Auth is whatever the web server in front does
    (common.py: Basic first, Digest when asked, as Debian's nagios4-cgi config does with realm "Nagios4").

Stopped or killed daemon
    With Nagios stopped, status.dat is gone and the CGI answers 200 with a lone newline: that empty answer
    says "the Nagios daemon is not running or its status data is missing". A killed Nagios leaves its last
    status.dat, which the CGI serves forever: `stale_after` compares the server's own `query_time` and
    `last_data_update`.

Blindness (see base.py)
    The CGIs show a user only what cgi.cfg authorizes (`authorized_for_all_hosts` / `_services`) or what it
    is a contact of; a user the web server lets in but Nagios knows nothing of gets well-formed, successful,
    empty lists, exactly what a healthy estate answers to the problem queries. So when both lists are
    empty (at most once per VISIBILITY_RECHECK while they stay empty), the source counts what the user
    can see: Nagios `statusjson.cgi?query=hostcount` (and `servicecount` when no host is visible: a
    contact of a service alone sees the service without its host), Icinga 1 `tac.cgi?jsonoutput`
    (`total_hosts`, `total_services`, counted for the user as the tactical overview is). Nothing visible
    -> unknown: "Nagios user 'x' sees 0 hosts and 0 services: authorize it in cgi.cfg ...". statusjson
    also says which user the CGI got (`result.user`): an empty one means the web server passes no login
    (REMOTE_USER), for which only cgi.cfg's default_user_name can stand in; the reason says that instead.
    Listed problems prove sight for free. `allow_empty = true` accepts an empty estate (and skips the count).
"""
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.engine.net import Response
from tray.sources.base import Finding, require
from tray.sources.webui.common import (WebUISettings, WebUISource, as_bool, as_int, as_text, as_time, named, one_line)

NAGIOS_EMPTY_HINT = ("the Nagios daemon is not running or its status data is missing (the CGIs answer nothing "
                     "without status.dat)")
ICINGA1_EMPTY_HINT = ("the Icinga daemon is probably not running or its status data is missing (the CGIs answer "
                      "nothing without status.dat)")
_PAGE = re.compile(r"\.(cgi|php|html?)$", re.I)
_AUTHORIZE = ("authorize it in cgi.cfg (authorized_for_all_hosts and authorized_for_all_services), or make it a "
              "contact of the hosts and services it should watch")


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cgi_base(url: str) -> str:
    """The CGI directory from any address of the classic UI (pure): no query, fragment or page name; a
    path with a `cgi-bin` segment is the directory (`/nagios/cgi-bin`, Debian's `/cgi-bin/nagios4`); the
    web UI's (`/nagios4`) gets `/cgi-bin` appended."""
    parts = urlsplit(url.strip())
    segments = [s for s in parts.path.split("/") if s]
    if segments and _PAGE.search(segments[-1]):
        segments.pop()
    if "cgi-bin" not in segments:
        segments.append("cgi-bin")
    return f"{parts.scheme}://{parts.netloc}/" + "/".join(segments)


def blind_words(product: str, who: str, seen_as: str | None, username: str | None) -> tuple[str, str]:
    """(finding, fix) for a CGI user that sees 0 hosts and 0 services (pure). `seen_as` is the user name
    the CGI reports it got ("" = none: the web server passes no login), None when it does not say."""
    none = "0 hosts and 0 services"
    if seen_as == "" or (seen_as is None and not username):
        if username:
            return (f"{product} gets no user name from the web server, which does not ask for the login of "
                    f"'{username}', and shows {none}",
                    "make the web server require the login for the CGIs (Require valid-user), or set "
                    "default_user_name in cgi.cfg to a user it authorizes")
        return (f"{product} gets no user name (no `username` is set, and the web server asks for no login) and "
                f"shows {none}", "set `username` to a user cgi.cfg authorizes and run `secondline login NAME` "
                "(the web server must ask for the login), or set default_user_name in cgi.cfg")
    return f"{who} sees {none}", _AUTHORIZE


# -- Nagios Core statusjson.cgi ------------------------------------------------------------------
# Bitmask states: services 1 PENDING 2 OK 4 WARNING 8 UNKNOWN 16 CRITICAL; hosts 1 PENDING 2 UP 4 DOWN 8 UNREACHABLE.
_NAGIOS_SERVICE = {4: Severity.WARNING, 8: Severity.UNKNOWN, 16: Severity.CRITICAL, 1: Severity.UNKNOWN}
_NAGIOS_HOST = {4: Severity.CRITICAL, 8: Severity.UNKNOWN, 1: Severity.UNKNOWN}
_NAGIOS_OK = {2}


@dataclass(frozen=True)
class NagiosSettings(WebUISettings):
    # The CGIs read status.dat, which a running Nagios rewrites every status_update_interval (10 s by
    # default); a killed one leaves it behind, and the CGI serves it forever. Older than this: unknown.
    stale_after: float = 300.0     # seconds; 0 = never

    def validate(self) -> None:
        super().validate()
        if self.stale_after < 0:
            raise ValueError("stale_after: must be 0 (off) or a number of seconds")


class NagiosSource(WebUISource):
    type = "nagios"
    Settings = NagiosSettings
    empty_hint = NAGIOS_EMPTY_HINT

    def fetch(self, http: Any) -> dict[str, Any]:
        base = cgi_base(self.settings.url) + "/statusjson.cgi"
        services = self._get(http, base, [("query", "servicelist"), ("details", "true"),
                                          ("servicestatus", "warning critical unknown pending")])
        hosts = self._get(http, base, [("query", "hostlist"), ("details", "true"),
                                       ("hoststatus", "down unreachable pending")])
        return {"services": services, "hosts": hosts}

    def poll(self, http: Any) -> Reading:
        payload = self.fetch(http)
        alerts = self.parse(payload)
        listed = self._data(payload["hosts"], "hostlist") or self._data(payload["services"], "servicelist")
        # Every finding here is excusable: with allow_empty the check would be excused anyway.
        finding = None if listed or self.config.allow_empty else self.probe(self.visibility, lambda: self._sight(http))
        return Reading(alerts=self.sight(alerts, finding))

    def _sight(self, http: Any) -> Finding | None:
        """How many hosts (then services) this user may see; None when any."""
        base = cgi_base(self.settings.url) + "/statusjson.cgi"
        seen_as = None
        for query in ("hostcount", "servicecount"):
            total, seen_as = self._count(self._get(http, base, [("query", query)]))
            if total:
                return None
        name = seen_as or self.settings.username or ""
        who = self.reader(f"Nagios user '{name}'", "password")
        return self.blind(*blind_words("Nagios", who, seen_as, self.settings.username))

    def _count(self, answer: Any) -> tuple[int, str | None]:
        """A hostcount / servicecount answer -> (objects this user sees, the user name the CGI got)."""
        counts = self._data(answer, "count")
        result = answer.get("result") if isinstance(answer.get("result"), dict) else {}
        user = result.get("user")
        return sum(as_int(v, "a count") for v in counts.values()), user if isinstance(user, str) else None

    def not_found(self, url: str, resp: Response) -> SourceError:
        return SourceError(f"no statusjson.cgi at {cgi_base(self.settings.url)} (HTTP 404): `url` is the Nagios web "
                           "UI's address (https://HOST/nagios4, upstream https://HOST/nagios) or its CGI directory "
                           "(https://HOST/cgi-bin/nagios4); statusjson.cgi came with Nagios 4 (Icinga 1: type = "
                           "\"icinga1\")", kind="http")

    def parse(self, payload: Any) -> list[Alert]:
        payload = require(payload, dict, "the statusjson answers")
        alerts: list[Alert] = []
        hosts = self._data(payload.get("hosts"), "hostlist")
        for host, d in hosts.items():
            d = require(d, dict, f"host {host!r}")
            named(host, "a host")
            alerts.extend(self._one(host, None, d))
        services = self._data(payload.get("services"), "servicelist")
        for host, svcs in services.items():
            svcs = require(svcs, dict, f"services of {host!r}")
            named(host, "a host")
            for svc, d in svcs.items():
                named(svc, f"a service of {host!r}")
                d = require(d, dict, f"service {host + '!' + svc!r}")
                alerts.extend(self._one(host, svc, d))
        return alerts

    def _data(self, answer: Any, key: str) -> dict[str, Any]:
        answer = require(answer, dict, "the statusjson answer")
        result = answer.get("result")
        if isinstance(result, dict) and result.get("type_code") not in (None, 0, "0"):
            msg = as_text(result.get("message"), "result.message") or as_text(result.get("type_text"), "type_text")
            raise SourceError(f"statusjson.cgi refused the query: {one_line(msg) or 'error'}", kind="http")
        if isinstance(result, dict):
            self._check_fresh(result)
        data = require(answer.get("data"), dict, "statusjson data")
        return require(data.get(key), dict, f"data.{key}")

    def _check_fresh(self, result: dict[str, Any]) -> None:
        """Both times come from the server (epoch ms), so no clock is read here and skew does not matter."""
        limit = self.settings.stale_after
        asked, updated = as_time(result.get("query_time"), millis=True), as_time(result.get("last_data_update"),
                                                                              millis=True)
        if not limit or asked is None or updated is None:
            return
        age = (asked - updated).total_seconds()
        if age > limit:
            raise SourceError(f"Nagios has not updated its status for {_ago(age)} (last at "
                              f"{updated:%Y-%m-%d %H:%M:%S} UTC): the nagios daemon is probably not running",
                              kind="server")

    def _one(self, host: str, service: str | None, d: dict[str, Any]) -> list[Alert]:
        status = as_int(d.get("status"), "status")
        if status in _NAGIOS_OK:
            return []
        table = _NAGIOS_HOST if service is None else _NAGIOS_SERVICE
        if status not in table:
            return []
        base = cgi_base(self.settings.url)
        if service is None:
            link = f"{base}/extinfo.cgi?" + urlencode({"type": 1, "host": host})
        else:
            link = f"{base}/extinfo.cgi?" + urlencode({"type": 2, "host": host, "service": service})
        # state_type: 1 HARD, 0 SOFT (numbers by default, "hard"/"soft" with formatoptions=enumerate).
        st = d.get("state_type", 1)
        hard = st.strip().lower() == "hard" if isinstance(st, str) and not st.strip().isdigit() \
            else as_int(st, "state_type") == 1
        return [self._alert(
            host=host, service=service, title_service=as_text(d.get("description"), "description") or service or "",
            severity=table[status], pending=status == 1, hard=hard,
            acknowledged=as_bool(d.get("problem_has_been_acknowledged"), "problem_has_been_acknowledged"),
            downtime=as_int(d.get("scheduled_downtime_depth") or 0, "scheduled_downtime_depth") > 0,
            output=as_text(d.get("plugin_output"), "plugin_output"),
            since=as_time(d.get("last_state_change"), millis=True), url=link)]


# -- Icinga 1 classic CGI ------------------------------------------------------------------------
_CLASSIC_SERVICE = {"WARNING": Severity.WARNING, "CRITICAL": Severity.CRITICAL, "UNKNOWN": Severity.UNKNOWN,
                    "PENDING": Severity.UNKNOWN}
_CLASSIC_HOST = {"DOWN": Severity.CRITICAL, "UNREACHABLE": Severity.UNKNOWN, "PENDING": Severity.UNKNOWN}
_ATTEMPTS = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class Icinga1Source(WebUISource):
    """Icinga 1.x `status.cgi?...&jsonoutput=1` (what the original blinken read)."""
    type = "icinga1"
    empty_hint = ICINGA1_EMPTY_HINT

    def fetch(self, http: Any) -> dict[str, Any]:
        base = cgi_base(self.settings.url) + "/status.cgi"
        # servicestatustypes 1 PENDING + 4 WARNING + 8 UNKNOWN + 16 CRITICAL; hosts 1 + 4 DOWN + 8 UNREACHABLE.
        services = self._get(http, base, [("host", "all"), ("style", "servicedetail"),
                                          ("servicestatustypes", "29"), ("jsonoutput", "1")])
        hosts = self._get(http, base, [("hostgroup", "all"), ("style", "hostdetail"),
                                       ("hoststatustypes", "13"), ("jsonoutput", "1")])
        return {"services": services, "hosts": hosts}

    def poll(self, http: Any) -> Reading:
        payload = self.fetch(http)
        alerts = self.parse(payload)
        listed = self._rows(payload["hosts"], "host_status") or self._rows(payload["services"], "service_status")
        # Every finding here is excusable: with allow_empty the check would be excused anyway.
        finding = None if listed or self.config.allow_empty else self.probe(self.visibility, lambda: self._sight(http))
        return Reading(alerts=self.sight(alerts, finding))

    def _sight(self, http: Any) -> Finding | None:
        """The tactical overview counts the hosts and services this user may see; None when any."""
        answer = self._get(http, cgi_base(self.settings.url) + "/tac.cgi", [("jsonoutput", "1")])
        if tac_total(answer):
            return None
        who = self.reader(f"Icinga user '{self.settings.username}'", "password") if self.settings.username else ""
        return self.blind(*blind_words("Icinga", who, None, self.settings.username))

    def not_found(self, url: str, resp: Response) -> SourceError:
        page = url.split("?", 1)[0].rsplit("/", 1)[-1]
        return SourceError(f"no {page} at {cgi_base(self.settings.url)} (HTTP 404): `url` is the Icinga classic web "
                           "UI's address (https://HOST/icinga) or its CGI directory (https://HOST/cgi-bin/icinga)",
                           kind="http")

    def parse(self, payload: Any) -> list[Alert]:
        payload = require(payload, dict, "the status.cgi answers")
        alerts: list[Alert] = []
        for item in self._rows(payload.get("hosts"), "host_status"):
            alerts.extend(self._one(item, service=False))
        for item in self._rows(payload.get("services"), "service_status"):
            alerts.extend(self._one(item, service=True))
        return alerts

    @staticmethod
    def _rows(answer: Any, key: str) -> list[Any]:
        answer = require(answer, dict, "the status.cgi answer")
        # Icinga 1.x says "status"; some builds wrap it as "icinga_status".
        status = answer.get("status", answer.get("icinga_status"))
        status = require(status, dict, "status")
        rows = status.get(key, [])
        return require(rows, list, f"status.{key}")

    def _one(self, row: Any, *, service: bool) -> list[Alert]:
        row = require(row, dict, "a status row")
        host = as_text(row.get("host_name", row.get("host")), "host_name", required=True)
        state = as_text(row.get("status"), "status").strip().upper()
        table = _CLASSIC_SERVICE if service else _CLASSIC_HOST
        if state not in table:
            return []
        svc = None
        if service:
            svc = as_text(row.get("service_description", row.get("service", row.get("description"))),
                          "service_description", required=True)
        base = cgi_base(self.settings.url)
        params = {"type": 2, "host": host, "service": svc} if service else {"type": 1, "host": host}
        st = as_text(row.get("state_type"), "state_type").strip().upper()
        if st:
            hard = st == "HARD"
        else:   # older builds: "attempts": "1/3" is still SOFT
            m = _ATTEMPTS.match(as_text(row.get("attempts"), "attempts"))
            hard = not m or int(m.group(1)) >= int(m.group(2))
        return [self._alert(
            host=host, service=svc,
            title_service=as_text(row.get("service_display_name"), "service_display_name") or svc or "",
            host_display=as_text(row.get("host_display_name"), "host_display_name"),
            severity=table[state], pending=state == "PENDING", hard=hard,
            acknowledged=as_bool(row.get("has_been_acknowledged"), "has_been_acknowledged"),
            downtime=as_bool(row.get("in_scheduled_downtime"), "in_scheduled_downtime"),
            output=as_text(row.get("status_information"), "status_information"),
            since=None, url=f"{base}/extinfo.cgi?" + urlencode(params))]


def tac_total(answer: Any) -> int:
    """Icinga 1 `tac.cgi?jsonoutput` -> hosts + services the user may see (pure).
    `{"cgi_json_version": ..., "tac": {"tac_overview": {"total_hosts": N, "total_services": M, ...}}}`"""
    tac = require(require(answer, dict, "the tac.cgi answer").get("tac"), dict, "tac")
    overview = require(tac.get("tac_overview"), dict, "tac.tac_overview")
    return as_int(overview.get("total_hosts"), "total_hosts") + as_int(overview.get("total_services"),
                                                                        "total_services")
