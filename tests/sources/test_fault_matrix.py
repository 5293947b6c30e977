"""The fault matrix: every source type x every fault of support.faults, through the real
Scheduler/Runner + Store + Http, as the app runs them.

Per cell (one scheduler each, cells run concurrently to keep the whole matrix well under a minute):
- a faulty source of the type, pointed at the fault server's `base_url(fault)`;
- a healthy neighbour of the same type in the same scheduler, polled every 1 s from a good server.
Asserted:
- the faulty source becomes unknown with a one-line reason holding the fault's plain words
  (support.faults.REASON_WORDS). The `http` check type is the documented exception: a failing target
  is what it watches, so every fault is a critical alert on a readable source, never a source error;
- nothing escapes: no "internal error" logged for the source, no traceback, no thread exception;
- the neighbour keeps polling while the fault lasts (a count of polls after the fault showed and
  before it is lifted, not a rate: the CI box is loaded) and never turns unknown;
- the next good answer restores it: the server is switched to a good payload (for `refused` and
  `connect_timeout` a server comes up on the very port; for `tls` the remedy the reason names is
  applied, a config change to the good address), and the source is readable again without a restart.
  For 429 with Retry-After the next poll waits at least that long.
The "blind" column (issue 17): the server answers as it would to a reader that cannot see (support/sourcespecs.py
Blind: a permission filter matching nothing, a token seeing no service, an archived list...), and the
source must be unknown with a reason naming the reader and the fix (for `http`: the critical alert),
never ok; the good answer brings it back at its next poll (blindness does not back off).
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from support.reliability import MATRIX, MATRIX_TIME, Collector, Forwarder
from support.sourcespecs import SPECS, config, make, product_types, serve_blind, serve_good
from support.faults import BLIND, MATRIX_FAULTS, REASON_WORDS, RETRY_AFTER, FaultServer
from tray.core.model import Health
from tray.engine.net import Http
from tray.engine.scheduler import Scheduler
from tray.engine.store import Store

TYPES = product_types()
# 1 s, not less: the neighbour must never read stale (no good poll for 3 intervals), and on a loaded
# 2-core CI box a 0.75 s gap between two polls of a 0.25 s source happens.
NEIGHBOUR_INTERVAL = 1.0
FAULTY_INTERVAL = 1.0
TIMEOUT = 2.0
HOLD = 1.5            # seconds the fault is kept after it shows, so the neighbour is measured across it
# The neighbour must finish this many polls while the fault is in effect. Counted, not timed: on a
# loaded 2-core CI box 32 cells share the CPU, so the hold stretches (up to HOLD_CAP) until it has.
NEIGHBOUR_MIN_POLLS = 3
HOLD_CAP = 20.0
WORKERS = 32


@dataclass
class Cell:
    type: str
    fault: str
    error: str | None = None               # the faulty source's error while the fault lasted
    health: Health | None = None
    alerts: list = field(default_factory=list)
    stale: bool = False
    window: float = 0.0                    # seconds the fault was held after it showed
    neighbour_polls: int = 0
    neighbour_bad: list = field(default_factory=list)   # any non-readable neighbour state seen
    recovered: bool = False
    after: tuple = ()                      # (health, error) after recovery
    poll_times: list = field(default_factory=list)
    crash: str | None = None               # the harness itself failed (reported as the cell's failure)


def _drop_blackhole(srv: FaultServer, port: int) -> None:
    """Close the never-accepting listener (and its queue fillers) so the port can serve again."""
    for s in list(srv._sockets):
        try:
            ends = [s.getsockname()[1]]
            try:
                ends.append(s.getpeername()[1])
            except OSError:
                pass
        except OSError:
            continue
        if port in ends:
            s.close()


class RecordingHttp(Http):
    """The real client, noting when each source sent a request (to check Retry-After is honoured)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, list[float]] = {}

    def request(self, method, url, **kw):
        self.sent.setdefault(kw.get("source", ""), []).append(time.monotonic())
        return super().request(method, url, **kw)


def run_cell(type_name: str, fault: str, good: FaultServer) -> Cell:
    cell = Cell(type_name, fault)
    bad_name, ok_name = f"f-{type_name}-{fault}".replace("_", "-"), f"n-{type_name}-{fault}".replace("_", "-")
    spec = SPECS[type_name]
    srv = FaultServer()
    fwd: Forwarder | None = None
    store = Store()
    http = RecordingHttp()
    sched = Scheduler(store, http, secret_lookup=lambda name, fld: spec.secrets.get(fld))
    try:
        serve_good(srv, type_name)
        extra = {}
        if fault == BLIND:
            serve_blind(srv, type_name)
            url = srv.url
            extra = dict(spec.blind.settings)
        else:
            url = srv.configure(fault)
        bad = config(type_name, url, name=bad_name, timeout=TIMEOUT, interval=FAULTY_INTERVAL, **extra)
        ok = config(type_name, good.url, name=ok_name, timeout=TIMEOUT, interval=NEIGHBOUR_INTERVAL)
        t0 = time.monotonic()
        sched.start([bad, ok])
        neighbour = sched.runners[ok_name]

        def snap(name):
            return store.latest.source(name)

        # 1. the fault shows
        deadline = t0 + TIMEOUT * 3 + 8
        while time.monotonic() < deadline:
            s = snap(bad_name)
            shown = s is not None and (s.error is not None if type_name != "http" else bool(s.alerts))
            if shown:
                break
            n = snap(ok_name)
            if n is not None and n.error is not None:
                cell.neighbour_bad.append(n.error)
            time.sleep(0.05)
        shown_at, polls_at_shown = time.monotonic(), neighbour.polls
        hold_end, hold_cap = shown_at + HOLD, shown_at + HOLD_CAP
        while time.monotonic() < hold_cap:
            n = snap(ok_name)
            if n is not None and (n.error is not None or n.stale):
                cell.neighbour_bad.append(n.error)
            if time.monotonic() >= hold_end and neighbour.polls - polls_at_shown >= NEIGHBOUR_MIN_POLLS:
                break
            time.sleep(0.05)
        s = snap(bad_name)
        cell.error, cell.health, cell.alerts, cell.stale = s.error, s.health, list(s.alerts), s.stale
        # 2. the good answer comes back
        cell.window = time.monotonic() - shown_at
        cell.neighbour_polls = neighbour.polls - polls_at_shown
        runner = sched.runners[bad_name]
        polls_at_switch = runner.polls
        switched = time.monotonic()
        before_switch = len(http.sent.get(bad_name, []))
        serve_good(srv, type_name)
        if fault == "refused":
            fwd = Forwarder(srv.port, port=int(url.rsplit(":", 1)[1]))
        elif fault == "connect_timeout":
            port = int(url.rsplit(":", 1)[1])
            _drop_blackhole(srv, port)
            fwd = Forwarder(srv.port, port=port)
        elif fault == "tls":
            # The user applies the fix the reason names (here: the right address): a config reload.
            sched.set_sources([config(type_name, srv.url, name=bad_name, timeout=TIMEOUT,
                                      interval=FAULTY_INTERVAL), ok])
            runner = sched.runners[bad_name]
            polls_at_switch = 0
        # A bare 429 may carry the vendor's documented wait (PagerDuty: 30 s).
        # (+30: after a long hold the faulty source's back-off may have grown to 16 s.)
        limit = switched + (40 if fault.startswith("http429") else 0) + 30
        while time.monotonic() < limit:
            s = snap(bad_name)
            good_now = s.error is None and not s.stale and (type_name != "http" or not s.alerts)
            if good_now and runner.polls > polls_at_switch:
                cell.recovered = True
                break
            time.sleep(0.05)
        cell.poll_times = list(http.sent.get(bad_name, []))[:before_switch + 1]
        s = snap(bad_name)
        cell.after = (s.health, s.error)
    except Exception as exc:   # the harness, not the app: make the cell fail with the reason
        cell.crash = f"{type(exc).__name__}: {exc}"
    finally:
        sched.stop()
        store.close()
        srv.close()
        if fwd is not None:
            fwd.close()
    return cell


class _ThreadErrors:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self._old = threading.excepthook

    def __enter__(self):
        threading.excepthook = lambda args: self.errors.append(
            f"{args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: {args.exc_value}")
        return self

    def __exit__(self, *exc):
        threading.excepthook = self._old


@pytest.fixture(scope="module")
def matrix():
    collector = Collector()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(collector)
    started = time.monotonic()
    try:
        with FaultServer() as good, _ThreadErrors() as thread_errors:
            for t in TYPES:
                serve_good(good, t)
            with ThreadPoolExecutor(WORKERS) as pool:
                futures = {(t, f): pool.submit(run_cell, t, f, good) for t in TYPES for f in MATRIX_FAULTS}
                cells = {k: fut.result() for k, fut in futures.items()}
    finally:
        root.removeHandler(collector)
        root.setLevel(old_level)
    MATRIX_TIME["elapsed"] = time.monotonic() - started
    return {"cells": cells, "log": collector, "thread_errors": thread_errors.errors}


def test_every_type_has_a_spec():
    assert set(TYPES) <= set(SPECS), "a source type without a reliability spec: add it to support/sourcespecs.py SPECS"
    assert len(TYPES) >= 14


@pytest.mark.parametrize("fault", MATRIX_FAULTS)
@pytest.mark.parametrize("type_name", TYPES)
def test_fault_cell(matrix, type_name, fault):
    MATRIX[(type_name, fault)] = "FAIL"
    cell: Cell = matrix["cells"][(type_name, fault)]
    _check_cell(matrix, cell, type_name, fault)
    MATRIX[(type_name, fault)] = "pass"


def _check_cell(matrix, cell: Cell, type_name: str, fault: str) -> None:
    assert cell.crash is None, cell.crash
    words = (SPECS[type_name].blind.words if fault == BLIND else REASON_WORDS[fault]).lower()
    if type_name == "http":
        # The check's target failing IS the alert: the source stays readable, one critical alert.
        assert cell.error is None, cell.error
        assert cell.health is Health.CRITICAL and len(cell.alerts) == 1, (cell.health, cell.alerts)
        text = (cell.alerts[0].title + " " + cell.alerts[0].detail).lower()
        if fault in ("html_login", "empty", "wrong_shape", BLIND):
            assert "expected text" in text, text     # a 200 without the expected text
        if fault not in ("html_login", "empty", "wrong_shape"):
            assert words in text, text
    else:
        assert cell.health is Health.UNKNOWN, (cell.health, cell.error)
        assert cell.error and words in cell.error.lower(), cell.error
        assert "\n" not in cell.error and "internal error" not in cell.error
        assert not any(v in cell.error for v in SPECS[type_name].secrets.values())
    # nothing escaped for this source
    bad_name = f"f-{type_name}-{fault}".replace("_", "-")
    log = matrix["log"]
    assert not log.messages(f"source {bad_name}: internal error"), log.messages(bad_name)
    assert not [r for r in log.tracebacks() if bad_name in r.getMessage() or bad_name in (r.exc_text or "")]
    assert not [e for e in matrix["thread_errors"] if type_name in e]
    # the neighbour kept its schedule and stayed readable
    assert cell.neighbour_polls >= NEIGHBOUR_MIN_POLLS, (cell.neighbour_polls, cell.window)
    assert not cell.neighbour_bad, cell.neighbour_bad
    # the next good answer restores it
    assert cell.recovered, cell.after
    if fault == "http429_retry_after" and type_name != "http":
        gaps = [b - a for a, b in zip(cell.poll_times, cell.poll_times[1:])]
        assert gaps and min(gaps) >= RETRY_AFTER * 0.95, gaps


@pytest.mark.parametrize("type_name", TYPES)
def test_blind_with_allow_empty(type_name):
    """`allow_empty = true` accepts a blind answer only where an empty estate could be real; a blind
    answer that cannot be (a receiver the server does not have, an end-user's token, an archived
    list) stays unknown whatever the source says."""
    from tray.core.errors import SourceError
    blind = SPECS[type_name].blind
    assert blind is not None, f"{type_name}: no blind answer in support/sourcespecs.py SPECS (issue 17)"
    with FaultServer() as srv:
        serve_blind(srv, type_name)
        src = make(type_name, srv.url, allow_empty=True, **blind.settings)
        try:
            reading = src.poll(Http())
        except SourceError as exc:
            assert not blind.excusable and exc.kind == "blind" and blind.words.lower() in exc.reason.lower(), \
                exc.reason
            assert "allow_empty" not in exc.reason
            return
        if type_name == "http":
            assert [a.severity.value for a in reading.alerts] == ["critical"]
        else:
            assert blind.excusable, f"{type_name}: a blind answer no allow_empty may excuse read as ok"
            assert not [a for a in reading.alerts if a.raises], reading.alerts


def test_matrix_is_quiet(matrix):
    """No thread died of an exception anywhere. (How long the matrix took is printed in the summary: every
    cell bounds its own waits, so a stuck source fails its cell rather than a wall-clock budget.)"""
    assert matrix["thread_errors"] == []
