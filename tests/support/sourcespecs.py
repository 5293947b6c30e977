"""One minimal, valid configuration per source type, and the answer that makes it readable.

Used by the fault matrix, the fuzzers and the soak: each spec says which Settings to build for a
base URL, which secrets the type needs, and which routes (path prefix -> JSON body) a healthy
server answers with. Keeping them in one table means a new source type fails loudly here (no spec)
instead of silently escaping the reliability suite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from tray.sources import REGISTRY, available_types, source_class
from tray.sources.base import Source, SourceConfig

# Recognisable secret values: any of these turning up in a log, response or `ps` line is a leak.
SECRET = "SeCrEt-relia-7f3a91"
SECRET_KEY = "SeCrEt-trellokey-55b2"


@dataclass(frozen=True)
class Blind:
    """A "blind" answer for a type (issue 17): well-formed, successful, and showing nothing because the
    reader cannot see. The source must be unknown with a reason holding `words`, never ok."""
    routes: tuple[tuple[str, Any], ...]                # (path prefix, body) the blind server answers
    words: str                                         # the reason must contain these (case-insensitive)
    settings: dict[str, Any] = field(default_factory=dict)   # what the faulty source adds to its settings
    excusable: bool = True                             # allow_empty = true makes it ok


@dataclass(frozen=True)
class Spec:
    type: str
    settings: Callable[[str], dict[str, Any]]          # base URL -> Settings kwargs
    secrets: dict[str, str] = field(default_factory=dict)   # field -> value ("" = the single secret)
    good: tuple[tuple[str, Any], ...] = ()             # (path prefix, JSON body) a healthy server answers
    default: Any = None                                # the answer on every other path
    blind: Blind | None = None


def _statuspage() -> dict:
    return {"page": {"id": "p1", "name": "Acme", "url": "https://status.acme.example",
                     "updated_at": "2026-03-01T12:00:00.000Z"},
            "status": {"indicator": "none", "description": "All Systems Operational"},
            "components": [{"id": "c1", "name": "API", "status": "operational", "group": False,
                            "updated_at": "2026-03-01T12:00:00.000Z"}],
            "incidents": [], "scheduled_maintenances": []}


def _ticket() -> dict:
    return {"id": 4711, "url": "https://acme.zendesk.com/api/v2/tickets/4711.json", "subject": "VPN down",
            "status": "open", "priority": "normal", "created_at": "2026-03-01T09:00:00Z",
            "updated_at": "2026-03-01T10:00:00Z", "group_id": 7, "assignee_id": None}


def _icinga(kind: str, name: str) -> dict:
    """One object in state 0 (UP / OK): an answer that proves the ApiUser sees that kind."""
    attrs = {"name": name.split("!")[-1], "state": 0.0, "state_type": 1.0, "last_check": 1.0}
    item = {"name": name, "type": kind.title(), "attrs": attrs, "joins": {}}
    if kind == "service":
        attrs["host_name"] = name.split("!")[0]
        item["joins"] = {"host": {"name": name.split("!")[0], "state": 0.0, "last_check": 1.0}}
    return {"results": [item]}


def _cib(hosts: int, services: int) -> dict:
    return {"results": [{"name": "CIB", "status": {
        "num_hosts_up": float(hosts), "num_hosts_down": 0.0, "num_hosts_unreachable": 0.0,
        "num_services_ok": float(services), "num_services_warning": 0.0, "num_services_critical": 0.0,
        "num_services_unknown": 0.0}}]}


def _hub_source(name: str) -> dict:
    return {"name": name, "type": "icinga2", "group": "production", "health": "ok",
            "checked_at": "2026-03-01T12:00:00Z", "error": None, "stale": False, "on_call": None,
            "counts": {"critical": 0, "warning": 0, "unknown": 0, "handled": 0, "pending": 0}, "alerts": []}


def _statusjson(query: str, data: dict, user: str = "nagiosadmin") -> dict:
    """statusjson.cgi's envelope as Nagios 4.4 sends it (`result.user`: the login the CGI got)."""
    return {"format_version": 0,
            "result": {"query_time": 1772366400000, "cgi": "statusjson.cgi", "user": user, "query": query,
                       "query_status": "released", "program_start": 1772362800000,
                       "last_data_update": 1772366399000, "type_code": 0, "type_text": "Success", "message": ""},
            "data": {"selectors": {}, **data}}


def _tac(hosts: int, services: int) -> dict:
    """Icinga 1 `tac.cgi?jsonoutput`: what the user may see, counted."""
    return {"cgi_json_version": "1.10.0", "icinga_status": {},
            "tac": {"tac_overview": {"total_hosts": hosts, "total_services": services, "hosts_up": hosts,
                                     "services_ok": services}}}


def _iw_host(state: int = 0) -> dict:
    return {"host_name": "h1", "host_display_name": "h1", "host_state": state, "host_state_type": 1,
            "host_acknowledged": 0, "host_in_downtime": 0, "host_output": "PING OK", "host_last_state_change": 1}


def _db_host() -> dict:
    return {"name": "h1", "display_name": "h1", "state": {"soft_state": "0", "hard_state": "0", "state_type": "hard",
                                                          "is_acknowledged": "", "in_downtime": "", "output": "UP"}}


ALERTING_RULE = {"name": "DiskFull", "type": "alerting", "query": "disk_used > 0.9", "duration": 0, "labels": {},
                 "annotations": {}, "alerts": [], "health": "ok", "state": "inactive"}
AM_CONFIG = ('route:\n  receiver: "null"\n  routes:\n    - receiver: team-db\n      matchers: [team="db"]\n'
             'receivers:\n  - name: "null"\n  - name: team-db\n')

SPECS: dict[str, Spec] = {s.type: s for s in (
    Spec("icinga2", lambda u: {"url": u, "username": "ops", "stream": False, "detect_interval": 0.0},
         {"": SECRET}, (("/v1/objects/hosts", _icinga("host", "h1")),
                        ("/v1/objects/services", _icinga("service", "h1!ping")),
                        ("/v1/status/", _cib(1, 1))),
         blind=Blind((("/v1/objects/", {"results": []}), ("/v1/status/", _cib(3, 12))),
                     "ApiUser 'ops' sees 0 of the server's 3 hosts and 0 of the server's 12 services")),
    # Blind: a role restriction that matches no object; the visibility check (limit=1) finds no host either.
    Spec("icingaweb2", lambda u: {"url": u + "/icingaweb2", "username": "ops"}, {"": SECRET},
         (("/icingaweb2/monitoring/list/hosts?limit=1", [_iw_host()]),
          ("/icingaweb2/monitoring/list/", []),
          ("/icingaweb2/monitoring/health/info", [{"is_currently_running": 1, "process_id": 4242,
                                                   "endpoint_name": "master1", "status_update_time": 1767254400}])),
         blind=Blind((("/icingaweb2/monitoring/list/", []),),
                     "Icinga Web 2 user 'ops' sees 0 hosts and 0 services: a monitoring/filter/objects restriction")),
    Spec("icingadb", lambda u: {"url": u + "/icingaweb2", "username": "ops"}, {"": SECRET},
         (("/icingaweb2/icingadb/hosts?limit=1", [_db_host()]),
          ("/icingaweb2/icingadb/", []), ("/icingaweb2/health", {"status": "success", "data": []})),
         blind=Blind((("/icingaweb2/icingadb/", []),),
                     "Icinga Web 2 user 'ops' sees 0 hosts and 0 services: an icingadb/filter/objects")),
    # Blind: a user cgi.cfg does not authorize; statusjson answers success with nothing in it, counts at zero.
    Spec("nagios", lambda u: {"url": u + "/nagios/cgi-bin", "username": "nagiosadmin"}, {"": SECRET},
         (("/nagios/cgi-bin/statusjson.cgi?query=servicelist", _statusjson("servicelist", {"servicelist": {}})),
          ("/nagios/cgi-bin/statusjson.cgi?query=hostlist", _statusjson("hostlist", {"hostlist": {}})),
          ("/nagios/cgi-bin/statusjson.cgi?query=hostcount",
           _statusjson("hostcount", {"count": {"up": 3, "down": 0, "unreachable": 0, "pending": 0}}))),
         blind=Blind((("/nagios/cgi-bin/statusjson.cgi?query=hostcount",
                       _statusjson("hostcount", {"count": {"up": 0, "down": 0, "unreachable": 0, "pending": 0}})),
                      ("/nagios/cgi-bin/statusjson.cgi?query=servicecount",
                       _statusjson("servicecount", {"count": {"ok": 0, "warning": 0, "critical": 0, "unknown": 0,
                                                              "pending": 0}}))),
                     "Nagios user 'nagiosadmin' sees 0 hosts and 0 services: authorize it in cgi.cfg")),
    Spec("icinga1", lambda u: {"url": u + "/icinga/cgi-bin", "username": "icingaadmin"}, {"": SECRET},
         (("/icinga/cgi-bin/status.cgi?host=all", {"status": {"service_status": []}}),
          ("/icinga/cgi-bin/status.cgi?hostgroup=all", {"status": {"host_status": []}}),
          ("/icinga/cgi-bin/tac.cgi", _tac(3, 12))),
         blind=Blind((("/icinga/cgi-bin/tac.cgi", _tac(0, 0)),),
                     "Icinga user 'icingaadmin' sees 0 hosts and 0 services: authorize it in cgi.cfg")),
    Spec("alertmanager", lambda u: {"url": u, "auth": "basic", "username": "ops"}, {"": SECRET},
         (("/api/v2/alerts", []), ("/api/v2/receivers", [{"name": "null"}, {"name": "team-db"}]),
          ("/api/v2/status", {"config": {"original": AM_CONFIG}})),
         # The receiver the source asks for is not one the server routes to.
         blind=Blind((("/api/v2/alerts", []), ("/api/v2/receivers", [{"name": "null"}])),
                     "receiver 'team-db' matches none of the server's receivers (null)",
                     settings={"receiver": "team-db"}, excusable=False)),
    Spec("prometheus", lambda u: {"url": u, "auth": "bearer"}, {"": SECRET},
         (("/api/v1/alerts", {"status": "success", "data": {"alerts": []}}),
          ("/api/v1/rules", {"status": "success", "data": {"groups": [
              {"name": "disks", "file": "/etc/prometheus/rules.yml", "interval": 15, "rules": [ALERTING_RULE]}]}})),
         # No rule loaded: nothing can ever fire.
         blind=Blind((("/api/v1/rules", {"status": "success", "data": {"groups": []}}),),
                     "has no alerting rules loaded, so no alert can ever fire: load rule files with rule_files in "
                     "prometheus.yml")),
    Spec("grafana", lambda u: {"url": u}, {"": SECRET},
         (("/api/alertmanager/grafana/api/v2/alerts", []),
          ("/api/prometheus/grafana/api/v1/alerts", {"status": "success", "data": {"alerts": [
              {"labels": {"alertname": "CPU"}, "annotations": {}, "state": "Normal",
               "activeAt": "2026-03-01T10:00:00Z", "value": "0"}]}})),
         blind=Blind((("/api/alertmanager/grafana/api/v2/alerts", []),
                      ("/api/prometheus/grafana/api/v1/alerts", {"status": "success", "data": {"alerts": []}})),
                     "token sees no alert rules")),
    Spec("pagerduty", lambda u: {"url": u, "user_id": "PUSER1"}, {"": SECRET},
         (("/incidents", {"incidents": [], "limit": 100, "offset": 0, "more": False}),
          ("/oncalls", {"oncalls": []}),
          ("/services", {"services": [{"id": "PSVC01", "type": "service", "summary": "Billing"}],
                         "limit": 1, "offset": 0, "more": True, "total": 4}),
          ("/users/", {"user": {"id": "PUSER1", "type": "user", "name": "Alice"}})),
         blind=Blind((("/incidents", {"incidents": [], "limit": 100, "offset": 0, "more": False}),
                      ("/oncalls", {"oncalls": []}),
                      ("/services", {"services": [], "limit": 1, "offset": 0, "more": False, "total": 0}),
                      ("/users/", {"user": {"id": "PUSER1", "type": "user", "name": "Alice"}})),
                     "token sees no services")),
    Spec("zendesk", lambda u: {"url": u, "email": "ops@acme.example", "view_id": 25}, {"": SECRET},
         (("/api/v2/views/25/count.json", {"view_count": {"view_id": 25, "value": 1, "fresh": True}}),
          ("/api/v2/views/25/tickets.json", {"tickets": [_ticket()], "meta": {"has_more": False}}),
          ("/api/v2/views/25.json", {"view": {"id": 25, "title": "2nd line", "active": True}}),
          ("/api/v2/users/me.json", {"user": {"id": 7, "name": "Ops", "role": "agent"}})),
         # The token belongs to an end-user: a view of 0 tickets, whatever the queue holds.
         blind=Blind((("/api/v2/views/25/count.json", {"view_count": {"view_id": 25, "value": 0, "fresh": True}}),
                      ("/api/v2/users/me.json", {"user": {"id": 8, "name": "Eve", "role": "end-user"}})),
                     "signs in as 'Eve' (role end-user)", excusable=False)),
    Spec("trello", lambda u: {"url": u, "list_id": "5f0c1d2e3a4b5c6d7e8f9a0b"},
         {"key": SECRET_KEY, "token": SECRET}, (("/1/lists/5f0c1d2e3a4b5c6d7e8f9a0b/cards", []),
                                                ("/1/lists/", {"id": "5f0c1d2e3a4b5c6d7e8f9a0b", "name": "Ops",
                                                               "closed": False})),
         blind=Blind((("/1/lists/5f0c1d2e3a4b5c6d7e8f9a0b/cards", []),
                      ("/1/lists/", {"id": "5f0c1d2e3a4b5c6d7e8f9a0b", "name": "Ops", "closed": True})),
                     "('Ops') is archived", excusable=False)),
    Spec("statuspage", lambda u: {"url": u}, {}, (("/api/v2/summary.json", _statuspage()),),
         blind=Blind((("/api/v2/summary.json", {**_statuspage(), "components": []}),), "lists no components")),
    Spec("http", lambda u: {"url": u + "/health", "expect_text": "\"ok\": true"}, {}, (("/health", {"ok": True}),),
         # The check's exception: a failing target is a critical alert on a readable source.
         blind=Blind((("/health", b"\n"),), "only whitespace")),
    Spec("secondline", lambda u: {"url": u}, {"": SECRET},
         (("/status.json", {"schema": 1, "sources": [_hub_source("upstream-icinga")]}),),
         blind=Blind((("/status.json", {"schema": 1, "sources": []}),), "watches no sources")),
)}


def product_types() -> list[str]:
    """The product's polled source types: not "demo", and not a test-only type (tests/support's
    "fake") that another test module registered earlier in the same session."""
    return [t for t in available_types() if t != "demo" and REGISTRY[t].startswith("tray.sources.")]


def make(type_name: str, base_url: str, *, name: str | None = None, timeout: float = 2.0,
         interval: float = 30.0, allow_empty: bool = False, **overrides: Any) -> Source:
    """A configured source of this type against `base_url`, secrets from the spec."""
    cls = source_class(type_name)
    spec = SPECS[type_name]
    cfg = config(type_name, base_url, name=name or f"rel-{type_name}", timeout=timeout, interval=interval,
                 allow_empty=allow_empty, **overrides)
    return cls(cfg, secret_lookup(spec))


def config(type_name: str, base_url: str, *, name: str, timeout: float = 2.0, interval: float = 30.0,
           allow_empty: bool = False, **overrides: Any) -> SourceConfig:
    cls = source_class(type_name)
    settings = cls.Settings(**{**SPECS[type_name].settings(base_url), **overrides})
    if hasattr(settings, "validate"):
        settings.validate()
    return SourceConfig(name=name, type=type_name, group="reliability", interval=interval, timeout=timeout,
                        allow_empty=allow_empty, settings=settings)


def secret_lookup(spec: Spec) -> Callable[[str, str], str | None]:
    return lambda name, fld: spec.secrets.get(fld)


def serve_good(srv: Any, type_name: str) -> None:
    """Make the fault server answer this type's healthy payload."""
    spec = SPECS[type_name]
    for prefix, body in reversed(spec.good):
        srv.route(prefix, body)
    srv.ok(spec.default if spec.default is not None else b"{}")


def serve_blind(srv: Any, type_name: str) -> None:
    """Make the fault server answer what a reader of this type that sees nothing gets (routes first in
    the list win; every path the blind answer does not name answers as a healthy server would)."""
    serve_good(srv, type_name)
    blind = SPECS[type_name].blind
    assert blind is not None, f"{type_name}: no blind answer in sourcespecs.SPECS"
    for prefix, body in reversed(blind.routes):
        srv.route(prefix, body)


def toml_for(type_name: str, base_url: str, name: str, *, interval: float = 30, timeout: float = 2,
             **overrides: Any) -> str:
    """The `[[sources]]` table for this type, as a user would write it."""
    lines = ["[[sources]]", f'name = "{name}"', f'type = "{type_name}"', 'group = "reliability"',
             f"interval = {interval}", f"timeout = {timeout}"]
    for k, v in {**SPECS[type_name].settings(base_url), **overrides}.items():
        lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)
