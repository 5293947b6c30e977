"""The one-file build: build.spec through PyInstaller into a temporary directory, then the real
binary: its version, its archive (every source module, the palette, schema and dashboard inside),
a demo run serving a schema-valid /status.json and the dashboard, and `check` on a config file.

Building takes about a minute. SECONDLINE_BINARY=path runs the same checks on a binary built
before (e.g. by `make dist`) instead of building one.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest

from support.procs import free_port

from tray import __version__
from tray.core.document import schema
from tray.sources import REGISTRY

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PYINSTALLER = Path(sys.executable).parent / "pyinstaller"
ARCHIVE_VIEWER = Path(sys.executable).parent / "pyi-archive_viewer"


@pytest.fixture(scope="module")
def binary(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("SECONDLINE_BINARY")
    if prebuilt:
        return Path(prebuilt)
    if not PYINSTALLER.exists():
        pytest.fail(f"{PYINSTALLER} is missing: pip install -e '.[build]'")
    out = tmp_path_factory.mktemp("pyinstaller")
    proc = subprocess.run([str(PYINSTALLER), "--noconfirm", "--clean", "--workpath", str(out / "work"),
                           "--distpath", str(out / "dist"), str(REPO / "build.spec")],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    exe = out / "dist" / ("secondline.exe" if sys.platform == "win32" else "secondline")
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """No display, and every per-user directory inside tmp_path (the log file, state, config)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    return env


def test_version(binary, clean_env):
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, env=clean_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"secondline {__version__}"


def test_archive_carries_every_source_module_and_the_shared_files(binary):
    listing = subprocess.run([str(ARCHIVE_VIEWER), "--recursive", "--brief", str(binary)],
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    names = set(listing.stdout.split())
    # (other tests may register test-only types from tests/support: only the product's count)
    wanted = {target.split(":")[0] for target in REGISTRY.values() if target.startswith("tray.")}
    wanted |= {".".join(p.relative_to(REPO).with_suffix("").parts) for p in (REPO / "tray").rglob("*.py")
               if p.stem != "__init__" and "__pycache__" not in p.parts}
    # The package data where the wheel has it (read through importlib.resources in both), and the
    # distribution's metadata (`--version`).
    wanted |= {"tray/shared/palette.json", "tray/shared/status.schema.json", "tray/shared/vocabulary.json",
               "tray/shared/words.js", "tray/outputs/http/dashboard/index.html",
               f"secondline-{__version__}.dist-info/METADATA",
               "pystray._xorg", "keyring.backends.SecretService", "desktop_notifier.backends.dbus"}
    assert wanted - names == set()


def get(url: str, timeout: float = 3) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read(), dict(r.headers)


def test_demo_run_serves_a_valid_status_document_and_the_dashboard(binary, clean_env, tmp_path):
    port = free_port()
    log = open(tmp_path / "run.log", "w+")
    proc = subprocess.Popen([str(binary), "run", "--demo", "--headless", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=clean_env)
    try:
        validator = jsonschema.Draft202012Validator(schema())
        states: list[str] = []
        end = time.monotonic() + 40
        # The demo steps every 4 s: ok, then a warning. Wait for it: the alert made it through the
        # bundled scheduler, reducer and notifier.
        while time.monotonic() < end and "warning" not in states:
            try:
                status, body, _ = get(f"http://127.0.0.1:{port}/status.json")
            except OSError:
                time.sleep(0.2)
                continue
            assert status == 200
            doc = json.loads(body)
            validator.validate(doc)
            states.append(doc["state"])
            time.sleep(0.2)
        assert "warning" in states, (states, (tmp_path / "run.log").read_text())
        assert [s["name"] for s in doc["sources"]] == ["demo-production", "demo-staging", "demo-integration"]

        status, html, headers = get(f"http://127.0.0.1:{port}/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        palette = json.loads((REPO / "shared" / "palette.json").read_text())
        assert palette["critical"].encode() in html   # the palette was filled in from the bundled copy
        for name in ("palette.json", "status.schema.json"):   # importlib.resources in the bundle
            assert get(f"http://127.0.0.1:{port}/{name}")[1] == (REPO / "shared" / name).read_bytes()

        # The notifier collects a burst for a moment before printing it.
        end = time.monotonic() + 10
        while time.monotonic() < end and "[notification] Warning" not in (tmp_path / "run.log").read_text():
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
    text = (tmp_path / "run.log").read_text()
    assert code == 0, text
    assert "Traceback" not in text
    assert "[notification] Warning: app-staging-1: disk /var" in text
    # The log file went to the user log dir (here inside tmp_path), not next to the binary.
    assert list((tmp_path / "state").rglob("secondline.log"))


def test_check_reads_a_config_file(binary, clean_env, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[sources]]\nname = "demo-a"\ntype = "demo"\ngroup = "production"\n\n'
                   '[[sources]]\nname = "demo-b"\ntype = "demo"\ngroup = "staging"\n')
    out = subprocess.run([str(binary), "check", "--config", str(cfg)], capture_output=True, text=True,
                         timeout=60, env=clean_env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"config {cfg}: OK (2 source(s))" in out.stdout
    assert "demo-a" in out.stdout and "demo-b" in out.stdout

    cfg.write_text('[[sources]]\nname = "x"\ntype = "no-such-type"\n')
    out = subprocess.run([str(binary), "check", "--config", str(cfg)], capture_output=True, text=True,
                         timeout=60, env=clean_env)
    assert out.returncode == 2
    assert "config error" in out.stderr and "icinga2" in out.stderr   # the list of valid types: all bundled


def test_doctor_login_and_autostart_in_the_binary(binary, clean_env, tmp_path):
    """The bundled keyring finds the Secret Service (its backends are found through entry points,
    which need the package metadata in the bundle); a secret stored with `login` is seen by `doctor`;
    autostart starts the binary itself."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[sources]]\nname = "grafana-prod"\ntype = "grafana"\nurl = "https://grafana.example"\n')
    script = (f'eval "$(printf %s test-pass | gnome-keyring-daemon --unlock --components=secrets)"; '
              f'printf "s3cr3t-value\\n" | "{binary}" login grafana-prod --config "{cfg}" && '
              f'"{binary}" doctor --config "{cfg}"')
    out = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], capture_output=True, text=True,
                         timeout=120, env=clean_env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "keyring.backends.SecretService.Keyring (usable)" in out.stdout
    assert f"one-file binary {binary}" in out.stdout
    assert "grafana-prod (grafana, default)  stored in the keyring" in out.stdout
    assert "s3cr3t-value" not in out.stdout + out.stderr

    en = subprocess.run([str(binary), "autostart", "enable"], capture_output=True, text=True, timeout=60,
                        env=clean_env)
    assert en.returncode == 0, en.stderr
    desktop = (tmp_path / "config" / "autostart" / "secondline.desktop").read_text()
    assert f"\nExec={binary} run\n" in desktop
    st = subprocess.run([str(binary), "autostart", "status"], capture_output=True, text=True, timeout=60,
                        env=clean_env)
    assert st.returncode == 0 and "autostart enabled" in st.stdout


def test_binary_docks_its_icon_in_a_real_tray(binary):
    """pystray's xorg backend and Xlib made it into the bundle: under Xvfb + trayer the binary's icon
    window is mapped and docked, and the endpoint answers."""
    sys.path.insert(0, str(REPO / "bench"))
    import startup
    with startup.Display() as display:
        answered, docked = startup.one_tray(str(binary), display)
    assert answered > 0 and docked > 0
