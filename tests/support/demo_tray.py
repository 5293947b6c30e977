"""The real tray: `secondline run --demo --headless --port N` as a child process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SECONDLINE = REPO / ".venv" / "bin" / "secondline"


def expected_badge(doc: dict[str, Any], palette: dict[str, Any]) -> tuple[str, str]:
    """What the badge must show for a tray document (the rule written out independently of the extension)."""
    c = doc["counts"]
    n = c["critical"] + c["warning"] + c["unknown"]
    no_data = not doc["sources"] or all(s["checked_at"] is None and s["error"] is None for s in doc["sources"])
    state = "no_data" if no_data else "handled_only" if doc["handled_only"] and doc["health"] == "ok" else doc["health"]
    return (str(n) if n else "", palette[state])


class DemoTray:
    def __init__(self, port: int, log_path: Path, env: dict[str, str] | None = None):
        self.port = port
        self.log_path = log_path
        self.env = env or {}     # extra environment, e.g. the endpoint's master key (SECONDLINE_SECRET___ENDPOINT__)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> "DemoTray":
        exe = str(SECONDLINE) if SECONDLINE.exists() else None
        cmd = [exe] if exe else [sys.executable, "-m", "tray"]
        self.proc = subprocess.Popen([*cmd, "run", "--demo", "--headless", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log_path, "ab"),
                                     start_new_session=True, cwd=REPO, env={**os.environ, **self.env})
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"secondline exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/status.json", timeout=1) as r:
                    json.load(r)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"secondline did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> "DemoTray":
        return self.start()

    def __exit__(self, *a: Any) -> None:
        self.stop()


class TrayWatcher:
    """Follows the tray's own /events stream and stamps each document as it arrives (our clock)."""

    def __init__(self, url: str):
        self.docs: list[tuple[float, dict[str, Any]]] = []
        self.resp = urllib.request.urlopen(url + "/events", timeout=30)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        data: list[str] = []
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif line == "" and data:
                    self.docs.append((time.monotonic(), json.loads("\n".join(data))))
                    data = []
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        try:
            self.resp.close()
        except OSError:
            pass
