"""The extension's JavaScript unit tests (node --test) and `web-ext lint` on the Firefox build, run from pytest
so that one pytest command covers the extension. web-ext comes from extension/package-lock.json (`npm ci`)."""
from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import REPO, which_node

EXT = REPO / "extension"


def test_node_unit_tests_pass():
    node = which_node()
    tests = sorted(str(p) for p in (EXT / "test").glob("*.test.js"))
    assert tests, "no extension/test/*.test.js"
    run = subprocess.run([node, "--test", *tests], cwd=EXT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout


def test_web_ext_lint_passes_on_the_firefox_build(tmp_path):
    web_ext = EXT / "node_modules" / ".bin" / "web-ext"
    if not web_ext.exists():
        pytest.fail("web-ext is not installed: run `npm ci` in extension/ (it is in package-lock.json)")
    node = which_node()
    subprocess.run([node, str(EXT / "build.mjs"), "--out", str(tmp_path)], check=True, capture_output=True)
    run = subprocess.run([str(web_ext), "lint", "--source-dir", str(tmp_path / "extension-firefox"),
                          "--warnings-as-errors", "--output", "json", "--no-config-discovery"],
                         cwd=EXT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["count"] == 0, report
    assert report["metadata"]["manifestVersion"] == 3
