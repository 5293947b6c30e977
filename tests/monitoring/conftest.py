"""Fixtures for the monitoring source tests (helpers live in monhelp.py, importable from the tests):
a private Nagios 4 + Apache (nagiosfixture.py) and a private Prometheus with its exporter
(promfixture.py), each started once per session on loopback and stopped by its PID."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def nagios() -> Iterator[Any]:
    from nagiosfixture import Nagios
    server = Nagios()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def exporter() -> Iterator[Any]:
    from promfixture import Exporter
    exp = Exporter()
    try:
        yield exp
    finally:
        exp.close()


@pytest.fixture(scope="session")
def prometheus(exporter) -> Iterator[Any]:
    from promfixture import Prometheus
    server = Prometheus(exporter)
    try:
        yield server.start()
    finally:
        server.stop()
