"""The benchmark runner and its convention: every bench/*.py gives a row (or says why not), targets
decide the exit code; and the two benchmarks written here produce their figures against the real app."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import endpoint  # noqa: E402
import run_all  # noqa: E402


def script(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(textwrap.dedent(body))


GOOD = """
import json, sys
QUICK_ARGS = ["--short", "yes"]
print("human text first")
figs = [{"name": "good latency", "target": "<= 5 ms", "measured": 1.5, "unit": "ms", "pass": True},
        {"name": "context", "target": None, "measured": 42, "unit": "", "pass": None},
        {"name": "argv", "target": None, "measured": " ".join(sys.argv[1:]), "unit": "", "pass": None}]
if "--json" in sys.argv:
    print(json.dumps({"figures": figs}))
"""
FAILING = """
import json
print(json.dumps({"figures": [{"name": "slow thing", "target": "<= 1 s", "measured": 3.25, "unit": "s", "pass": False}]}))
raise SystemExit(1)
"""
LEGACY = """
import json
print(json.dumps({"rss_mb": 40}))
"""
CRASH = """
raise RuntimeError("benchmark broke")
"""


def run(folder: Path, *args: str, capsys) -> tuple[int, str]:
    code = run_all.main(["--dir", str(folder), *args])
    return code, capsys.readouterr().out


def test_table_of_every_script_and_exit_code(tmp_path, capsys):
    script(tmp_path, "good.py", GOOD)
    script(tmp_path, "_helper.py", "raise SystemExit('helpers are not run')")
    code, out = run(tmp_path, capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["figure", "target", "measured", "pass/fail"]
    assert lines[2].split() == ["good", "latency", "<=", "5", "ms", "1.5", "ms", "PASS"]
    assert lines[3].split() == ["good:", "context", "-", "42", "-"]
    assert lines[4].split() == ["good:", "argv", "-", "--json", "-"]      # no QUICK_ARGS without --quick
    assert "helper" not in out

    script(tmp_path, "slow.py", FAILING)
    code, out = run(tmp_path, capsys=capsys)
    assert code == 1
    assert [r.split()[-1] for r in out.splitlines() if r.startswith("slow")] == ["FAIL"]


def test_quick_passes_the_scripts_quick_args(tmp_path, capsys):
    script(tmp_path, "good.py", GOOD)
    code, out = run(tmp_path, "--quick", capsys=capsys)
    assert "--json --short yes" in out


def test_scripts_off_the_convention_get_an_error_row(tmp_path, capsys):
    script(tmp_path, "legacy.py", LEGACY)
    script(tmp_path, "crash.py", CRASH)
    code, out = run(tmp_path, "--markdown", str(tmp_path / "t.md"), capsys=capsys)
    assert code == 1
    rows = {line.split(":")[0]: line for line in out.splitlines()[2:]}
    assert "exit 0" in rows["legacy"] and rows["legacy"].rstrip().endswith("ERROR")
    assert "exit 1" in rows["crash"] and "benchmark broke" in rows["crash"]
    md = (tmp_path / "t.md").read_text().splitlines()
    assert md[0] == "| figure | target | measured | pass/fail |" and len(md) == 4


def test_only_and_timeout(tmp_path, capsys):
    script(tmp_path, "good.py", GOOD)
    script(tmp_path, "sleepy.py", "import time; time.sleep(30)")
    code, out = run(tmp_path, "--only", "sleepy", "--timeout", "1", capsys=capsys)
    assert code == 1 and "good" not in out and "timed out" in out


@pytest.mark.parametrize("text, expected", [
    ("", None),
    ("not json", None),
    ('{"figures": [{"name": "x", "measured": 1}]}', [{"name": "x", "target": None, "measured": 1, "unit": "",
                                                      "pass": None}]),
    ('{"figures": [{"measured": 1}]}', None),
    ('{"figures": {}}', None),
    ('[1, 2]', None),
    ('{"figures": []}\n\n', []),
])
def test_parse_figures(text, expected):
    assert run_all.parse_figures(text) == expected


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert endpoint.percentile(values, 50) == 50
    assert endpoint.percentile(values, 99) == 99
    assert endpoint.percentile(values, 100) == 100
    assert endpoint.percentile([7.0], 99) == 7.0


def last_json(stdout: str) -> list[dict]:
    figs = run_all.parse_figures(stdout)
    assert figs is not None, f"no figures printed; stdout: {stdout[-2000:]}"
    return figs


@pytest.mark.slow
def test_endpoint_benchmark_measures_both_paths():
    out = subprocess.run([sys.executable, "bench/endpoint.py", "--seconds", "1", "--rate", "40", "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 1), out.stderr
    figs = {f["name"]: f for f in last_json(out.stdout)}
    for path in ("200", "304"):
        for what in ("p50", "p99", "max", "service time p99", "rate achieved", "server CPU"):
            assert isinstance(figs[f"endpoint {path} {what}"]["measured"], (int, float))
    assert figs["endpoint 200 p99"]["target"] == "<= 5 ms"
    assert figs["endpoint 304 errors or unsent"]["measured"] == 0
    assert figs["endpoint 304 share (conditional phase)"]["measured"] > 50   # mostly 304s: ETag works
    assert figs["endpoint document size"]["measured"] > 1000                 # 8 demo sources in it


@pytest.mark.slow
def test_startup_benchmark_measures_endpoint_and_docked_icon():
    out = subprocess.run([sys.executable, "bench/startup.py", "--runs", "1", "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=180)
    assert out.returncode in (0, 1), out.stderr
    names = [f["name"] for f in last_json(out.stdout)]
    assert "startup headless to endpoint (python -m tray) median" in names
    assert "startup to icon docked (python -m tray) median" in names     # Xvfb and trayer are installed
    assert json.loads(out.stdout.splitlines()[-1])["figures"][0]["unit"] == "s"


@pytest.mark.slow
def test_badge_lag_benchmark_measures_both_phases():
    """bench/badge_lag.py end to end, short: real demo tray, built extension, Chromium and Firefox with
    nothing attached."""
    out = subprocess.run([sys.executable, "bench/badge_lag.py", "--changes", "2", "--idle", "1", "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=400)
    assert out.returncode in (0, 1), out.stderr
    assert run_all.parse_figures(out.stdout) is not None, f"no figures; stderr: {out.stderr[-3000:]}"
    figs = {f["name"]: f for f in last_json(out.stdout)}
    for browser in ("chromium", "firefox"):
        for phase in ("fresh", "after 1 s idle"):
            name = f"badge_lag {browser} {phase}"
            assert figs[f"{name} p95"]["target"] == "<= 2000 ms"
            assert 0 < figs[f"{name} max"]["measured"] < 30_000   # 30 s = a change never shown
            assert figs[f"{name} median (2 changes)"]["unit"] == "ms"
