"""Helpers for the end-to-end tests against the real `secondline` process and the real desktop services.

Every test starts what it needs (a private D-Bus bus, the fake notification service, gnome-keyring,
Xvfb + trayer) from the Debian packages `make test` installs, and runs `python -m tray` as a child
process with a clean environment: its own HOME and XDG dirs, no DISPLAY and no session bus unless
the test gives them.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
SUPPORT = REPO / "tests" / "support"
ARTIFACTS = REPO / "artifacts"
SHARED = REPO / "shared"

# Variables of the developer's session that would let a child reach the real desktop or keyring.
_DROP = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND",
         "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR", "XAUTHORITY", "PYSTRAY_BACKEND")


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A child environment isolated from the developer's desktop: HOME and XDG dirs under `home`."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP and not k.startswith("SECONDLINE_SECRET_")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".local/state"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local/share"),
               PYTHONUNBUFFERED="1", PYSTRAY_BACKEND="xorg",
               PYTHONPATH=os.pathsep.join([str(REPO), str(SUPPORT)]))
    env.update(extra)
    return env


def secondline(args: list[str], env: dict[str, str], *, input: str | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a one-shot CLI command (login, logout, check, status)."""
    return subprocess.run([sys.executable, "-m", "tray", *args], env=env, input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=str(REPO))


class AppProcess:
    """A running `secondline run ...`: its combined output goes to a file the test can read."""

    def __init__(self, args: list[str], env: dict[str, str], out_path: Path, port: int) -> None:
        self.args, self.env, self.out_path, self.port = args, env, Path(out_path), port
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AppProcess":
        self._out = open(self.out_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "tray", *self.args], env=self.env, cwd=str(REPO),
                                     stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace") if self.out_path.exists() else ""

    def get(self, path: str, timeout: float = 5) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def status(self) -> dict[str, Any]:
        code, body = self.get("/status.json")
        assert code == 200, (code, body[:200])
        return json.loads(body)

    def wait_ready(self, timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"secondline exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if self.get("/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"secondline did not serve /healthz within {timeout} s:\n{self.output()}")

    def wait_output(self, text: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            out = self.output()
            if text in out:
                return out
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in the output within {timeout} s:\n{self.output()}")

    def wait_status(self, predicate: Callable[[dict], bool], timeout: float, what: str = "") -> dict:
        end = time.monotonic() + timeout
        doc: dict = {}
        while time.monotonic() < end:
            doc = self.status()
            if predicate(doc):
                return doc
            time.sleep(0.1)
        raise AssertionError(f"status never became {what or predicate} within {timeout} s; last: "
                             f"{json.dumps(doc)[:1500]}\n{self.output()[-3000:]}")

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._out.close()
        return self.proc.returncode


# -- a fake Alertmanager: a source type that needs a secret, served from this process -------------

def am_alert(name: str, severity: str = "critical", instance: str = "db01", summary: str = "") -> dict:
    return {"labels": {"alertname": name, "severity": severity, "instance": instance},
            "annotations": {"summary": summary or f"{name} on {instance}"},
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T01:00:00Z",
            "fingerprint": f"fp-{name}-{instance}", "generatorURL": f"http://prom.example/{name}",
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}, "receivers": [{"name": "x"}]}


class FakeAlertmanager:
    """`GET /api/v2/alerts` of Alertmanager v2. `token` set: requires `Authorization: Bearer token`
    (401 otherwise). Records every request's headers in `requests`. `respond` may be replaced by a
    test to answer differently (it gets the handler and returns True when it answered)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.alerts: list[dict] = []
        self.requests: list[dict[str, str]] = []
        self.posts: list[tuple[str, dict]] = []     # (path, JSON body) of each POST (silences)
        self.respond: Callable[[BaseHTTPRequestHandler], bool] | None = None
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                with outer.lock:
                    outer.requests.append(dict(self.headers.items()))
                if outer.respond is not None and outer.respond(self):
                    return
                if outer.token is not None and self.headers.get("Authorization") != f"Bearer {outer.token}":
                    return self._send(401, b'{"error":"unauthorized"}')
                if not self.path.startswith("/api/v2/alerts"):
                    return self._send(404, b'{"error":"not found"}')
                with outer.lock:
                    body = json.dumps(outer.alerts).encode()
                self._send(200, body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    data = json.loads(body or b"{}")
                except ValueError:
                    return self._send(400, b'{"error":"bad json"}')
                with outer.lock:
                    outer.posts.append((self.path, data))
                if self.path.startswith("/api/v2/silences"):
                    return self._send(200, json.dumps({"silenceID": f"silence-{len(outer.posts)}"}).encode())
                self._send(404, b'{"error":"not found"}')

            def _send(self, code: int, body: bytes, reason: str | None = None) -> None:
                self.send_response(code, reason)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def set_alerts(self, alerts: list[dict]) -> None:
        with self.lock:
            self.alerts = list(alerts)

    def __enter__(self) -> "FakeAlertmanager":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def am_config(path: Path, am_url: str, *, name: str = "prod-am", auth: str = "bearer", interval: float = 1,
              port: int = 17474) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""[server]
port = {port}

[notifications]
enabled = true
min_gap = 1

[[sources]]
name = "{name}"
type = "alertmanager"
group = "production"
interval = {interval}
timeout = 5
url = "{am_url}"
auth = "{auth}"
""")
    return path


def colour_counts(path: Path, colours: dict[str, str], tolerance: int = 6) -> dict[str, int]:
    """How many pixels of a screenshot are (nearly) each palette colour."""
    from PIL import Image
    img = Image.open(path).convert("RGB")
    targets = {k: tuple(int(v.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) for k, v in colours.items()}
    counts = dict.fromkeys(targets, 0)
    for n, (r, g, b) in img.getcolors(maxcolors=1 << 20):
        for k, (tr, tg, tb) in targets.items():
            if abs(r - tr) <= tolerance and abs(g - tg) <= tolerance and abs(b - tb) <= tolerance:
                counts[k] += n
    return counts


def palette() -> dict[str, Any]:
    return json.loads((SHARED / "palette.json").read_text())


def validate_document(doc: dict) -> None:
    import jsonschema
    jsonschema.validate(doc, json.loads((SHARED / "status.schema.json").read_text()))


class Desktop:
    """Xvfb + trayer + a private session bus + the fake notification service."""

    def __init__(self, **parts) -> None:
        self.xvfb, self.trayer, self.bus, self.notifyd = (parts[k] for k in ("xvfb", "trayer", "bus", "notifyd"))

    @property
    def env(self) -> dict[str, str]:
        return {**self.xvfb.env, **self.bus.env}
