"""The tray when the desktop is not (yet) there (issue 16): an X display that cannot be reached, as when
the app starts at login before the X server, and a display without a tray host. Either way the app
runs as it does headless, says why there is no icon in one line, retries quietly and shows the icon
once it can."""
from __future__ import annotations

import time

import pytest

from support.e2e import clean_env
from support.xvfb import Trayer, Xvfb, unused_display_number

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each

WARNING_LINE = "[notification] Warning: app-staging-1: disk /var"
SHOWN = "tray icon shown ("
QUIET_RETRIES = {"SECONDLINE_TRAY_RETRY": "0.3"}     # many retries within the test, none of them logged


def wait_retries(app, n: int = 3, timeout: float = 30) -> str:
    """The output once the runner has looked again n times (debug lines: `run -v`)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = app.output()
        if out.count("still no tray icon") >= n:
            return out
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} quiet retries within {timeout} s:\n{app.output()[-3000:]}")


def test_unreachable_display_runs_headless_then_shows_the_icon(run_app, home):
    number = unused_display_number()
    env = clean_env(home, DISPLAY=f":{number}", **QUIET_RETRIES)
    app = run_app(["run", "--demo", "-v"], env)
    out = app.wait_output(WARNING_LINE, timeout=25)        # notifications as without a display
    notice = [line for line in out.splitlines() if "cannot be reached" in line]
    assert len(notice) == 1, out
    assert f"the X display :{number} cannot be reached" in notice[0] and "running without the tray icon" in notice[0]
    assert app.status()["sources"], "the endpoint serves"
    assert "Traceback" not in out and "DisplayConnectionError" not in out.replace(notice[0], "")
    out = wait_retries(app)                                # the display is looked for again, quietly
    assert out.count("cannot be reached") == 1, out

    with Xvfb(number=number) as xvfb, Trayer(xvfb):
        out = app.wait_output(SHOWN, timeout=30)
        assert out.count("cannot be reached") == 1, out
        assert "Traceback" not in out
        assert app.stop() == 0


def test_display_without_a_tray_host_says_so_once_then_docks(run_app, home):
    with Xvfb() as xvfb:
        env = clean_env(home, **xvfb.env, **QUIET_RETRIES)
        app = run_app(["run", "--demo", "-v"], env)
        out = app.wait_output(WARNING_LINE, timeout=25)
        notice = [line for line in out.splitlines() if "no system tray on the X display" in line]
        assert len(notice) == 1, out
        assert "Start your panel's notification area" in notice[0], notice[0]
        out = wait_retries(app)                            # the tray host is looked for again, quietly
        assert out.count("no system tray on the X display") == 1, out
        assert "Failed to dock icon" not in out and "Traceback" not in out and "AssertionError" not in out

        with Trayer(xvfb):
            out = app.wait_output(SHOWN, timeout=30)
            assert out.count("no system tray on the X display") == 1
            assert "Failed to dock icon" not in out and "Traceback" not in out
            assert app.stop() == 0
