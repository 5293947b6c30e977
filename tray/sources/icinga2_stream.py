"""Icinga 2 push: the `/v1/events` stream, the `/v1/status/CIB` change detector, and the live alert set.

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
    Figures (bench/detect_latency.py, 1,008 services, 20 changes, app at interval 60 s):
      stream + CIB every 0.25 s: p50 60 ms, p95 313 ms; app CPU idle 0.30 %; on icinga2 idle 222 req/min,
        360 KiB/min, icinga2 CPU 0.55 %.
      1 s full poll of all services: p50 687 ms, p95 1054 ms; client CPU 1.94 %; 54 req/min,
        44,026 KiB/min, icinga2 CPU 4.25 %.
    Cost on a big server (`--server-cost 5000`, 50,008 services): Icinga computes the CIB counters by
    walking every object (54-90 ms an answer there), so a fixed 0.25 s detector took 15-19 % of a core
    from icinga2. `DetectorPace` keeps the detector to 5 % of a core (3.2 % measured: a check every
    ~2 s there; still 0.25 s below ~5,000 objects), and `PollBudget` keeps detector-triggered polls to
    25 % of the time (a problems-only poll there: 4.1 MiB, 0.6-0.8 s; the whole list: 38.5 MiB, 3.7-5 s).

Applying events
    `LiveState` holds the current non-OK objects (host / service `ObjectState`s). A poll replaces them;
    an event changes one at once and the watcher publishes the whole list. Events are ordered against
    polls by server time: an event stamped before the last poll was sent is already in that poll and is
    dropped, so a delayed event can never undo a newer poll (and pop up a stale alert); events applied
    while a poll is in flight are replayed over its result. 2.13 sends no `Date` header, so the server's
    clock is learnt from the events themselves (see LiveState).
    DowntimeRemoved cannot say whether another downtime still covers the object, so it also asks for a
    reconciling poll. A malformed event is skipped with a reconciling poll (never a crash, never green).

Stream life
    One `POST /v1/events?queue=secondline-<name>-<random>&types=...` request with `stream=True`, read with
    `raw.read1()` (the body is neither chunked nor length-delimited: `iter_lines()` would wait for 512
    bytes). Read timeout `STREAM_IDLE_S`: a silent stream is reopened quietly (no error shown); a stream
    that fails or drops raises SourceError(kind="stream"), which the scheduler shows on the source while
    it restarts the watcher with back-off; `ctx.connected()` on each (re)start clears it and triggers the
    reconciling poll. The detector closes the stream when the app stops, so no thread hangs in a read.
"""
from __future__ import annotations

import base64
import http.client as httpclient
import json
import logging
import math
import secrets
import socket
import ssl
import threading
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests
from requests import certs

from tray.errors import SourceError
from tray.model import Alert
from tray.sources.icinga2 import ObjectState, View, alerts_from_objects

log = logging.getLogger(__name__)

EVENT_TYPES = ("StateChange", "AcknowledgementSet", "AcknowledgementCleared", "DowntimeStarted",
               "DowntimeRemoved")
STREAM_IDLE_S = 300.0          # reopen a stream that said nothing for this long (no heartbeat in 2.13)
MAX_LINE = 4 * 1024 * 1024     # one event is a few KB; a longer line means we are not reading events
CIB_MAX_BYTES = 256 * 1024


class BadEvent(ValueError):
    """An event we cannot apply; the caller asks for a reconciling poll instead."""


# -- pure event application ----------------------------------------------------------------------

def _num(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadEvent(f"{what} is not a number")
    return float(value)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadEvent(f"{what} is not a name")
    return value


def _target(event: Mapping[str, Any]) -> tuple[str, str | None]:
    host = _name(event.get("host"), "host")
    service = event.get("service")
    if service is not None and not isinstance(service, str):
        raise BadEvent("service is not a name")
    return host, (service or None)


def _key(host: str, service: str | None) -> str:
    return host if service is None else f"{host}!{service}"


def _host_is_down(objects: Mapping[str, ObjectState], host: str) -> bool:
    h = objects.get(host)
    return h is not None and h.service is None and h.state != 0 and h.checked


def apply_event(objects: Mapping[str, ObjectState], event: Any) -> tuple[dict[str, ObjectState], bool, bool]:
    """Apply one event to the non-OK objects. Returns (objects, changed, needs_poll). Pure.

    Raises BadEvent for an event of the wrong shape.
    """
    if not isinstance(event, Mapping):
        raise BadEvent("event is not an object")
    etype = event.get("type")
    out = dict(objects)
    if etype == "StateChange":
        host, service = _target(event)
        ts = _num(event.get("timestamp"), "timestamp")
        state = int(_num(event.get("state"), "state"))
        state_type = int(_num(event.get("state_type", 1), "state_type"))
        depth = int(_num(event.get("downtime_depth", 0), "downtime_depth"))
        cr = event.get("check_result")
        output, reachable = "", True
        if isinstance(cr, Mapping):
            out_text = cr.get("output")
            if isinstance(out_text, str) and out_text.strip():
                output = out_text.strip().splitlines()[0][:400]
            after = cr.get("vars_after")
            if isinstance(after, Mapping) and after.get("reachable") is False:
                reachable = False
        key = _key(host, service)
        prev = out.get(key)
        if state == 0:
            out.pop(key, None)
        else:
            host_obj = out.get(host)
            out[key] = ObjectState(
                host=host, service=service,
                host_display=prev.host_display if prev else (host_obj.host_display if host_obj else host),
                service_display=(prev.service_display if prev else service) if service else None,
                state=state, state_type=state_type, acknowledged=_flag(event.get("acknowledgement")),
                downtime_depth=max(depth, 0),
                last_state_change=prev.last_state_change if prev and prev.state == state else ts,
                output=output, checked=True, reachable=reachable,
                host_down=_host_is_down(out, host) if service else False)
        if service is None:
            down = state != 0
            for k, obj in list(out.items()):
                if obj.service is not None and obj.host == host and obj.host_down != down:
                    out[k] = _replace(obj, host_down=down)
        return out, out != dict(objects), False
    if etype in ("AcknowledgementSet", "AcknowledgementCleared"):
        host, service = _target(event)
        key = _key(host, service)
        obj = out.get(key)
        if obj is None:            # acknowledging an OK object changes nothing we show
            return out, False, False
        out[key] = _replace(obj, acknowledged=etype == "AcknowledgementSet")
        return out, out[key] != obj, False
    if etype in ("DowntimeStarted", "DowntimeRemoved"):
        dt = event.get("downtime")
        if not isinstance(dt, Mapping):
            raise BadEvent("downtime is not an object")
        host = _name(dt.get("host_name"), "downtime host_name")
        service = dt.get("service_name")
        if service is not None and not isinstance(service, str):
            raise BadEvent("downtime service_name is not a name")
        key = _key(host, service or None)
        obj = out.get(key)
        if obj is None:
            return out, False, etype == "DowntimeRemoved"
        if etype == "DowntimeStarted":
            out[key] = _replace(obj, downtime_depth=max(obj.downtime_depth, 1))
            return out, out[key] != obj, False
        # Another downtime may still cover it: show the likely outcome now, then ask the server.
        out[key] = _replace(obj, downtime_depth=max(obj.downtime_depth - 1, 0))
        return out, out[key] != obj, True
    raise BadEvent(f"unexpected event type {str(etype)[:40]!r}")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _replace(obj: ObjectState, **changes: Any) -> ObjectState:
    import dataclasses
    return dataclasses.replace(obj, **changes)


def event_time(event: Any) -> float | None:
    ts = event.get("timestamp") if isinstance(event, Mapping) else None
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        return None
    return float(ts)


class LiveState:
    """The current non-OK objects of one source, shared by the poll thread and the watcher threads.

    Ordering events against polls needs the server's clock (2.13 sends no Date header). Each event
    gives `local arrival - server timestamp`; the smallest seen is the clock offset plus the fastest
    delivery, never less than the true offset. So `poll start (local) - offset` is never later than the
    server's time when the poll was sent: an event stamped before it is certainly in the poll's answer
    and is dropped. Until an event has been seen nothing is dropped (the safe side: extra publishes,
    never lost changes).
    """

    def __init__(self, view: View, clock: Callable[[], float] = time.time) -> None:
        self.view = view
        self.clock = clock
        self._lock = threading.Lock()
        self.objects: dict[str, ObjectState] = {}
        self.offset: float | None = None        # local clock - server clock (upper bound)
        self.poll_time: float | None = None     # server time before which the last poll saw everything
        self._seq = 0
        self._in_flight = 0
        self._log: list[tuple[int, Any]] = []   # events applied while a poll was in flight

    def begin_poll(self) -> tuple[int, float]:
        with self._lock:
            self._in_flight += 1
            return self._seq, self.clock()

    def abort_poll(self) -> None:
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            if not self._in_flight:
                self._log.clear()

    def finish_poll(self, token: tuple[int, float], objects: list[ObjectState]) -> list[Alert]:
        seq0, started = token
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            cutoff = started - self.offset if self.offset is not None else None
            fresh = {o.id: o for o in objects}
            for seq, event in self._log:
                ts = event_time(event)
                if seq > seq0 and (cutoff is None or ts is None or ts >= cutoff):
                    try:
                        fresh = apply_event(fresh, event)[0]
                    except BadEvent:
                        pass
            self.objects = fresh
            if cutoff is not None and (self.poll_time is None or cutoff > self.poll_time):
                self.poll_time = cutoff
            if not self._in_flight:
                self._log.clear()
            return alerts_from_objects(fresh.values(), self.view)

    def apply(self, event: Any, received: float | None = None) -> tuple[list[Alert] | None, bool]:
        """Apply one event; returns (full alert list when something changed, needs_poll)."""
        arrived = self.clock() if received is None else received
        with self._lock:
            ts = event_time(event)
            if ts is not None:
                lag = arrived - ts
                self.offset = lag if self.offset is None else min(self.offset, lag)
                if self.poll_time is not None and ts < self.poll_time:
                    return None, False          # sent before the last poll: that poll already has it
            fresh, changed, needs_poll = apply_event(self.objects, event)
            self._seq += 1
            if self._in_flight:
                self._log.append((self._seq, event))
            if not changed:
                return None, needs_poll
            self.objects = fresh
            return alerts_from_objects(fresh.values(), self.view), needs_poll

    def alerts(self) -> list[Alert]:
        with self._lock:
            return alerts_from_objects(self.objects.values(), self.view)


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
            raise SourceError(f"event stream refused by {host} (HTTP {status}): the ApiUser needs the "
                              "events/* permissions; check the credential: "
                              f"`secondline login {src.name}`", kind="auth")
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
        try:
            alerts, needs_poll = src.live.apply(event)
        except BadEvent as exc:
            log.warning("%s: skipped an event (%s); reconciling with a poll", src.name, exc)
            ctx.request_poll()
            return
        if alerts is not None:
            ctx.publish(alerts)
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

    Measured here: one CIB check through requests + tray.net costs ~1.5 ms of CPU, through one persistent
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
                raise SourceError(f"{probe.where} refused the credential (HTTP 401): check the credential: "
                                  f"`secondline login {src.name}`", kind="auth")
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
