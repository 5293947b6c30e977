"""Fuzzing, one uniform test across every source type and one over the config loader.

Sources: any JSON a server may send -> alerts or a SourceError, never another exception. Three ways
in: `parse(payload)` directly; a whole `poll()` through a fake Http that answers every request with
generated JSON (reaches the paging / on-call / count logic of multi-request sources); and `poll()`
against each type's *good* answers with one random subtree replaced (a field that changed type, the
likeliest real-world breakage).

Config: any TOML-able dict -> Config or ConfigError with a message; any text -> the same via
`loads`. Near-miss configs (real section names, real source types with their real Settings keys and
random values) reach the per-type validation and the [shift] / [notifications] validators.
"""
from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, example, given, settings, strategies as st

from support.sourcespecs import SPECS, make, product_types
from tray.config import loader as config_mod
from tray.core.errors import ConfigError, SourceError
from tray.core.model import HANDLED_REASONS, Alert, Reading, Severity
from tray.engine.net import Response
from tray.sources import source_class
from tray.sources.base import COMMON_KEYS

TYPES = product_types()
HYPO = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**64, max_value=2**64),
                    st.floats(allow_nan=False), st.text(max_size=16),
                    st.sampled_from(["", "0", "1", "critical", "firing", "2026-03-01T10:00:00Z", "1/3", "open",
                                     "urgent", "major_outage", "red", "y", "HARD", "DOWN", "CRITICAL"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=25)


def check_alerts(alerts: Any) -> None:
    """What a source hands to the core must be well-formed, or the core would crash later."""
    for a in alerts:
        assert isinstance(a, Alert), type(a)
        assert isinstance(a.id, str) and a.id, a
        assert isinstance(a.title, str) and isinstance(a.detail, str), a
        assert isinstance(a.severity, Severity), a
        assert a.handled_reason is None or a.handled_reason in HANDLED_REASONS, a
        assert a.since is None or (isinstance(a.since, datetime) and a.since.tzinfo is not None), a
        json.dumps(a.to_dict())


def alerts_or_source_error(fn, *args) -> str:
    try:
        result = fn(*args)
    except SourceError as exc:
        assert isinstance(exc.reason, str) and exc.reason.strip() and "\n" not in exc.reason, repr(exc.reason)
        return "error"
    if isinstance(result, Reading):
        result = result.alerts
    check_alerts(result)
    return "alerts"


class FakeHttp:
    """Answers every request with the next generated JSON document (the last one repeats)."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls = 0

    def _next(self) -> Any:
        value = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if self.calls > 200:
            raise AssertionError("a source kept requesting: 200 requests in one poll")
        return value

    def request(self, method: str, url: str, **kw: Any) -> Response:
        body = json.dumps(self._next()).encode()
        return Response(status=200, headers={"content-type": "application/json"}, body=body, url=url)

    def get_json(self, url: str, **kw: Any) -> Any:
        return self._next()


SOURCES = {t: make(t, "http://127.0.0.1:9") for t in TYPES}


@HYPO
@given(st.sampled_from(TYPES), json_values)
def test_any_json_into_any_parser(type_name, payload):
    alerts_or_source_error(SOURCES[type_name].parse, payload)


@HYPO
@given(st.sampled_from(TYPES), st.lists(json_values, min_size=1, max_size=6))
def test_any_json_answers_through_a_whole_poll(type_name, answers):
    # A fresh source per example: sources remember things between polls (Icinga 2's filter fallback,
    # when each type last checked it can see), and an example must replay the same way.
    alerts_or_source_error(make(type_name, "http://127.0.0.1:9").poll, FakeHttp(answers))


def _mutate(data: st.DataObject, value: Any, depth: int = 0) -> Any:
    """Replace one random subtree of a good document with arbitrary JSON."""
    if depth > 0 and data.draw(st.integers(0, 3)) == 0:
        return data.draw(json_values)
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        return {**value, key: _mutate(data, value[key], depth + 1)}
    if isinstance(value, list) and value:
        i = data.draw(st.integers(0, len(value) - 1))
        return value[:i] + [_mutate(data, value[i], depth + 1)] + value[i + 1:]
    return data.draw(json_values)


class GoodHttp(FakeHttp):
    """Answers like the type's healthy server (by path), with one answer mutated."""

    def __init__(self, type_name: str, data: st.DataObject) -> None:
        super().__init__([None])
        self.good = SPECS[type_name].good
        self.data = data
        self.mutate_at = data.draw(st.integers(0, 3))

    def _next(self) -> Any:   # pragma: no cover - replaced per call below
        raise NotImplementedError

    def _answer(self, url: str, params: Any = None) -> Any:
        path = "/" + url.split("/", 3)[-1] if url.count("/") >= 3 else url
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params)
        body: Any = {}
        for prefix, good in self.good:
            if path.startswith(prefix):
                body = good
                break
        self.calls += 1
        assert self.calls <= 200, "a source kept requesting: 200 requests in one poll"
        return _mutate(self.data, body) if self.calls - 1 == self.mutate_at else body

    def request(self, method: str, url: str, **kw: Any) -> Response:
        body = json.dumps(self._answer(url, kw.get("params"))).encode()
        return Response(status=200, headers={"content-type": "application/json"}, body=body, url=url)

    def get_json(self, url: str, **kw: Any) -> Any:
        return self._answer(url, kw.get("params"))


# Good documents with some content to mutate (the specs' good answers are mostly empty lists).
RICH = {
    "alertmanager": [{"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
                      "annotations": {"summary": "disk full"}, "startsAt": "2026-03-01T10:00:00Z",
                      "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
                      "fingerprint": "abc123", "generatorURL": "http://prom/graph"}],
    "icinga2": {"results": [{"name": "web01!http", "type": "Service",
                             "attrs": {"host_name": "web01", "name": "http", "display_name": "http", "state": 2,
                                       "state_type": 1, "acknowledgement": 0, "downtime_depth": 0,
                                       "last_state_change": 1767254400.0, "last_check_result": {"output": "down"}},
                             "joins": {"host": {"state": 0}}}]},
}


@HYPO
@given(st.sampled_from(TYPES), st.data())
def test_good_answers_with_one_field_changed(type_name, data):
    http = GoodHttp(type_name, data)
    if type_name in RICH:
        rich = RICH[type_name]
        http.good = tuple((p, rich if isinstance(b, type(rich)) else b) for p, b in http.good)
    alerts_or_source_error(make(type_name, "http://127.0.0.1:9").poll, http)


# -- the config loader ---------------------------------------------------------------------------

toml_scalars = st.one_of(st.booleans(), st.integers(min_value=-2**63, max_value=2**63 - 1),
                         st.floats(allow_nan=True), st.text(max_size=16),
                         st.sampled_from(["", "critical", "x-y", "09:00", "25:99", "mon-fri", "Europe/London",
                                          "Europe", "../../etc/passwd", "a\x00b", "(", "https://x.example",
                                          "chrome-extension://abc", "on_call_critical", "silent"]))
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)


def _type_keys(t: str) -> list[str]:
    return list(COMMON_KEYS) + [f.name for f in dataclasses.fields(source_class(t).Settings)]


@st.composite
def near_source(draw) -> dict:
    t = draw(st.sampled_from(product_types() + ["demo", "nope"]))
    keys = _type_keys(t) if t != "nope" else list(COMMON_KEYS)
    table = {"name": draw(st.sampled_from(["a", "b-1", "x y", ""]) | st.text(max_size=6)), "type": t}
    if t in SPECS and draw(st.booleans()):
        table.update(SPECS[t].settings("http://127.0.0.1:9"))     # start valid, then break a key or two
    for k in draw(st.lists(st.sampled_from(keys + ["bogus"]), max_size=4)):
        table[k] = draw(toml_values)
    return table


near_config = st.fixed_dictionaries({}, optional={
    "server": st.fixed_dictionaries({}, optional={"port": toml_values, "allowed_origins": toml_values,
                                                  "bind": toml_values}),
    "notifications": st.fixed_dictionaries({}, optional={
        "enabled": toml_values, "min_gap": toml_values, "recoveries": toml_values, "outside_shift": toml_values,
        "rules": st.dictionaries(st.text(max_size=6), st.lists(st.sampled_from(
            ["critical", "warning", "unknown", "info", "x"]), max_size=3) | toml_values, max_size=3)}),
    "sources": st.lists(near_source(), max_size=3) | toml_values,
    "shift": st.fixed_dictionaries({}, optional={"days": toml_values | st.lists(st.sampled_from(
        ["mon", "tue", "fri-mon", "mon,wed", "x", ""]), max_size=3), "start": toml_values, "end": toml_values,
        "timezone": toml_values, "rota": toml_values, "me": toml_values}) | toml_values,
    "links": st.lists(st.fixed_dictionaries({}, optional={"title": toml_values, "url": toml_values,
                                                          "group": toml_values}), max_size=2) | toml_values,
    "user": st.fixed_dictionaries({}, optional={"name": toml_values, "email": toml_values}) | toml_values,
})


def config_or_error(fn, *args) -> None:
    try:
        result = fn(*args)
    except ConfigError as exc:
        # "fuzz.toml: reason", or "fuzz.toml:LINE: ..." once the loader found the line
        assert re.match(r"fuzz\.toml(:\d+)?: ", str(exc)) and exc.reason.strip(), str(exc)
        return
    assert isinstance(result, config_mod.Config)


@HYPO
@given(st.dictionaries(st.text(max_size=10), toml_values, max_size=4))
def test_any_dict_into_the_config_loader(data):
    config_or_error(config_mod.parse_config, data, "fuzz.toml")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_config)
@example({"sources": [{"name": "a", "type": []}]})          # found by this test: TypeError (unhashable)
@example({"sources": [{"name": "a", "type": {"x": 1}}]})
def test_near_miss_configs(data):
    config_or_error(config_mod.parse_config, data, "fuzz.toml")


toml_lines = st.lists(st.one_of(
    st.sampled_from(["[server]", "[[sources]]", "[shift]", "[notifications]", "[notifications.rules]",
                     "[[links]]", "[user]", 'type = "alertmanager"', 'type = "icinga2"', 'name = "a"',
                     'url = "http://x"', "port = 70000", "interval = 0.5", "timeout = 0", 'days = ["mon-fri"]',
                     'start = "24:00"', 'timezone = "Mars/Base"', "include = ['(']", "[server", "x = ",
                     '"unterminated', "port = 1", "a.b.c = 1", "[[sources]]\nname=1"]),
    st.text(max_size=30)), max_size=8).map("\n".join)


@HYPO
@given(st.text(max_size=200) | toml_lines)
def test_any_text_into_the_config_loader(text):
    config_or_error(config_mod.loads, text, "fuzz.toml")
