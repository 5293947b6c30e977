"""Fixtures for the Icinga 2 tests: a private icinga2 (Debian package) on loopback, made once per session.

mk-icinga.sh writes the CA, a node certificate and the config into a tmp dir; run-icinga.sh runs the
daemon as the current user in its own process group; the fixture stops the group after the session.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Icinga:
    dir: Path
    port: int
    proc: subprocess.Popen
    session: requests.Session      # the test driver (ApiUser "test", all permissions)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"   # the certificate names localhost

    @property
    def ca(self) -> str:
        return str(self.dir / "data" / "certs" / "ca.crt")

    def api(self, method: str, path: str, **kw: Any) -> Any:
        r = self.session.request(method, f"{self.url}/v1/{path}", timeout=10, **kw)
        assert r.status_code < 300, f"{method} {path}: HTTP {r.status_code} {r.text[:300]}"
        return r.json()

    def set_state(self, obj: str, exit_status: int, output: str = "") -> None:
        """process-check-result for "host" or "host!service"; returns once Icinga has applied it."""
        if "!" in obj:
            params = {"service": obj}
            body = {"type": "Service"}
        else:
            params = {"host": obj}
            body = {"type": "Host"}
        body.update(exit_status=exit_status, plugin_output=output or f"state {exit_status}")
        self.api("POST", "actions/process-check-result", params=params, json=body)

    def acknowledge(self, obj: str, comment: str = "on it") -> None:
        kind = "Service" if "!" in obj else "Host"
        self.api("POST", "actions/acknowledge-problem", params={kind.lower(): obj},
                 json={"type": kind, "author": "test", "comment": comment})

    def remove_ack(self, obj: str) -> None:
        kind = "Service" if "!" in obj else "Host"
        self.api("POST", "actions/remove-acknowledgement", params={kind.lower(): obj}, json={"type": kind})

    def downtime(self, obj: str, seconds: float = 3600) -> None:
        kind = "Service" if "!" in obj else "Host"
        now = time.time()
        self.api("POST", "actions/schedule-downtime", params={kind.lower(): obj},
                 json={"type": kind, "author": "test", "comment": "maintenance", "start_time": now - 1,
                       "end_time": now + seconds, "fixed": True})

    def remove_downtimes(self, obj: str) -> None:
        kind = "Service" if "!" in obj else "Host"
        self.api("POST", "actions/remove-downtime", params={kind.lower(): obj}, json={"type": kind})

    def reset(self, *objs: str) -> None:
        for o in objs:
            self.remove_downtimes(o)
            self.remove_ack(o)
            self.set_state(o, 0, "OK")


def start_icinga(d: Path, port: int, env: dict[str, str] | None = None, timeout: float = 30) -> Icinga:
    if not shutil.which("icinga2"):
        pytest.fail("icinga2 is not installed: apt-get install -y --no-install-recommends icinga2")
    subprocess.run([str(HERE / "mk-icinga.sh"), str(d), str(port)], check=True,
                   env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    log = open(d / "stdout.log", "ab")
    proc = subprocess.Popen([str(HERE / "run-icinga.sh"), str(d)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    s = requests.Session()
    s.auth = ("test", "test-secret")
    s.verify = str(d / "data" / "certs" / "ca.crt")
    s.trust_env = False            # REQUESTS_CA_BUNDLE would override verify
    s.headers["Accept"] = "application/json"
    ic = Icinga(d, port, proc, s)
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"icinga2 exited rc={proc.returncode}, see {d}/stdout.log")
        try:
            if s.get(f"{ic.url}/v1/objects/hosts/h1", timeout=1).status_code == 200:
                return ic
        except requests.RequestException:
            pass
        if time.monotonic() - t0 > timeout:
            stop_icinga(proc)
            raise TimeoutError("icinga2 API not ready")
        time.sleep(0.05)


def stop_icinga(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the whole process group (umbrella + worker + spawn helper), wait until it is gone."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def icinga(tmp_path_factory) -> Any:
    d = tmp_path_factory.mktemp("icinga")
    ic = start_icinga(d, free_port())
    try:
        yield ic
    finally:
        stop_icinga(ic.proc)
