"""Scheduling: intervals, back-off, Retry-After, isolation, stale data, wake from sleep, streams."""
import logging
from datetime import datetime, timedelta, timezone

import pytest

from support import fakesource
from support.faults import wait_until
from tray.core.errors import SourceError
from tray.core.model import Alert, Health, Severity
from tray.engine.scheduler import MAX_BACKOFF, Scheduler, backoff_delay
from tray.sources.base import SourceConfig
from tray.engine.store import Store

fakesource.register()


def cfg(name, interval=1.0, **kw):
    return SourceConfig(name=name, type="fake", group="g", interval=interval, **kw)


@pytest.fixture
def sched():
    fakesource.SCRIPTS.clear(); fakesource.POLLS.clear(); fakesource.WATCHERS.clear()
    store = Store()
    s = Scheduler(store, http=None)
    yield s
    s.stop()
    store.close()


@pytest.mark.parametrize("interval,failures,retry_after,expected", [
    (30, 1, None, 30), (30, 2, None, 60), (30, 3, None, 120), (30, 5, None, 300), (30, 20, None, MAX_BACKOFF),
    (1, 1, None, 1), (1, 4, None, 8), (600, 3, None, 600),
    (30, 1, 90, 90), (30, 3, 7, 120), (30, 1, 99999, 3600),
])
def test_backoff(interval, failures, retry_after, expected):
    assert backoff_delay(interval, failures, retry_after) == expected


def test_polls_on_interval_and_reports(sched):
    fakesource.SCRIPTS["a"] = ["crit"]
    sched.start([cfg("a", interval=1)])
    wait_until(lambda: sched.store.latest.health is Health.CRITICAL, timeout=5)
    wait_until(lambda: len(fakesource.POLLS.get("a", [])) >= 3, timeout=6)


def test_error_makes_unknown_logged_once_then_recovery_once(sched, caplog):
    caplog.set_level(logging.INFO, logger="tray.engine.scheduler")
    fakesource.SCRIPTS["a"] = [SourceError("connection refused by x", kind="refused")] * 3 + ["ok"]
    sched.start([cfg("a", interval=1)])
    wait_until(lambda: sched.store.latest.source("a").error == "connection refused by x", timeout=5)
    assert sched.store.latest.health is Health.UNKNOWN
    wait_until(lambda: sched.store.latest.health is Health.OK and sched.store.latest.source("a").error is None,
               timeout=15)
    msgs = [r.getMessage() for r in caplog.records if r.name == "tray.engine.scheduler"]
    assert sum("connection refused" in m for m in msgs) == 1
    assert sum("recovered" in m for m in msgs) == 1


def test_retry_after_honoured(sched):
    fakesource.SCRIPTS["a"] = [SourceError("rate limited", kind="rate_limited", retry_after=3), "ok"]
    sched.start([cfg("a", interval=1)])
    wait_until(lambda: len(fakesource.POLLS.get("a", [])) >= 2, timeout=8)
    polls = fakesource.POLLS["a"]
    assert polls[1] - polls[0] >= 2.9


def test_a_hanging_or_buggy_source_does_not_delay_others(sched):
    fakesource.SCRIPTS["slow"] = [("hang", 20)]
    fakesource.SCRIPTS["bug"] = [ZeroDivisionError("oops")]
    sched.start([cfg("slow", interval=1), cfg("bug", interval=1), cfg("fast", interval=1)])
    # Counted, not timed: three polls of "fast" while "slow" hangs (20 s) and "bug" raises.
    wait_until(lambda: len(fakesource.POLLS.get("fast", [])) >= 3, timeout=15)
    assert sched.store.latest.source("slow").checked_at is None      # still hanging meanwhile
    wait_until(lambda: sched.store.latest.source("bug").error, timeout=5)
    bug = sched.store.latest.source("bug")
    assert bug.health is Health.UNKNOWN and "internal error" in bug.error and "ZeroDivisionError" in bug.error


def test_stale_after_three_intervals():
    clock = [datetime(2026, 1, 1, tzinfo=timezone.utc)]
    store = Store(clock=lambda: clock[0])
    store.configure([cfg("a", interval=10)])
    from tray.core.model import Reading
    store.record_reading("a", Reading())
    clock[0] += timedelta(seconds=29)
    store.refresh_stale()
    assert not store.latest.source("a").stale
    clock[0] += timedelta(seconds=2)
    store.refresh_stale()
    s = store.latest.source("a")
    assert s.stale and s.health is Health.UNKNOWN and "stale" in s.error
    store.record_reading("a", Reading())
    assert not store.latest.source("a").stale
    store.close()


def test_wall_clock_jump_polls_everything_at_once(sched):
    wall, mono = [1000.0], [50.0]
    sched.wall, sched.mono = (lambda: wall[0]), (lambda: mono[0])
    sched._last = (wall[0], mono[0])
    # set_sources, not start: no supervisor thread that could take the wake before this test's call.
    sched.set_sources([cfg("a", interval=300), cfg("b", interval=300)])
    wait_until(lambda: len(fakesource.POLLS.get("a", [])) == 1 and len(fakesource.POLLS.get("b", [])) == 1)
    wall[0] += 2; mono[0] += 2
    assert not sched.check_wake()
    wall[0] += 3600; mono[0] += 1          # an hour asleep: monotonic did not move
    assert sched.check_wake()
    wait_until(lambda: len(fakesource.POLLS["a"]) == 2 and len(fakesource.POLLS["b"]) == 2, timeout=3)


def test_watcher_publishes_and_stream_errors_show_while_down(sched):
    calls = []

    def watcher(http, ctx):
        calls.append(1)
        if len(calls) == 1:
            ctx.connected()
            ctx.publish([Alert(source="a", id="e", title="from stream", severity=Severity.WARNING)])
            ctx.wait(0.5)
            raise SourceError("stream closed by server", kind="stream")
        ctx.connected()
        ctx.wait(30)

    fakesource.WATCHERS["a"] = [watcher]
    fakesource.SCRIPTS["a"] = ["ok"]
    sched.start([cfg("a", interval=300)])
    wait_until(lambda: "event stream down" in (sched.store.latest.source("a").error or ""), timeout=5)
    s = sched.store.latest.source("a")
    assert s.readable                 # polled data stays current while only the stream is down
    wait_until(lambda: sched.store.latest.source("a").error is None, timeout=5)
    assert len(calls) == 2


def test_reload_keeps_unchanged_sources(sched):
    sched.start([cfg("a", interval=300), cfg("b", interval=300)])
    wait_until(lambda: len(fakesource.POLLS.get("a", [])) == 1)
    runner_a = sched.runners["a"]
    sched.set_sources([cfg("a", interval=300), cfg("c", interval=300)])
    assert sched.runners["a"] is runner_a and "b" not in sched.runners and "c" in sched.runners
    assert [s.name for s in sched.store.latest.sources] == ["a", "c"]


def test_filters_applied_to_polls(sched):
    fakesource.SCRIPTS["a"] = ["crit"]
    sched.start([cfg("a", interval=1, exclude=("down",))])
    wait_until(lambda: sched.store.latest.source("a").checked_at is not None)
    assert sched.store.latest.health is Health.OK


def test_since_filled_from_first_sighting():
    clock = [datetime(2026, 1, 1, tzinfo=timezone.utc)]
    store = Store(clock=lambda: clock[0])
    store.configure([cfg("a", interval=10)])
    from tray.core.model import Reading
    no_since = Alert(source="a", id="site", title="site down", severity=Severity.CRITICAL)
    store.record_reading("a", Reading(alerts=(no_since,)))
    first = store.latest.source("a").alerts[0].since
    assert first == clock[0]
    clock[0] += timedelta(seconds=30)
    store.record_reading("a", Reading(alerts=(no_since,)))
    assert store.latest.source("a").alerts[0].since == first     # kept, not "now" on every poll
    store.close()


def test_optional_secret_without_keyring_is_none():
    from tray.sources.base import Source

    class Opt(Source):
        type = "opt"
        secrets = ("",)
        secret_optional = True

    def no_keyring(name, field):
        raise SourceError("no usable keyring", kind="credential")
    assert Opt(SourceConfig(name="am", type="opt"), no_keyring).secret() is None


def test_first_reading_is_pushed_to_readers():
    """No data -> ok changes no health or count, but readers must hear of it (grey -> green)."""
    store = Store()
    store.configure([cfg("a")])
    v = store.version
    from tray.core.model import Reading
    store.record_reading("a", Reading())
    assert store.version == v + 1 and store.latest.state == "ok"
    store.record_reading("a", Reading())
    assert store.version == v + 1          # later identical polls are not changes
    store.close()
