"""A private Prometheus (Debian's `prometheus`, 2.42) on loopback, with its own rules file (or none, for the
blindness tests), scraping a tiny exporter the test controls; optionally sending its alerts to a private
Alertmanager.

The exporter serves `secondline_test{case="NAME", instance=..., ...} VALUE` for every case the test has
set; each alerting rule fires on its case being > 0. Scrapes and rule evaluations run every second
(`honor_labels`, so the `instance` label is the one the test gave). Basic auth is Prometheus's own
`--web.config.file` with a bcrypt hash, so a wrong password is a real 401 from the real server.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import bcrypt
import requests

from support.procs import free_port

BINARY = "prometheus"
USER, PASSWORD = "ops", "pr0m pass"

# name -> (severity label or None, `for:` duration, summary). What each case's alert looks like.
RULES: dict[str, tuple[str | None, str, str]] = {
    "DiskFull": ("critical", "0s", "disk almost full"),
    "HighLoad": ("warning", "0s", "load is high"),
    "Deploying": ("info", "0s", "a release is rolling out"),
    "NoSeverity": (None, "0s", "an alert without a severity label"),
    "SlowBurn": ("critical", "1h", "error budget burning"),          # stays pending
    "Flapping": ("critical", "4s", "pending first, then firing"),    # pending, then firing
    "CertExpiry": ("critical", "0s", "certificate expires soon"),
    "Probe": ("critical", "0s", "the benchmark's probe"),
}


class Exporter:
    """GET /metrics: the gauges the test set. Runs in a thread of the test process."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:   # noqa: N802
                with exporter.lock:
                    lines = [f'secondline_test{{case="{c}",instance="{i}"}} {v}'
                             for (c, i), v in sorted(exporter.values.items())]
                body = ("# TYPE secondline_test gauge\n" + "\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, case: str, value: float, instance: str = "db1") -> None:
        with self.lock:
            self.values[(case, instance)] = value

    def clear(self, case: str, instance: str = "db1") -> None:
        with self.lock:
            self.values.pop((case, instance), None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def rules_yml() -> str:
    out = ["groups:", "  - name: secondline-tests", "    interval: 1s", "    rules:"]
    for name, (severity, for_, summary) in RULES.items():
        out += [f"      - alert: {name}", f'        expr: secondline_test{{case="{name}"}} > 0', f"        for: {for_}"]
        if severity:
            out += ["        labels:", f"          severity: {severity}"]
        out += ["        annotations:", f'          summary: "{summary} on {{{{ $labels.instance }}}}"']
    return "\n".join(out) + "\n"


class Prometheus:
    def __init__(self, exporter: Exporter, *, auth: bool = True, alertmanager: str | None = None,
                 rules: bool = True) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="secondline-prometheus-"))
        self.exporter = exporter
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth = (USER, PASSWORD) if auth else None
        self.alertmanager = alertmanager
        self.rules = rules              # False: no rule_files at all, so no alert can ever fire
        self.proc: subprocess.Popen | None = None

    def write(self) -> list[str]:
        am = ""
        if self.alertmanager:
            host = self.alertmanager.split("://", 1)[-1].rstrip("/")
            am = f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{host}\"]\n"
        (self.dir / "prometheus.yml").write_text(f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
{'rule_files: ["rules.yml"]' if self.rules else ""}
{am}scrape_configs:
  - job_name: secondline-test
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:{self.exporter.port}"]
""")
        (self.dir / "rules.yml").write_text(rules_yml())
        args = [shutil.which(BINARY) or BINARY, f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
                "--rules.alert.resend-delay=1s", "--log.level=warn"]
        if self.auth:
            hashed = bcrypt.hashpw(self.auth[1].encode(), bcrypt.gensalt(rounds=4)).decode()
            (self.dir / "web.yml").write_text(f"basic_auth_users:\n  {self.auth[0]}: {hashed}\n")
            args.append(f"--web.config.file={self.dir / 'web.yml'}")
        return args

    def start(self, timeout: float = 60, wait_scrape: bool = True) -> "Prometheus":
        if not shutil.which(BINARY):
            raise RuntimeError("prometheus is not installed: apt-get install prometheus (deps/debian.txt)")
        args = self.write()
        self.log = open(self.dir / "prometheus.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.dir, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {(self.dir / 'prometheus.log').read_text()[-2000:]}")
            try:
                # Ready, and the exporter scraped once: Prometheus applies its first scrape targets only
                # after its discovery throttle (~5 s); tests must not count that delay as detection time.
                if requests.get(self.url + "/-/ready", auth=self.auth, timeout=1).status_code == 200 and \
                        (not wait_scrape or self.get("/api/v1/query", query='up{job="secondline-test"} == 1')
                         ["data"]["result"]):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"prometheus did not become ready within {timeout} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def get(self, path: str, **params: Any) -> Any:
        r = requests.get(self.url + path, params=params, auth=self.auth, timeout=5)
        r.raise_for_status()
        return r.json()

    def alerts(self) -> list[dict[str, Any]]:
        return self.get("/api/v1/alerts")["data"]["alerts"]

    def alert_state(self, name: str, instance: str = "db1") -> str | None:
        for a in self.alerts():
            if a["labels"].get("alertname") == name and a["labels"].get("instance") == instance:
                return a["state"]
        return None

    def wait_state(self, name: str, state: str | None, instance: str = "db1", timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.alert_state(name, instance)
            if got == state:
                return
            time.sleep(0.05)
        raise AssertionError(f"{name} on {instance}: state {got!r}, not {state!r} within {timeout} s")
