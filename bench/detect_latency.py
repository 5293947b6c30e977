"""How fast does an Icinga 2 state change reach `secondline run --headless`, and at what cost?

Starts a private icinga2 (tests/support/mk-icinga.sh; by default 50 extra hosts x 20 services, so the
comparison with a full poll is not made on a toy list), a counting TCP pass-through in front of its API
port (TLS stays end to end: it counts connections and bytes), and the app (interval 60 s, stream on).
Then 20 times: `process-check-result` on h1!svc1 (alternating CRITICAL / OK), and the time from that call
returning to the first `/events` (SSE) document that shows the change.

Prints p50 / p95 / max, the app's CPU, and the requests (from icinga2's own request log, user
"secondline") and bytes per minute it put on icinga2, idle and during the changes; then the same for
the app polling every 1 s without the stream (`stream = false, interval = 1`), and the bytes of one
unfiltered whole-service-list query (what a 1 s full poll such as Nagstamon's fetches each second).

Target (issue 3): p95 <= 0.5 s, at less app CPU and fewer bytes per minute than the 1 s full poll, idle
and during the changes.

    .venv/bin/python bench/detect_latency.py [--changes 20] [--hosts 50] [--services 20] [--detect 0.25]
                                             [--idle 20] [--skip-baseline] [--json]

`--json`: the last line printed is {"figures": [...]} (see bench/README.md). Exit 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import select
import socket
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "tests"))  # last: tests/platform, tests/packaging must not hide the stdlib's platform, PyPI's packaging
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from endpoint import emit, figure  # noqa: E402
from support.icinga2 import App, Icinga, icinga_config, start_icinga, stop_icinga  # noqa: E402
from support.procs import free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
TARGET_P95_S = 0.5
QUICK_ARGS = ["--changes", "10", "--idle", "10", "--skip-baseline"]     # bench/run_all.py --quick
IDLE_SECONDS = 20.0          # the idle window of each measurement (--idle)


class CountingProxy:
    """TCP pass-through: counts connections and bytes each way (TLS is not terminated)."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.up = self.down = self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def snapshot(self) -> tuple[int, int, int]:
        with self.lock:
            return self.up, self.down, self.connections

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        socks = [client, server]
        try:
            while True:
                ready, _, _ = select.select(socks, [], [], 600)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (server if s is client else client).sendall(data)
                    with self.lock:
                        if s is client:
                            self.up += len(data)
                        else:
                            self.down += len(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()


class SSE:
    """Reads the app's /events stream; keeps (arrival time, document) pairs."""

    def __init__(self, port: int) -> None:
        self.docs: list[tuple[float, dict]] = []
        self.cond = threading.Condition()
        self.resp = requests.get(f"http://127.0.0.1:{port}/events", stream=True, timeout=(5, 120))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        try:
            while True:
                chunk = self.resp.raw.read1(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    data = b"".join(line[5:].strip() for line in block.split(b"\n") if line.startswith(b"data:"))
                    if data:
                        doc = json.loads(data)
                        with self.cond:
                            self.docs.append((time.monotonic(), doc))
                            self.cond.notify_all()
        except Exception:
            return

    def wait_for(self, pred, since_index: int, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            i = since_index
            while True:
                while i < len(self.docs):
                    t, doc = self.docs[i]
                    if pred(doc):
                        return t
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def close(self) -> None:
        self.resp.close()


def alert_state(doc: dict, source: str, alert_id: str) -> str | None:
    for s in doc.get("sources", []):
        if s["name"] == source:
            for a in s.get("alerts", []):
                if a["id"] == alert_id:
                    return a["severity"]
            return "ok" if s.get("checked_at") else None
    return None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def group_cpu_seconds(pgid: int) -> float:
    """CPU of every process in icinga2's process group (umbrella, worker, spawn helper)."""
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def run_changes(ic: Icinga, changes: int, seen_after) -> list[float]:
    """`changes` state flips of h1!svc1; seen_after(want) blocks until the client shows it, returns
    the monotonic time it did (or None)."""
    lat = []
    rng = random.Random(7)
    for i in range(changes):
        want = "critical" if i % 2 == 0 else "ok"
        waiter = seen_after(want)
        ic.set_state("h1!svc1", 2 if want == "critical" else 0, f"bench {i}")
        returned = time.monotonic()
        seen = waiter()
        lat.append((seen - returned) if seen is not None else float("inf"))
        time.sleep(rng.uniform(0.8, 1.6))                             # sample the server's tick at random phases
    return sorted(lat)


class FullPoller:
    """What a 1 s full poll does (Nagstamon at its fastest): the whole service list every second."""

    def __init__(self, ic: Icinga, port: int) -> None:
        from tray.sources.icinga2.source import SERVICE_ATTRS, SERVICE_JOINS
        self.body = {"attrs": SERVICE_ATTRS, "joins": SERVICE_JOINS}
        self.url = f"{ic.url}/v1/objects/services"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = ic.ca
        self.session.auth = ("secondline", "sl-secret")
        self.states: list[tuple[float, str]] = []
        self.cpu = 0.0
        self.requests = 0
        self.stop = threading.Event()
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            c0 = time.thread_time()
            r = self.session.post(self.url, json=self.body, timeout=30,
                                  headers={"Accept": "application/json", "X-HTTP-Method-Override": "GET"})
            items = r.json()["results"]
            state = next((it["attrs"]["state"] for it in items if it["name"] == "h1!svc1"), None)
            self.requests += 1
            self.cpu += time.thread_time() - c0
            with self.cond:
                self.states.append((time.monotonic(), "critical" if state == 2 else "ok"))
                self.cond.notify_all()
            self.stop.wait(1.0)

    def seen_after(self, want: str):
        start = len(self.states)

        def wait() -> float | None:
            deadline = time.monotonic() + 30
            with self.cond:
                i = start
                while True:
                    while i < len(self.states):
                        if self.states[i][1] == want:
                            return self.states[i][0]
                        i += 1
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self.cond.wait(left)
        return wait


def measure_full_poll(ic: Icinga, changes: int) -> dict:
    proxy = CountingProxy(ic.port)
    poller = FullPoller(ic, proxy.port)
    try:
        time.sleep(3.0)
        out = {"label": "reference: full poll of all services every 1 s (Nagstamon-style client)"}
        for k, work in (("idle", lambda: time.sleep(IDLE_SECONDS)),
                        ("busy", lambda: out.__setitem__("lat", run_changes(ic, changes, poller.seen_after)))):
            t0, r0, b0, c0, i0 = (time.monotonic(), poller.requests, sum(proxy.snapshot()[:2]), poller.cpu,
                                  group_cpu_seconds(ic.proc.pid))
            work()
            t1, r1, b1, c1, i1 = (time.monotonic(), poller.requests, sum(proxy.snapshot()[:2]), poller.cpu,
                                  group_cpu_seconds(ic.proc.pid))
            out[k] = {"req_min": (r1 - r0) * 60 / (t1 - t0), "bytes_min": (b1 - b0) * 60 / (t1 - t0),
                      "cpu_pct": (c1 - c0) * 100 / (t1 - t0), "icinga_cpu_pct": (i1 - i0) * 100 / (t1 - t0)}
        out["connections"] = proxy.snapshot()[2]
        return out
    finally:
        poller.stop.set()
        poller.thread.join(35)
        proxy.listener.close()


def secondline_requests(ic: Icinga) -> int:
    log = ic.dir / "log" / "icinga2.log"
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if "HttpServerConnection: Request:" in line and "user: secondline," in line)


def measure(ic: Icinga, tmp: Path, label: str, *, changes: int, stream: bool, interval: float,
            detect: float) -> dict:
    proxy = CountingProxy(ic.port)
    proxied = Icinga(ic.dir, proxy.port, ic.proc, ic.session)        # same server, through the counter
    cfg = icinga_config(tmp / f"{label}.toml", proxied, interval=interval, stream=stream, detect_interval=detect)
    app = App(cfg, free_port(), {"ic": "sl-secret"}, tmp / f"{label}.log")
    sse = None
    try:
        app.wait_ready("ic")
        sse = SSE(app.port)
        time.sleep(3.0)                                               # connect poll, stream, detector settle

        def window() -> tuple[float, int, int, float, float]:
            return (time.monotonic(), secondline_requests(ic), sum(proxy.snapshot()[:2]),
                    cpu_seconds(app.proc.pid), group_cpu_seconds(ic.proc.pid))

        def load(a, b) -> dict:
            dt = b[0] - a[0]
            return {"req_min": (b[1] - a[1]) * 60 / dt, "bytes_min": (b[2] - a[2]) * 60 / dt,
                    "cpu_pct": (b[3] - a[3]) * 100 / dt, "icinga_cpu_pct": (b[4] - a[4]) * 100 / dt}

        a = window()
        time.sleep(IDLE_SECONDS)                                      # idle: nothing changes
        idle = load(a, window())

        def seen_after(want: str):
            start_index = len(sse.docs)
            return lambda: sse.wait_for(lambda d: alert_state(d, "ic", "h1!svc1") == want, start_index, 90)

        a = window()
        lat = run_changes(ic, changes, seen_after)
        busy = load(a, window())
        return {"label": label, "lat": lat, "idle": idle, "busy": busy, "connections": proxy.snapshot()[2]}
    finally:
        if sse:
            sse.close()
        app.stop()
        proxy.listener.close()


def full_list_bytes(ic: Icinga) -> tuple[int, int]:
    """Bytes of one unfiltered all-services query with the attributes the source asks for."""
    from tray.sources.icinga2.source import SERVICE_ATTRS, SERVICE_JOINS
    r = ic.session.post(f"{ic.url}/v1/objects/services", headers={"X-HTTP-Method-Override": "GET"},
                        json={"attrs": SERVICE_ATTRS, "joins": SERVICE_JOINS}, timeout=30)
    r.raise_for_status()
    return len(r.content), len(r.json()["results"])


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def report(m: dict) -> None:
    lat = m["lat"]
    print(f"\n== {m['label']}")
    print(f"latency  p50 {pct(lat, .5) * 1000:7.0f} ms   p95 {pct(lat, .95) * 1000:7.0f} ms   "
          f"max {max(lat) * 1000:7.0f} ms   (n={len(lat)})")
    print("         all: " + " ".join(f"{x * 1000:.0f}" for x in lat))
    for k in ("idle", "busy"):
        v = m[k]
        print(f"{k:5}    client CPU {v['cpu_pct']:5.2f} %   on icinga2: {v['req_min']:6.1f} req/min   "
              f"{v['bytes_min'] / 1024:8.1f} KiB/min   icinga2 CPU {v['icinga_cpu_pct']:5.2f} %")
    print(f"TCP connections opened: {m['connections']}")


def server_cost(tmp: Path, hosts: int, services: int, seconds: float = 15.0) -> None:
    """What the detector costs a big icinga2: its CPU idle vs. answering CIB every 0.25 s, and what one
    problems-only poll (the detector's trigger) and one whole-list poll cost there."""
    from tray.sources.icinga2.source import SERVICE_ATTRS, SERVICE_JOINS
    from tray.sources.icinga2.stream import CibProbe
    from tests.sources.icinga2.helpers import make_source
    t = time.monotonic()
    ic = start_icinga(tmp / "big", free_port(), env={"BULK_HOSTS": str(hosts), "BULK_SERVICES": str(services)},
                      timeout=300)
    print(f"\n== server cost: icinga2 with {hosts * services + 8} services (API up after {time.monotonic() - t:.0f}s)")
    try:
        for filt, code in (('match("b*", host.name)', 0), ('match("b*", host.name) && service.name == "s3"', 2)):
            ic.api("POST", "actions/process-check-result",
                   json={"type": "Service", "filter": filt, "exit_status": code, "plugin_output": "bulk"})
        time.sleep(5)

        def icinga_cpu(work) -> float:
            c0, t0 = group_cpu_seconds(ic.proc.pid), time.monotonic()
            work()
            return (group_cpu_seconds(ic.proc.pid) - c0) * 100 / (time.monotonic() - t0)

        idle = icinga_cpu(lambda: time.sleep(seconds))
        src = make_source(url=ic.url, username="secondline", secret="sl-secret", ca_bundle=ic.ca)
        from tray.sources.icinga2.stream import DetectorPace
        for label, adaptive in (("fixed 0.25 s", False), ("adaptive (DetectorPace)", True)):
            probe = CibProbe(src)
            pace = DetectorPace(0.25)
            took: list[float] = []
            sizes: list[int] = []

            def cib_loop() -> None:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    t0 = time.monotonic()
                    status, body = probe.get(10)
                    took.append(time.monotonic() - t0)
                    pace.answered(took[-1])
                    sizes.append(len(body))
                    time.sleep(pace.interval if adaptive else 0.25)
            busy = icinga_cpu(cib_loop)
            probe.close()
            took.sort()
            print(f"CIB check {label}: icinga2 CPU {busy:.2f} % (idle {idle:.2f} %), {len(took)} checks in "
                  f"{seconds:g} s, answer {sizes[-1]} bytes in p50 {pct(took, .5) * 1000:.0f} ms, "
                  f"interval {pace.interval if adaptive else 0.25:.2f} s")
        for label, body_json in (("problems-only poll (filter state != 0)", {"filter": "service.state != 0"}),
                                 ("whole service list (no filter)", {})):
            t0 = time.monotonic()
            r = ic.session.post(f"{ic.url}/v1/objects/services", headers={"X-HTTP-Method-Override": "GET"},
                                json={"attrs": SERVICE_ATTRS, "joins": SERVICE_JOINS, **body_json}, timeout=300)
            print(f"{label}: {len(r.content) / 1048576:.1f} MiB, {len(r.json()['results'])} services, "
                  f"{time.monotonic() - t0:.2f} s")
    finally:
        stop_icinga(ic.proc)


def ms(x: float) -> float | str:
    return "not seen" if x == float("inf") else round(x * 1000, 1)


def figures(m: dict, full: dict, base: dict | None, list_bytes: int, services: int) -> list[dict]:
    """The figures for bench/run_all.py: the stream's latency against the target, its cost against the
    1 s full poll (the reference the issue names), and the others for context."""
    lat = m["lat"]
    p95 = pct(lat, .95)
    figs = [
        figure(f"detect_latency stream: change -> /events p50 (icinga2, {services} services)", ms(pct(lat, .5)),
               "ms"),
        figure("detect_latency stream: change -> /events p95", ms(p95), "ms", f"<= {TARGET_P95_S * 1000:g} ms",
               p95 <= TARGET_P95_S),
        figure("detect_latency stream: change -> /events max", ms(max(lat)), "ms"),
    ]
    for k, when in (("idle", "idle"), ("busy", "during changes")):
        mine, ref = m[k], full[k]
        figs += [
            figure(f"detect_latency stream: app CPU {when}", round(mine["cpu_pct"], 3), "% of a core",
                   f"< {ref['cpu_pct']:.3f} % (1 s full poll)", mine["cpu_pct"] < ref["cpu_pct"]),
            figure(f"detect_latency stream: bytes to/from icinga2 {when}", round(mine["bytes_min"] / 1024, 1),
                   "KiB/min", f"< {ref['bytes_min'] / 1024:.0f} KiB/min (1 s full poll)",
                   mine["bytes_min"] < ref["bytes_min"]),
        ]
    figs += [
        figure("detect_latency stream: requests on icinga2 idle", round(m["idle"]["req_min"], 1), "req/min"),
        figure("detect_latency stream: icinga2 CPU idle", round(m["idle"]["icinga_cpu_pct"], 2), "% of a core"),
        figure("detect_latency 1 s full poll: p95", ms(pct(full["lat"], .95)), "ms"),
        figure("detect_latency 1 s full poll: client CPU idle", round(full["idle"]["cpu_pct"], 3), "% of a core"),
        figure("detect_latency 1 s full poll: bytes idle", round(full["idle"]["bytes_min"] / 1024, 1), "KiB/min"),
        figure("detect_latency 1 s full poll: icinga2 CPU idle", round(full["idle"]["icinga_cpu_pct"], 2),
               "% of a core"),
        figure("detect_latency one unfiltered service list", round(list_bytes / 1024, 1), "KiB"),
    ]
    if base:
        figs += [
            figure("detect_latency no stream, filtered poll every 1 s: p95", ms(pct(base["lat"], .95)), "ms"),
            figure("detect_latency no stream, filtered poll every 1 s: app CPU idle",
                   round(base["idle"]["cpu_pct"], 3), "% of a core"),
            figure("detect_latency no stream, filtered poll every 1 s: bytes idle",
                   round(base["idle"]["bytes_min"] / 1024, 1), "KiB/min"),
        ]
    return figs


def main() -> int:
    global IDLE_SECONDS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--detect", type=float, default=0.25)
    ap.add_argument("--skip-baseline", action="store_true", help="skip the no-stream 1 s poll run")
    ap.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds of each idle window (default 20)")
    ap.add_argument("--json", action="store_true", help="last line: the figures as JSON")
    ap.add_argument("--server-cost", type=int, default=0, metavar="HOSTS",
                    help="only measure what the detector costs an icinga2 with HOSTS x 10 services")
    args = ap.parse_args()
    IDLE_SECONDS = args.idle
    if args.server_cost:
        with tempfile.TemporaryDirectory(prefix="secondline-bench-") as tmp_s:
            server_cost(Path(tmp_s), args.server_cost, 10)
        if args.json:
            print(json.dumps({"figures": []}))
        return 0
    with tempfile.TemporaryDirectory(prefix="secondline-bench-") as tmp_s:
        tmp = Path(tmp_s)
        ic = start_icinga(tmp / "icinga", free_port(),
                          env={"BULK_HOSTS": str(args.hosts), "BULK_SERVICES": str(args.services)})
        try:
            # A realistic list: everything checked and OK, one service in twenty CRITICAL.
            for filt, code in (('match("b*", host.name)', 0), ('match("b*", host.name) && service.name == "s3"', 2)):
                if args.services:
                    ic.api("POST", "actions/process-check-result",
                           json={"type": "Service", "filter": filt, "exit_status": code, "plugin_output": "bulk"})
            ic.api("POST", "actions/process-check-result",
                   json={"type": "Host", "filter": "true", "exit_status": 0, "plugin_output": "up"})
            ic.set_state("h1!svc1", 0)
            size, count = full_list_bytes(ic)
            print(f"icinga2 {ic.dir}: {count} services; one unfiltered service-list answer = {size / 1024:.1f} KiB")
            print(f"=> a 1 s full poll of all services moves >= {size * 60 / 1024:.0f} KiB/min "
                  f"(60 req/min) before TLS and headers")
            m = measure(ic, tmp, f"stream + CIB detector every {args.detect:g}s (interval 60 s)",
                        changes=args.changes, stream=True, interval=60, detect=args.detect)
            report(m)
            full = measure_full_poll(ic, args.changes)
            report(full)
            b = None
            if not args.skip_baseline:
                b = measure(ic, tmp, "baseline: no stream, filtered poll every 1 s", changes=args.changes,
                            stream=False, interval=1, detect=0)
                report(b)
        finally:
            stop_icinga(ic.proc)
    print(f"\n# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    figs = figures(m, full, b, size, count)
    emit(figs, args.json)
    return 0 if all(f["pass"] is not False for f in figs) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:                      # the benchmark broke (not a missed target): exit 2
        traceback.print_exc()
        sys.exit(2)
