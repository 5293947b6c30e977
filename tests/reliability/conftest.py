"""Reliability suite: prints the fault matrix (source types x faults, pass/FAIL) after the run."""
from __future__ import annotations

from relhelp import MATRIX, table


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not MATRIX:
        return
    from support.faults import FAULTS
    types = sorted({t for t, _ in MATRIX}, key=lambda t: [k for k, _ in MATRIX].index(t))
    held = sum(v == "pass" for v in MATRIX.values())
    tr = terminalreporter
    tr.section("fault matrix: source types x faults")
    for line in table(types, FAULTS, MATRIX):
        tr.write_line(line)
    tr.write_line(f"held: {held}/{len(MATRIX)} cells ({len(types)} types x {len(FAULTS)} faults)")
