"""Test-wide setup: `tests/` on sys.path (for `support.*`), the shared fixtures, and no real user state touched.

The folders mirror tray/ (tests/core, tests/sources/icinga2, tests/outputs/http...) and are packages
(tests/ too): a helper only one folder uses sits beside its tests and is imported relatively
(`from .helpers import ...`); what several folders use is in tests/support/, imported as `support.x` (never
`tests.support.x` or `..support`: one module, one state). The real parts (icinga2, Nagios, Prometheus,
Icinga Web, Xvfb + trayer + D-Bus...) are fixtures of support/fixtures.py, usable from any folder."""
from __future__ import annotations

import os
import sys
from pathlib import Path

# Appended, not prepended: tests/platform and tests/packaging must not hide the stdlib's platform and PyPI's packaging.
sys.path.append(str(Path(__file__).parent))

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Only the root conftest may name plugins. support.reliability prints the fault matrix and the soak's figures.
pytest_plugins = ["support.fixtures", "support.reliability"]

# `make test` gives the same answer on every machine: Hypothesis's built-in "ci" profile derandomizes
# (each test's examples are seeded from the test itself) and keeps no example database. Random search
# found real bugs, and should go on finding them, but in `make fuzz` (profile "explore": fresh random
# examples on every run), not as a CI run that fails on a bug unrelated to the change under test.
# Loaded here, before any test module builds its @settings, so those inherit it.
settings.register_profile("explore", settings.get_profile("ci"), derandomize=False)
settings.load_profile(os.environ.get("SECONDLINE_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _runtime_dir():
    """One private runtime dir for the whole run (the trays' control sockets, tray/app/control.py), short enough
    for a Unix socket's path. Set in the environment before any fixture of any scope starts a tray, so that
    a tray a module fixture starts and the CLI a test runs later agree on it."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="slrt-")
    before = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = d
    yield d
    if before is None:
        os.environ.pop("XDG_RUNTIME_DIR", None)
    else:
        os.environ["XDG_RUNTIME_DIR"] = before
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch, _runtime_dir):
    """Never read or write the developer's real config, state, runtime dir or keyring from a test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_RUNTIME_DIR", _runtime_dir)      # a test that changed it gets it back
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for k in list(os.environ):
        if k.startswith("SECONDLINE_SECRET_"):
            monkeypatch.delenv(k)
    yield


@pytest.fixture(autouse=True)
def _fresh_demo_scenario():
    """The demo scenario's start is process-wide (all demo sources share one clock): a test that pins
    it must not leave the next test in the middle of someone else's scenario."""
    from tray.sources.plain import demo
    demo.reset_origin()
    yield
    demo.reset_origin()


@pytest.fixture(scope="session")
def playwright_instance():
    """One Playwright for the whole run: its sync API refuses to start a second one in the same
    thread while another is alive, so every browser test (extension, dashboard, cross-origin) shares it."""
    from playwright.sync_api import sync_playwright
    from support.parts import PartDidNotStart
    try:
        p = sync_playwright().start()
    except Exception as exc:   # e.g. its Node driver missing a shared library (libatomic1)
        raise PartDidNotStart("Playwright's Node driver", str(exc).strip()) from None
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver binds "localhost" unless told otherwise, and a minimal Debian root has no
    /etc/hosts, so there that name does not resolve: every replayed API listens on 127.0.0.1."""
    return ("127.0.0.1", 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A real part that did not start is said once, with its log tail; later tests that needed it get
    one line (see support/parts.py)."""
    outcome = yield
    if call.excinfo is None:
        return
    from support.parts import PartDidNotStart
    exc = call.excinfo.value
    if isinstance(exc, PartDidNotStart):
        report = outcome.get_result()
        report.longrepr = exc.short() if exc.reported else exc.full()
        exc.reported = True
