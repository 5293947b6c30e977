"""Nagios Core (statusjson.cgi) and Icinga 1 classic CGI (status.cgi?jsonoutput) sources.

Also home of what the classic web-UI monitors share with Icinga Web 2 / Icinga DB Web
(icingaweb.py): the settings shape (web-server Basic auth, custom CA), lenient value coercion
(these UIs send numbers as strings, booleans as "0"/"1"/"y"/"sticky", epoch s or ms or ISO), and
the Nagios state meanings.

`url` is where the CGIs are (`https://host/nagios/cgi-bin`, Debian's `/cgi-bin/nagios4`) or the web
UI's base (`https://host/nagios4`), which gets `/cgi-bin` appended.

Auth is whatever the web server in front does: upstream's sample config uses Basic, Debian's
nagios4-cgi config Digest (realm "Nagios4"). Basic is sent first; a 401 that asks for Digest switches
the source to Digest.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

from requests.auth import HTTPDigestAuth

from tray.errors import SourceError
from tray.model import Alert, Severity
from tray.net import Response
from tray.sources.base import Source, require
from tray.sources.common import parse_time

ACCEPT_JSON = {"Accept": "application/json"}

SERVICE_SEVERITY = {1: Severity.WARNING, 2: Severity.CRITICAL, 3: Severity.UNKNOWN}
# Host 1 DOWN, 2 UNREACHABLE (Nagios / IDO numbering). Unreachable means "cannot see", not "broken".
HOST_SEVERITY = {1: Severity.CRITICAL, 2: Severity.UNKNOWN}
PENDING = 99   # Icinga Web's "not checked yet"

_TRUE = {"1", "y", "yes", "true", "t", "on", "sticky", "2"}
_FALSE = {"0", "n", "no", "false", "f", "off", "", "none", "null"}


# -- lenient coercion: the UIs disagree on types, but a value of the wrong KIND is still an error --
def as_int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e18:
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except (ValueError, OverflowError):
            pass
    raise SourceError(f"unexpected response shape: {what} is not a number", kind="bad_content")


def as_bool(value: Any, what: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    raise SourceError(f"unexpected response shape: {what} is not a boolean", kind="bad_content")


def as_text(value: Any, what: str, *, required: bool = False) -> str:
    if isinstance(value, str):
        if required and not value:
            raise SourceError(f"unexpected response shape: {what} is empty", kind="bad_content")
        return value
    if value is None and not required:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise SourceError(f"unexpected response shape: {what} is not text", kind="bad_content")


def as_time(value: Any, *, millis: bool = False) -> datetime | None:
    """Epoch seconds (or ms), numeric strings, or ISO 8601; None when absent or unreadable.

    A bad timestamp only loses the "since" column, so it is not worth failing the whole source.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            return parse_time(text)
    if isinstance(value, (int, float)):
        # Epoch milliseconds (Nagios, some Icinga DB versions) are told apart by size: 1e11 s is year 5138.
        secs = value / 1000.0 if (millis or abs(value) > 1e11) else float(value)
        if not (0 < secs < 32503680000):   # 0 means "never"; beyond year 3000 is garbage
            return None
        return datetime.fromtimestamp(secs, tz=timezone.utc)
    return None


# -- settings and auth shared by the web-UI monitors --------------------------------------------
@dataclass(frozen=True)
class WebUISettings:
    url: str
    username: str | None = None      # web-server / Icinga Web user; password from the keyring
    ca_bundle: str | None = None
    verify_tls: bool = True
    soft: bool = False               # raise on SOFT states too (default: listed as pending)

    def validate(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.url or ""):
            raise ValueError("url: must start with http:// or https://")


class WebUISource(Source):
    """Common plumbing: Basic auth from the keyring, Accept: application/json, CA settings."""
    Settings = WebUISettings
    secrets = ("",)
    secret_optional = True   # only needed when `username` is set

    _digest: tuple[str, HTTPDigestAuth] | None = None   # set once the server asked for Digest

    def _password(self) -> str:
        password = self.secret("")
        if password is None:
            raise SourceError(f"no credential: run `secondline login {self.name}`", kind="credential")
        return password

    def _auth(self) -> Any:
        user = self.settings.username
        if not user:
            return None
        password = self._password()
        if self._digest is not None:
            if self._digest[0] != password:        # a new password from `secondline login`
                self._digest = (password, HTTPDigestAuth(user, password))
            return self._digest[1]
        # UTF-8 bytes: requests would encode str as latin-1 and crash on anything outside it.
        return (user.encode(), password.encode())

    def _verify(self) -> bool | str:
        return self.settings.ca_bundle or self.settings.verify_tls

    def _request(self, http: Any, url: str, params: Any = None) -> Response:
        """GET with Accept: application/json; a 401 is read here to tell Digest and a wrong password apart."""
        resp = http.request("GET", url, params=params, source=self.name, headers=ACCEPT_JSON, auth=self._auth(),
                            timeout=self.config.timeout, verify=self._verify(), max_bytes=self.max_bytes,
                            ok_statuses=(401,))
        if resp.status != 401:
            return resp
        challenge = resp.headers.get("www-authenticate", "")
        if self.settings.username and self._digest is None and challenge.strip().lower().startswith("digest"):
            password = self._password()
            self._digest = (password, HTTPDigestAuth(self.settings.username, password))
            return self._request(http, url, params)
        raise refused(url, self.name, challenge, has_user=bool(self.settings.username))

    def _get(self, http: Any, url: str, params: Any = None) -> Any:
        return self._request(http, url, params).json()

    def _alert(self, *, host: str, service: str | None, title_service: str, severity: Severity,
               pending: bool, hard: bool, acknowledged: bool, downtime: bool, output: str,
               since: datetime | None, url: str | None, host_display: str = "") -> Alert:
        """One Alert from the common facts; SOFT states are pending unless `soft = true`."""
        if not hard and not self.settings.soft:
            pending = True
        reason = "acknowledged" if acknowledged else "downtime" if downtime else None
        shown_host = host_display or host
        title = f"{shown_host}: {title_service}" if service is not None else shown_host
        return Alert(source=self.name, id=f"{host}!{service}" if service is not None else host,
                     title=title, severity=severity, detail=output.strip().splitlines()[0] if output.strip() else "",
                     since=since, url=url, handled=reason is not None, handled_reason=reason, pending=pending,
                     ref={"host": host, "service": service} if service is not None else {"host": host})


def one_line(text: str, limit: int = 200) -> str:
    """A server-supplied message made fit for the one-line source error."""
    return " ".join(text.split())[:limit]


def _named(name: str, what: str) -> None:
    """An object without a name cannot be an alert (its id would be empty): the answer is broken."""
    if not name.strip():
        raise SourceError(f"unexpected response shape: {what} has an empty name", kind="bad_content")


_REALM = re.compile(r'realm\s*=\s*"([^"]*)"', re.I)


def refused(url: str, source: str, challenge: str, *, has_user: bool) -> SourceError:
    """HTTP 401 as a one-line reason naming the realm that asked (which web server config wants what)."""
    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    m = _REALM.search(challenge)
    scheme = challenge.strip().split(" ", 1)[0] if challenge.strip() else ""
    asked = f", {scheme} realm \"{one_line(m.group(1), 60)}\"" if m and scheme else ""
    if not has_user:
        return SourceError(f"{host} wants a login (HTTP 401{asked}): set `username` and run "
                           f"`secondline login {source}`", kind="auth")
    # Icinga Web answers a login it cannot check (its user database down) exactly like a wrong one.
    hint = " (or Icinga Web cannot reach its user database)" if m and m.group(1) == "Icinga Web 2" else ""
    return SourceError(f"{host} refused the credential (HTTP 401{asked}): check the credential: "
                       f"`secondline login {source}`{hint}", kind="auth")


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cgi_base(url: str) -> str:
    """The CGI directory: a URL with a `cgi-bin` path segment already is one (`/nagios/cgi-bin`,
    Debian's `/cgi-bin/nagios4`); a web UI base (`/nagios4`) gets `/cgi-bin` appended."""
    base = url.rstrip("/")
    return base if "cgi-bin" in urlsplit(base).path.split("/") else base + "/cgi-bin"


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

    def fetch(self, http: Any) -> dict[str, Any]:
        base = cgi_base(self.settings.url) + "/statusjson.cgi"
        services = self._cgi(http, base, [("query", "servicelist"), ("details", "true"),
                                          ("servicestatus", "warning critical unknown pending")])
        hosts = self._cgi(http, base, [("query", "hostlist"), ("details", "true"),
                                       ("hoststatus", "down unreachable pending")])
        return {"services": services, "hosts": hosts}

    def _cgi(self, http: Any, url: str, params: Any) -> Any:
        resp = self._request(http, url, params)
        if not resp.body.strip() and "json" in resp.headers.get("content-type", ""):
            # What statusjson.cgi answers when status.dat is gone, i.e. Nagios was stopped.
            raise SourceError("statusjson.cgi sent an empty answer: Nagios is not running "
                              "(its status file is missing)", kind="bad_content")
        return resp.json()

    def parse(self, payload: Any) -> list[Alert]:
        payload = require(payload, dict, "the statusjson answers")
        alerts: list[Alert] = []
        hosts = self._data(payload.get("hosts"), "hostlist")
        for host, d in hosts.items():
            d = require(d, dict, f"host {host!r}")
            _named(host, "a host")
            alerts.extend(self._one(host, None, d))
        services = self._data(payload.get("services"), "servicelist")
        for host, svcs in services.items():
            svcs = require(svcs, dict, f"services of {host!r}")
            _named(host, "a host")
            for svc, d in svcs.items():
                _named(svc, f"a service of {host!r}")
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

    def fetch(self, http: Any) -> dict[str, Any]:
        base = cgi_base(self.settings.url) + "/status.cgi"
        # servicestatustypes 1 PENDING + 4 WARNING + 8 UNKNOWN + 16 CRITICAL; hosts 1 + 4 DOWN + 8 UNREACHABLE.
        services = self._get(http, base, [("host", "all"), ("style", "servicedetail"),
                                          ("servicestatustypes", "29"), ("jsonoutput", "1")])
        hosts = self._get(http, base, [("hostgroup", "all"), ("style", "hostdetail"),
                                       ("hoststatustypes", "13"), ("jsonoutput", "1")])
        return {"services": services, "hosts": hosts}

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
