"""The pure half of the Icinga 2 source: object-query answers and events -> ObjectState -> Alert.

No I/O here (the fetch, the event stream and the actions live in source.py, stream.py and
live.py); see source.py's docstring for the state rules these functions implement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping
from urllib.parse import quote, urlencode

from tray.core.errors import SourceError
from tray.core.model import Alert, Severity
from tray.sources.base import require

MAX_DETAIL = 400
# /v1/status/CIB counters whose sum is the number of objects of a kind on the server.
CIB_TOTALS = {"host": ("num_hosts_up", "num_hosts_down", "num_hosts_unreachable"),
              "service": ("num_services_ok", "num_services_warning", "num_services_critical",
                          "num_services_unknown")}


@dataclass(frozen=True)
class ObjectState:
    """One host or service as far as alerting cares: what both the object query and the events map to."""
    host: str
    service: str | None
    host_display: str
    service_display: str | None
    state: int
    state_type: int = 1                    # 0 SOFT, 1 HARD
    acknowledged: bool = False
    downtime_depth: int = 0
    last_state_change: float = 0.0         # server time, Unix seconds
    output: str = ""
    checked: bool = True                   # False: never checked (Icinga's PENDING)
    reachable: bool = True
    host_down: bool = False                # services only: their host is DOWN

    @property
    def id(self) -> str:
        return object_id(self.host, self.service)


@dataclass(frozen=True)
class View:
    """What turns an ObjectState into an Alert: the source name and the display settings."""
    source: str
    soft: bool = False
    web_url: str | None = None
    web_ui: str = "icingadb"


def _bad(what: str) -> SourceError:
    return SourceError(f"unexpected response shape: {what}", kind="bad_content")


def _number(value: Any, what: str, default: float | None = None) -> float:
    # Icinga sends numbers as floats ("2.0"); bool is an int subclass and is never a valid number here.
    if value is None:
        if default is not None:
            return default
        raise _bad(f"{what} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(f"{what} is not a number")
    return float(value)


def _int(value: Any, what: str, default: int | None = None) -> int:
    return int(_number(value, what, None if default is None else float(default)))


def _text(value: Any, what: str, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise _bad(f"{what} is not a string")
    return value


def object_id(host: str, service: str | None) -> str:
    """Icinga's own object name, the alert id: "host" or "host!service"."""
    return host if service is None else f"{host}!{service}"


def flag(value: Any) -> bool:
    # acknowledgement is 0/1/2 (none/normal/sticky) in objects, a boolean in events.
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value > 0
    return False


def output_line(check_result: Any) -> str:
    """The first line of a check result's plugin output, capped at MAX_DETAIL."""
    if not isinstance(check_result, Mapping):
        return ""
    out = check_result.get("output")
    if not isinstance(out, str):
        return ""
    first = out.strip().splitlines()[0] if out.strip() else ""
    return first[:MAX_DETAIL]


def _checked(attrs: Mapping[str, Any]) -> bool:
    last_check = attrs.get("last_check")
    if isinstance(last_check, (int, float)) and not isinstance(last_check, bool):
        return last_check > 0
    return isinstance(attrs.get("last_check_result"), Mapping)


def object_from_item(item: Any, kind: str) -> ObjectState:
    """One `results[]` entry of /v1/objects/hosts or /v1/objects/services -> ObjectState."""
    item = require(item, dict, f"a {kind} result")
    attrs = require(item.get("attrs"), dict, f"{kind} attrs")
    name = _text(item.get("name"), f"{kind} name")
    state = _int(attrs.get("state"), f"{kind} state")
    common = dict(
        state=state,
        state_type=_int(attrs.get("state_type"), f"{kind} state_type", 1),
        acknowledged=flag(attrs.get("acknowledgement")),
        downtime_depth=_int(attrs.get("downtime_depth"), f"{kind} downtime_depth", 0),
        last_state_change=_number(attrs.get("last_state_change"), f"{kind} last_state_change", 0.0),
        output=output_line(attrs.get("last_check_result")),
        checked=_checked(attrs),
        reachable=attrs.get("last_reachable") is not False,
    )
    if kind == "host":
        host = _text(attrs.get("name"), "host name", name)
        return ObjectState(host=host, service=None,
                           host_display=_text(attrs.get("display_name"), "host display_name", host),
                           service_display=None, **common)
    joins = item.get("joins") or {}
    joins = require(joins, dict, "service joins")
    jhost = require(joins.get("host") or {}, dict, "service host join")
    host = _text(attrs.get("host_name") if attrs.get("host_name") is not None else jhost.get("name"),
                 "service host_name", name.split("!", 1)[0])
    service = _text(attrs.get("name"), "service name", name.split("!", 1)[-1])
    host_state = jhost.get("state")
    host_checked = _number(jhost.get("last_check"), "host last_check", 1.0) > 0
    host_down = (host_state is not None and _int(host_state, "host state") != 0 and host_checked)
    return ObjectState(host=host, service=service,
                       host_display=_text(jhost.get("display_name"), "host display_name", host),
                       service_display=_text(attrs.get("display_name"), "service display_name", service),
                       host_down=host_down, **common)


def display_names(answer: Any, host: str, service: str | None) -> tuple[str, str | None] | None:
    """(host display name, service display name) from a `display_name` query of one object, or None
    when the answer does not hold that object (deleted meanwhile, or not visible to this ApiUser)."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], dict):
        return None
    item = results[0]
    attrs = item.get("attrs")
    if not isinstance(attrs, dict):
        return None
    own = attrs.get("display_name")
    own = own if isinstance(own, str) and own else None
    if service is None:
        return (own or host, None)
    joins = item.get("joins")
    jhost = joins.get("host") if isinstance(joins, dict) else None
    hname = jhost.get("display_name") if isinstance(jhost, dict) else None
    return (hname if isinstance(hname, str) and hname else host, own or service)


def objects_from_results(payload: Any, kind: str, client_filter: bool = False) -> list[ObjectState]:
    payload = require(payload, dict, f"the {kind} answer")
    results = require(payload.get("results"), list, f"{kind} results")
    out = []
    for item in results:
        if client_filter:
            # Most of an unfiltered list is OK: skip those before building anything.
            attrs = item.get("attrs") if isinstance(item, dict) else None
            state = attrs.get("state") if isinstance(attrs, dict) else None
            if state == 0 and not isinstance(state, bool):
                continue
        out.append(object_from_item(item, kind))
    return out


def problem_names(answer: Any, kind: str) -> list[str]:
    """The names of the non-OK objects in an `{"attrs": ["state"]}` answer. An object without a
    readable state counts as one: reading it in full then says what is wrong with it."""
    answer = require(answer, dict, f"the {kind} answer")
    names = []
    for item in require(answer.get("results"), list, f"{kind} results"):
        item = require(item, dict, f"a {kind} result")
        attrs = item.get("attrs")
        state = attrs.get("state") if isinstance(attrs, dict) else None
        if state == 0 and not isinstance(state, bool):
            continue
        name = _text(item.get("name"), f"{kind} name")
        if not name:
            # Asking for "" by name would read nothing (or everything): the answer is broken, say so.
            raise _bad(f"a {kind} result has an empty name")
        names.append(name)
    return names


_SERVICE_SEVERITY = {1: Severity.WARNING, 2: Severity.CRITICAL, 3: Severity.UNKNOWN}
_SERVICE_WORD = {1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def web_link(view: View, host: str, service: str | None) -> str | None:
    if not view.web_url:
        return None
    base = view.web_url.rstrip("/")
    if view.web_ui == "monitoring":
        if service is None:
            return f"{base}/monitoring/host/show?{urlencode({'host': host}, quote_via=quote)}"
        return f"{base}/monitoring/service/show?{urlencode({'host': host, 'service': service}, quote_via=quote)}"
    if service is None:
        return f"{base}/icingadb/host?{urlencode({'name': host}, quote_via=quote)}"
    return f"{base}/icingadb/service?{urlencode({'name': service, 'host.name': host}, quote_via=quote)}"


def _since(ts: float) -> datetime | None:
    if ts <= 0:
        return None
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def to_alert(obj: ObjectState, view: View) -> Alert | None:
    """The alert for one object, or None when it is OK/UP."""
    if obj.state == 0:
        return None
    notes = []
    if obj.service is None:
        down_word = "PENDING" if not obj.checked else ("DOWN" if obj.reachable else "UNREACHABLE")
        title = f"{obj.host_display}: host {down_word}"
        severity = Severity.CRITICAL if obj.reachable else Severity.UNKNOWN
        pending = False
    else:
        title = f"{obj.host_display}: {obj.service_display or obj.service}"
        severity = _SERVICE_SEVERITY.get(obj.state, Severity.UNKNOWN)
        pending = False
        if obj.host_down:
            notes.append("host DOWN")
            pending = True
        elif not obj.reachable:
            notes.append("unreachable")
            pending = True
    if not obj.checked:
        notes.append("pending: not checked yet")
        severity = Severity.UNKNOWN
        pending = True
    elif obj.state_type == 0:
        notes.append("SOFT")
        pending = pending or not view.soft
    handled_reason = "downtime" if obj.downtime_depth > 0 else ("acknowledged" if obj.acknowledged else None)
    detail = obj.output
    if notes:
        detail = f"[{', '.join(notes)}] {detail}".rstrip()
    return Alert(source=view.source, id=obj.id, title=title, severity=severity, detail=detail,
                 since=_since(obj.last_state_change), url=web_link(view, obj.host, obj.service),
                 handled=handled_reason is not None, handled_reason=handled_reason, pending=pending,
                 ref={"host": obj.host, "service": obj.service})


def alerts_from_objects(objects: Iterable[ObjectState], view: View) -> list[Alert]:
    out = []
    for obj in objects:
        alert = to_alert(obj, view)
        if alert is not None:
            out.append(alert)
    # Hosts first, then services, each by name: a stable order for the menu and for tests.
    out.sort(key=lambda a: (a.ref.get("service") is not None, a.id))
    return out


def parse_payload(payload: Any, view: View, client_filter: bool = False) -> list[ObjectState]:
    """{"hosts": <answer>, "services": <answer>} -> objects with a non-OK state."""
    payload = require(payload, dict, "the Icinga 2 answer")
    hosts = objects_from_results(payload.get("hosts"), "host", client_filter)
    services = objects_from_results(payload.get("services"), "service", client_filter)
    return hosts + services


def cib_totals(answer: Any) -> dict[str, int] | None:
    """/v1/status/CIB -> {"host": n, "service": m}, or None when the answer does not say. Pure."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        return None
    status = results[0].get("status")
    if not isinstance(status, dict):
        return None
    totals = {}
    for kind, keys in CIB_TOTALS.items():
        values = [status.get(k) for k in keys]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return None
        totals[kind] = int(sum(values))
    return totals


def blindness(user: str, hidden: list[str], totals: dict[str, int]) -> tuple[str, str]:
    """(finding, fix) for an ApiUser that sees no object of the `hidden` kinds.

    `totals` (from /v1/status/CIB, empty without status/query) tells a hiding filter from an empty server."""
    parts = []
    for kind in hidden:
        total = totals.get(kind)
        parts.append(f"0 of the server's {total} {kind}s" if total else f"0 {kind}s")
    perms = " and ".join(f"objects/query/{k.title()}" for k in hidden)
    if any(totals.get(k) for k in hidden):
        fix = (f"its permissions hide them (a `filter` on {perms} that matches nothing?): fix the ApiUser's "
               "permissions in the Icinga 2 config")
    elif totals:
        fix = "the server has none: check that `url` points to the Icinga 2 that runs your checks"
    else:
        fix = (f"its permissions hide them (a `filter` on {perms} that matches nothing?), or the server has "
               "none: check the ApiUser's permissions in the Icinga 2 config")
    return f"{user} sees {' and '.join(parts)}", fix
