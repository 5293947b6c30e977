"""Fixtures of the end-to-end tests (helpers in integration/helpers.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from integration.helpers import AppProcess, Desktop
from support.procs import free_port


def pytest_collection_modifyitems(items):
    # Real processes and services: all of these take seconds.
    for item in items:
        if "integration" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.slow)


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
def desktop(tmp_path_factory):
    """A virtual desktop shared by the desktop tests: Xvfb, a trayer system tray, a private session
    bus and the fake notification service on it. `desktop.env` gives DISPLAY and the bus address."""
    from support.dbus import FakeNotifyd, PrivateBus
    from support.xvfb import Trayer, Xvfb
    tmp = tmp_path_factory.mktemp("desktop")
    with Xvfb() as xvfb, Trayer(xvfb) as trayer, PrivateBus(tmp) as bus, \
            FakeNotifyd(bus, tmp / "notifications.jsonl") as notifyd:
        yield Desktop(xvfb=xvfb, trayer=trayer, bus=bus, notifyd=notifyd)
