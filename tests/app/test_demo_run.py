"""`secondline run --demo --headless` end to end: the real process drives the health through every
state, the endpoint follows, and notifications are printed."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import jsonschema
import pytest

from support.procs import free_port

from tray.core.document import schema

pytestmark = pytest.mark.slow


def get(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=3) as r:
        return json.loads(r.read())


def test_demo_cycles_through_every_state(tmp_path):
    port = free_port()
    env = dict(os.environ)
    env.pop("DISPLAY", None); env.pop("WAYLAND_DISPLAY", None)
    out = open(tmp_path / "out.log", "w+")
    p = subprocess.Popen([sys.executable, "-m", "tray", "run", "--demo", "--port", str(port)],
                         stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        seen = []
        validator = jsonschema.Draft202012Validator(schema())
        end = time.monotonic() + 45
        # "no_data" (joined before the first poll, seen on a busy machine) is not one of the five states.
        while time.monotonic() < end and len(set(seen) - {"no_data"}) < 5:
            try:
                doc = get(port)
            except OSError:
                time.sleep(0.2); continue
            validator.validate(doc)
            if not seen or seen[-1] != doc["state"]:
                seen.append(doc["state"])
            time.sleep(0.2)
        states = [s for s in seen if s != "no_data"]
        # ok -> warning -> critical -> handled_only -> unknown (in that order, from wherever we joined)
        order = ["ok", "warning", "critical", "handled_only", "unknown"]
        first = states.index("warning")
        assert states[first:first + 4] == order[1:], seen
        time.sleep(6)
        text = open(tmp_path / "out.log").read()
        assert "no display" in text
        assert "[notification] Warning: app-staging-1: disk /var" in text
        assert "[notification] Critical: web01: http" in text
        assert "Traceback" not in text
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
