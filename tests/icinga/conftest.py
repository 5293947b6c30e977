"""Fixtures for the Icinga 2 tests: a private icinga2 on loopback, made once per session and stopped after
(see icinga_server.py, mk-icinga.sh, run-icinga.sh)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from icinga_server import start_icinga, stop_icinga  # noqa: E402
from support.procs import free_port  # noqa: E402


@pytest.fixture(scope="session")
def icinga(tmp_path_factory) -> Any:
    d = tmp_path_factory.mktemp("icinga")
    ic = start_icinga(d, free_port())
    try:
        yield ic
    finally:
        stop_icinga(ic.proc)
