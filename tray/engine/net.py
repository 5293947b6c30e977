"""The shared HTTP client: one requests.Session for every source, and every check that keeps a
bad answer from reading as "ok" (HTML login pages, wrong content, truncation, oversize, trickling).

Sources call `Http.get_json()` / `Http.request()` and get either parsed JSON or a SourceError with
a one-line reason. No source handles a requests exception itself.
"""
from __future__ import annotations

import email.utils
import json
import logging
import socket
import time
import warnings
from dataclasses import dataclass, replace
from typing import Any, Mapping
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tray import __version__
from tray.platform import heap
from tray.core.errors import SourceError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
USER_AGENT = f"secondline/{__version__}"
GENERIC_EMPTY_HINT = ("the server answered success with nothing in it (a proxy or load balancer in front "
                      "of a stopped or unreachable backend usually does that)")
_JSON_TYPES = ("json",)  # application/json, application/vnd.pagerduty+json;version=2, text/json ...


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    empty_hint: str = ""          # what an empty 200 usually means for this product

    def json(self) -> Any:
        return _decode_json(self.body, self.headers.get("content-type", ""), self.empty_hint)


def quiet_library_warnings() -> None:
    """Only the app's own one-line reasons reach the console. urllib3 logs each planned retry as a
    WARNING ("Retrying (Retry(total=1, ...)) after connection broken by 'NewConnectionError(...)'"),
    whose outcome becomes the source's reason anyway; and it warns on every unverified HTTPS request,
    which `verify_tls = false` asked for (Http.request says so once per host instead)."""
    lib = logging.getLogger("urllib3")
    if lib.level == logging.NOTSET:         # tray.platform.logs.setup may have chosen (--verbose shows them)
        lib.setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)


_unverified_hosts: set[str] = set()


def make_session(pool_size: int = 32) -> requests.Session:
    quiet_library_warnings()
    s = requests.Session()
    # REQUESTS_CA_BUNDLE / proxies / .netrc from the environment would silently override the
    # per-source verify= and auth: the config is the only authority.
    s.trust_env = False
    # Only connection set-up and gateway errors are retried here, and quickly; everything slower
    # (429, 5xx back-off) is the scheduler's job so that it can honour Retry-After without
    # holding a thread.
    retry = Retry(total=2, connect=1, read=0, status=1, redirect=3, backoff_factor=0.2,
                  status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET", "HEAD"}),
                  respect_retry_after_header=False, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def rate_limit_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Retry-After, else a rate-limit reset header (seconds, or an epoch timestamp)."""
    wait = parse_retry_after(headers.get("retry-after"), now)
    if wait is not None:
        return wait
    for name in ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"):
        raw = headers.get(name)
        if raw:
            try:
                val = float(raw)
            except ValueError:
                continue
            now_s = now if now is not None else time.time()
            # Big numbers are epoch timestamps (GitHub style), small ones are seconds (PagerDuty).
            return max(0.0, val - now_s) if val > 1e9 else max(0.0, val)
    return None


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        return parts.netloc.rsplit("@", 1)[-1] or url
    except ValueError:
        return "?"


def _decode_json(body: bytes, content_type: str, empty_hint: str = "") -> Any:
    ctype = content_type.lower()
    stripped = body.lstrip()
    if not stripped:
        # A 200 whose body is nothing, or a lone newline: what the product behind it usually means by
        # that (a CGI whose daemon is stopped, a proxy answering for a dead backend) is the useful part.
        what = "empty response" if not body else "empty (whitespace-only) response"
        raise SourceError(f"{what} where JSON was expected: {empty_hint or GENERIC_EMPTY_HINT}",
                          kind="bad_content")
    if "html" in ctype or stripped[:1] == b"<":
        raise SourceError("got an HTML page instead of JSON (a login page in front of the API? "
                          "check the URL and the credential)", kind="bad_content")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        pos = getattr(exc, "pos", None)
        if pos is not None and pos >= len(body.rstrip()):
            raise SourceError("truncated JSON: the response ended early", kind="bad_content") from None
        raise SourceError(f"invalid JSON ({type(exc).__name__} at byte {pos})"
                          if pos is not None else "invalid JSON", kind="bad_content") from None


class Http:
    """Thin wrapper over the shared session that turns every fault into a SourceError."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or make_session()
        heap.pin_mmap_threshold()

    def request(self, method: str, url: str, *, source: str = "", params: Any = None,
                headers: Mapping[str, str] | None = None, json_body: Any = None, data: Any = None,
                auth: Any = None, timeout: float = DEFAULT_TIMEOUT, connect_timeout: float | None = None,
                verify: bool | str = True, max_bytes: int = DEFAULT_MAX_BYTES,
                ok_statuses: tuple[int, ...] = (), empty_hint: str = "") -> Response:
        """Perform one request; return the whole body or raise SourceError.

        `timeout` bounds the whole exchange, not only each socket read, so a server that
        trickles one byte a second cannot hold the poll forever.
        """
        host = _host(url)
        if verify is False and url.lower().startswith("https:") and host not in _unverified_hosts:
            _unverified_hosts.add(host)
            log.info("%s: the TLS certificate of %s is not checked (verify_tls = false)", source or "request", host)
        if isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(x, str) for x in auth):
            # requests encodes str Basic credentials as latin-1 and raises on anything else.
            auth = (auth[0].encode("utf-8"), auth[1].encode("utf-8"))
        connect = connect_timeout if connect_timeout is not None else min(timeout, 5.0)
        deadline = time.monotonic() + timeout
        try:
            resp = self.session.request(method, url, params=params, headers=headers, json=json_body,
                                        data=data, auth=auth, timeout=(connect, timeout), verify=verify,
                                        stream=True, allow_redirects=True)
        except requests.exceptions.SSLError as exc:
            raise SourceError(f"TLS error talking to {host} ({_tls_detail(exc)}): set `ca_bundle` to "
                              "the server's CA file, or `verify_tls = false` to skip the check",
                              kind="tls") from None
        except requests.exceptions.ConnectTimeout:
            raise SourceError(f"connection to {host} timed out after {connect:g}s", kind="timeout") from None
        except requests.exceptions.ReadTimeout:
            raise SourceError(f"{host} did not answer within {timeout:g}s", kind="timeout") from None
        except requests.exceptions.ConnectionError as exc:
            # With retries configured, urllib3 wraps a read timeout in MaxRetryError and requests
            # reports it as a ConnectionError: look at the underlying reason.
            if "read timed out" in str(exc).lower():
                raise SourceError(f"{host} did not answer within {timeout:g}s", kind="timeout") from None
            raise SourceError(_connection_reason(host, exc), kind="refused") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as exc:
            raise SourceError(f"invalid URL for {host}: {type(exc).__name__}", kind="config") from None
        except requests.exceptions.InvalidHeader:
            raise SourceError(f"request to {host} could not be built (a header value is invalid): check the "
                              "credential for stray characters", kind="config") from None
        except requests.exceptions.RequestException as exc:
            raise SourceError(f"request to {host} failed: {type(exc).__name__}", kind="error") from None
        except (UnicodeError, ValueError) as exc:
            # e.g. a header value that cannot be encoded: say so without echoing the value.
            raise SourceError(f"request to {host} could not be built ({type(exc).__name__}): check the "
                              "credential and the URL for unusual characters", kind="config") from None
        try:
            answer = self._finish(resp, host, deadline, timeout, max_bytes, source, ok_statuses)
        finally:
            resp.close()
        return replace(answer, empty_hint=empty_hint) if empty_hint else answer

    def _finish(self, resp: requests.Response, host: str, deadline: float, timeout: float,
                max_bytes: int, source: str, ok_statuses: tuple[int, ...]) -> Response:
        headers = {k.lower(): v for k, v in resp.headers.items()}
        status = resp.status_code
        if status in (401, 403) and status not in ok_statuses:
            from tray.platform.credentials import refused_fix
            fix = refused_fix(source) if source else "check the credential: `secondline login NAME`"
            what = ("refused the credential" if status == 401
                    else "refused access (the credential is wrong or lacks a permission)")
            raise SourceError(f"{host} {what} (HTTP {status}): {fix}", kind="auth")
        if status == 429 and status not in ok_statuses:
            wait = rate_limit_wait(headers)
            when = f", retrying in {wait:.0f}s" if wait is not None else ", backing off"
            raise SourceError(f"rate limited by {host} (HTTP 429){when}", kind="rate_limited",
                              retry_after=wait)
        if status >= 500 and status not in ok_statuses:
            raise SourceError(f"server error from {host} (HTTP {status} {resp.reason or ''})".rstrip(),
                              kind="server", retry_after=parse_retry_after(headers.get("retry-after")))
        if not (200 <= status < 300) and status not in ok_statuses:
            raise SourceError(f"unexpected answer from {host} (HTTP {status} {resp.reason or ''})".rstrip(),
                              kind="http")
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise SourceError(f"response from {host} is over the {max_bytes // (1024 * 1024)} MB cap",
                              kind="oversize")
        body = bytearray()
        raw = resp.raw
        try:
            while True:
                if time.monotonic() > deadline:
                    raise SourceError(f"{host} sent its answer too slowly (not complete after {timeout:g}s)",
                                      kind="slow")
                chunk = raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                body += chunk
                if len(body) > max_bytes:
                    raise SourceError(f"response from {host} is over the {max_bytes // (1024 * 1024)} MB cap",
                                      kind="oversize")
        except SourceError:
            raise
        except (requests.exceptions.RequestException, OSError, socket.timeout) as exc:
            raise SourceError(_read_reason(host, timeout, exc), kind=_read_kind(exc)) from None
        except Exception as exc:  # urllib3 ProtocolError / IncompleteRead / DecodeError
            raise SourceError(_read_reason(host, timeout, exc), kind=_read_kind(exc)) from None
        return Response(status=status, headers=headers, body=bytes(body), url=resp.url)

    def get_json(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw).json()

    def close(self) -> None:
        self.session.close()


def _tls_detail(exc: Exception) -> str:
    text = str(exc)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname mismatch",
                   "self-signed certificate", "WRONG_VERSION_NUMBER", "unable to get local issuer"):
        if marker.lower() in text.lower():
            return marker.lower().replace("_", " ")
    return "handshake failed"


def _connection_reason(host: str, exc: Exception) -> str:
    text = str(exc)
    if "Name or service not known" in text or "NameResolutionError" in text or "nodename nor servname" in text:
        return f"cannot resolve {host.rsplit(':', 1)[0]}"
    if "Connection refused" in text or "Errno 111" in text:
        return f"connection refused by {host}"
    if "timed out" in text.lower():
        return f"connection to {host} timed out"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return f"{host} closed the connection without an answer"
    return f"cannot connect to {host}"


def _read_kind(exc: Exception) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    return "timeout" if "timed out" in text or "timeout" in text else "bad_content"


def _read_reason(host: str, timeout: float, exc: Exception) -> str:
    if _read_kind(exc) == "timeout":
        return f"{host} stopped sending mid-answer (no data for {timeout:g}s)"
    return f"truncated response: {host} closed the connection mid-answer"
