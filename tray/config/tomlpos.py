"""Where a key sits in a TOML file: line numbers for config errors.

tomllib gives values, not positions. This is a light scan of the text that follows table headers
(`[a.b]`, `[[sources]]` counted per array) and `key = value` lines, skipping the inside of
multi-line strings, arrays and inline tables, and maps each key path as the config errors name it
("sources[2].interval", "server.port", "notifications.rules.staging") to its 1-based line. It runs
only on text that tomllib has already accepted, so it need not judge validity.
"""
from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key_parts(text: str, i: int) -> tuple[list[str], int] | None:
    """A dotted key starting at text[i]: (parts, index after it), or None."""
    parts: list[str] = []
    n = len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in "\"'":
            q = text[i]
            j = i + 1
            buf = []
            while j < n and text[j] != q:
                if q == '"' and text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            if j >= n:
                return None
            parts.append("".join(buf))
            i = j + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                return None
            parts.append(m.group())
            i = m.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return parts, i


def _value_state(text: str, i: int, depth: int, in_string: str | None) -> tuple[int, str | None]:
    """Scan a value (or its continuation) from text[i]: bracket depth and an open multi-line string
    (the quote that closes it) at the end of the line."""
    n = len(text)
    while i < n:
        if in_string:
            end = text.find(in_string, i)
            if end < 0:
                return depth, in_string
            i = end + 3
            in_string = None
            continue
        c = text[i]
        if c == "#":
            break
        if text.startswith('"""', i) or text.startswith("'''", i):
            in_string = text[i:i + 3]
            i += 3
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if c == '"' and text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth, in_string


def key_lines(text: str) -> dict[str, int]:
    """Every table, array-of-tables element and key of `text` -> its first line (1-based)."""
    found: dict[str, int] = {}
    counts: dict[str, int] = {}          # array-of-tables path (unindexed) -> elements so far
    table = ""                           # the current table, indexed ("sources[1].settings")
    depth, in_string = 0, None
    for number, line in enumerate(text.splitlines(), 1):
        if depth > 0 or in_string:
            depth, in_string = _value_state(line, 0, depth, in_string)
            continue
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            array = stripped.startswith("[[")
            parsed = _key_parts(stripped, 2 if array else 1)
            if parsed is None:
                continue
            parts = parsed[0]
            indexed, raw = "", ""
            for k, part in enumerate(parts):
                raw = f"{raw}.{part}" if raw else part
                indexed = f"{indexed}.{part}" if indexed else part
                last = k == len(parts) - 1
                if array and last:
                    counts[raw] = counts.get(raw, 0) + 1
                if raw in counts:
                    indexed += f"[{counts[raw] - 1}]"
            table = indexed
            found.setdefault(table, number)
            continue
        parsed = _key_parts(line, 0)
        if parsed is None:
            continue
        parts, i = parsed
        rest = line[i:].lstrip()
        if not rest.startswith("="):
            continue
        path = table
        for part in parts:
            path = f"{path}.{part}" if path else part
            found.setdefault(path, number)
        depth, in_string = _value_state(rest, 1, 0, None)
    return found


def line_of(text: str, key: str | None) -> int | None:
    """The line of `key` (as config errors name it), or of its nearest enclosing table or key."""
    if not key:
        return None
    lines = key_lines(text)
    probe = key
    while probe:
        if probe in lines:
            return lines[probe]
        inner = [n for k, n in lines.items() if k.startswith((probe + ".", probe + "["))]
        if inner:
            return min(inner)
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return None
