"""The config's tables other than `[[sources]]`, each parsed once into the typed value the app uses:
`[server]`, `[notifications]` (tray.notify.policy.NotificationRules), `[shift]` (tray.shift.hours.ShiftSettings),
`[[links]]`, `[user]` and `[actions]`. Start-up and reload both go through tray.config.loader.parse_config,
so nothing downstream validates a table again."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from tray.config.values import check_keys, coerce
from tray.core.errors import ConfigError
from tray.outputs.http.pairing import PUBLISHED_EXTENSION_IDS, extension_id_problem
from tray.notify.policy import NotificationRules
from tray.shift.hours import ShiftSettings
from tray.sources.base import SourceConfig

DEFAULT_PORT = 17474
SERVER_KEYS = ("port", "allowed_origins", "extension_ids")
NOTIFY_KEYS = ("enabled", "min_gap", "rules", "recoveries", "outside_shift")
LINK_KEYS = ("title", "url", "group")
USER_KEYS = ("name", "email")
ACTION_KEYS = ("trello", "trello_list_id", "silence_hours")


@dataclass(frozen=True)
class ServerConfig:
    port: int = DEFAULT_PORT
    allowed_origins: tuple[str, ...] = ()
    # Which browser extensions may ask to pair (tray.outputs.http.pairing.OriginPolicy): the published ones by default.
    extension_ids: tuple[str, ...] = PUBLISHED_EXTENSION_IDS


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    group: str | None = None


@dataclass(frozen=True)
class UserConfig:
    name: str = ""
    email: str = ""


def _table(path: str, data: Mapping[str, Any], key: str) -> dict[str, Any]:
    t = data.get(key, {})
    if not isinstance(t, dict):
        raise ConfigError(path, key, f"must be a table ([{key}])")
    return t


def parse_server(path: str, data: Mapping[str, Any]) -> ServerConfig:
    server_t = _table(path, data, "server")
    check_keys(path, "server", server_t, SERVER_KEYS)
    port = coerce(path, "server.port", server_t.get("port", DEFAULT_PORT), int)
    if not 1 <= port <= 65535:
        raise ConfigError(path, "server.port", f"must be between 1 and 65535, got {port}")
    origins = coerce(path, "server.allowed_origins", server_t.get("allowed_origins", []), tuple[str, ...])
    for j, o in enumerate(origins):
        if not re.match(r"^(https?|chrome-extension|moz-extension)://[^/\s]+$", o):
            raise ConfigError(path, f"server.allowed_origins[{j}]",
                              f"must be an origin like chrome-extension://ID or https://host, got {o!r}")
    ext_ids = coerce(path, "server.extension_ids", server_t.get("extension_ids", list(PUBLISHED_EXTENSION_IDS)),
                     tuple[str, ...])
    for j, e in enumerate(ext_ids):
        problem = extension_id_problem(e)
        if problem:
            raise ConfigError(path, f"server.extension_ids[{j}]", f"{problem}, got {e!r}")
    return ServerConfig(port=port, allowed_origins=origins, extension_ids=ext_ids)


def parse_notifications(path: str, data: Mapping[str, Any]) -> NotificationRules:
    notif_t = _table(path, data, "notifications")
    check_keys(path, "notifications", notif_t, NOTIFY_KEYS)
    # enabled / min_gap first, in the words every other key gets; then the rules' own checks.
    coerce(path, "notifications.enabled", notif_t.get("enabled", True), bool)
    coerce(path, "notifications.min_gap", notif_t.get("min_gap", 5.0), float)
    return NotificationRules.from_dict(dict(notif_t), path)


def parse_shift(path: str, data: Mapping[str, Any]) -> ShiftSettings | None:
    """None without a `[shift]` table: every hour is a working hour."""
    shift = data.get("shift")
    if shift is None:
        return None
    if not isinstance(shift, dict):
        raise ConfigError(path, "shift", "must be a table ([shift])")
    return ShiftSettings.from_dict(dict(shift), path)


def parse_links(path: str, data: Mapping[str, Any]) -> tuple[Link, ...]:
    links = []
    links_t = data.get("links", [])
    if not isinstance(links_t, list):
        raise ConfigError(path, "links", "must be an array of tables ([[links]])")
    for i, t in enumerate(links_t):
        if not isinstance(t, dict):
            raise ConfigError(path, f"links[{i}]", "must be a table ([[links]])")
        check_keys(path, f"links[{i}]", t, LINK_KEYS)
        for req in ("title", "url"):
            if req not in t:
                raise ConfigError(path, f"links[{i}].{req}", "is required")
        url = coerce(path, f"links[{i}].url", t["url"], str)
        if not re.match(r"^(https?|mailto|slack):", url):
            raise ConfigError(path, f"links[{i}].url", f"must be an http(s), mailto: or slack: URL, got {url!r}")
        links.append(Link(title=coerce(path, f"links[{i}].title", t["title"], str), url=url,
                          group=coerce(path, f"links[{i}].group", t["group"], str) if "group" in t else None))
    return tuple(links)


def parse_user(path: str, data: Mapping[str, Any]) -> UserConfig:
    user_t = _table(path, data, "user")
    check_keys(path, "user", user_t, USER_KEYS)
    return UserConfig(name=coerce(path, "user.name", user_t.get("name", ""), str),
                      email=coerce(path, "user.email", user_t.get("email", ""), str))


def parse_actions(path: str, data: Mapping[str, Any], sources: Sequence[SourceConfig]) -> dict[str, Any]:
    actions_t = _table(path, data, "actions")
    check_keys(path, "actions", actions_t, ACTION_KEYS)
    actions: dict[str, Any] = {}
    for k in ("trello", "trello_list_id"):
        if k in actions_t:
            actions[k] = coerce(path, f"actions.{k}", actions_t[k], str)
    if "silence_hours" in actions_t:
        hours = coerce(path, "actions.silence_hours", actions_t["silence_hours"], float)
        if not 0 < hours <= 24 * 14:
            raise ConfigError(path, "actions.silence_hours", f"must be between 0 and 336 hours, got {hours:g}")
        actions["silence_hours"] = hours
    if "trello" in actions and actions["trello"] not in {s.name for s in sources}:
        raise ConfigError(path, "actions.trello", f"no source named {actions['trello']!r}")
    return actions
