"""The fixtures any test folder may use (registered in tests/conftest.py `pytest_plugins`): the real parts,
each started once per session on loopback and stopped by its PID, and the app as a child process.

- `icinga`: a private icinga2 (support/icinga2.py, mk-icinga.sh, run-icinga.sh);
- `nagios`: Nagios 4 + statusjson.cgi behind a private Apache (support/nagios.py, nagioscfg.py);
- `exporter`, `prometheus`: a private Prometheus scraping an exporter the test controls (support/prometheus.py);
- `icingaweb`, `icingadb`: Icinga Web 2 over a MariaDB IDO, Icinga DB Web over Icinga DB (support/icingaweb.py,
  support/icingadb.py), each fed by its own icinga2;
- `desktop`: Xvfb + trayer + a private session bus with the fake notification service (support/e2e.py);
- `run_app`, `home`: `secondline` as a child process on a free port (support/e2e.py);
- `artifacts`: the checkout's artifacts/ directory, where screenshots go.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from support.e2e import AppProcess, Desktop
from support.parts import starting
from support.procs import free_port


@pytest.fixture(scope="session")
def icinga(tmp_path_factory) -> Any:
    from support.icinga2 import start_icinga, stop_icinga
    d = tmp_path_factory.mktemp("icinga")
    ic = start_icinga(d, free_port())
    try:
        yield ic
    finally:
        stop_icinga(ic.proc)


@pytest.fixture(scope="session")
def nagios() -> Iterator[Any]:
    from support.nagios import Nagios
    server = Nagios()
    try:
        with starting("Nagios 4 (nagios + statusjson.cgi behind a private Apache)", server.tail):
            server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def exporter() -> Iterator[Any]:
    from support.prometheus import Exporter
    exp = Exporter()
    try:
        yield exp
    finally:
        exp.close()


@pytest.fixture(scope="session")
def prometheus(exporter) -> Iterator[Any]:
    from support.prometheus import Prometheus
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
    from support.icingaweb import IcingaWeb
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
    from support.icingadb import IcingaDBWeb
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


@pytest.fixture(scope="session")
def desktop(tmp_path_factory):
    """A virtual desktop shared by the desktop tests: Xvfb, a trayer system tray, a private session
    bus and the fake notification service on it. `desktop.env` gives DISPLAY and the bus address."""
    from support.dbus import FakeNotifyd, PrivateBus
    from support.xvfb import Trayer, Xvfb
    tmp = tmp_path_factory.mktemp("desktop")
    with Xvfb() as xvfb, Trayer(xvfb) as trayer, PrivateBus(tmp) as bus, \
            FakeNotifyd(bus, tmp / "notifications.jsonl") as notifyd:
        yield Desktop(xvfb=xvfb, trayer=trayer, bus=bus, notifyd=notifyd)


@pytest.fixture
def run_app(tmp_path):
    """run_app(args, env) -> a started AppProcess serving on a free port (stopped after the test)."""
    started: list[AppProcess] = []

    def start(args: list[str], env: dict[str, str], port: int | None = None, ready: bool = True) -> AppProcess:
        port = port or free_port()
        app = AppProcess([*args, "--port", str(port)], env, tmp_path / f"app-{len(started)}.out", port).start()
        started.append(app)
        if ready:
            app.wait_ready()
        return app

    yield start
    for app in started:
        app.stop()


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    from support.browsers import ARTIFACTS
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
