"""The words secondline shows (shared/vocabulary.json), applied by the same rules as shared/words.js.

The tray's menu, tooltip, pop-ups, dashboard header and `secondline status` take every state name,
count phrase and sentence from here, and the browser extension from the same file, so a user meets
one set of words everywhere. Both test suites check the rules against the file's $examples.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Mapping

from tray.core.contract import contract_bytes
from tray.core.model import Alert, Counts

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=None)
def vocabulary() -> dict[str, Any]:
    return json.loads(contract_bytes("vocabulary.json"))


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:]


def word(key: str) -> str:
    """A state, severity or count name as running text ("critical", "all OK", "handled")."""
    return vocabulary()["words"].get(key, key.replace("_", " "))


def label(key: str) -> str:
    """The same word as a label: a tile's state, a column heading ("Critical", "All OK")."""
    return _capital(word(key))


def fill(template: str, /, **values: Any) -> str:
    """{name} filled in; {Name} puts the value in with a capital first letter."""
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        lower = name[:1].lower() + name[1:]
        if lower not in values:
            return m.group(0)
        v = str(values[lower])
        return v if name == lower else _capital(v)
    return _PLACEHOLDER.sub(one, template)


def phrase(key: str, /, **values: Any) -> str:
    """One of the vocabulary's phrases, filled in."""
    return fill(vocabulary()["phrases"][key], **values)


def _as_map(counts: Counts | Mapping[str, int]) -> Mapping[str, int]:
    return counts.to_dict() if isinstance(counts, Counts) else counts


def count_list(counts: Counts | Mapping[str, int]) -> str:
    """"2 critical, 1 warning, 1 handled": every non-zero count, in the vocabulary's order."""
    c = _as_map(counts)
    voc = vocabulary()
    return voc["phrases"]["separator"].join(phrase("count", n=c[k], word=word(k)) for k in voc["counts"] if c.get(k))


def summary(state: str, counts: Counts | Mapping[str, int]) -> str:
    """The one line for a state and its counts: headlines, the tooltip, a group's line."""
    if state == "no_data":
        return label("no_data")
    c = _as_map(counts)
    listed = count_list(c)
    if not (c.get("critical", 0) + c.get("warning", 0) + c.get("unknown", 0)):
        return phrase("ok_with_handled", counts=listed) if listed else label("ok")
    return listed


def alert_tag(alert: Alert | Mapping[str, Any]) -> str:
    """What one alert is: its severity, "pending", or "handled (reason)"."""
    a = alert.to_dict() if isinstance(alert, Alert) else alert
    if a.get("handled"):
        reason = a.get("handled_reason")
        if reason:
            return phrase("handled_tag", reason=vocabulary()["handled_reasons"].get(reason, reason))
        return word("handled")
    if a.get("pending"):
        return word("pending")
    return word(str(a.get("severity")))
