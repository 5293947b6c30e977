"""The value checks every config section shares: a TOML value against a Python type, and unknown
keys said with the nearest valid one. Each error names the file, the key and the reason."""
from __future__ import annotations

import types
import typing
from typing import Any, Mapping

from tray.core.errors import ConfigError, did_you_mean

suggest = did_you_mean


def unknown(path: str, key: str, got: str, valid: typing.Iterable[str], what: str = "key") -> ConfigError:
    """An unknown key (its path already names it) or value (`unknown type 'zabix'`)."""
    valid = tuple(valid)
    near = suggest(got, valid)
    thing = f"unknown {what}" if what == "key" else f"unknown {what} {got!r}"
    if near:
        return ConfigError(path, key, f"{thing}; did you mean {near!r}?")
    return ConfigError(path, key, f"{thing}; valid {what}s: {', '.join(sorted(valid))}")


def check_keys(path: str, where: str, table: Mapping[str, Any], valid: typing.Iterable[str]) -> None:
    """Every key of the table `where` is one of `valid`."""
    valid = tuple(valid)
    for k in table:
        if k not in valid:
            raise unknown(path, f"{where}.{k}", k, valid)


def typename(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(typename(a) for a in args)
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
        raise last or ConfigError(path, key, f"must be {typename(tp)}")
    if origin in (list, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(path, key, f"must be a list of strings, got {show(value)}")
        return tuple(value) if origin is tuple else list(value)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, (str, int, float, bool)) for v in value.values()):
            raise ConfigError(path, key, f"must be a table of strings, got {show(value)}")
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, key, f"must be true or false, got {show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, key, f"must be an integer, got {show(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, key, f"must be a number, got {show(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, key, f"must be a string, got {show(value)}")
        return value
    return value


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
