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
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import platformdirs

from tray.platform import fsutil
from tray.config import tomlpos
from tray.config.sections import (ACTION_KEYS, DEFAULT_PORT, NOTIFY_KEYS, SERVER_KEYS, USER_KEYS, Link,
                                  ServerConfig, UserConfig, parse_actions, parse_links, parse_notifications,
                                  parse_server, parse_shift, parse_user)
from tray.config.values import coerce, show as _show, unknown as _unknown
from tray.core.errors import ConfigError, did_you_mean
from tray.notify.policy import NotificationRules
from tray.shift.hours import ShiftSettings
from tray.sources import REGISTRY, available_types, source_class
from tray.sources.base import COMMON_KEYS, SourceConfig

__all__ = ("Config", "ServerConfig", "Link", "UserConfig", "DEFAULT_PORT", "ConfigError", "coerce",
           "default_config_path", "parse_config", "loads", "load", "warnings", "write_atomic")

NAME_RE = re.compile(r"^[A-Za-z0-9-]+$")
MIN_INTERVAL = 1.0

TOP_KEYS = ("server", "notifications", "sources", "shift", "links", "user", "actions")


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("secondline")) / "config.toml"


@dataclass(frozen=True)
class Config:
    """The whole config, each table already parsed into what its user needs (tray.config.sections)."""
    path: str
    server: ServerConfig = ServerConfig()
    notifications: NotificationRules = field(default_factory=NotificationRules)
    sources: tuple[SourceConfig, ...] = ()
    shift: ShiftSettings | None = None          # None: no [shift], every hour is a working hour
    links: tuple[Link, ...] = ()
    user: UserConfig = UserConfig()
    actions: Mapping[str, Any] = field(default_factory=dict)


suggest = did_you_mean

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


def _check_top_keys(path: str, data: Mapping[str, Any]) -> None:
    for k in data:
        if k not in TOP_KEYS:
            raise _unknown_top(path, k, data[k])




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
    _check_top_keys(path, data)
    server = parse_server(path, data)
    notifications = parse_notifications(path, data)
    sources_t = data.get("sources", [])
    if not isinstance(sources_t, list):
        raise ConfigError(path, "sources", "must be an array of tables ([[sources]])")
    seen: set[str] = set()
    sources = tuple(_source(path, i, t, seen) for i, t in enumerate(sources_t))
    links, user = parse_links(path, data), parse_user(path, data)
    actions = parse_actions(path, data, sources)
    return Config(path=path, server=server, notifications=notifications, sources=sources,
                  shift=parse_shift(path, data), links=links, user=user, actions=actions)


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
