"""What `secondline run` prints on its console when sources cannot be read: the app's own one-line
reasons, each once, a pop-up (here: a [notification] line) for every source that cannot be read at
start-up, and nothing of the libraries underneath (urllib3's retry warnings, InsecureRequestWarning).
"""
from __future__ import annotations

import re
import time

import pytest

from support.e2e import clean_env
from support.faults import FaultServer
from support.procs import free_port

pytestmark = pytest.mark.slow   # real processes and desktop services: seconds each

CONFIG = """
[[sources]]
name = "am"
type = "alertmanager"
url = "http://127.0.0.1:{refused}"
interval = 2

[[sources]]
name = "prom"
type = "prometheus"
url = "http://127.0.0.1:{refused}"
interval = 2

[[sources]]
name = "ici"
type = "icinga2"
url = "https://127.0.0.1:{refused}"
username = "root"
interval = 2

[[sources]]
name = "selfsigned"
type = "http"
url = "{tls}/health"
verify_tls = false
interval = 2
"""


def test_unreadable_sources_at_start_up_are_each_said_once(run_app, home, tmp_path):
    with FaultServer() as srv:
        srv.ok({"ok": True})
        cfg = tmp_path / "config.toml"
        cfg.write_text(CONFIG.format(refused=free_port(), tls=srv.base_url("tls")))
        env = clean_env(home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        app = run_app(["run", "--headless", "--config", str(cfg)], env)
        app.wait_output("[notification]", timeout=20)
        # Several polls of each source (interval 2 s, backing off), and the pop-ups.
        app.wait_status(lambda d: all(s["checked_at"] or s["error"] for s in d["sources"]), timeout=15)
        time.sleep(7)
        out = app.output()
        assert app.stop() == 0

    popups = [line for line in out.splitlines() if "[notification]" in line]
    # Every source that cannot be read from the start is announced, together or apart.
    for name in ("am", "prom", "ici"):
        assert any(re.search(rf"\b{name}\b.*cannot be read|cannot be read.*\b{name}:", p) for p in popups), \
            (name, popups)
    assert not any("selfsigned" in p for p in popups), popups
    # Each source's trouble is logged once, however many polls and watcher threads met it.
    for name in ("am", "prom", "ici"):
        said = [line for line in out.splitlines() if f"WARNING source {name}:" in line]
        assert len(said) == 1, (name, said)
    # Only the app's own words: no urllib3 retry warnings, no library warnings, no tracebacks.
    for noise in ("Retrying (", "urllib3", "NewConnectionError", "InsecureRequestWarning", "Traceback"):
        assert noise not in out, (noise, out)
    # What verify_tls = false means is said by the app, once.
    assert out.count("is not checked (verify_tls = false)") == 1, out
