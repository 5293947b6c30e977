"""The reduced soak (~60 s): bench/soak.py with 2,000 polls across every source type against local
servers drawing a random fault per request (seeded), the endpoint under 50 req/s of /status.json
and 5 /events streams, the app a real subprocess measured through /proc.

The full run is `.venv/bin/python bench/soak.py` (20,000 polls); figures in docs/reliability.md.
"""
from __future__ import annotations

import json
import subprocess
import sys

from support.headless_app import REPO
from support.reliability import SOAK


def test_reduced_soak(tmp_path):
    out = tmp_path / "soak.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "soak.py"), "--polls", "2000", "--warmup", "0.25",
                           "--max-seconds", "240", "--json", str(out)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads(out.read_text())
    SOAK.update(r)
    text = proc.stdout[-1500:]
    assert r["polls"] >= 2000, text
    assert r["rss_growth_mb"] <= 5.0, f"RSS grew {r['rss_growth_mb']} MB\n{text}"
    assert abs(r["threads_end"] - r["threads_start"]) <= 5, text
    assert abs(r["fds_end"] - r["fds_start"]) <= 5, text
    assert r["tracebacks"] == 0 and r["internal_errors"] == 0, text
    assert r["secrets_leaked"] == 0, text
    assert r["status_json_failed"] == 0 and r["sse_reconnects"] == 0 and r["sse_events"] > 0, text
    assert r["exit_code"] == 0, text
    assert sum(v for k, v in r["faults_served"].items() if k != "ok") > 200, r["faults_served"]
    assert proc.returncode == 0, text
