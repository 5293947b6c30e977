"""Snapshot -> the status document (the contract in shared/status.schema.json)."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Mapping, Sequence

from tray.core.contract import CONTRACT_FILES, CONTRACT_PACKAGE, contract_bytes  # noqa: F401  (their old home)
from tray.core.model import Snapshot, iso
from tray.core.rules import summary_line

# 2: each source lists its `capabilities` (what the menu and the popup may offer on its alerts).
SCHEMA_VERSION = 2


@lru_cache(maxsize=None)
def palette() -> dict[str, Any]:
    return json.loads(contract_bytes("palette.json"))


@lru_cache(maxsize=None)
def schema() -> dict[str, Any]:
    return json.loads(contract_bytes("status.schema.json"))


def to_document(snap: Snapshot, *, links: Sequence[Mapping[str, Any]] = (),
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "generated_at": iso(snap.generated_at),
        "health": snap.health.value,
        "handled_only": snap.handled_only,
        "state": snap.state,
        "summary": summary_line(snap),
        "counts": snap.counts.to_dict(),
        "groups": [g.to_dict() for g in snap.groups],
        "sources": [s.to_dict() for s in snap.sources],
        "notifications": {"snoozed_until": iso(snap.snoozed_until)},
    }
    if links:
        doc["links"] = [dict(link) for link in links]
    if extra:
        for k, v in extra.items():
            if k == "notifications":
                doc["notifications"].update(v)
            else:
                doc[k] = v
    return doc


def dumps(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
