"""Hypothesis: any JSON a server might send yields alerts or a SourceError, never another exception.

Two generators per type: free-form JSON, and "near miss" payloads that have the documented keys
with arbitrary values (the likelier real-world breakage: a field that changed type).
"""
from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings, strategies as st

from support.monitoring import MY_TYPES, make_source
from tray.core.errors import SourceError
from tray.core.model import Alert, HANDLED_REASONS, Severity

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["0", "1", "2", "3", "4", "16", "99", "y", "n", "sticky", "hard", "soft",
                                     "CRITICAL", "DOWN", "PENDING", "firing", "pending", "NoData", "Error (x)",
                                     "2026-01-01T08:00:00Z", "1767254400", "0001-01-01T00:00:00Z", ""]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=20)
# Values a real server sends, so that near-miss payloads mostly parse and reach the mapping code.
plausible = st.sampled_from(["0", "1", "2", "3", "99", 0, 1, 2, 3, 4, 8, 16, 99, 2.0, True, False, "y", "n",
                             "sticky", "hard", "soft", "HARD", "SOFT", "CRITICAL", "WARNING", "DOWN", "UNREACHABLE",
                             "PENDING", "1/3", "web01", "2026-01-01T08:00:00Z", 1767254400, 1767254400000, None])
val = st.one_of(plausible, plausible, plausible, json_values)
_GOOD = {
    "name": st.sampled_from(["web01", "db 1", "1", "höst"]),
    "state": st.sampled_from(["0", "1", "2", "3", "99", 0, 1, 2, 3, 4, 8, 16, 99, 2.0, "CRITICAL", "DOWN",
                              "WARNING", "UNREACHABLE", "PENDING", "OK"]),
    "type": st.sampled_from(["0", "1", 0, 1, "hard", "soft", "HARD", "SOFT", None]),
    "flag": st.sampled_from(["0", "1", 0, 1, True, False, "y", "n", "sticky", None]),
    "time": st.sampled_from([1767254400, "1767254400", 1767254400000, "2026-01-01T08:00:00Z", None, "", "bogus"]),
    "text": st.sampled_from(["out", "", None, "multi\nline"]),
}


def _kind(key: str) -> str:
    if key.endswith(("state_type", "attempts")):
        return "type"
    if key.endswith(("state", "status")):
        return "state"
    if key.endswith(("acknowledged", "downtime", "reachable", "depth")):
        return "flag"
    if "last_state_change" in key:
        return "time"
    if key.endswith(("output", "information")):
        return "text"
    return "name"


def good_or_any(key: str):
    """Right kind of value nine times in ten: enough whole rows survive to exercise the mapping."""
    good = _GOOD[_kind(key)]
    return st.integers(0, 9).flatmap(lambda i: json_values if i == 0 else good)


def fields(keys: list[str]):
    """Every documented key present, each value plausible most of the time, anything at all otherwise."""
    return st.fixed_dictionaries({k: good_or_any(k) for k in keys})


def rows(keys: list[str]):
    return st.lists(st.integers(0, 9).flatmap(lambda i: json_values if i == 0 else fields(keys)), max_size=3)


def nested(keys: list[str], state_keys: list[str]):
    return st.lists(st.fixed_dictionaries({
        **{k: good_or_any(k) for k in keys},
        "state": st.one_of(fields(state_keys), fields(state_keys), json_values),
        "host": st.one_of(fields(["name", "display_name"]), json_values),
    }), max_size=3)


IW = ["host_name", "host_display_name", "service_description", "service_display_name", "service_state",
      "service_state_type", "service_acknowledged", "service_in_downtime", "service_last_state_change",
      "service_output", "host_state", "host_state_type", "host_acknowledged", "host_in_downtime", "host_output",
      "host_last_state_change"]
DB_STATE = ["soft_state", "hard_state", "state_type", "is_acknowledged", "in_downtime", "is_reachable",
            "last_state_change", "output"]
NAG = ["status", "state_type", "last_state_change", "plugin_output", "problem_has_been_acknowledged",
       "scheduled_downtime_depth", "description"]
I1 = ["host_name", "host", "host_display_name", "service_description", "service", "service_display_name",
      "status", "state_type", "attempts", "has_been_acknowledged", "in_scheduled_downtime", "status_information"]
AM = st.lists(st.fixed_dictionaries({}, optional={
    "labels": st.one_of(json_values, st.dictionaries(st.sampled_from(["alertname", "severity", "instance", "rulename"]),
                                                     st.one_of(st.sampled_from(["critical", "warning", "info",
                                                                                "DatasourceNoData", "x"]),
                                                               scalars))),
    "annotations": json_values, "startsAt": json_values, "fingerprint": json_values, "generatorURL": json_values,
    "status": st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "state": json_values, "silencedBy": json_values, "inhibitedBy": json_values, "mutedBy": json_values})),
}), max_size=3)
V1_ALERT = st.fixed_dictionaries({
    "labels": st.integers(0, 9).flatmap(lambda i: json_values if i == 0 else st.dictionaries(
        st.sampled_from(["alertname", "severity", "rulename"]), st.sampled_from(["critical", "info", "x", "Disk"]))),
    "state": st.integers(0, 9).flatmap(lambda i: json_values if i == 0 else st.sampled_from(
        ["firing", "pending", "inactive", "NoData", "Error", "Normal (NoData)", "Alerting", "nodata"]))},
    optional={"annotations": json_values, "activeAt": val})
V1 = st.fixed_dictionaries({
    "status": st.sampled_from(["success", "success", "success", "error", 1]),
    "data": st.integers(0, 9).flatmap(lambda i: json_values if i == 0 else st.fixed_dictionaries(
        {"alerts": st.lists(V1_ALERT, max_size=3)}))}, optional={"error": json_values})


def statusjson(key):
    return st.fixed_dictionaries({"data": st.fixed_dictionaries({key: st.dictionaries(st.text(max_size=5), st.one_of(
            fields(NAG), st.dictionaries(st.text(max_size=5), fields(NAG), max_size=2), json_values),
            max_size=3)})}, optional={
        "result": st.one_of(st.fixed_dictionaries({"type_code": st.sampled_from([0, 0, 0, 1]),
                                                   "message": val}), json_values)})


NEAR = {
    "icingaweb2": st.fixed_dictionaries({"hosts": rows(IW), "services": rows(IW)}),
    "icingadb": st.fixed_dictionaries({"hosts": nested(["name", "display_name"], DB_STATE),
                                       "services": nested(["name", "display_name"], DB_STATE)}),
    "nagios": st.fixed_dictionaries({"services": statusjson("servicelist"), "hosts": statusjson("hostlist")}),
    "icinga1": st.fixed_dictionaries({
        "services": st.fixed_dictionaries({"status": st.fixed_dictionaries({}, optional={"service_status": rows(I1)})}),
        "hosts": st.fixed_dictionaries({"status": st.fixed_dictionaries({}, optional={"host_status": rows(I1)})})}),
    "alertmanager": AM,
    "prometheus": V1,
    "grafana": st.fixed_dictionaries({"alerts": AM, "rules": V1}),
}


def check(type_name: str, payload) -> None:
    src = make_source(type_name, secret="s")
    try:
        alerts = src.parse(payload)
    except SourceError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    assert isinstance(alerts, list)
    for a in alerts:
        assert isinstance(a, Alert) and isinstance(a.severity, Severity)
        assert isinstance(a.id, str) and a.id and isinstance(a.title, str)
        assert a.handled_reason is None or a.handled_reason in HANDLED_REASONS
        assert a.since is None or (isinstance(a.since, datetime) and a.since.utcoffset() is not None)
        a.to_dict()


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _free_form(type_name):
    @SETTINGS
    @given(payload=st.one_of(json_values, st.fixed_dictionaries({"hosts": json_values, "services": json_values}),
                             st.fixed_dictionaries({"alerts": json_values, "rules": json_values})))
    def test(payload):
        check(type_name, payload)
    return test


def _near_miss(type_name):
    @SETTINGS
    @given(payload=NEAR[type_name])
    def test(payload):
        check(type_name, payload)
    return test


for _t in MY_TYPES:
    globals()[f"test_free_form_{_t}"] = _free_form(_t)
    globals()[f"test_near_miss_{_t}"] = _near_miss(_t)
