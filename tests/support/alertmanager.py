"""Run the real prometheus-alertmanager (Debian package) on a free loopback port in a private directory.

Adapted from the measured recipes (mk-am.sh / run-am.sh): clustering off, a fresh storage path per
server (silences persist there), optional bcrypt Basic auth through --web.config.file.
"""
from __future__ import annotations

import base64
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import bcrypt
import requests

from support.parts import PartDidNotStart
from support.procs import free_port

BINARY = "prometheus-alertmanager"

CONFIG = """\
route:
  receiver: "null"
  group_by: ["alertname"]
receivers:
  - name: "null"
"""


class Alertmanager:
    def __init__(self, workdir: Path, user: str | None = None, password: str | None = None) -> None:
        self.dir = workdir
        self.user, self.password = user, password
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self.user is None:
            return {}
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def start(self) -> "Alertmanager":
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        (self.dir / "alertmanager.yml").write_text(CONFIG)
        if not shutil.which(BINARY):
            raise PartDidNotStart("Alertmanager", f"{BINARY} is not installed (Debian package "
                                  "prometheus-alertmanager, see deps/debian.txt)")
        args = [shutil.which(BINARY), f"--config.file={self.dir / 'alertmanager.yml'}",
                f"--storage.path={self.dir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address="]
        if self.user is not None:
            hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
            (self.dir / "web.yml").write_text(f"basic_auth_users:\n  {self.user}: {hashed}\n")
            args.append(f"--web.config.file={self.dir / 'web.yml'}")
        self.log = open(self.dir / "alertmanager.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PartDidNotStart("Alertmanager", f"exited with {self.proc.returncode}",
                                      self.dir / "alertmanager.log")
            try:
                if requests.get(self.url + "/-/ready", headers=self.headers, timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise PartDidNotStart("Alertmanager", f"not ready on {self.url} within 20 s", self.dir / "alertmanager.log")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    # -- driving it like Prometheus / a user would -------------------------------------------
    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        r = requests.post(self.url + "/api/v2/alerts", json=alerts, headers=self.headers, timeout=5)
        r.raise_for_status()

    def silence(self, matchers: dict[str, str], *, hours: float = 1) -> str:
        from datetime import datetime, timedelta, timezone
        now = datetime.now(timezone.utc)
        body = {"matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                             for k, v in matchers.items()],
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=hours)).isoformat(),
                "createdBy": "test", "comment": "test silence"}
        r = requests.post(self.url + "/api/v2/silences", json=body, headers=self.headers, timeout=5)
        r.raise_for_status()
        return r.json()["silenceID"]

    def get(self, path: str) -> Any:
        r = requests.get(self.url + path, headers=self.headers, timeout=5)
        r.raise_for_status()
        return r.json()
