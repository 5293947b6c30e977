"""Benchmark: GET /status.json at a fixed rate against a real `secondline run --headless` with 8 demo
sources, from this (another) process.

Two phases of --seconds each (default 30) at --rate requests/s (default 200), on one keep-alive
connection as a browser's fetch would use:
  full  plain GETs: the document is built, serialised and sent each time (200)
  304   GETs with If-None-Match: the last ETag seen; 304 while nothing changed, 200 after a
        demo step changed the document (those are counted, and their latency kept in the figures)
Latency is measured from the moment a request was due (open loop: a slow answer delays the next
request, and that delay counts against the server, so stalls cannot hide); "service time" is from
the moment it was sent. Target: p99 <= 5 ms.

    .venv/bin/python bench/endpoint.py [--seconds 30] [--rate 200] [--binary dist/secondline] [--json]

`--json`: the last line printed is {"figures": [...]} (see bench/README.md).
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "tests"))  # last: tests/platform, tests/packaging must not hide the stdlib's platform, PyPI's packaging

from support.procs import free_port  # noqa: E402  (startup.py takes it from here too)

TARGET_P99_MS = 5.0
QUICK_ARGS = ["--seconds", "5"]      # bench/run_all.py --quick


# -- helpers shared by the bench scripts (startup.py imports these) ----------------------------------

def demo_config(port: int, sources: int = 8, interval: float = 1.0, step_seconds: float = 4.0) -> str:
    """The built-in demo scenario (as `run --demo`) with `sources` demo sources."""
    from tray.sources.plain.demo import demo_config_toml
    return demo_config_toml(port=port, sources=sources, interval=interval, step_seconds=step_seconds)


def isolated_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """No display, per-user directories inside `home`: the bench never touches the real user's state."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"),
               PYTHONDONTWRITEBYTECODE="1")
    env.update(extra or {})
    return env


def app_command(binary: str | None) -> list[str]:
    return [binary] if binary else [sys.executable, "-m", "tray"]


def start_app(config_path: Path, port: int, env: dict[str, str], binary: str | None = None,
              headless: bool = True, log_path: Path | None = None) -> subprocess.Popen:
    cmd = app_command(binary) + ["run", "--config", str(config_path), "--port", str(port)]
    if headless:
        cmd.append("--headless")
    out = open(log_path, "w") if log_path else subprocess.DEVNULL
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def answering(port: int) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/status.json")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


def wait_answering(port: int, proc: subprocess.Popen, timeout: float = 30) -> float:
    """Poll until the endpoint answers; the monotonic time it first did."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"secondline exited with {proc.returncode} before answering")
        if answering(port):
            return time.monotonic()
        time.sleep(0.002)
    raise TimeoutError(f"secondline did not answer on port {port} within {timeout}s")


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def figure(name: str, measured: Any, unit: str, target: str | None = None, passed: bool | None = None) -> dict:
    return {"name": name, "target": target, "measured": measured, "unit": unit, "pass": passed}


def emit(figures: list[dict], as_json: bool) -> None:
    width = max(len(f["name"]) for f in figures)
    for f in figures:
        m = f["measured"]
        m = f"{m:.3f}" if isinstance(m, float) else str(m)
        verdict = "" if f["pass"] is None else ("  PASS" if f["pass"] else "  FAIL")
        target = f"  (target {f['target']})" if f["target"] else ""
        print(f"{f['name'].ljust(width)}  {m} {f['unit']}{target}{verdict}")
    if as_json:
        print(json.dumps({"figures": figures}))


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


BASELINE_SERVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
body = b"x" * int(sys.argv[2])
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def baseline(seconds: float, rate: float, size: int) -> dict[str, Any]:
    """The same load against the smallest stdlib server sending static bytes: the floor this machine
    (and this Python client) sets, to read the other figures against."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BASELINE_SERVER, str(port), str(size)])
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        return run_phase(port, seconds, rate, conditional=False)
    finally:
        stop_app(proc)


# -- the load --------------------------------------------------------------------------------------

class Client:
    """One keep-alive connection; reconnects if the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def get(self, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.conn.connect()
                self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.reconnects += 1
            try:
                self.conn.request("GET", "/status.json", headers=headers)
                r = self.conn.getresponse()
                body = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, body, r.getheader("ETag")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run_phase(port: int, seconds: float, rate: float, conditional: bool) -> dict[str, Any]:
    client = Client(port)
    interval = 1.0 / rate
    latencies: list[float] = []     # from when the request was due
    service: list[float] = []       # from when it was sent
    statuses: dict[int, int] = {}
    errors = 0
    late = 0
    etag: str | None = None
    sizes: list[int] = []
    start = time.perf_counter()
    n = int(seconds * rate)
    deadline = start + seconds * 1.5 + 2     # a server far slower than the rate: give up, count unsent
    unsent = 0
    for i in range(n):
        due = start + i * interval
        now = time.perf_counter()
        if now > deadline:
            unsent = n - i
            break
        if now < due:
            time.sleep(due - now)
        elif now - due > interval:
            late += 1
        headers = {"If-None-Match": etag} if conditional and etag else {}
        sent = time.perf_counter()
        try:
            status, body, tag = client.get(headers)
        except OSError:
            errors += 1
            continue
        done = time.perf_counter()
        latencies.append((done - due) * 1000)
        service.append((done - sent) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            sizes.append(len(body))
            etag = tag or etag
        elif status != 304:
            errors += 1
    elapsed = time.perf_counter() - start
    return {"latencies": latencies, "service": service, "statuses": statuses, "errors": errors + unsent,
            "late": late, "unsent": unsent,
            "achieved_rate": len(latencies) / elapsed, "body_bytes": statistics.median(sizes) if sizes else 0,
            "reconnects": client.reconnects}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="length of each phase (default 30)")
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second (default 200)")
    ap.add_argument("--sources", type=int, default=8, help="demo sources (default 8)")
    ap.add_argument("--interval", type=float, default=1.0, help="their poll interval in s (default 1, the demo's)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the static-server baseline")
    ap.add_argument("--binary", help="run this secondline executable (e.g. dist/secondline) instead of "
                    "`python -m tray`")
    ap.add_argument("--json", action="store_true", help="last line: the figures as JSON")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sl-bench-endpoint-") as tmp:
        home = Path(tmp)
        port = free_port()
        cfg = home / "config.toml"
        cfg.write_text(demo_config(port, sources=args.sources, interval=args.interval))
        proc = start_app(cfg, port, isolated_env(home), args.binary, log_path=home / "app.log")
        try:
            wait_answering(port, proc)
            time.sleep(1.5)     # every source read once: the document has its full size
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            full = run_phase(port, args.seconds, args.rate, conditional=False)
            cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
            cond = run_phase(port, args.seconds, args.rate, conditional=True)
            cpu2, t2 = cpu_seconds(proc.pid), time.monotonic()
            rss = rss_mb(proc.pid)
        finally:
            stop_app(proc)
        if proc.returncode not in (0, -15):
            print((home / "app.log").read_text()[-2000:], file=sys.stderr)

    figs = []
    for label, ph, cpu in (("200", full, (cpu1 - cpu0) / (t1 - t0)), ("304", cond, (cpu2 - cpu1) / (t2 - t1))):
        lat = ph["latencies"]
        p99 = percentile(lat, 99)
        figs += [
            figure(f"endpoint {label} p50", round(percentile(lat, 50), 3), "ms"),
            figure(f"endpoint {label} p99", round(p99, 3), "ms", f"<= {TARGET_P99_MS:g} ms", p99 <= TARGET_P99_MS),
            figure(f"endpoint {label} max", round(max(lat), 3) if lat else float("nan"), "ms"),
            figure(f"endpoint {label} service time p99", round(percentile(ph["service"], 99), 3), "ms"),
            figure(f"endpoint {label} rate achieved", round(ph["achieved_rate"], 1), "req/s",
                   f">= {0.98 * args.rate:g} req/s", ph["achieved_rate"] >= 0.98 * args.rate),
            figure(f"endpoint {label} errors or unsent", ph["errors"], "requests", "0", ph["errors"] == 0),
            figure(f"endpoint {label} server CPU", round(cpu * 100, 1), "% of a core"),
        ]
    figs.insert(0, figure("endpoint document size", int(full["body_bytes"]), "bytes"))
    if not args.no_baseline:
        base = baseline(min(args.seconds, 10.0), args.rate, int(full["body_bytes"]) or 4000)
        figs.append(figure("endpoint baseline: static stdlib server p99", round(percentile(base["latencies"], 99), 3),
                           "ms"))
    share = cond["statuses"].get(304, 0) / max(1, sum(cond["statuses"].values()))
    figs.append(figure("endpoint 304 share (conditional phase)", round(share * 100, 1), "%"))
    figs.append(figure("endpoint server RSS after load", round(rss, 1), "MB"))
    print(f"# {args.rate:g} req/s for {args.seconds:g} s per phase, {args.sources} demo sources polled every "
          f"{args.interval:g} s, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, "
          f"one keep-alive connection; statuses 200-phase {full['statuses']}, 304-phase {cond['statuses']}; "
          f"late sends {full['late']}/{cond['late']}; connections {full['reconnects']}/{cond['reconnects']}")
    if not args.no_baseline and percentile(base["latencies"], 99) > TARGET_P99_MS:
        print(f"# note: the static baseline server itself has a p99 above {TARGET_P99_MS:g} ms here: the machine "
              "is too busy for this figure to mean much; run again on an idle machine")
    emit(figs, args.json)
    return 0 if all(f["pass"] is not False for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
