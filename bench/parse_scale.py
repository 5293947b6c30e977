"""Parse + reduce at scale: 50,000 services with 5,000 problems, in Icinga 2 API shape.

Three cases, because the source asks Icinga for problems only (`filter: service.state != 0`), and
without the ApiUser permission to send filters it reads by name instead:
  filtered    the answer holds the 5,000 problem services (+ 500 of 5,000 hosts DOWN);
  by_name     the fallback: every object's state alone (~80 bytes each), then the problems' full
              attributes named in the plural `services` / `hosts` parameter (the same 5,000 + 500);
  whole_list  for comparison, the fallback before it read by name: every object in full, filtered
              here (no target: it is what the by-name read replaced).
Each full item looks like a real 2.13 answer (check result with output, perfdata, vars: ~800 bytes).
Timed: JSON decode of the body bytes (both answers for by_name, plus picking the names) + `Icinga2Source`
parse into ObjectStates + LiveState merge into Alerts + `tray.core.rules.source_snapshot` and `reduce` (sort,
counts, health); the network round trips are not. Peak memory: the tracemalloc peak of the timed part,
and the max RSS of a fresh process doing one parse. Target <= 0.5 s (the median of --runs); the JSON
decode alone is timed too, to show where the time goes.

    .venv/bin/python bench/parse_scale.py [--services 50000] [--problems 5000] [--runs 5] [--json]

`--json`: the last line printed is {"figures": [...]} (see bench/README.md). Exit 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from endpoint import emit, figure  # noqa: E402
from tray.core.rules import reduce, source_snapshot  # noqa: E402
from tray.sources.base import SourceConfig  # noqa: E402
from tray.sources.icinga2.source import Icinga2Settings, Icinga2Source  # noqa: E402
from tray.sources.icinga2.parse import parse_payload, problem_names  # noqa: E402

NOW = 1767254400.0
TARGET_MS = 500.0
QUICK_ARGS = ["--runs", "2"]         # bench/run_all.py --quick
CASES = {"filtered": "filtered answer (5,000 problems)",
         "by_name": "no filter permission, read by name (5,000 problems)",
         "whole_list": "whole list, filtered here (before the by-name read)"}
TARGETED = ("filtered", "by_name")


def check_result(state: int, i: int) -> dict:
    return {"active": True, "check_source": "icinga-master-01", "command": ["/usr/lib/nagios/plugins/check_x",
            "-H", f"10.0.{i % 256}.{i % 200}"], "execution_end": NOW - i % 300, "execution_start": NOW - i % 300 - 0.2,
            "exit_status": float(state), "output": f"CHECK {['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][state]} - "
            f"value {i % 97} on item {i}", "performance_data": [f"value={i % 97};80;90;0;100", "time=0.012s"],
            "previous_hard_state": 0.0, "schedule_end": NOW - i % 300, "schedule_start": NOW - i % 300 - 0.3,
            "scheduling_source": "icinga-master-01", "state": float(state), "ttl": 0.0, "type": "CheckResult",
            "vars_after": {"attempt": 1.0, "reachable": True, "state": float(state), "state_type": 1.0},
            "vars_before": {"attempt": 1.0, "reachable": True, "state": 0.0, "state_type": 1.0}}


def make_answers(services: int, problems: int, per_host: int = 10) -> dict[str, tuple[bytes, bytes]]:
    hosts = services // per_host
    step = services // problems if problems else services + 1
    down_hosts = {h for h in range(0, hosts, 10)}                   # 1 in 10 hosts DOWN
    all_svc, bad_svc, all_host, bad_host = [], [], [], []
    for h in range(hosts):
        hs = 1 if h in down_hosts else 0
        item = {"name": f"host-{h:05d}", "type": "Host", "meta": {}, "joins": {},
                "attrs": {"name": f"host-{h:05d}", "display_name": f"Host {h}", "state": float(hs),
                          "state_type": 1.0, "last_state_change": NOW - h, "acknowledgement": float(h % 30 == 0),
                          "downtime_depth": float(h % 50 == 0), "last_check": NOW - 5,
                          "last_check_result": check_result(2 if hs else 0, h), "last_reachable": True}}
        all_host.append(item)
        if hs:
            bad_host.append(item)
    for i in range(services):
        h = i // per_host
        state = (1 + i % 3) if i % step == 0 and len(bad_svc) < problems else 0
        item = {"name": f"host-{h:05d}!svc-{i % per_host}", "type": "Service", "meta": {},
                "attrs": {"name": f"svc-{i % per_host}", "display_name": f"Service {i % per_host}",
                          "host_name": f"host-{h:05d}", "state": float(state), "state_type": float(i % 7 != 0),
                          "last_state_change": NOW - i, "acknowledgement": float(i % 11 == 0),
                          "downtime_depth": float(i % 13 == 0), "last_check": NOW - 5,
                          "last_check_result": check_result(state, i), "last_reachable": True},
                "joins": {"host": {"name": f"host-{h:05d}", "display_name": f"Host {h}",
                                   "state": 1.0 if h in down_hosts else 0.0, "last_check": NOW - 5}}}
        all_svc.append(item)
        if state:
            bad_svc.append(item)
    enc = lambda items: json.dumps({"results": items}).encode()     # noqa: E731
    # What Icinga answers to {"attrs": ["state"]}: name, type, the one attribute, empty joins and meta.
    light = lambda items: enc([{"attrs": {"state": i["attrs"]["state"]}, "joins": {}, "meta": {},  # noqa: E731
                                "name": i["name"], "type": i["type"]} for i in items])
    return {"filtered": (enc(bad_host), enc(bad_svc)),
            "by_name": (light(all_host), light(all_svc), enc(bad_host), enc(bad_svc)),
            "whole_list": (enc(all_host), enc(all_svc))}


def decode(case: str, bodies: tuple[bytes, ...]) -> dict:
    """The answers as the source reads them, decoding included (by_name: both queries per kind)."""
    if case == "by_name":
        host_states, svc_states, hosts, services = bodies
        names = problem_names(json.loads(host_states), "host"), problem_names(json.loads(svc_states), "service")
        assert all(names)
        return {"hosts": json.loads(hosts), "services": json.loads(services)}
    return {"hosts": json.loads(bodies[0]), "services": json.loads(bodies[1])}


def run_once(src: Icinga2Source, case: str, bodies: tuple[bytes, ...]) -> tuple[int, str]:
    objects = parse_payload(decode(case, bodies), src.view, client_filter=case != "filtered")
    token = src.live.begin_poll()
    alerts = src.live.finish_poll(token, objects)
    snap = source_snapshot(name="ic", type="icinga2", group="g", alerts=alerts, checked_at=None, error=None)
    whole = reduce([snap], datetime.now(timezone.utc))
    return len(alerts), whole.health.value


def _hwm_kib() -> int:
    # VmHWM (peak RSS) starts afresh with exec; getrusage's ru_maxrss would carry the parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(case: str, *files: str) -> None:
    """Peak RSS of one parse + reduce in a fresh process: baseline after imports and reading the body."""
    bodies = tuple(Path(f).read_bytes() for f in files)
    before = _hwm_kib()
    src = Icinga2Source(SourceConfig(name="ic", type="icinga2", settings=Icinga2Settings(
        url="https://icinga:5665", username="u")), lambda n, f: "x")
    run_once(src, case, bodies)
    after = _hwm_kib()
    print(json.dumps({"before_mib": before / 1024, "peak_mib": after / 1024}))


def main() -> int:
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        child(sys.argv[2], *sys.argv[3:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=50_000)
    ap.add_argument("--problems", type=int, default=5_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="last line: the figures as JSON")
    args = ap.parse_args()
    figs = []
    t = time.perf_counter()
    answers = make_answers(args.services, args.problems)
    print(f"generated in {time.perf_counter() - t:.1f}s: {args.services} services, {args.problems} problems")
    src = Icinga2Source(SourceConfig(name="ic", type="icinga2", settings=Icinga2Settings(
        url="https://icinga:5665", username="u", web_url="https://icinga/icingaweb2")), lambda n, f: "x")
    for case, bodies in answers.items():
        times = []
        for _ in range(args.runs):
            gc.collect()
            t = time.perf_counter()
            n, health = run_once(src, case, bodies)
            times.append(time.perf_counter() - t)
        gc.collect()
        tracemalloc.start()
        run_once(src, case, bodies)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        with tempfile.TemporaryDirectory() as d:
            files = []
            for i, body in enumerate(bodies):
                (Path(d) / f"{i}.json").write_bytes(body)
                files.append(str(Path(d) / f"{i}.json"))
            out = subprocess.run([sys.executable, __file__, "--child", case, *files],
                                 capture_output=True, text=True, check=True)
            rss = json.loads(out.stdout)
        t = time.perf_counter()
        for body in bodies:
            json.loads(body)
        decoded = time.perf_counter() - t
        size = sum(len(b) for b in bodies) / 1048576
        median_ms = statistics.median(times) * 1000
        what = CASES[case].replace("5,000", f"{args.problems:,}")
        targeted = case in TARGETED
        figs += [
            figure(f"parse_scale {args.services:,} services, {what}: parse+reduce median", round(median_ms, 1),
                   "ms", f"<= {TARGET_MS:g} ms" if targeted else None, median_ms <= TARGET_MS if targeted else None),
            figure(f"parse_scale {case}: parse+reduce max of {args.runs}", round(max(times) * 1000, 1), "ms"),
            figure(f"parse_scale {case}: of which JSON decode", round(decoded * 1000, 1), "ms"),
            figure(f"parse_scale {case}: answer bodies", round(size, 1), "MiB"),
            figure(f"parse_scale {case}: alerts", n, ""),
            figure(f"parse_scale {case}: tracemalloc peak", round(peak / 1048576, 1), "MiB"),
            figure(f"parse_scale {case}: fresh process peak RSS", round(rss["peak_mib"], 1), "MiB"),
        ]
        print(f"{case:10} bodies {size:6.1f} MiB -> {n} alerts ({health}): "
              f"median {statistics.median(times) * 1000:6.0f} ms, min {min(times) * 1000:6.0f} ms, "
              f"max {max(times) * 1000:6.0f} ms; tracemalloc peak {peak / 1048576:6.1f} MiB; "
              f"fresh process peak RSS {rss['peak_mib']:.0f} MiB ({rss['before_mib']:.0f} MiB before parsing, "
              "bodies included)")
    emit(figs, args.json)
    return 0 if all(f["pass"] is not False for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
