"""The data the app reads at run time (contract, dashboard) comes from the installed package through
importlib.resources, here from the editable install the suite runs on (pyproject.toml maps shared/ into
it as `tray.shared`); `--version` is the installed distribution's. The wheel, pipx and the one-file
binary are checked in test_wheel.py, test_pipx.py and test_build.py."""
from __future__ import annotations

import importlib.metadata
import re
from importlib.resources import files
from pathlib import Path

import pytest

from tray.cli import main as cli
from tray.core import document
from tray.outputs.http import server

REPO = Path(__file__).resolve().parents[2]


def test_contract_files_are_the_repository_shared_folder_byte_for_byte():
    for name in document.CONTRACT_FILES:
        assert document.contract_bytes(name) == (REPO / "shared" / name).read_bytes(), name
    # The editable install reads the one copy in place: an edit of shared/ is seen without reinstalling.
    assert Path(str(files("tray.shared") / "palette.json")).resolve() == REPO / "shared" / "palette.json"
    assert document.palette()["critical"].startswith("#")
    assert document.schema()["$schema"].startswith("https://json-schema.org/")


def test_only_the_contract_files_are_served_from_the_package():
    with pytest.raises(KeyError):
        document.contract_bytes("__init__.py")
    with pytest.raises(KeyError):
        document.contract_bytes("../pyproject.toml")


def test_dashboard_template_is_package_data():
    page = REPO / "tray" / "outputs" / "http" / "dashboard" / "index.html"
    assert server.dashboard_template() == page.read_text(encoding="utf-8")
    assert "/*PALETTE*/" in server.dashboard_template()


def test_no_module_finds_its_data_by_walking_from_its_own_file():
    """Data is found with importlib.resources, which answers the same in a checkout, a wheel, a zip and a
    PyInstaller bundle; a path built from __file__ or sys._MEIPASS only works in some of them."""
    offenders = [f"{p.relative_to(REPO)}:{n}" for p in sorted((REPO / "tray").rglob("*.py"))
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"__file__|_MEIPASS", line)]
    assert offenders == []


def test_version_is_the_installed_distributions(monkeypatch, capsys):
    assert cli.installed_version() == importlib.metadata.version("secondline")

    def fake_version(name: str) -> str:
        assert name == "secondline"
        return "9.9.9"
    monkeypatch.setattr(importlib.metadata, "version", fake_version)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == "secondline 9.9.9\n"


def test_version_without_any_distribution_metadata_falls_back_to_the_source(monkeypatch):
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(importlib.metadata, "version", missing)
    from tray import __version__
    assert cli.installed_version() == __version__
