"""What the web-UI monitors share: Nagios / Icinga 1 CGIs (nagios.py) and Icinga Web 2 / Icinga DB Web
(icingaweb.py).

- The settings shape (`url`, web-server or Icinga Web `username`, custom CA, `soft`).
- Auth is whatever the web server in front does: Basic is sent first; a 401 that asks for Digest (Debian's
  nagios4-cgi Apache config) switches the source to Digest. A 401 names the realm that refused and where
  the password came from.
- Lenient value coercion: these UIs send numbers as strings, booleans as "0"/"1"/"y"/"sticky", times as
  epoch s or ms or ISO 8601; a value of the wrong KIND is still an error.
- The state meanings (Nagios / IDO numbering).
- Every request sends `Accept: application/json` (Icinga Web honours Basic auth only with it) and says what
  an empty 200 means for the product (`empty_hint`); a 404 and a 403 go to per-product hooks that name
  the URL form to use or the permission that is missing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlsplit

from requests.auth import HTTPDigestAuth

from tray.core.errors import SourceError
from tray.core.model import Alert, Severity
from tray.engine.net import Response
from tray.sources.base import Recheck, Source
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


def one_line(text: str, limit: int = 200) -> str:
    """A server-supplied message made fit for the one-line source error."""
    return " ".join(text.split())[:limit]


def named(name: str, what: str) -> None:
    """An object without a name cannot be an alert (its id would be empty): the answer is broken."""
    if not name.strip():
        raise SourceError(f"unexpected response shape: {what} has an empty name", kind="bad_content")


def host_of(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


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
    """Common plumbing: Basic/Digest auth from the keyring, Accept: application/json, CA settings, the
    empty-answer hint, and the visibility bookkeeping (`self.visibility`) of the blindness check."""
    Settings = WebUISettings
    secrets = ("",)
    secret_optional = True   # only needed when `username` is set
    empty_hint: ClassVar[str] = ""

    _digest: tuple[str, HTTPDigestAuth] | None = None   # set once the server asked for Digest

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        self.visibility = Recheck()

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
        """GET with Accept: application/json. A 401 is read here to tell Digest and a wrong password
        apart; a 404 and a 403 go to `not_found()` / `forbidden()`, which know the product."""
        resp = http.request("GET", url, params=params, source=self.name, headers=ACCEPT_JSON, auth=self._auth(),
                            timeout=self.config.timeout, verify=self._verify(), max_bytes=self.max_bytes,
                            ok_statuses=(401, 403, 404), empty_hint=self.empty_hint)
        if resp.status == 404:
            raise self.not_found(url, resp)
        if resp.status == 403:
            raise self.forbidden(url, resp)
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

    def not_found(self, url: str, resp: Response) -> SourceError:
        """HTTP 404 for `url`: the product says which `url` form to use."""
        return SourceError(f"nothing at {url.split('?', 1)[0]} (HTTP 404): check `url`", kind="http")

    def forbidden(self, url: str, resp: Response) -> SourceError:
        """HTTP 403, as the shared client words it (a product that says why overrides this)."""
        from tray.platform.credentials import refused_fix
        return SourceError(f"{host_of(url)} refused access (the credential is wrong or lacks a permission) "
                           f"(HTTP 403): {refused_fix(self.name)}", kind="auth")

    def who(self, product: str) -> str:
        """The reader a blindness reason is about: the user, and where its password came from."""
        user = self.settings.username
        return self.reader(f"{product} user '{user}'", "password") if user else f"{product} (read without a login)"

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


_REALM = re.compile(r'realm\s*=\s*"([^"]*)"', re.I)


def refused(url: str, source: str, challenge: str, *, has_user: bool) -> SourceError:
    """HTTP 401 as a one-line reason naming the realm that asked (which web server config wants what)
    and, for a refused password, the fix for the place it came from (keyring or environment)."""
    from tray.platform.credentials import refused_fix
    host = host_of(url)
    m = _REALM.search(challenge)
    scheme = challenge.strip().split(" ", 1)[0] if challenge.strip() else ""
    asked = f", {scheme} realm \"{one_line(m.group(1), 60)}\"" if m and scheme else ""
    if not has_user:
        return SourceError(f"{host} wants a login (HTTP 401{asked}): set `username` and run "
                           f"`secondline login {source}`", kind="auth")
    # Icinga Web answers a login it cannot check (its user database down) exactly like a wrong one.
    hint = " (or Icinga Web cannot reach its user database)" if m and m.group(1) == "Icinga Web 2" else ""
    return SourceError(f"{host} refused the credential (HTTP 401{asked}): {refused_fix(source)}{hint}",
                       kind="auth")
