"""Plumbing for the reliability tests: a TCP forwarder (a server "coming back" on a port), a log
collector that works across threads, and the fault matrix's and the reduced soak's tables, printed after
the run by the pytest_terminal_summary hook below (a plugin: tests/conftest.py `pytest_plugins`)."""
from __future__ import annotations

import logging
import socket
import threading
from typing import Iterable

# (type, fault) -> "pass" / "FAIL"; filled by tests/sources/test_fault_matrix.py, printed below.
MATRIX: dict[tuple[str, str], str] = {}
# How long the whole matrix took (s): printed, not asserted (wall time depends on the machine's load).
MATRIX_TIME: dict[str, float] = {}
# The reduced soak's figures (bench/soak.py JSON, tests/app/test_soak.py), printed below.
SOAK: dict = {}


class Forwarder:
    """Listens on 127.0.0.1:`port` (0 = any) and pipes every connection to 127.0.0.1:`target`."""

    def __init__(self, target: int, port: int = 0) -> None:
        self.target = target
        self._stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                c.close()
                continue
            self._conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            a.settimeout(30)
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        for s in [self.sock, *self._conns]:
            try:
                s.close()
            except OSError:
                pass


class Collector(logging.Handler):
    """Keeps every record (from any thread) so a test can look for tracebacks and 'internal error'."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            self.records.append(record)

    def messages(self, needle: str | None = None) -> list[str]:
        with self._lock2:
            recs = list(self.records)
        out = []
        for r in recs:
            text = r.getMessage()
            if needle is None or needle in text:
                out.append(text)
        return out

    def tracebacks(self) -> list[logging.LogRecord]:
        with self._lock2:
            return [r for r in self.records if r.exc_info or r.exc_text]


def table(rows: Iterable[str], cols: Iterable[str], cell: dict[tuple[str, str], str]) -> list[str]:
    rows, cols = list(rows), list(cols)
    short = {c: c.replace("http429_retry_after", "429+RA").replace("http429_bare", "429")
             .replace("connect_timeout", "conn_to").replace("read_timeout", "read_to")
             .replace("truncated_json", "trunc").replace("wrong_shape", "shape")
             .replace("html_login", "html").replace("http", "") for c in cols}
    w0 = max(len(r) for r in rows) + 1
    widths = {c: max([len(short[c]), 4] + [len(cell.get((r, c), "-")) for r in rows]) for c in cols}
    lines = [" " * w0 + " ".join(short[c].rjust(widths[c]) for c in cols)]
    for r in rows:
        lines.append(r.ljust(w0) + " ".join(cell.get((r, c), "-").rjust(widths[c]) for c in cols))
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The fault matrix (source types x faults, pass/FAIL) and the reduced soak's figures, when they ran."""
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
