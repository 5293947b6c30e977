"""Stopping helper processes the tests start (Xvfb, trayer, dbus-daemon...)."""
from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen | None, timeout: float = 5) -> None:
    """Terminate, then kill if it does not go within `timeout`; a finished process is left alone."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)
