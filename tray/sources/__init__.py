"""Registry: source type name -> implementing class ("module:Class", imported on first use).

Adding a source type = one module in this package + one line here + its tests.
"""
from __future__ import annotations

import importlib
import importlib.util

from typing import Sequence

from tray.sources.base import ACKNOWLEDGE, CAPABILITIES, RECHECK, RECORD, Source, SourceConfig

REGISTRY: dict[str, str] = {
    "demo": "tray.sources.plain.demo:DemoSource",
    "icinga2": "tray.sources.icinga2.source:Icinga2Source",
    "icingaweb2": "tray.sources.webui.icingaweb:IcingaWeb2Source",
    "icingadb": "tray.sources.webui.icingaweb:IcingaDBSource",
    "nagios": "tray.sources.webui.nagios:NagiosSource",
    "icinga1": "tray.sources.webui.nagios:Icinga1Source",
    "alertmanager": "tray.sources.alerting.alertmanager:AlertmanagerSource",
    "prometheus": "tray.sources.alerting.prometheus:PrometheusSource",
    "grafana": "tray.sources.alerting.grafana:GrafanaSource",
    "pagerduty": "tray.sources.saas.pagerduty:PagerDutySource",
    "zendesk": "tray.sources.saas.zendesk:ZendeskSource",
    "trello": "tray.sources.saas.trello:TrelloSource",
    "statuspage": "tray.sources.saas.statuspage:StatuspageSource",
    "http": "tray.sources.plain.http:HttpCheckSource",
    "secondline": "tray.sources.plain.hub:HubSource",
}


def available_types() -> list[str]:
    """Type names whose module is present (all of them in a complete build)."""
    out = []
    for name, target in REGISTRY.items():
        module = target.split(":", 1)[0]
        try:
            if importlib.util.find_spec(module) is not None:
                out.append(name)
        except ImportError:
            pass
    return out


def source_class(type_name: str) -> type[Source]:
    target = REGISTRY[type_name]
    module, cls = target.split(":", 1)
    return getattr(importlib.import_module(module), cls)


def capabilities(type_name: str) -> tuple[str, ...]:
    """What a type declares it can do to its own alerts (tray.sources.base), in the order offered;
    nothing for a type that is unknown or cannot be imported."""
    try:
        declared = source_class(type_name).capabilities
    except (KeyError, ImportError, AttributeError):
        return ()
    return tuple(c for c in (ACKNOWLEDGE, RECHECK) if c in declared)


def record_board(sources: Sequence[SourceConfig], board: str | None) -> SourceConfig | None:
    """The `[actions] trello` board, when it names an enabled source of a type that records cards."""
    for s in sources:
        if s.name == board and s.enabled:
            try:
                return s if source_class(s.type).records else None
            except (KeyError, ImportError):
                return None
    return None


def offered_actions(source: SourceConfig, board: SourceConfig | None) -> tuple[str, ...]:
    """What the menu, the popup, the CLI and the endpoint offer on `source`'s alerts: its type's own
    capabilities, and recording on the Trello board when one is configured (not on the board's own cards)."""
    out = capabilities(source.type)
    if board is not None and board.name != source.name:
        out += (RECORD,)
    return out


__all__ = ("REGISTRY", "CAPABILITIES", "available_types", "source_class", "capabilities", "record_board",
           "offered_actions")
