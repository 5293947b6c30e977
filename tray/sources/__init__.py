"""Registry: source type name -> implementing class ("module:Class", imported on first use).

Adding a source type = one module in this package + one line here + its tests.
"""
from __future__ import annotations

import importlib
import importlib.util

from tray.sources.base import Source

REGISTRY: dict[str, str] = {
    "demo": "tray.sources.demo:DemoSource",
    "icinga2": "tray.sources.icinga2:Icinga2Source",
    "icingaweb2": "tray.sources.icingaweb:IcingaWeb2Source",
    "icingadb": "tray.sources.icingaweb:IcingaDBSource",
    "nagios": "tray.sources.nagios:NagiosSource",
    "icinga1": "tray.sources.nagios:Icinga1Source",
    "alertmanager": "tray.sources.alertmanager:AlertmanagerSource",
    "prometheus": "tray.sources.prometheus:PrometheusSource",
    "grafana": "tray.sources.grafana:GrafanaSource",
    "pagerduty": "tray.sources.pagerduty:PagerDutySource",
    "zendesk": "tray.sources.zendesk:ZendeskSource",
    "trello": "tray.sources.trello:TrelloSource",
    "statuspage": "tray.sources.statuspage:StatuspageSource",
    "http": "tray.sources.httpcheck:HttpCheckSource",
    "secondline": "tray.sources.hub:HubSource",
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
