"""How long after a real Nagios 4 or a real Prometheus records a state change does `secondline run
--headless` show it in /status.json? (issue 15)

Starts the private servers of the tests (tests/support/nagios.py: Nagios 4 + statusjson.cgi
behind Apache with Digest auth; support/prometheus.py: Prometheus with its own rules over an exporter the
bench sets) and the app polling both every `--interval` seconds. Then, for each server, `--changes`
times: the state flips (a Nagios service CRITICAL / OK through its check, forced; a Prometheus alert
firing / gone through its metric), and the bench watches both sides every 20 ms:

  recorded = the first moment the server's own API shows the change (statusjson.cgi, /api/v1/alerts);
  shown    = the first moment the app's /status.json shows it;
  latency  = shown - recorded.

The app polls on its own schedule, so the changes land at random phases of it: the latency spreads
over 0..interval plus one poll's time. Target: max <= interval + 1 s.

    .venv/bin/python bench/detect_latency_web.py [--changes 10] [--interval 5] [--json]

`--json`: the last line printed is {"figures": [...]} (see bench/README.md). Exit 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "bench"):
    sys.path.insert(0, str(p))
sys.path.append(str(REPO / "tests"))  # last: tests/platform, tests/packaging must not hide the stdlib's platform, PyPI's packaging

from endpoint import emit, figure  # noqa: E402
from support.icinga2 import App  # noqa: E402
from support.nagios import ADMIN, ADMIN_PW, Nagios  # noqa: E402
from support.procs import free_port  # noqa: E402
from support.prometheus import PASSWORD, USER, Exporter, Prometheus  # noqa: E402

QUICK_ARGS = ["--changes", "4"]       # bench/run_all.py --quick
STEP = 0.02                           # how often both sides are looked at (s)


def app_state(doc: dict, source: str, match: Callable[[dict], bool]) -> str | None:
    """The severity the app shows for the alert `match` picks, "ok" when the source has none, None when
    the source has not been read yet (or cannot be)."""
    for s in doc.get("sources", []):
        if s["name"] == source:
            if not s.get("checked_at") or s.get("error"):
                return None
            for a in s.get("alerts", []):
                if match(a):
                    return a["severity"]
            return "ok"
    return None


def measure(app: App, source: str, flips: int, change: Callable[[bool], None], server_says: Callable[[], str],
            match: Callable[[dict], bool], timeout: float) -> list[float]:
    """`flips` changes (critical, ok, critical, ...): latency from the server showing each to the app."""
    rng = random.Random(15)
    lat = []
    for i in range(flips):
        want = "critical" if i % 2 == 0 else "ok"
        change(want == "critical")
        recorded = shown = None
        deadline = time.monotonic() + timeout
        while (recorded is None or shown is None) and time.monotonic() < deadline:
            now = time.monotonic()
            if recorded is None and server_says() == want:
                recorded = now
            if shown is None and app_state(app.status(), source, match) == want:
                shown = time.monotonic()
            time.sleep(STEP)
        if recorded is None or shown is None:
            raise RuntimeError(f"{source}: change {i} ({want}) not seen within {timeout:g} s "
                               f"(server {'yes' if recorded else 'no'}, app {'yes' if shown else 'no'})")
        lat.append(max(0.0, shown - recorded))
        print(f"  {source} #{i + 1} -> {want:8}: {lat[-1]:.2f} s", flush=True)
        time.sleep(rng.uniform(0.3, 1.3))      # the next change lands at another phase of the app's polls
    return sorted(lat)


def pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


CONFIG = """
[[sources]]
name = "nag"
type = "nagios"
interval = {interval}
timeout = 10
url = "{nagios}"
username = "{nag_user}"

[[sources]]
name = "prom"
type = "prometheus"
interval = {interval}
timeout = 10
url = "{prom}"
username = "{prom_user}"
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=10, help="state changes per server (default 10)")
    ap.add_argument("--interval", type=float, default=5.0, help="the sources' poll interval, s (default 5)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    target = args.interval + 1.0
    timeout = args.interval * 3 + 30
    nagios = exporter = prom = app = None
    results: dict[str, list[float]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="secondline-bench-web-"))
    try:
        nagios = Nagios().start()
        exporter = Exporter()
        prom = Prometheus(exporter).start()
        cfg = tmp / "config.toml"
        cfg.write_text(CONFIG.format(interval=args.interval, nagios=nagios.debian_url, nag_user=ADMIN,
                                     prom=prom.url, prom_user=USER))
        app = App(cfg, free_port(), {"nag": ADMIN_PW, "prom": PASSWORD}, tmp / "app.log")
        app.wait_ready("nag", timeout=60)
        app.wait_ready("prom", timeout=60)
        print(f"Nagios {nagios.base} (statusjson.cgi, Digest), Prometheus {prom.url}; app polls every "
              f"{args.interval:g} s; {args.changes} changes each", flush=True)

        def nagios_change(crit: bool) -> None:
            nagios.set_state("bench01!probe", 2 if crit else 0, "PROBE CRITICAL" if crit else "")

        def nagios_says() -> str:
            return "critical" if nagios.status("bench01!probe")["status"] == 16 else "ok"
        results["nagios"] = measure(app, "nag", args.changes, nagios_change, nagios_says,
                                    lambda a: a["id"] == "bench01!probe", timeout)

        def prom_change(firing: bool) -> None:
            exporter.set("Probe", 1 if firing else 0, "bench1")

        def prom_says() -> str:
            return "critical" if prom.alert_state("Probe", "bench1") == "firing" else "ok"
        results["prometheus"] = measure(app, "prom", args.changes, prom_change, prom_says,
                                        lambda a: a["title"] == "Probe on bench1", timeout)
    finally:
        if app:
            app.stop()
        if prom:
            prom.stop()
        if exporter:
            exporter.close()
        if nagios:
            nagios.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    figs: list[dict[str, Any]] = []
    for name, lat in results.items():
        print(f"{name}: p50 {pct(lat, .5):.2f} s, p95 {pct(lat, .95):.2f} s, max {lat[-1]:.2f} s "
              f"over {len(lat)} changes")
        figs.append(figure(f"detect_latency_web {name}: recorded -> /status.json p50 (interval "
                           f"{args.interval:g} s)", round(pct(lat, .5), 2), "s"))
        figs.append(figure(f"detect_latency_web {name}: recorded -> /status.json max (interval "
                           f"{args.interval:g} s)", round(lat[-1], 2), "s", f"<= {target:g} s", lat[-1] <= target))
    print(f"# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    emit(figs, args.json)
    return 0 if all(f["pass"] is not False for f in figs) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:                      # the benchmark broke (not a missed target): exit 2
        traceback.print_exc()
        sys.exit(2)
