"""A running app picks up an edited config; an invalid edit keeps the last good one and says why."""
import os
import time

from support import fakesource
from support.faults import wait_until
from tray.config import loader as config
from tray.app.wiring import App
from support.builders import CaptureNotifier

fakesource.register()


def write(p, text):
    p.write_text(text)
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))   # a visible mtime change


def src(name, group="production"):
    return f'[[sources]]\nname = "{name}"\ntype = "fake"\ngroup = "{group}"\ninterval = 1\n'


def test_reload_good_and_bad_edits(tmp_path, caplog):
    p = tmp_path / "config.toml"
    p.write_text(src("a"))
    cap = CaptureNotifier()
    app = App(config.load(p), headless=True, port=0, backend=cap, state_path=str(tmp_path / "s.json"),
              token="t" * 20)
    app.start()
    try:
        wait_until(lambda: app.store.latest.source("a") and app.store.latest.source("a").checked_at)
        write(p, src("a") + src("b", "staging"))
        # The store learns of "b" a moment before its runner exists (both under the scheduler's lock).
        wait_until(lambda: app.store.latest.source("b") is not None and "b" in app.scheduler.runners, timeout=8)
        runner_b = app.scheduler.runners["b"]
        write(p, src("a") + src("b", "staging") + '[[sources]]\nname = "c"\ntype = "fake"\ninterval = 0\n')
        wait_until(lambda: any(n.title == "secondline: config not reloaded" for n in cap.shown), timeout=8)
        msg = next(n.body for n in cap.shown if n.title == "secondline: config not reloaded")
        assert msg == f'{p}:14: interval in [[sources]] "c": must be at least 1 second, got 0'
        assert "config not reloaded, keeping the last good one" in caplog.text
        time.sleep(2.5)
        # the last good config keeps running, nothing lost
        assert [s.name for s in app.store.latest.sources] == ["a", "b"]
        assert app.scheduler.runners["b"] is runner_b and runner_b.thread.is_alive()
        # the same bad edit is announced once, not on every check
        assert sum(n.title == "secondline: config not reloaded" for n in cap.shown) == 1
        write(p, src("b", "staging"))
        wait_until(lambda: [s.name for s in app.store.latest.sources] == ["b"], timeout=8)
    finally:
        app.shutdown()


def test_menu_reload_reports_failure(tmp_path):
    p = tmp_path / "config.toml"
    p.write_text(src("a"))
    app = App(config.load(p), headless=True, port=0, backend=CaptureNotifier(), state_path=str(tmp_path / "s.json"),
              token="t" * 20, watch_config=False)
    p.write_text("[server\n")
    assert app.reload_config() is False
    assert app.config.sources[0].name == "a"
