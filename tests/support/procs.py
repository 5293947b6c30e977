"""Helper processes the tests start (Xvfb, trayer, dbus-daemon, the app...): a port for one, and
stopping it."""
from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    """A loopback port free right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
