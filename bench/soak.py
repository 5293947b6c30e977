#!/usr/bin/env python3
"""Soak: a real `secondline run --headless` process polls every source type against local servers
that answer with a random fault (seeded) a good part of the time, while its endpoint serves a steady
50 req/s of /status.json and keeps 5 /events streams open. It stops by itself after N polls.

    .venv/bin/python bench/soak.py                 # 20,000 polls (about 8-10 minutes)
    .venv/bin/python bench/soak.py --polls 2000    # the reduced run the test suite uses
    .venv/bin/python bench/soak.py --json out.json # also write the figures as JSON
    .venv/bin/python bench/soak.py --json          # last line: {"figures": [...]} (bench/README.md)

Reported (from /proc of the child, so the load generator and fake servers are not counted): RSS at
launch, after warm-up and at the end, thread and fd counts, notifications sent, errors and
tracebacks logged, endpoint requests served and SSE events received.
Targets: RSS growth after warm-up <= 5 MB, threads and fds flat (median of 5 samples within 5 of
the start; a leak per fault would add hundreds), 0 unhandled exceptions.

Polls are counted on the server side: each source type's first request of a poll (a poll whose
first request fails is still one poll). Sources pinned to a refused / never-accepting / bad-TLS
address are polled too, but not counted (their requests never reach a server).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "tests"))  # last: tests/platform, tests/packaging must not hide the stdlib's platform, PyPI's packaging
sys.path.insert(0, str(REPO))

from support.faults import FaultServer  # noqa: E402
from support.procs import free_port  # noqa: E402
from support.sourcespecs import SPECS, serve_good, toml_for  # noqa: E402
from tray.platform.credentials import env_var  # noqa: E402

QUICK_ARGS = ["--polls", "2000", "--warmup", "0.25", "--max-seconds", "240"]   # run_all.py --quick: the reduced run

# In-band faults (the address faults are pinned sources, below) and how often each comes up.
FAULT_WEIGHTS = {
    "ok": 70, "read_timeout": 2, "http500": 4, "http401": 2, "http403": 2, "http429_retry_after": 2,
    "http429_bare": 2, "html_login": 3, "empty": 3, "truncated_json": 3, "wrong_shape": 3, "oversize": 1,
    "trickle": 1,
}
# The first request of each type's poll (see support/sourcespecs.py SPECS for the answers).
FIRST = {
    "icinga2": "/v1/objects/services", "icingaweb2": "/icingaweb2/monitoring/list/hosts",
    "icingadb": "/icingaweb2/icingadb/hosts", "nagios": "/nagios/cgi-bin/statusjson.cgi?query=servicelist",
    "icinga1": "/icinga/cgi-bin/status.cgi?host=all", "alertmanager": "/api/v2/alerts",
    "prometheus": "/api/v1/alerts", "grafana": "/api/alertmanager/grafana/api/v2/alerts",
    "pagerduty": "/incidents?", "zendesk": "/api/v2/views/25/count.json", "trello": "/1/lists/",
    "statuspage": "/api/v2/summary.json", "http": "/health", "secondline": "/status.json",
}
SECRET_PREFIX = "SoakSecret"


class ChaosServer(FaultServer):
    """The shared fault server, but each request draws its own fault (seeded), and poll starts are
    counted by path."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.polls = 0
        self.faults: dict[str, int] = {}
        super().__init__()

    def _answer_for(self, path: str):   # called under the server's lock, once per request
        if any(path.startswith(p) for p in FIRST.values()) and ("/incidents?" not in path or "offset=0" in path):
            self.polls += 1
        mode = self.rng.choices(list(FAULT_WEIGHTS), weights=list(FAULT_WEIGHTS.values()))[0]
        self.faults[mode] = self.faults.get(mode, 0) + 1
        answer = super()._answer_for(path)
        return _Chaos(answer, mode)

    def _respond(self, conn, mode, answer):
        super()._respond(conn, answer.mode, answer.answer)


@dataclass
class _Chaos:
    answer: object
    mode: str


@dataclass
class Load:
    """50 req/s of /status.json and 5 /events streams, in threads that stop on `stop`."""
    port: int
    rate: float = 50.0
    streams: int = 5
    stop: threading.Event = field(default_factory=threading.Event)
    ok: int = 0
    failed: int = 0
    slowest: float = 0.0
    events: int = 0
    pings: int = 0
    reconnects: int = 0
    threads: list = field(default_factory=list)

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._status_loop, daemon=True)] if self.rate > 0 else []
        self.threads += [threading.Thread(target=self._sse_loop, daemon=True) for _ in range(self.streams)]
        for t in self.threads:
            t.start()

    def _status_loop(self) -> None:
        step = 1.0 / self.rate
        nxt = time.monotonic()
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", "/status.json", headers={"Host": f"127.0.0.1:{self.port}"})
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200 and body.startswith(b"{"):
                    self.ok += 1
                else:
                    self.failed += 1
            except OSError:
                self.failed += 1
            self.slowest = max(self.slowest, time.monotonic() - t0)
            nxt += step
            self.stop.wait(max(0.0, nxt - time.monotonic()))

    def _sse_loop(self) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
                    s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode())
                    buf = b""
                    while not self.stop.is_set():
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
                        *done, buf = buf.split(b"\n\n")
                        for frame in done:
                            if b"event: status" in frame:
                                self.events += 1
                            elif frame.startswith(b": ping"):
                                self.pings += 1
            except OSError:
                pass
            if not self.stop.is_set():
                self.reconnects += 1
                self.stop.wait(0.5)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)


def proc_figures(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            out[key] = int(value.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def build_config(chaos: ChaosServer, per_type: int, interval: float) -> tuple[str, dict[str, str]]:
    blocks, env = [], {}
    for t in SPECS:
        for i in range(per_type):
            name = f"{t}-{i}"
            blocks.append(toml_for(t, chaos.url, name, interval=interval, timeout=2))
            for fld in SPECS[t].secrets:
                env[env_var(name, fld)] = f"{SECRET_PREFIX}{name}{fld}"
    # The address faults: always failing, so they sit in back-off (and must not leak anything).
    for fault, t in (("refused", "alertmanager"), ("connect_timeout", "prometheus"), ("tls", "secondline")):
        name = f"pinned-{fault.replace('_', '-')}"
        blocks.append(toml_for(t, chaos.base_url(fault), name, interval=interval, timeout=2))
        env[env_var(name)] = f"{SECRET_PREFIX}{name}"
    return "\n".join(blocks), env


def run(polls: int = 20000, seed: int = 1, per_type: int = 4, interval: float = 1.0, warmup: float = 0.1,
        max_seconds: float = 1800.0, quiet: bool = False, rate: float = 50.0, streams: int = 5,
        keep: bool = False) -> dict:
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    home = Path(tempfile.mkdtemp(prefix="secondline-soak-"))
    chaos = ChaosServer(seed)
    for t in SPECS:
        serve_good(chaos, t)
    cfg_text, secrets = build_config(chaos, per_type, interval)
    cfg = home / "config.toml"
    cfg.write_text(cfg_text)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECONDLINE_SECRET_")
           and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data"), **secrets})
    out_path = home / "output.txt"
    proc = subprocess.Popen([sys.executable, "-m", "tray", "run", "--headless", "--config", str(cfg),
                             "--port", str(port)], stdout=open(out_path, "wb"), stderr=subprocess.STDOUT,
                            cwd=REPO, env=env)
    samples: list[tuple[float, int, dict]] = []
    load = Load(port, rate=rate, streams=streams)
    started = time.monotonic()
    result: dict = {"polls_target": polls, "seed": seed, "sources": len(SPECS) * per_type + 3,
                    "status_rate": rate, "streams": streams}
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"secondline exited: {out_path.read_text()[-2000:]}")
                time.sleep(0.1)
        time.sleep(3)      # every source polled once
        launch = proc_figures(proc.pid)
        load.start()
        warm_polls = int(polls * warmup)
        warm = None
        last_print = 0.0
        while chaos.polls < polls and time.monotonic() - started < max_seconds:
            if proc.poll() is not None:
                raise SystemExit(f"secondline died: {out_path.read_text()[-2000:]}")
            time.sleep(1.0)
            fig = proc_figures(proc.pid)
            samples.append((time.monotonic() - started, chaos.polls, fig))
            if warm is None and chaos.polls >= warm_polls:
                warm = fig
            if time.monotonic() - last_print > 15:
                last_print = time.monotonic()
                say(f"  {chaos.polls:>6}/{polls} polls  rss {fig['VmRSS'] / 1024:6.1f} MB  threads "
                    f"{fig['Threads']:3d}  fds {fig['fds']:3d}  status.json {load.ok} ok / {load.failed} failed  "
                    f"sse events {load.events}")
        end = proc_figures(proc.pid)
        # The steady state near the end, under the same load as at warm-up: medians of the last samples.
        tail = [f for _, _, f in samples[-5:]] or [end]
        warm = warm or launch
        after_warm = [f for _, p, f in samples if p >= warm_polls][:5] or [warm]
        load.join()
    finally:
        load.stop.set()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        chaos.close()
    output = out_path.read_text(errors="replace")
    log_files = sorted((home / "state").rglob("*.log*"))
    log_text = "\n".join(p.read_text(errors="replace") for p in log_files)
    everything = output + log_text
    secret_values = list(secrets.values())
    med = lambda key, rows: int(statistics.median(r[key] for r in rows))   # noqa: E731
    result.update({
        "polls": chaos.polls,
        "seconds": round(time.monotonic() - started, 1),
        "faults_served": dict(sorted(chaos.faults.items())),
        "rss_launch_mb": round(launch["VmRSS"] / 1024, 1),
        "rss_start_mb": round(med("VmRSS", after_warm) / 1024, 1),
        "rss_end_mb": round(med("VmRSS", tail) / 1024, 1),
        "rss_peak_mb": round(max(f["VmRSS"] for _, _, f in samples) / 1024, 1) if samples else None,
        "threads_start": med("Threads", after_warm), "threads_end": med("Threads", tail),
        "threads_max": max(f["Threads"] for _, _, f in samples) if samples else None,
        "fds_start": med("fds", after_warm), "fds_end": med("fds", tail),
        "fds_max": max(f["fds"] for _, _, f in samples) if samples else None,
        "notifications": output.count("[notification]"),
        "tracebacks": everything.count("Traceback"),
        "internal_errors": everything.count("internal error"),
        "error_lines": sum(1 for line in output.splitlines() if " ERROR " in line),
        "secrets_leaked": sum(everything.count(v) for v in secret_values),
        "status_json_ok": load.ok, "status_json_failed": load.failed,
        "status_json_slowest_s": round(load.slowest, 3),
        "sse_events": load.events, "sse_pings": load.pings, "sse_reconnects": load.reconnects,
        "exit_code": proc.returncode,
        "home": str(home) if keep else None,
    })
    if not keep:
        shutil.rmtree(home, ignore_errors=True)
    result["rss_growth_mb"] = round(result["rss_end_mb"] - result["rss_start_mb"], 1)
    result["targets"] = {
        "rss_growth_le_5mb": result["rss_growth_mb"] <= 5.0,
        "threads_flat": abs(result["threads_end"] - result["threads_start"]) <= 5,
        "fds_flat": abs(result["fds_end"] - result["fds_start"]) <= 5,
        "no_unhandled_exceptions": result["tracebacks"] == 0 and result["internal_errors"] == 0,
        "no_secret_leaked": result["secrets_leaked"] == 0,
        "endpoint_always_answered": result["status_json_failed"] == 0 and result["sse_reconnects"] == 0,
        "clean_exit": result["exit_code"] == 0,
    }
    return result


def report(r: dict) -> str:
    lines = [
        f"soak: {r['polls']} polls ({r['sources']} sources, {len(SPECS)} types, seed {r['seed']}) in {r['seconds']} s",
        "  faults served: " + ", ".join(f"{k} {v}" for k, v in r["faults_served"].items()),
        f"  RSS: launch {r['rss_launch_mb']} MB, after warm-up {r['rss_start_mb']} MB, end {r['rss_end_mb']} MB "
        f"(growth {r['rss_growth_mb']:+} MB, peak {r['rss_peak_mb']} MB)",
        f"  threads: {r['threads_start']} -> {r['threads_end']} (max {r['threads_max']});  "
        f"fds: {r['fds_start']} -> {r['fds_end']} (max {r['fds_max']})",
        f"  notifications sent: {r['notifications']};  tracebacks: {r['tracebacks']};  internal errors: "
        f"{r['internal_errors']};  ERROR lines: {r['error_lines']};  secrets leaked: {r['secrets_leaked']}",
        f"  endpoint: /status.json {r['status_json_ok']} ok, {r['status_json_failed']} failed, slowest "
        f"{r['status_json_slowest_s']} s;  SSE: {r['sse_events']} events, {r['sse_pings']} pings, "
        f"{r['sse_reconnects']} reconnects;  exit code {r['exit_code']}",
        "  targets: " + ", ".join(f"{k} {'OK' if v else 'MISSED'}" for k, v in r["targets"].items()),
    ]
    return "\n".join(lines)


def figures(r: dict) -> list[dict]:
    """The figures for bench/run_all.py (the convention in bench/README.md), from run()'s result."""
    def fig(name: str, measured, unit: str, target: str | None = None, passed: bool | None = None) -> dict:
        return {"name": f"soak {name}", "target": target, "measured": measured, "unit": unit, "pass": passed}
    t = r["targets"]
    return [
        fig(f"polls ({r['sources']} sources, random faults, {r['seconds']:g} s)", r["polls"], ""),
        fig("RSS growth after warm-up", r["rss_growth_mb"], "MB", "<= 5 MB", t["rss_growth_le_5mb"]),
        fig("RSS at the end", r["rss_end_mb"], "MB"),
        fig("RSS peak", r["rss_peak_mb"], "MB"),
        fig("threads after warm-up -> end", f"{r['threads_start']} -> {r['threads_end']}", "", "within 5",
            t["threads_flat"]),
        fig("fds after warm-up -> end", f"{r['fds_start']} -> {r['fds_end']}", "", "within 5", t["fds_flat"]),
        fig("tracebacks + internal errors", r["tracebacks"] + r["internal_errors"], "", "0",
            t["no_unhandled_exceptions"]),
        fig("secrets leaked", r["secrets_leaked"], "", "0", t["no_secret_leaked"]),
        fig("/status.json failed + SSE reconnects", r["status_json_failed"] + r["sse_reconnects"], "", "0",
            t["endpoint_always_answered"]),
        fig("exit code", r["exit_code"], "", "0", t["clean_exit"]),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--polls", type=int, default=20000, help="stop after this many polls (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="seed of the fault draw (default 1)")
    p.add_argument("--per-type", type=int, default=4, help="sources per type (default 4)")
    p.add_argument("--interval", type=float, default=1.0, help="poll interval of every source, s (default 1)")
    p.add_argument("--warmup", type=float, default=0.1,
                   help="share of the polls before the 'start' figures are taken (default 0.1)")
    p.add_argument("--max-seconds", type=float, default=1800, help="stop anyway after this long")
    p.add_argument("--keep", action="store_true", help="keep the child's HOME (config, logs, output) for a look")
    p.add_argument("--rate", type=float, default=50.0, help="requests/s of /status.json (default 50)")
    p.add_argument("--streams", type=int, default=5, help="open /events streams (default 5)")
    p.add_argument("--json", metavar="PATH", nargs="?", const="-",
                   help="also write the figures as JSON to PATH; alone: print the run_all figures last")
    args = p.parse_args(argv)
    r = run(polls=args.polls, seed=args.seed, per_type=args.per_type, interval=args.interval,
            warmup=args.warmup, max_seconds=args.max_seconds, rate=args.rate, streams=args.streams,
            keep=args.keep)
    print(report(r))
    if args.json == "-":
        print(json.dumps({"figures": figures(r)}))
    elif args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0 if all(r["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
