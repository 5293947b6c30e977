"""Debian's pipx installs secondline the way the README says, `pipx install .` in a checkout and
`pipx install secondline-*.whl`, into a PIPX_HOME and PIPX_BIN_DIR in a temporary directory (Debian's
pipx runs the system python3, so this is also the app on Debian's own interpreter). The command it puts
on PATH then runs from outside the checkout: the same checks as the wheel in a venv."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .pkghelp import (REPO, InstalledRun, assert_installed_in, check_and_doctor, check_endpoint,
                     check_icon_in_a_tray, outside_env, run, wheel_version)

pytestmark = pytest.mark.slow


def pipx_install(target: str, root: Path, cwd: Path) -> tuple[Path, Path, dict[str, str]]:
    """(the `secondline` pipx put in PIPX_BIN_DIR, its venv, the environment) after `pipx install TARGET`."""
    env = outside_env(root / "installer-home", PIPX_HOME=str(root / "pipx"), PIPX_BIN_DIR=str(root / "bin"),
                      PIPX_MAN_DIR=str(root / "man"))
    pipx = shutil.which("pipx", path=env["PATH"])
    if pipx is None:
        pytest.fail("pipx is missing: apt-get install pipx (deps/debian.txt)")
    out = subprocess.run([pipx, "install", target], env=env, cwd=str(cwd), capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-4000:])
    exe = root / "bin" / "secondline"
    assert exe.exists(), sorted(p.name for p in (root / "bin").iterdir())
    return exe, root / "pipx" / "venvs" / "secondline", env


@pytest.fixture(scope="module")
def from_checkout(tmp_path_factory) -> tuple[Path, Path]:
    """`pipx install .`, typed in the checkout."""
    exe, venv, _ = pipx_install(".", tmp_path_factory.mktemp("pipx-checkout"), REPO)
    return exe, venv


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def test_pipx_puts_the_installed_copy_on_path(from_checkout, home):
    exe, venv = from_checkout
    env = outside_env(home)
    assert_installed_in(venv / "bin" / "python", venv, env, home)
    # The interpreter is Debian's, not the one the test suite runs on.
    base = run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.base_prefix)"], env, home)
    assert base.stdout.strip() == "/usr", base.stdout
    out = run([str(exe), "--version"], env, home)
    assert out.returncode == 0, out.stderr
    from tray import __version__
    assert out.stdout.strip() == f"secondline {__version__}"


def test_demo_dashboard_status_and_events_from_pipx(from_checkout, home):
    with InstalledRun(from_checkout[0], outside_env(home), home) as app:
        check_endpoint(app)
        assert app.stop() == 0, app.output()
    assert "Traceback" not in app.output(), app.output()


def test_check_login_and_doctor_from_pipx(from_checkout, home):
    exe, venv = from_checkout
    check_and_doctor(exe, home, venv)


def test_icon_in_a_real_tray_from_pipx(from_checkout, home):
    check_icon_in_a_tray(from_checkout[0], home)


def test_pipx_installs_the_built_wheel(dists, tmp_path):
    root = tmp_path / "pipx-wheel"
    exe, venv, _ = pipx_install(str(dists.wheel), root, tmp_path)
    home = tmp_path / "home"
    env = outside_env(home)
    assert_installed_in(venv / "bin" / "python", venv, env, home)
    out = run([str(exe), "--version"], env, home)
    assert out.stdout.strip() == f"secondline {wheel_version(dists.wheel)}", out.stdout + out.stderr
    with InstalledRun(exe, env, home) as app:
        check_endpoint(app)
        assert app.stop() == 0, app.output()
