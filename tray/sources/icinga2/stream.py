"""Icinga 2 push: the `/v1/events` stream and the `/v1/status/CIB` change detector (the two watchers).

Why two watchers (measured on Debian's icinga2 2.13.6 on this machine)
    The stream alone is not enough. With changes 6 s apart, 6 of 20 StateChange events arrived only
    after 3.95-4.42 s; with changes 0.5-1 s apart, events were held and sent in batches on a ~5 s tick
    (70 % late, up to 4.8 s; several queues on the same server were late together, so more streams
    do not help). The object query and the CIB counters showed each change at once. The stream also
    sends nothing while nothing happens (no heartbeat in 100 s).
    So a change detector runs beside it: `GET /v1/status/CIB` every `detect_interval` (0.25 s) on one
    keep-alive connection (`CibProbe`). The answer is ~1.3 KB whatever the installation's size (counters
    such as num_services_critical / _acknowledged / _in_downtime / _pending, and the same for hosts);
    when a counter moves, the detector asks the scheduler for a full, problems-only poll. Alternatives
    weighed: a `last_state_change > T` filtered query (few bytes, but Icinga evaluates a filter
    expression on every object each time, it needs the filter permission, and it misses acks and
    downtimes), and a 1 s full poll (what Nagstamon does at its fastest).
    Figures (bench/detect_latency.py: 1,008 services, 40 state changes, app at interval 60 s, CPU in % of
    one core, load measured through a counting TCP pass-through and icinga2's own request log):
      stream + CIB every 0.25 s: p50 154 ms, p95 347 ms, max 451 ms; app CPU idle 0.40 %, during the
        changes 1.18 %; on icinga2 idle 237 req/min, 365 KiB/min, icinga2 CPU 0.60 %.
      full poll of all services every 1 s: p50 868 ms, p95 1242 ms; client CPU 1.62 %; 48 req/min,
        39,140 KiB/min, icinga2 CPU 4.00 %.
    Cost on a big server (`--server-cost 5000`, 50,008 services): Icinga computes the CIB counters by
    walking every object (54-90 ms an answer there), so a fixed 0.25 s detector took 15-19 % of a core
    from icinga2. `DetectorPace` keeps the detector to 5 % of a core (3.2 % measured: a check every
    ~2 s there; still 0.25 s below ~5,000 objects), and `PollBudget` keeps detector-triggered polls to
    25 % of the time (a problems-only poll there: 4.1 MiB, 0.6-0.8 s; the whole list: 38.5 MiB, 3.7-5 s).

Stream life
    One `POST /v1/events?queue=secondline-<name>-<random>&types=...` request with `stream=True`, read with
    `raw.read1()` (the body is neither chunked nor length-delimited: `iter_lines()` would wait for 512
    bytes). Read timeout `STREAM_IDLE_S`: a silent stream is reopened quietly (no error shown); a stream
    that fails or drops raises SourceError(kind="stream"), which the scheduler shows on the source while
    it restarts the watcher with back-off; `ctx.connected()` on each (re)start clears it and triggers the
    reconciling poll. The detector closes the stream when the app stops, so no thread hangs in a read.

How events and polls are merged into the alert set: live.py.
"""
from __future__ import annotations

import base64
import http.client as httpclient
import json
import logging
import secrets
import socket
import ssl
import threading
import time
from typing import Any, Mapping
from urllib.parse import urlsplit

import requests
from requests import certs

from tray.core.errors import SourceError
from tray.sources.icinga2.live import BadEvent

log = logging.getLogger(__name__)

EVENT_TYPES = ("StateChange", "AcknowledgementSet", "AcknowledgementCleared", "DowntimeStarted",
               "DowntimeRemoved")
STREAM_IDLE_S = 300.0          # reopen a stream that said nothing for this long (no heartbeat in 2.13)
MAX_LINE = 4 * 1024 * 1024     # one event is a few KB; a longer line means we are not reading events
CIB_MAX_BYTES = 256 * 1024


# -- the watchers (I/O) --------------------------------------------------------------------------

def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]


def open_stream(src: Any, http: Any) -> requests.Response:
    """Open the event stream or raise SourceError with a one-line reason."""
    host = _host(src.base_url)
    params = [("queue", f"secondline-{src.name}-{secrets.token_hex(4)}")]
    params += [("types", t) for t in EVENT_TYPES]
    connect = min(float(src.config.timeout), 10.0)
    try:
        resp = http.session.post(f"{src.base_url}/v1/events", params=params,
                                 headers={"Accept": "application/json"}, auth=src.auth(), verify=src.verify,
                                 stream=True, timeout=(connect, STREAM_IDLE_S), allow_redirects=False)
    except requests.exceptions.SSLError:
        raise SourceError(f"event stream: TLS error talking to {host}: set `ca_bundle` to the server's CA "
                          "file, or `verify_tls = false` to skip the check", kind="tls") from None
    except requests.exceptions.Timeout:
        raise SourceError(f"event stream: connection to {host} timed out", kind="stream") from None
    except requests.exceptions.RequestException as exc:
        text = str(exc)
        why = "connection refused" if ("refused" in text or "Errno 111" in text) else "cannot connect"
        raise SourceError(f"event stream: {why} ({host})", kind="stream") from None
    if resp.status_code != 200:
        status = resp.status_code
        resp.close()
        if status in (401, 403):
            from tray.platform.credentials import refused_fix
            raise SourceError(f"event stream refused by {host} (HTTP {status}): the ApiUser needs the "
                              f"events/* permissions; {refused_fix(src.name)}", kind="auth")
        raise SourceError(f"event stream: unexpected answer from {host} (HTTP {status})", kind="stream")
    return resp


def read_events(resp: Any, on_event: Any, stop: threading.Event, host: str) -> None:
    """Feed each decoded event to on_event until the stream goes quiet (returns) or fails (raises)."""
    buf = b""
    while not stop.is_set():
        try:
            chunk = resp.raw.read1(65536)
        except Exception as exc:  # urllib3 ReadTimeoutError / ProtocolError / SSLError, OSError
            if stop.is_set():
                return
            text = f"{type(exc).__name__} {exc}".lower()
            if "timed out" in text or "timeout" in text:
                return
            raise SourceError(f"event stream from {host} dropped ({type(exc).__name__})", kind="stream") from None
        if not chunk:
            if stop.is_set():
                return
            raise SourceError(f"event stream from {host} was closed by the server", kind="stream")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                try:
                    event = json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                    event = None
                on_event(event)
        if len(buf) > MAX_LINE:
            raise SourceError(f"event stream from {host} sent a line over {MAX_LINE // 1048576} MB",
                              kind="stream")


def run_stream(src: Any, http: Any, ctx: Any) -> None:
    """Watcher: keep the event stream open and apply each event at once."""
    host = _host(src.base_url)

    def on_event(event: Any) -> None:
        missing = src.live.names_missing(event)
        if missing is not None:
            src.learn_display_names(http, *missing)
        try:
            alerts, needs_poll = src.live.apply(event)
        except BadEvent as exc:
            log.warning("%s: skipped an event (%s); reconciling with a poll", src.name, exc)
            ctx.request_poll()
            return
        if alerts is not None:
            shown = src.stream_view(alerts)
            if shown is None:
                needs_poll = True       # blind with nothing to show: only a poll can say so
            else:
                ctx.publish(shown)
        if needs_poll:
            ctx.request_poll()

    first = True
    while not ctx.stop.is_set():
        resp = open_stream(src, http)
        src._stream_sock = _socket_of(resp)
        try:
            if first:
                ctx.connected()               # clears a stream error, triggers the reconciling poll
                first = False
            elif src.settings.detect_interval <= 0:
                ctx.request_poll()            # nobody else covered the moment between two streams
            read_events(resp, on_event, ctx.stop, host)
        finally:
            src._stream_sock = None
            resp.close()


def _socket_of(resp: Any) -> socket.socket | None:
    # urllib3 keeps the connection on a streamed response; its socket is what a blocked read waits on.
    # urllib3 2.x drops `_connection.sock` for a read-until-close body: fall back to http.client's.
    raw = getattr(resp, "raw", None)
    candidates = [getattr(getattr(raw, "_connection", None), "sock", None)]
    fp = getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None)
    candidates.append(getattr(fp, "_sock", None))
    for sock in candidates:
        if isinstance(sock, socket.socket):
            return sock
    return None


def close_stream(src: Any) -> None:
    """Wake a reader blocked in read1() from another thread.

    `Response.close()` from another thread blocks on the reader's buffer lock until data arrives (a quiet
    stream: never), so shut the socket down instead; the reader sees EOF and closes the response itself.
    """
    sock = getattr(src, "_stream_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed by the reader: nothing to wake
            pass


def cib_counters(payload: Any) -> dict[str, float]:
    """The state counters of a /v1/status/CIB answer (uptime and check rates change on their own)."""
    if not isinstance(payload, Mapping):
        raise SourceError("unexpected response shape: CIB status is not an object", kind="bad_content")
    results = payload.get("results")
    if not isinstance(results, list) or not results or not isinstance(results[0], Mapping):
        raise SourceError("unexpected response shape: CIB results", kind="bad_content")
    status = results[0].get("status")
    if not isinstance(status, Mapping):
        raise SourceError("unexpected response shape: CIB status", kind="bad_content")
    return {k: v for k, v in status.items()
            if isinstance(k, str) and k.startswith(("num_hosts_", "num_services_"))}


class CibProbe:
    """A lean keep-alive GET of /v1/status/CIB for the detector's hot loop.

    Measured here: one CIB check through requests + tray.engine.net costs ~1.5 ms of CPU, through one persistent
    http.client connection ~0.58 ms (the TLS record work is most of what is left). At 3-4 checks a
    second that is the difference between 0.65 % and ~0.2 % of a core. It honours the same settings as
    the session: `ca_bundle`, `verify_tls`, certifi's bundle by default (as requests), no proxies (the
    shared session ignores the environment too), Basic auth in a header.
    """

    def __init__(self, src: Any) -> None:
        parts = urlsplit(src.base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.https else 80)
        self.path = (parts.path.rstrip("/") or "") + "/v1/status/CIB"
        self.where = _host(src.base_url)
        user, password = src.auth()
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Accept": "application/json", "Authorization": f"Basic {token}",
                        "User-Agent": "secondline-cib"}
        self.context: ssl.SSLContext | None = None
        if self.https:
            verify = src.verify
            if verify is False:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                ctx = ssl.create_default_context(cafile=verify if isinstance(verify, str) else certs.where())
            self.context = ctx
        self.conn: httpclient.HTTPConnection | None = None

    def _connect(self, timeout: float) -> httpclient.HTTPConnection:
        if self.https:
            return httpclient.HTTPSConnection(self.host, self.port, context=self.context, timeout=timeout)
        return httpclient.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, timeout: float) -> tuple[int, bytes]:
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = self._connect(timeout)
            try:
                self.conn.request("GET", self.path, headers=self.headers)
                resp = self.conn.getresponse()
                length = resp.getheader("Content-Length")
                if length and length.isdigit() and int(length) > CIB_MAX_BYTES:
                    self.close()
                    raise SourceError(f"CIB status from {self.where} is over the size cap", kind="oversize")
                body = resp.read(CIB_MAX_BYTES + 1)
                if len(body) > CIB_MAX_BYTES:
                    self.close()
                    raise SourceError(f"CIB status from {self.where} is over the size cap", kind="oversize")
                if resp.will_close:
                    self.close()
                return resp.status, body
            except SourceError:
                raise
            except ssl.SSLError as exc:
                self.close()
                raise SourceError(f"TLS error talking to {self.where} ({type(exc).__name__}): set `ca_bundle` "
                                  "to the server's CA file, or `verify_tls = false` to skip the check",
                                  kind="tls") from None
            except (httpclient.HTTPException, OSError) as exc:
                self.close()
                if reused and attempt == 0 and not isinstance(exc, TimeoutError):
                    continue                  # the server closed an idle keep-alive connection: once more
                text = str(exc).lower()
                if isinstance(exc, TimeoutError) or "timed out" in text:
                    raise SourceError(f"{self.where} did not answer the status check within {timeout:g}s",
                                      kind="timeout") from None
                why = "connection refused by" if "refused" in text else "cannot connect to"
                raise SourceError(f"{why} {self.where} (status check)", kind="refused") from None
        raise SourceError(f"cannot connect to {self.where} (status check)", kind="refused")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class PollBudget:
    """Spaces the full polls the detector asks for, so that a big, busy server is not polled flat out.

    On a small installation a poll takes ~30 ms and changes are rare: every change is polled at once.
    On 50,000 services with 5,000 problems one poll moves ~6 MB and costs ~0.3 s of parsing here, and the
    counters move all the time: polls are then kept to at most DUTY of the time (the gap after a poll
    is (1 / DUTY - 1) = 3 times its duration), a change during the gap is polled when it ends, and the
    event stream still applies what it delivers in between. (DUTY 0.1 was tried first: under load a
    100 ms poll on 1,000 services then held the next change back by up to 0.9 s.) Pure: time comes in
    as an argument.
    """

    DUTY = 0.25

    def __init__(self) -> None:
        self.next_allowed = 0.0
        self.pending = False

    def changed(self, now: float, last_poll_seconds: float) -> bool:
        """Counters moved at `now`: True when a poll should be asked for now."""
        self.pending = True
        return self.due(now, last_poll_seconds)

    def due(self, now: float, last_poll_seconds: float) -> bool:
        if not self.pending or now < self.next_allowed:
            return False
        self.pending = False
        self.next_allowed = now + last_poll_seconds * (1.0 / self.DUTY - 1.0)
        return True


class DetectorPace:
    """How often to ask for the CIB counters: `detect_interval`, slowed down on servers where the
    answer is expensive. Icinga computes the counters by walking every object: measured here ~2 ms
    for 1,000 services but 54 ms for 50,000, where a check every 0.25 s took 18.7 % of a core from
    icinga2. So the detector keeps to SERVER_SHARE of one core: interval >= answer time / SERVER_SHARE
    (median of recent answers), i.e. ~1-2 s at 50,000 services, with the event stream covering in between. Pure.
    """

    SERVER_SHARE = 0.05
    WINDOW = 15

    def __init__(self, configured: float) -> None:
        self.configured = configured
        self.recent: list[float] = []

    def answered(self, seconds: float) -> None:
        # The median of the last answers: a small server answers in ~1 ms with the odd 30-80 ms spike
        # (its own timers), which must not slow the detector; a big one is slow every time.
        self.recent = (self.recent + [seconds])[-self.WINDOW:]

    @property
    def cost(self) -> float | None:
        if not self.recent:
            return None
        return sorted(self.recent)[len(self.recent) // 2]

    @property
    def interval(self) -> float:
        cost = self.cost
        if cost is None:
            return self.configured
        return min(max(self.configured, cost / self.SERVER_SHARE), 30.0)


def run_detector(src: Any, http: Any, ctx: Any) -> None:
    """Watcher: poll the O(1)-sized CIB counters; a change asks for a full poll at once."""
    timeout = min(float(src.config.timeout), 5.0)
    probe = CibProbe(src)
    budget = PollBudget()
    pace = DetectorPace(float(src.settings.detect_interval))
    last: dict[str, float] | None = None
    try:
        while not ctx.wait(pace.interval):
            asked = time.monotonic()
            status, body = probe.get(timeout)
            pace.answered(time.monotonic() - asked)
            if status in (403, 404):
                # No status/query permission: the stream alone still works (slower); say it once.
                log.warning("%s: the ApiUser may not read /v1/status (status/query): change detection "
                            "falls back to the event stream alone", src.name)
                probe.close()
                ctx.wait(3600.0)
                continue
            if status == 401:
                from tray.platform.credentials import refused_fix
                raise SourceError(f"{probe.where} refused the credential (HTTP 401): {refused_fix(src.name)}",
                                  kind="auth")
            if status != 200:
                raise SourceError(f"status check: unexpected answer from {probe.where} (HTTP {status})",
                                  kind="server" if status >= 500 else "http")
            if body.lstrip()[:1] == b"<":
                raise SourceError(f"status check: got an HTML page from {probe.where} instead of JSON",
                                  kind="bad_content")
            try:
                payload = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise SourceError(f"status check: {probe.where} sent invalid JSON", kind="bad_content") from None
            counters = cib_counters(payload)
            if last is None:
                # Up (again): clears an error a failed check left on the source while the stream stayed up.
                ctx.connected()
            now = time.monotonic()
            cost = float(getattr(src, "last_poll_seconds", 0.0) or 0.0)
            if budget.changed(now, cost) if (last is not None and counters != last) else budget.due(now, cost):
                ctx.request_poll()
            last = counters
    finally:
        probe.close()
        if ctx.stop.is_set():
            close_stream(src)
