"""The CLI's control channel (tray/app/control.py): a Unix socket in a private runtime dir, the peer's uid
checked by both ends through the kernel (SO_PEERCRED), and the CLI refusing everything that is not
the user's own tray: a listener on the TCP port, an open directory, a socket of another user, a process
of another user behind the user's socket. The TCP challenge-response fallback (Windows) against the real
app and against an impostor. Cases that need a second uid run it for real when the tests run as root
(as `make test` does), and otherwise fake the uid the check compares with."""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from support.procs import free_port
from tray.app import control
from tray.cli.main import main

NOBODY = 65534
# A Python another user may run (the test's own may sit in root's home): Debian's, whose python3 the
# desktop packages of deps/debian.txt (python3-gi) bring.
OTHER_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


@pytest.fixture
def served(tmp_path):
    calls = []

    def handler(command, args):
        calls.append((command, dict(args)))
        return 200, {"ok": True, "echo": command}

    port = free_port()
    srv = control.ControlServer(port, handler)
    path = srv.start()
    assert path is not None
    yield port, path, calls
    srv.stop()


def test_round_trip_and_modes(served):
    port, path, calls = served
    assert control.call(port, "status", {"x": 1}) == {"status": 200, "ok": True, "echo": "status"}
    assert calls == [("status", {"x": 1})]
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_ISSOCK(path.stat().st_mode)
    assert path.name == f"tray-{port}.sock" and path.parent == Path(os.environ["XDG_RUNTIME_DIR"]) / "secondline"


def test_stop_removes_the_socket(tmp_path):
    port = free_port()
    srv = control.ControlServer(port, lambda c, a: (200, {}))
    path = srv.start()
    srv.stop()
    assert not path.exists()
    with pytest.raises(control.NotRunning, match="not running"):
        control.call(port, "status")


class TcpImpostor:
    """Something else on the tray's TCP port: records every byte it is sent."""

    def __init__(self, port: int, answer: bytes = b""):
        self.received = b""
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.settimeout(2)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    self.received += data
                    if self.answer and b"\r\n\r\n" in self.received:
                        conn.sendall(self.answer)
                        break
            except OSError:
                pass
            conn.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # wakes the accept() (a plain close leaves the port bound)
        except OSError:
            pass
        self.sock.close()


def test_cli_tells_an_impostor_on_the_port_from_secondline_and_sends_it_nothing(capsys):
    port = free_port()
    impostor = TcpImpostor(port)
    try:
        for argv in (["snooze", "1h"], ["pair", "123456"], ["pair", "--list"]):
            assert main([*argv, "--port", str(port)]) == 1
            err = capsys.readouterr().err
            assert f"something listens on 127.0.0.1:{port}, but it is not secondline" in err, err
            assert "nothing was sent to it" in err
        assert main(["status", "--port", str(port)]) == 3
        assert "not secondline" in capsys.readouterr().out
        time.sleep(0.2)
        assert impostor.received == b""
    finally:
        impostor.close()


def test_not_running_says_how_to_start():
    port = free_port()
    with pytest.raises(control.NotRunning) as err:
        control.call(port, "snooze", {"preset": "1h"})
    assert f"secondline is not running on port {port}" in str(err.value) and "secondline run" in str(err.value)


def test_an_open_directory_is_refused(served):
    port, path, calls = served
    os.chmod(path.parent, 0o755)
    try:
        with pytest.raises(control.NotSecondline, match="open to others"):
            control.call(port, "status")
        assert calls == []
    finally:
        os.chmod(path.parent, 0o700)


def _as_nobody(script: str, cwd: str) -> subprocess.Popen:
    return subprocess.Popen([OTHER_PYTHON, "-I", "-c", script], user=NOBODY, group=NOBODY, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


IMPOSTOR_SOCKET = """
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] if len(sys.argv) > 1 else 'impostor.sock'); s.listen()
print('listening', flush=True)
c, _ = s.accept(); c.settimeout(3)
got = b''
try:
    while True:
        d = c.recv(65536)
        if not d: break
        got += d
except OSError:
    pass
print('received', len(got), flush=True)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another user; "
                    "test_another_users_tray_is_refused_by_uid covers the check without it")
def test_another_users_process_behind_the_socket_is_not_secondline():
    """A socket file of the user's own, in the user's own directory, with a process of another user
    behind it (what root could arrange): the kernel's peer credentials give it away."""
    port = free_port()
    path = control.socket_path(port)
    control._make_private_dir(path.parent)
    work = tempfile.mkdtemp(prefix="slimp-")
    os.chown(work, NOBODY, NOBODY)
    child = _as_nobody(IMPOSTOR_SOCKET, work)
    try:
        assert child.stdout.readline().strip() == "listening"
        os.rename(os.path.join(work, "impostor.sock"), path)
        # Owned by nobody: refused before connecting.
        with pytest.raises(control.NotSecondline, match="not a socket of yours"):
            control.call(port, "snooze", {"preset": "1h"})
        os.chown(path, 0, 0)
        with pytest.raises(control.NotSecondline, match=f"runs as uid {NOBODY}, not as you"):
            control.call(port, "snooze", {"preset": "1h"})
        out, _ = child.communicate(timeout=10)
        assert "received 0" in out                    # it learnt nothing
    finally:
        child.kill()
        path.unlink(missing_ok=True)


def test_another_users_tray_is_refused_by_uid(served, monkeypatch):
    """The same check without root: the peer is this process's own uid, and the CLI is told to expect
    another one."""
    port, path, calls = served
    real = os.geteuid()
    monkeypatch.setattr(control.os, "geteuid", lambda: real + 1)
    monkeypatch.setattr(control, "_check_private_dir", lambda p, repair: None)
    with pytest.raises(control.NotSecondline, match=r"not a socket of yours|runs as uid"):
        control.call(port, "status")
    assert calls == []


CLIENT_AS_NOBODY = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print('connect failed', e.errno); sys.exit(0)
got = b''
try:
    s.sendall(json.dumps({'command': 'snooze', 'args': {'preset': '1h'}}).encode() + b'\\n')
except OSError:
    print('reply none'); sys.exit(0)
try:
    while True:
        d = s.recv(65536)
        if not d: break
        got += d
except OSError:
    pass
print('reply', got.decode() or 'none')
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another user")
def test_tray_refuses_another_users_client(served):
    port, path, calls = served
    # The directory keeps other users out ...
    child = subprocess.run([OTHER_PYTHON, "-I", "-c", CLIENT_AS_NOBODY, str(path)], user=NOBODY, group=NOBODY,
                           capture_output=True, text=True, timeout=20, cwd="/")
    assert "connect failed 13" in child.stdout, child.stdout + child.stderr
    # ... and were it opened, the tray checks the peer itself.
    base_mode = stat.S_IMODE(path.parent.parent.stat().st_mode)
    os.chmod(path.parent.parent, 0o755)
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o666)
    try:
        child = subprocess.run([OTHER_PYTHON, "-I", "-c", CLIENT_AS_NOBODY, str(path)], user=NOBODY,
                               group=NOBODY, capture_output=True, text=True, timeout=20, cwd="/")
    finally:
        os.chmod(path.parent.parent, base_mode)
        os.chmod(path.parent, 0o700)
        os.chmod(path, 0o600)
    assert "reply none" in child.stdout, child.stdout + child.stderr
    assert calls == []


def test_requests_are_bounded(served):
    port, path, calls = served
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(path))
    s.sendall(b"x" * (control.MAX_LINE + 10) + b"\n")
    reply = json.loads(s.makefile("rb").readline())
    s.close()
    assert reply["status"] == 400 and calls == []


# -- the TCP fallback (no AF_UNIX: Windows) -----------------------------------------------------

@pytest.fixture
def tcp_only(monkeypatch):
    monkeypatch.setattr(control, "USE_SOCKET", False)
    monkeypatch.setenv("SECONDLINE_SECRET___ENDPOINT__", "master-key-of-this-install-0123")


def test_tcp_fallback_snoozes_the_real_app(tcp_only, tmp_path, capsys):
    from tray.app.wiring import App
    from tray.config.loader import loads
    app = App(loads('[[sources]]\nname = "demo-production"\ntype = "demo"\n', str(tmp_path / "c.toml")),
              headless=True, port=0, watch_config=False, state_path=str(tmp_path / "state.json"),
              token="master-key-of-this-install-0123")
    try:
        app.start()
        assert app.control.path is None                  # no socket on this "platform"
        port = str(app.endpoint.port)
        assert main(["snooze", "1h", "--port", port]) == 0, capsys.readouterr().err
        assert "snoozed until" in capsys.readouterr().out
        assert app.user.snoozed()
        assert main(["status", "--port", port]) == 0
        assert main(["pair", "--list", "--port", port]) == 0
        assert "no paired clients" in capsys.readouterr().out
    finally:
        app.shutdown()


def test_tcp_fallback_proves_the_tray_before_sending_anything(tcp_only, capsys):
    port = free_port()
    bogus = json.dumps({"nonce": "x" * 22, "proof": "y" * 43}).encode()
    impostor = TcpImpostor(port, answer=b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                           + str(len(bogus)).encode() + b"\r\n\r\n" + bogus)
    try:
        assert main(["snooze", "1h", "--port", str(port)]) == 1
        err = capsys.readouterr().err
        assert "is not secondline (it could not prove it knows this install's key)" in err, err
        time.sleep(0.2)
        seen = impostor.received.decode()
        assert seen.startswith("POST /control/hello ") and impostor.connections == 1
        assert "Authorization" not in seen and "master-key" not in seen and "snooze" not in seen
    finally:
        impostor.close()
