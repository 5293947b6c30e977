"""Run the real `secondline` as a child process, with its own HOME/XDG dirs, and read it from outside
(/status.json, /events, /proc) the way a user's browser or a monitoring script would."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.procs import free_port

REPO = Path(__file__).resolve().parents[2]


def app_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SECONDLINE_SECRET_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
                "XDG_DATA_HOME": str(home / ".local/share"), "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


@dataclass
class AppProc:
    proc: subprocess.Popen
    port: int
    home: Path
    out_path: Path
    config_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def get(self, path: str = "/status.json", headers: dict[str, str] | None = None,
            method: str = "GET", body: bytes | None = None, timeout: float = 5) -> tuple[int, dict, bytes]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Host": f"127.0.0.1:{self.port}"}
        h.update(headers or {})
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def status(self) -> dict[str, Any]:
        code, _, body = self.get()
        assert code == 200, code
        return json.loads(body)

    def log_files(self) -> list[Path]:
        return sorted((self.home / ".local/state").rglob("*.log*"))

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def proc_status(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def threads(self) -> int:
        return self.proc_status("Threads")

    def rss_kb(self) -> int:
        return self.proc_status("VmRSS")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGUSR1)   # every thread's stack into its output, then kill
                time.sleep(1)
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


def start_app(home: Path, config_text: str, env_extra: dict[str, str] | None = None,
              verbose: bool = False, wait: float = 20, port: int | None = None) -> AppProc:
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / ".config" / "secondline" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(config_text)
    port = port or free_port()
    out = home / "app-output.txt"
    args = [sys.executable, "-m", "tray", "run", "--headless", "--config", str(cfg), "--port", str(port)]
    if verbose:
        args.append("-v")
    proc = subprocess.Popen(args, stdout=open(out, "ab"), stderr=subprocess.STDOUT, cwd=REPO,
                            env=app_env(home, env_extra))
    app = AppProc(proc, port, home, out, cfg)
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"secondline exited {proc.returncode}: {app.output()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return app
        except OSError:
            time.sleep(0.1)
    app.stop()
    raise AssertionError(f"secondline did not listen on {port}: {app.output()[-2000:]}")


def run_cli(home: Path, *args: str, stdin: str = "", env_extra: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tray", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, env=app_env(home, env_extra), timeout=timeout)
