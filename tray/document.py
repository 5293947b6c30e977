"""Snapshot -> the status document (the contract in shared/status.schema.json)."""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from tray.model import Snapshot, iso
from tray.rules import summary_line

SCHEMA_VERSION = 1


def shared_dir() -> Path:
    """The project's shared/ folder: beside the package in a checkout, inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / "shared"] if bundle else []
    candidates += [Path(__file__).resolve().parent.parent / "shared", Path(__file__).resolve().parent / "shared"]
    for c in candidates:
        if (c / "palette.json").exists():
            return c
    raise FileNotFoundError("shared/palette.json not found (is the package installed from a checkout?)")


@lru_cache(maxsize=None)
def palette() -> dict[str, Any]:
    return json.loads((shared_dir() / "palette.json").read_text())


@lru_cache(maxsize=None)
def schema() -> dict[str, Any]:
    return json.loads((shared_dir() / "status.schema.json").read_text())


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
