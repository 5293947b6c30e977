"""The contract between the tray and the extension (the repository's shared/: palette, status schema,
vocabulary), read from the installed package. A module of its own, importing nothing of tray, so that
both tray.core.words and tray.core.document can read it without importing each other."""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

# The contract lives in the repository's shared/ (the extension's build copies it from there too);
# pyproject.toml maps that folder into this package as `tray.shared`, so a wheel, an sdist, an editable
# install and the PyInstaller bundle all carry it as package data and find it the same way.
CONTRACT_PACKAGE = "tray.shared"
CONTRACT_FILES = ("palette.json", "status.schema.json", "vocabulary.json", "words.js")


@lru_cache(maxsize=None)
def contract_bytes(name: str) -> bytes:
    """One file of the contract (CONTRACT_FILES), as the installed package holds it."""
    if name not in CONTRACT_FILES:
        raise KeyError(f"{name!r} is not a contract file ({', '.join(CONTRACT_FILES)})")
    try:
        return (files(CONTRACT_PACKAGE) / name).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise FileNotFoundError(f"{name} is missing from the installed package {CONTRACT_PACKAGE}: the "
                                f"installation is incomplete, reinstall secondline") from exc
