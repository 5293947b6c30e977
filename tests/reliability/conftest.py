"""Reliability suite: prints the fault matrix (source types x faults, pass/FAIL) and the reduced
soak's figures after the run."""
from __future__ import annotations

from relhelp import MATRIX, MATRIX_TIME, SOAK, table


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    if MATRIX:
        from support.faults import MATRIX_FAULTS
        order = list(dict.fromkeys(t for t, _ in MATRIX))
        held = sum(v == "pass" for v in MATRIX.values())
        tr.section("fault matrix: source types x faults")
        for line in table(order, MATRIX_FAULTS, MATRIX):
            tr.write_line(line)
        took = f" in {MATRIX_TIME['elapsed']:.0f} s" if "elapsed" in MATRIX_TIME else ""
        tr.write_line(f"held: {held}/{len(MATRIX)} cells ({len(order)} types x {len(MATRIX_FAULTS)} faults)" + took)
    if SOAK:
        import sys
        from pathlib import Path
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
        from soak import report
        tr.section("reduced soak")
        for line in report(SOAK).splitlines():
            tr.write_line(line)
