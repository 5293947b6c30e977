"""TOML config -> Config dataclasses. Every error names the file, the key and the reason.

Source types declare their own keys as a Settings dataclass (see tray/sources/base.py); this module
validates a `[[sources]]` table against the common keys plus those fields, so adding a type never
touches this file.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import platformdirs

from tray import fsutil, tomlpos
from tray.errors import ConfigError, did_you_mean
from tray.sources import REGISTRY, available_types, source_class
from tray.pairing import PUBLISHED_EXTENSION_IDS, extension_id_problem
from tray.sources.base import COMMON_KEYS, SourceConfig

DEFAULT_PORT = 17474
NAME_RE = re.compile(r"^[A-Za-z0-9-]+$")
MIN_INTERVAL = 1.0

TOP_KEYS = ("server", "notifications", "sources", "shift", "links", "user", "actions")
SERVER_KEYS = ("port", "allowed_origins", "extension_ids")
NOTIFY_KEYS = ("enabled", "min_gap", "rules", "recoveries", "outside_shift")
LINK_KEYS = ("title", "url", "group")
USER_KEYS = ("name", "email")
ACTION_KEYS = ("trello", "trello_list_id", "silence_hours")


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("secondline")) / "config.toml"


@dataclass(frozen=True)
class ServerConfig:
    port: int = DEFAULT_PORT
    allowed_origins: tuple[str, ...] = ()
    # Which browser extensions may ask to pair (tray.pairing.OriginPolicy): the published ones by default.
    extension_ids: tuple[str, ...] = PUBLISHED_EXTENSION_IDS


@dataclass(frozen=True)
class NotificationsConfig:
    enabled: bool = True
    min_gap: float = 5.0                         # seconds between two pop-ups at most one
    raw: Mapping[str, Any] = field(default_factory=dict)   # rules / recoveries / outside_shift


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    group: str | None = None


@dataclass(frozen=True)
class UserConfig:
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Config:
    path: str
    server: ServerConfig = ServerConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    sources: tuple[SourceConfig, ...] = ()
    shift: Mapping[str, Any] | None = None
    links: tuple[Link, ...] = ()
    user: UserConfig = UserConfig()
    actions: Mapping[str, Any] = field(default_factory=dict)


suggest = did_you_mean


def _unknown(path: str, key: str, got: str, valid: typing.Iterable[str], what: str = "key") -> ConfigError:
    """An unknown key (its path already names it) or value (`unknown type 'zabix'`)."""
    valid = tuple(valid)
    near = suggest(got, valid)
    thing = f"unknown {what}" if what == "key" else f"unknown {what} {got!r}"
    if near:
        return ConfigError(path, key, f"{thing}; did you mean {near!r}?")
    return ConfigError(path, key, f"{thing}; valid {what}s: {', '.join(sorted(valid))}")


# Where a top-level key that is not a table belongs ("port = 1" at the top means [server] port).
_HOMES = {"server": SERVER_KEYS, "notifications": NOTIFY_KEYS, "user": USER_KEYS, "actions": ACTION_KEYS}


def _unknown_top(path: str, key: str, value: Any) -> ConfigError:
    """An unknown top-level name, said as what it is: a table ([notification]) or a key."""
    near = suggest(key, TOP_KEYS)
    if isinstance(value, (dict, list)):
        shape = f"[[{key}]]" if isinstance(value, list) else f"[{key}]"
        if near:
            want = f"[[{near}]]" if near in ("sources", "links") else f"[{near}]"
            reason = f"unknown table {shape}; did you mean {want}?"
        else:
            reason = f"unknown table {shape}; valid tables: {', '.join(sorted(TOP_KEYS))}"
        return ConfigError(path, key, reason, shown="")
    homes = [t for t, keys in _HOMES.items() if key in keys]
    if homes:
        reason = f"unknown top-level key {key!r}: it belongs in [{homes[0]}] (under that header)"
    elif near:
        reason = f"unknown top-level key {key!r}; did you mean {near!r}?"
    else:
        reason = f"unknown top-level key {key!r}; valid names: {', '.join(sorted(TOP_KEYS))}"
    return ConfigError(path, key, reason, shown="")


def _check_keys(path: str, where: str, table: Mapping[str, Any], valid: typing.Iterable[str]) -> None:
    valid = tuple(valid)
    for k in table:
        if k not in valid:
            if not where:
                raise _unknown_top(path, k, table[k])
            raise _unknown(path, f"{where}.{k}", k, valid)


def _typename(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_typename(a) for a in args)
    if origin in (list, tuple):
        return "a list of strings"
    if origin is dict:
        return "a table of strings"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


def coerce(path: str, key: str, value: Any, tp: Any) -> Any:
    """Check a TOML value against a Settings field type; return it in the field's Python type."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        last: ConfigError | None = None
        for a in args:
            try:
                return coerce(path, key, value, a)
            except ConfigError as exc:
                last = exc
        raise last or ConfigError(path, key, f"must be {_typename(tp)}")
    if origin in (list, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(path, key, f"must be a list of strings, got {_show(value)}")
        return tuple(value) if origin is tuple else list(value)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, (str, int, float, bool)) for v in value.values()):
            raise ConfigError(path, key, f"must be a table of strings, got {_show(value)}")
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, key, f"must be true or false, got {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, key, f"must be an integer, got {_show(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, key, f"must be a number, got {_show(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, key, f"must be a string, got {_show(value)}")
        return value
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _settings(path: str, where: str, stype: str, table: Mapping[str, Any]) -> Any:
    cls = source_class(stype)
    settings_cls = cls.Settings
    hints = typing.get_type_hints(settings_cls)
    fields = {f.name: f for f in dataclasses.fields(settings_cls)}
    valid = tuple(COMMON_KEYS) + tuple(fields)
    kwargs = {}
    for k, v in table.items():
        if k in COMMON_KEYS:
            continue
        if k not in fields:
            raise _unknown(path, f"{where}.{k}", k, valid)
        kwargs[k] = coerce(path, f"{where}.{k}", v, hints[k])
    for name, f in fields.items():
        if name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(path, f"{where}.{name}", f"is required for type {stype!r}")
    try:
        settings = settings_cls(**kwargs)
        validate = getattr(settings, "validate", None)
        if callable(validate):
            validate()
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        key, sep, reason = msg.partition(": ")
        if sep and key.replace("_", "").replace(".", "").isalnum() and " " not in key:
            raise ConfigError(path, f"{where}.{key}", reason) from None
        raise ConfigError(path, where, msg) from None
    return settings


def _source(path: str, i: int, table: Any, seen: set[str]) -> SourceConfig:
    where = f"sources[{i}]"
    if not isinstance(table, dict):
        raise ConfigError(path, where, "must be a table ([[sources]])")
    name = table.get("name")
    if name is None:
        raise ConfigError(path, f"{where}.name", "is required")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(path, f"{where}.name", f"must use only letters, digits and '-', got {_show(name)}")
    if name in seen:
        raise ConfigError(path, f"{where}.name", f"duplicate source name {name!r}: names must be unique")
    seen.add(name)
    stype = table.get("type")
    if stype is None:
        raise ConfigError(path, f"{where}.type", f"is required; valid types: {', '.join(available_types())}")
    if not isinstance(stype, str):
        # A list or table here would make the registry lookup raise TypeError (unhashable).
        raise ConfigError(path, f"{where}.type", f"must be a string, got {_show(stype)}; valid types: "
                          f"{', '.join(available_types())}")
    if stype not in REGISTRY or stype not in available_types():
        raise _unknown(path, f"{where}.type", stype, available_types(), what="type")
    group = coerce(path, f"{where}.group", table.get("group", "default"), str)
    if not group.strip():
        raise ConfigError(path, f"{where}.group", "must not be empty")
    interval = coerce(path, f"{where}.interval", table.get("interval", 30), float)
    if interval < MIN_INTERVAL:
        raise ConfigError(path, f"{where}.interval", f"must be at least {MIN_INTERVAL:g} second, got {interval:g}")
    timeout = coerce(path, f"{where}.timeout", table.get("timeout", 10), float)
    if timeout <= 0 or timeout > 300:
        raise ConfigError(path, f"{where}.timeout", f"must be between 0 and 300 seconds, got {timeout:g}")
    patterns = {}
    for key in ("include", "exclude"):
        raw = table.get(key, [])
        if isinstance(raw, str):
            raw = [raw]
        pats = coerce(path, f"{where}.{key}", raw, tuple[str, ...])
        for j, p in enumerate(pats):
            try:
                re.compile(p)
            except re.error as exc:
                raise ConfigError(path, f"{where}.{key}[{j}]", f"invalid regular expression {p!r}: {exc}") from None
        patterns[key] = pats
    enabled = coerce(path, f"{where}.enabled", table.get("enabled", True), bool)
    allow_empty = coerce(path, f"{where}.allow_empty", table.get("allow_empty", False), bool)
    settings = _settings(path, where, stype, table)
    return SourceConfig(name=name, type=stype, group=group, interval=interval, timeout=timeout,
                        include=patterns["include"], exclude=patterns["exclude"], enabled=enabled,
                        allow_empty=allow_empty, settings=settings)


def parse_config(data: Mapping[str, Any], path: str) -> Config:
    _check_keys(path, "", data, TOP_KEYS)
    server_t = data.get("server", {})
    if not isinstance(server_t, dict):
        raise ConfigError(path, "server", "must be a table ([server])")
    _check_keys(path, "server", server_t, SERVER_KEYS)
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
    notif_t = data.get("notifications", {})
    if not isinstance(notif_t, dict):
        raise ConfigError(path, "notifications", "must be a table ([notifications])")
    _check_keys(path, "notifications", notif_t, NOTIFY_KEYS)
    notifications = NotificationsConfig(
        enabled=coerce(path, "notifications.enabled", notif_t.get("enabled", True), bool),
        min_gap=coerce(path, "notifications.min_gap", notif_t.get("min_gap", 5.0), float),
        raw=dict(notif_t))
    sources_t = data.get("sources", [])
    if not isinstance(sources_t, list):
        raise ConfigError(path, "sources", "must be an array of tables ([[sources]])")
    seen: set[str] = set()
    sources = tuple(_source(path, i, t, seen) for i, t in enumerate(sources_t))
    links = []
    links_t = data.get("links", [])
    if not isinstance(links_t, list):
        raise ConfigError(path, "links", "must be an array of tables ([[links]])")
    for i, t in enumerate(links_t):
        if not isinstance(t, dict):
            raise ConfigError(path, f"links[{i}]", "must be a table ([[links]])")
        _check_keys(path, f"links[{i}]", t, LINK_KEYS)
        for req in ("title", "url"):
            if req not in t:
                raise ConfigError(path, f"links[{i}].{req}", "is required")
        url = coerce(path, f"links[{i}].url", t["url"], str)
        if not re.match(r"^(https?|mailto|slack):", url):
            raise ConfigError(path, f"links[{i}].url", f"must be an http(s), mailto: or slack: URL, got {url!r}")
        links.append(Link(title=coerce(path, f"links[{i}].title", t["title"], str), url=url,
                          group=coerce(path, f"links[{i}].group", t["group"], str) if "group" in t else None))
    user_t = data.get("user", {})
    if not isinstance(user_t, dict):
        raise ConfigError(path, "user", "must be a table ([user])")
    _check_keys(path, "user", user_t, USER_KEYS)
    user = UserConfig(name=coerce(path, "user.name", user_t.get("name", ""), str),
                      email=coerce(path, "user.email", user_t.get("email", ""), str))
    actions_t = data.get("actions", {})
    if not isinstance(actions_t, dict):
        raise ConfigError(path, "actions", "must be a table ([actions])")
    _check_keys(path, "actions", actions_t, ACTION_KEYS)
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
    shift = data.get("shift")
    if shift is not None and not isinstance(shift, dict):
        raise ConfigError(path, "shift", "must be a table ([shift])")
    config = Config(path=path, server=ServerConfig(port=port, allowed_origins=origins, extension_ids=ext_ids),
                    notifications=notifications, sources=sources, shift=shift, links=tuple(links), user=user,
                    actions=actions)
    _validate_extensions(config)
    return config


def _validate_extensions(config: Config) -> None:
    """Sections owned by other modules validate themselves here, so a bad [shift] or rule is a
    load-time error like any other."""
    try:
        from tray import policy
    except ImportError:
        policy = None  # type: ignore[assignment]
    if policy is not None and hasattr(policy, "NotificationRules"):
        policy.NotificationRules.from_dict(dict(config.notifications.raw), config.path)
    if config.shift is not None:
        try:
            from tray import shift as shift_mod
        except ImportError:
            return
        shift_mod.ShiftSettings.from_dict(dict(config.shift), config.path)


def shown_key(key: str, data: Mapping[str, Any]) -> str:
    """A key as a person finds it in the file: `interval in [[sources]] "web"` rather than a
    0-based `sources[2].interval`; other keys as they are (`server.port`)."""
    m = re.match(r"^(sources|links)\[(\d+)\](?:\.(.+))?$", key)
    if not m:
        return key
    array, i, rest = m.group(1), int(m.group(2)), m.group(3)
    items = data.get(array)
    item = items[i] if isinstance(items, list) and i < len(items) else None
    label = item.get("name" if array == "sources" else "title") if isinstance(item, dict) else None
    where = f"[[{array}]] {json.dumps(label)}" if isinstance(label, str) and label else f"[[{array}]] no. {i + 1}"
    return f"{rest} in {where}" if rest else where


def loads(text: str, path: str = "<config>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise ConfigError(path, None, f"not valid TOML: {exc}", line=int(m.group(1)) if m else None) from None
    try:
        return parse_config(data, path)
    except ConfigError as exc:
        if exc.line is not None or exc.path != path:
            raise
        shown = exc.shown if exc.shown is not None or not exc.key else shown_key(exc.key, data)
        reason = exc.reason
        if reason.startswith("unknown key;") and " in [[" in (shown or ""):
            # `[[sources]] "web": unknown key 'intervall'`: where it is, then what.
            name, shown = shown.split(" in ", 1)
            reason = reason.replace("unknown key", f"unknown key {name!r}", 1)
        raise ConfigError(exc.path, exc.key, reason, line=tomlpos.line_of(text, exc.key),
                          shown=shown) from None


def warnings(config: Config) -> list[str]:
    """What loads but watches nothing: said by check, run and doctor."""
    if not config.sources:
        return [f"{config.path} has no [[sources]]: nothing is watched. `secondline init --config PATH` "
                "writes a commented example; the README lists every source type"]
    if not any(s.enabled for s in config.sources):
        return [f"every source in {config.path} has enabled = false: nothing is watched"]
    return []


def load(path: str | os.PathLike) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), None, "no such file: `secondline init` writes a commented example there "
                          "(or try `secondline run --demo` first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), None, f"cannot read: {exc}") from None
    return loads(text, str(p))


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a config file so that a reader sees the old or the new content, never a half."""
    fsutil.write_atomic(path, text)
