"""Fixtures for the monitoring source tests (helpers live in monhelp.py, importable from the tests):
a private Nagios 4 + Apache (nagiosfixture.py) and a private Prometheus with its exporter
(promfixture.py), each started once per session on loopback and stopped by its PID."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.parts import starting  # noqa: E402


@pytest.fixture(scope="session")
def nagios() -> Iterator[Any]:
    from nagiosfixture import Nagios
    server = Nagios()
    try:
        with starting("Nagios 4 (nagios + statusjson.cgi behind a private Apache)", server.tail):
            server.start()
        yield server
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
        with starting("Prometheus", server.dir / "prometheus.log"):
            server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def icingaweb() -> Iterator[Any]:
    """Icinga Web 2 + monitoring module over a private MariaDB IDO fed by a private icinga2."""
    from icingawebfixture import IcingaWeb
    server = IcingaWeb()
    try:
        with starting("Icinga Web 2 (MariaDB IDO + icinga2 + PHP)", server.tail):
            server.start()
        for host in ("h1", "h2", "h3", "h4"):         # hosts UP: only never-checked services stay PENDING
            server.icinga.set_state(host, 0, "UP")
        for host in ("h1", "h2", "h3", "h4"):
            server.wait_row(host, host_state=0)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def icingadb() -> Iterator[Any]:
    """Icinga DB Web over a private Icinga DB (redis-server + icingadb daemon) fed by a private icinga2."""
    from icingadbfixture import IcingaDBWeb
    server = IcingaDBWeb()
    try:
        with starting("Icinga DB Web (redis-server + icingadb + MariaDB + icinga2 + PHP)", server.tail):
            server.start()
        for host in ("h1", "h2", "h3", "h4"):
            server.icinga.set_state(host, 0, "UP")
        for host in ("h1", "h2", "h3", "h4"):
            server.wait_state(host, soft_state="0")
        yield server
    finally:
        server.stop()
