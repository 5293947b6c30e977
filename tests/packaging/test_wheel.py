"""secondline as a user installs it: the real sdist and wheel (`python -m build`), checked as PyPI checks
them, the wheel installed into a fresh venv in a temporary directory, and the installed `secondline`
run from outside the checkout with nothing pointing back to it: demo run, dashboard, /status.json against
the schema, /events, `check`, `doctor` with a real keyring, and the icon in a real tray under Xvfb.
Nothing here uses the editable install the rest of the suite runs from."""
from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .pkghelp import (REPO, SHARED, InstalledRun, assert_installed_in, check_and_doctor, check_endpoint,
                     check_icon_in_a_tray, outside_env, run, wheel_version)

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def venv(dists, tmp_path_factory) -> Path:
    """A fresh venv outside the checkout with the wheel (and its dependencies from the index) installed."""
    root = tmp_path_factory.mktemp("wheel-user")
    home = root / "home"
    env = outside_env(home)
    v = root / "venv"
    for cmd in ([sys.executable, "-m", "venv", str(v)],
                [str(v / "bin" / "python"), "-m", "pip", "install", "--quiet", str(dists.wheel)]):
        out = run(cmd, env, root, timeout=600)
        assert out.returncode == 0, (cmd, out.stdout[-2000:], out.stderr[-3000:])
    return v


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def test_build_is_clean_and_passes_twine_and_check_wheel_contents(dists):
    for cmd in ([str(BIN / "twine"), "check", "--strict", str(dists.sdist), str(dists.wheel)],
                [str(BIN / "check-wheel-contents"), str(dists.wheel)]):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, (cmd, out.stdout, out.stderr)


def test_wheel_carries_every_module_and_the_data_it_reads(dists):
    """Every module of tray/ and its subpackages (the package list in pyproject.toml is explicit), the contract
    from shared/ and the dashboard, each byte for byte as in the checkout: one source, no second copy to drift."""
    with zipfile.ZipFile(dists.wheel) as whl:
        names = set(whl.namelist())
        modules = {p.relative_to(REPO).as_posix() for p in (REPO / "tray").rglob("*.py")
                   if "__pycache__" not in p.parts}
        assert modules - names == set()
        data = {f"tray/shared/{p.name}": p for p in [*SHARED.glob("*.json"), *SHARED.glob("*.js")]}
        data |= {f"tray/outputs/http/dashboard/{p.name}": p
                 for p in (REPO / "tray" / "outputs" / "http" / "dashboard").glob("*.html")}
        assert {"tray/shared/palette.json", "tray/shared/status.schema.json", "tray/shared/vocabulary.json",
                "tray/shared/words.js", "tray/outputs/http/dashboard/index.html"} <= set(data)
        for name, src in data.items():
            assert whl.read(name) == src.read_bytes(), name
        top = {n.split("/")[0] for n in names}
        assert top == {"tray", f"secondline-{wheel_version(dists.wheel)}.dist-info"}, top
        meta = whl.read(f"secondline-{wheel_version(dists.wheel)}.dist-info/METADATA").decode()
        assert "License-Expression: MIT" in meta
        assert "[console_scripts]\nsecondline = tray.cli.main:main" in whl.read(
            f"secondline-{wheel_version(dists.wheel)}.dist-info/entry_points.txt").decode()
    with tarfile.open(dists.sdist) as sd:
        root = sd.getnames()[0].split("/")[0]
        members = {n.split("/", 1)[1] for n in sd.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "shared/palette.json", "shared/status.schema.json",
            "shared/vocabulary.json", "shared/words.js",
            "tray/outputs/http/dashboard/index.html"} <= members, (root, sorted(members))


def test_the_installed_copy_runs_from_the_venv_not_the_checkout(venv, dists, home):
    env = outside_env(home)
    assert_installed_in(venv / "bin" / "python", venv, env, home)
    out = run([str(venv / "bin" / "secondline"), "--version"], env, home)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"secondline {wheel_version(dists.wheel)}"


def test_demo_dashboard_status_and_events_from_the_wheel(venv, home):
    with InstalledRun(venv / "bin" / "secondline", outside_env(home), home) as app:
        check_endpoint(app)
        assert app.stop() == 0, app.output()
    assert "Traceback" not in app.output(), app.output()


def test_check_login_and_doctor_from_the_wheel(venv, home):
    check_and_doctor(venv / "bin" / "secondline", home, venv)


def test_icon_in_a_real_tray_from_the_wheel(venv, home):
    check_icon_in_a_tray(venv / "bin" / "secondline", home)
