"""The live alert set of an Icinga 2 source: polls replace it, stream events change it at once. Pure.

Applying events
    `LiveState` holds the current non-OK objects (host / service `ObjectState`s). A poll replaces them;
    an event changes one at once and the watcher publishes the whole list. Events are ordered against
    polls by server time: an event stamped before the last poll was sent is already in that poll and is
    dropped, so a delayed event can never undo a newer poll (and pop up a stale alert); events applied
    while a poll is in flight are replayed over its result. 2.13 sends no `Date` header, so the server's
    clock is learnt from the events themselves (see LiveState).
    DowntimeRemoved cannot say whether another downtime still covers the object, so it also asks for a
    reconciling poll. A malformed event is skipped with a reconciling poll (never a crash, never green).
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import Any, Callable, Mapping

from tray.core.model import Alert
from tray.sources.icinga2.parse import ObjectState, View, alerts_from_objects, flag, object_id, output_line

MAX_NAMES = 200_000     # display names remembered (two per service at most); ~20 MB at the very worst


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


def _host_is_down(objects: Mapping[str, ObjectState], host: str) -> bool:
    h = objects.get(host)
    return h is not None and h.service is None and h.state != 0 and h.checked


def apply_event(objects: Mapping[str, ObjectState], event: Any,
                names: Mapping[str, str] | None = None) -> tuple[dict[str, ObjectState], bool, bool]:
    """Apply one event to the non-OK objects. Returns (objects, changed, needs_poll). Pure.

    An event carries names, not display names: `names` (object id -> display name, hosts by their own
    name) gives those of an object that was OK until now, so its title is the one a poll would show.
    Raises BadEvent for an event of the wrong shape.
    """
    names = names or {}
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
        output, reachable = output_line(cr), True
        if isinstance(cr, Mapping):
            after = cr.get("vars_after")
            if isinstance(after, Mapping) and after.get("reachable") is False:
                reachable = False
        key = object_id(host, service)
        prev = out.get(key)
        if state == 0:
            out.pop(key, None)
        else:
            host_obj = out.get(host)
            out[key] = ObjectState(
                host=host, service=service,
                host_display=prev.host_display if prev else (
                    host_obj.host_display if host_obj else names.get(host, host)),
                service_display=(prev.service_display if prev else names.get(key, service)) if service else None,
                state=state, state_type=state_type, acknowledged=flag(event.get("acknowledgement")),
                downtime_depth=max(depth, 0),
                last_state_change=prev.last_state_change if prev and prev.state == state else ts,
                output=output, checked=True, reachable=reachable,
                host_down=_host_is_down(out, host) if service else False)
        if service is None:
            down = state != 0
            for k, obj in list(out.items()):
                if obj.service is not None and obj.host == host and obj.host_down != down:
                    out[k] = dataclasses.replace(obj, host_down=down)
        return out, out != dict(objects), False
    if etype in ("AcknowledgementSet", "AcknowledgementCleared"):
        host, service = _target(event)
        key = object_id(host, service)
        obj = out.get(key)
        if obj is None:            # acknowledging an OK object changes nothing we show
            return out, False, False
        out[key] = dataclasses.replace(obj, acknowledged=etype == "AcknowledgementSet")
        return out, out[key] != obj, False
    if etype in ("DowntimeStarted", "DowntimeRemoved"):
        dt = event.get("downtime")
        if not isinstance(dt, Mapping):
            raise BadEvent("downtime is not an object")
        host = _name(dt.get("host_name"), "downtime host_name")
        service = dt.get("service_name")
        if service is not None and not isinstance(service, str):
            raise BadEvent("downtime service_name is not a name")
        key = object_id(host, service or None)
        obj = out.get(key)
        if obj is None:
            return out, False, etype == "DowntimeRemoved"
        if etype == "DowntimeStarted":
            out[key] = dataclasses.replace(obj, downtime_depth=max(obj.downtime_depth, 1))
            return out, out[key] != obj, False
        # Another downtime may still cover it: show the likely outcome now, then ask the server.
        out[key] = dataclasses.replace(obj, downtime_depth=max(obj.downtime_depth - 1, 0))
        return out, out[key] != obj, True
    raise BadEvent(f"unexpected event type {str(etype)[:40]!r}")


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
        self.names: dict[str, str] = {}         # object id -> display name, learnt from polls and lookups

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
                        fresh = apply_event(fresh, event, self.names)[0]
                    except BadEvent:
                        pass
            self.objects = fresh
            for o in objects:
                self._learn(o.host, o.host_display, o.service, o.service_display)
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
            fresh, changed, needs_poll = apply_event(self.objects, event, self.names)
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

    # -- display names -------------------------------------------------------------------------
    def names_missing(self, event: Any) -> tuple[str, str | None] | None:
        """(host, service) of a problem event about an object whose display names are not known yet:
        without them its alert would be titled by names until the next poll renamed it."""
        if not isinstance(event, Mapping) or event.get("type") != "StateChange" or event.get("state") in (0, 0.0):
            return None
        try:
            host, service = _target(event)
        except BadEvent:
            return None
        key = object_id(host, service)
        with self._lock:
            if key in self.objects:          # already a problem: it has its display names
                return None
            known = host in self.names and (service is None or key in self.names)
        return None if known else (host, service)

    def learn_names(self, host: str, host_display: str, service: str | None, service_display: str | None) -> None:
        with self._lock:
            self._learn(host, host_display, service, service_display)

    def _learn(self, host: str, host_display: str, service: str | None, service_display: str | None) -> None:
        if len(self.names) > MAX_NAMES:     # renamed and deleted objects must not grow it for ever
            self.names.clear()
        self.names[host] = host_display
        if service is not None and service_display is not None:
            self.names[object_id(host, service)] = service_display
