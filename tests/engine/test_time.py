"""Time: a suspended laptop (wall clock jumps, monotonic does not) and data that stops arriving.

Real sources of every type, through the real Scheduler + Store, with the scheduler's wall/monotonic
clocks and the store's clock injected (one fake wall clock for both, as in the app where both read
the system time).
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from support.sourcespecs import SPECS, config, product_types, serve_good
from support.faults import FaultServer, wait_until
from tray.core import document
from tray.core.model import Health
from tray.engine.net import Http
from tray.engine.scheduler import Scheduler
from tray.engine.store import Store

TYPES = product_types()


class RecordingHttp(Http):
    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, int] = {}
        self._lock = threading.Lock()

    def request(self, method, url, **kw):
        with self._lock:
            self.sent[kw.get("source", "")] = self.sent.get(kw.get("source", ""), 0) + 1
        return super().request(method, url, **kw)


def _lookup(name: str, fld: str) -> str | None:
    return SPECS[name.split("--", 1)[1]].secrets.get(fld)


def test_wake_from_sleep_repolls_everything_and_never_shows_old_data_as_current():
    wall, mono = [1_800_000_000.0], [5_000.0]
    clock = lambda: datetime.fromtimestamp(wall[0], timezone.utc)   # noqa: E731
    store = Store(clock=clock)
    http = RecordingHttp()
    published: list = []
    # Every snapshot as the store makes it (under its lock, in order): subscribers get only the newest
    # of a backlog, so they may never see the short-lived all-stale one this test is about.
    make_snapshot = store._publish

    def recording_publish() -> None:
        make_snapshot()
        published.append(store._latest)
    store._publish = recording_publish
    with FaultServer() as good, FaultServer() as vpn:
        for t in TYPES:
            serve_good(good, t)
        serve_good(vpn, "alertmanager")
        vpn.route("/api/v2/alerts", [{"labels": {"alertname": "DiskFull", "severity": "critical",
                                                 "instance": "db1"},
                                      "annotations": {"summary": "disk full"}, "startsAt": "2026-03-01T10:00:00Z",
                                      "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
                                      "fingerprint": "abc123", "generatorURL": "http://prom/graph"}])
        configs = [config(t, good.url, name=f"s--{t}", interval=300) for t in TYPES]
        configs.append(config("alertmanager", vpn.url, name="behind-vpn--alertmanager", interval=300))
        names = [c.name for c in configs]
        sched = Scheduler(store, http, _lookup, wall=lambda: wall[0], mono=lambda: mono[0])
        try:
            sched.start(configs)
            wait_until(lambda: all(store.latest.source(n).checked_at is not None for n in names), timeout=15)
            before = {n: http.sent.get(n, 0) for n in names}
            vpn_src = store.latest.source("behind-vpn--alertmanager")
            assert vpn_src.health is Health.CRITICAL and len(vpn_src.alerts) == 1
            # A normal second: no wake.
            wall[0] += 1; mono[0] += 1
            assert not sched.check_wake()
            # An hour asleep: the wall clock moved, the monotonic clock did not. After waking, the VPN
            # is not up yet: that server does not answer any more.
            vpn.fault("http500")
            jumped_at = wall[0] + 3600
            wall[0] += 3600; mono[0] += 0.5
            wait_until(lambda: sched.wakes == 1, timeout=5)     # the supervisor notices by itself
            # every source polls again now, not after its 300 s interval
            wait_until(lambda: all(http.sent.get(n, 0) > before[n] for n in names), timeout=10)
            wait_until(lambda: all(store.latest.source(n).checked_at == clock() for n in names
                                   if not n.startswith("behind-vpn")), timeout=10)
            wait_until(lambda: store.latest.source("behind-vpn--alertmanager").error is not None, timeout=10)
        finally:
            sched.stop()
            store.close()
    after = [s for s in published if s.generated_at.timestamp() >= jumped_at]
    assert after, "no snapshot published after the jump"
    for snap in after:
        for s in snap.sources:
            if s.readable:
                assert s.checked_at.timestamp() >= jumped_at, f"{s.name} shows pre-sleep data as current"
            else:
                assert s.health is Health.UNKNOWN and s.alerts == ()
    # right after the jump every source was stale (unknown) until its repoll came in
    first = after[0]
    assert all(s.stale and s.health is Health.UNKNOWN for s in first.sources), \
        [(s.name, s.stale, s.health) for s in first.sources]
    final = store.latest
    vpn_src = final.source("behind-vpn--alertmanager")
    assert vpn_src.health is Health.UNKNOWN and vpn_src.alerts == () and "HTTP 500" in vpn_src.error
    doc = document.to_document(final)
    row = next(s for s in doc["sources"] if s["name"] == "behind-vpn--alertmanager")
    assert row["alerts"] == [] and row["health"] == "unknown"
    assert sched.wakes == 1


def test_data_older_than_three_intervals_is_stale_then_unknown():
    """A poll that hangs longer than 3 intervals (timeout 20 s, interval 1 s): before the timeout
    error arrives, the old alerts stop counting as current and the source reads unknown/stale."""
    store = Store()
    with FaultServer() as srv:
        serve_good(srv, "zendesk")       # one open ticket: a warning
        sched = Scheduler(store, Http(), lambda n, f: SPECS["zendesk"].secrets.get(f))
        try:
            # A 20 s timeout: stale must come from the 3-interval rule (about 3-4 s), long before it.
            sched.start([config("zendesk", srv.url, name="zd", interval=1, timeout=20)])
            wait_until(lambda: store.latest.source("zd").health is Health.WARNING, timeout=10)
            srv.fault("read_timeout")
            t0 = time.monotonic()
            sched_supervised = wait_until(lambda: store.latest.source("zd").stale, timeout=16)
            took = time.monotonic() - t0
            s = store.latest.source("zd")
            assert sched_supervised and s.health is Health.UNKNOWN and s.alerts == ()
            assert "stale" in s.error and "not current" in s.error
            assert took < 15, "went stale only when the timeout error came, not after 3 intervals"
            # ... and the next good answer makes it current again
            serve_good(srv, "zendesk")
            wait_until(lambda: store.latest.source("zd").health is Health.WARNING
                       and not store.latest.source("zd").stale, timeout=45)
        finally:
            sched.stop()
            store.close()
