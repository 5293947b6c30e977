"""A private icinga2 (Debian package) on loopback, for the tests and the benchmarks.

mk-icinga.sh writes the CA, a node certificate (CN localhost, IP 127.0.0.1) and the config into a directory;
run-icinga.sh runs the daemon as the current user in its own process group; stop_icinga() stops the group.
Also: running `secondline run --headless` as a child process and reading its /status.json.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from support.parts import PartDidNotStart

HERE = Path(__file__).parent


@dataclass
class Icinga:
    dir: Path
    port: int
    proc: subprocess.Popen
    session: requests.Session      # the test driver (ApiUser "test", all permissions)

    @property
    def url(self) -> str:
        # The certificate names 127.0.0.1 too (mk-icinga.sh): no name lookup, which a minimal root lacks.
        return f"https://127.0.0.1:{self.port}"

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
        raise PartDidNotStart("icinga2", "not installed (Debian package icinga2, see deps/debian.txt)")
    made = subprocess.run([str(HERE / "mk-icinga.sh"), str(d), str(port)], env={**os.environ, **(env or {})},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if made.returncode != 0:
        raise PartDidNotStart("icinga2", f"mk-icinga.sh exited {made.returncode}", made.stderr)
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
            raise PartDidNotStart("icinga2", f"the daemon exited with {proc.returncode}", d / "stdout.log")
        try:
            if s.get(f"{ic.url}/v1/objects/hosts/h1", timeout=1).status_code == 200:
                return ic
        except requests.RequestException:
            pass
        if time.monotonic() - t0 > timeout:
            stop_icinga(proc)
            raise PartDidNotStart("icinga2", f"its API did not answer on {ic.url} within {timeout:g} s",
                                  d / "log" / "icinga2.log")
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


REPO = HERE.parents[1]


# A published extension id: the tray lets only those pair (tray/outputs/http/pairing.py).
EXTENSION_ORIGIN = "chrome-extension://kkpkhhhgpljijmnplonjmooccgfjojbh"


class App:
    """A running `secondline run --headless --config PATH --port N` (its output in a file)."""

    def __init__(self, config: Path, port: int, secrets: dict[str, str], out: Path) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SECONDLINE_SECRET_") and k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
        home = out.parent / "home"
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"),
                   XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"), PYTHONUNBUFFERED="1")
        for name, value in secrets.items():
            env["SECONDLINE_SECRET_" + name.upper().replace("-", "_")] = value
        self.port = port
        self.env = env
        self.out_path = out
        self._out = open(out, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "tray", "run", "--headless", "--config", str(config),
                                      "--port", str(port)], env=env, cwd=str(REPO), stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    def status(self) -> Any:
        r = requests.get(f"http://127.0.0.1:{self.port}/status.json", timeout=2)
        r.raise_for_status()
        return r.json()

    def source(self, name: str) -> Any:
        for s in self.status().get("sources", []):
            if s["name"] == name:
                return s
        return None

    def wait_ready(self, name: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"secondline exited rc={self.proc.returncode}: {self.output()[-2000:]}")
            try:
                s = self.source(name)
                if s and s.get("checked_at"):
                    return s
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"source {name} not polled within {timeout}s: {self.output()[-2000:]}")

    def pair(self, origin: str = EXTENSION_ORIGIN) -> tuple[str, str]:
        """Pair a client as the extension does (ask, approve with `secondline pair CODE`, collect the
        key); (client id, key) for tray.outputs.http.signing.sign_request."""
        base, head = f"http://127.0.0.1:{self.port}", {"Origin": origin}
        req = requests.post(base + "/pair", json={}, headers=head, timeout=10).json()
        approve = subprocess.run([sys.executable, "-m", "tray", "pair", req["code"], "--port", str(self.port)],
                                 env=self.env, cwd=str(REPO), capture_output=True, text=True, timeout=30)
        assert approve.returncode == 0, approve.stderr
        creds = requests.post(base + "/pair/status", json={"id": req["id"]}, headers=head, timeout=10).json()
        assert creds["state"] == "approved", creds
        return creds["client"], creds["key"]

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") if self.out_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._out.close()


def icinga_config(path: Path, ic: Icinga, *, name: str = "ic", interval: float = 60, stream: bool = True,
                  detect_interval: float = 0.25, extra: str = "", username: str = "secondline") -> Path:
    path.write_text(f"""
[[sources]]
name = "{name}"
type = "icinga2"
group = "production"
interval = {interval}
timeout = 10
url = "{ic.url}"
username = "{username}"
ca_bundle = "{ic.ca}"
stream = {str(stream).lower()}
detect_interval = {detect_interval}
{extra}
""")
    return path
