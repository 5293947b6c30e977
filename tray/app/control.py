"""The CLI's channel to the running tray, authenticated by the operating system.

`secondline snooze`, `pair` and `status` never talk HTTP to whatever listens on 127.0.0.1:PORT: any local
process (another user's too) can bind that port while the tray is down. They talk through a Unix socket,
`<user runtime dir>/secondline/tray-PORT.sock`, and both ends check who is at the other end:

- the directory is created 0700 and must be owned by the user and private (or the client refuses it);
  the socket file must be a socket owned by the user;
- the tray refuses a connection whose peer runs as another user, and the CLI refuses a tray that does:
  SO_PEERCRED on Linux, getpeereid(3) (LOCAL_PEERCRED) on macOS and the BSDs;
- nothing secret crosses it (the CLI needs no token at all), so it works without a keyring too.

Windows' Python has no AF_UNIX (nor peer credentials): there the CLI falls back to the TCP endpoint with
a challenge-response keyed by the install's master from the Credential Manager (tray.outputs.http.signing): the CLI
sends a random challenge, the tray must answer with an HMAC under the key before the CLI sends anything
signed, and every answer is signed. An impostor on the port sees a random challenge and nothing else.

One request per connection: a JSON line {"command", "args"}, answered by a JSON line {"status", ...}.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import socket
import socketserver
import stat
import struct
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

from tray.core.errors import ControlError, NotRunning, NotSecondline  # noqa: F401  (the CLI catches them from here)

log = logging.getLogger(__name__)

USE_SOCKET = hasattr(socket, "AF_UNIX")   # False on Windows: the TCP fallback below
MAX_LINE = 64 * 1024
SERVER_TIMEOUT = 5.0        # seconds a local client has to send its request
MAX_SUN_PATH = 100          # sockaddr_un holds 104 (macOS) to 108 (Linux) bytes
STARTING_GRACE = 1.0        # seconds between a tray's TCP listen and its socket, at most (see call())

Handler = Callable[[str, Mapping[str, Any]], tuple[int, Mapping[str, Any]]]


# -- where the socket lives -------------------------------------------------------------------------

def runtime_dir() -> Path:
    """platformdirs' user runtime dir (XDG_RUNTIME_DIR/secondline, /run/user/UID/secondline on Linux).
    A Linux session with neither (a container, a cron job, su) gets tmp/secondline-UID, decided the same
    way by the tray and the CLI; both ends check it like any other (owner, mode 0700), so another user
    who creates that name first only makes the channel refuse to work, and says so."""
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR") \
            and not Path(f"/run/user/{os.geteuid()}").is_dir():
        return Path(tempfile.gettempdir()) / f"secondline-{os.geteuid()}"
    import platformdirs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # platformdirs' RuntimeDirWarning about its own fallback
        try:
            return Path(platformdirs.user_runtime_dir("secondline"))
        except OSError as exc:
            raise ControlError(f"no private runtime directory for the control socket ({exc}): set "
                               "XDG_RUNTIME_DIR to a directory only you can write") from None


def socket_path(port: int) -> Path:
    return runtime_dir() / f"tray-{port}.sock"


def _check_private_dir(path: Path, *, repair: bool) -> None:
    """The directory must be a real directory of ours that no one else can enter or write."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise NotRunning(f"no control directory {path}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise NotSecondline(f"{path} is not a directory: refusing to use it for the control socket")
    if st.st_uid != os.geteuid():
        raise NotSecondline(f"{path} belongs to uid {st.st_uid}, not you: refusing to use it (set XDG_RUNTIME_DIR "
                            "to a directory of your own)")
    if st.st_mode & 0o077:
        if not repair:
            raise NotSecondline(f"{path} is open to others (mode {stat.S_IMODE(st.st_mode):04o}): refusing to use it")
        os.chmod(path, 0o700)


def _make_private_dir(path: Path) -> None:
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass
    _check_private_dir(path, repair=True)


# -- who is at the other end ----------------------------------------------------------------------

def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket, as the kernel knows it."""
    if hasattr(socket, "SO_PEERCRED"):                         # Linux: struct ucred {pid, uid, gid}
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", raw)[1]
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)   # macOS, BSD: getpeereid(3)
    uid, gid = ctypes.c_uint32(), ctypes.c_uint32()
    if libc.getpeereid(sock.fileno(), ctypes.byref(uid), ctypes.byref(gid)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return uid.value


# -- the tray's side ------------------------------------------------------------------------------

class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, handler: Handler) -> None:
        self.handler = handler
        super().__init__(path, _Request)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        try:
            uid = peer_uid(request)
        except OSError as exc:
            log.warning("control socket: cannot tell who connected (%s): refused", exc)
            return False
        if uid != os.geteuid():
            log.warning("control socket: a process of uid %d tried to connect: refused", uid)
            return False
        return True


class _Request(socketserver.StreamRequestHandler):
    server: _Server
    timeout = SERVER_TIMEOUT

    def handle(self) -> None:
        try:
            line = self.rfile.readline(MAX_LINE + 1)
        except OSError:
            return
        status, payload = self._answer(line)
        try:
            self.wfile.write(json.dumps({"status": status, **payload}).encode() + b"\n")
        except OSError:
            pass

    def _answer(self, line: bytes) -> tuple[int, Mapping[str, Any]]:
        if len(line) > MAX_LINE or not line.endswith(b"\n"):
            return 400, {"error": "request too long or incomplete"}
        try:
            req = json.loads(line)
        except ValueError:
            return 400, {"error": "the request is not JSON"}
        if not isinstance(req, dict) or not isinstance(req.get("command"), str):
            return 400, {"error": "expected {\"command\": ..., \"args\": {...}}"}
        args = req.get("args") or {}
        if not isinstance(args, dict):
            return 400, {"error": "args must be an object"}
        try:
            return self.server.handler(req["command"], args)
        except Exception as exc:    # a bug must not take the channel down
            log.exception("control command %s failed", req["command"])
            return 500, {"error": f"internal error: {type(exc).__name__}"}


class ControlServer:
    """The tray's control socket for the endpoint on `port` (one per running instance)."""

    def __init__(self, port: int, handler: Handler) -> None:
        self.port = port
        self.handler = handler
        self.path: Path | None = None
        self._server: _Server | None = None
        self._inode: int | None = None

    def start(self) -> Path | None:
        """Listen; None (logged) when this platform or session cannot: the tray runs on without it."""
        if not USE_SOCKET:
            log.info("no Unix sockets here: the CLI reaches the tray over 127.0.0.1 with a challenge-response")
            return None
        try:
            path = socket_path(self.port)
            if len(os.fsencode(path)) > MAX_SUN_PATH:
                raise ControlError(f"the control socket path {path} is too long for a Unix socket: set "
                                   "XDG_RUNTIME_DIR to a shorter directory")
            _make_private_dir(path.parent)
            # We hold the TCP port, so a socket left for it is a dead instance's (the directory is ours).
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            self._server = _Server(str(path), self.handler)
            os.chmod(path, 0o600)
            self._inode = path.stat().st_ino
        except (ControlError, OSError) as exc:
            log.warning("no control socket, so `secondline snooze/pair/status` cannot reach this tray: %s", exc)
            self._server = None
            return None
        self.path = path
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.5},
                         name="control", daemon=True).start()
        log.debug("control socket %s", path)
        return path

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        try:
            if self.path is not None and self.path.stat().st_ino == self._inode:
                self.path.unlink()
        except OSError:
            pass


# -- the CLI's side -------------------------------------------------------------------------------

def _tcp_listener(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port (nothing is sent to it)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def _missing(port: int, why: str) -> ControlError:
    if _tcp_listener(port):
        return NotSecondline(f"something listens on 127.0.0.1:{port}, but it is not secondline ({why}; a "
                             "secondline older than this command has none either: restart it); nothing was sent to it")
    return NotRunning(f"secondline is not running on port {port} ({why}): start it with `secondline run`, "
                      "or give the port it runs on with --port")


def call(port: int, command: str, args: Mapping[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
    """Run one command in the tray on `port`; the answer {"status": int, ...}. ControlError when the tray
    cannot be reached or is not ours."""
    if not USE_SOCKET:
        from tray.app import control_tcp
        return control_tcp.call(port, command, args or {}, timeout)
    path = socket_path(port)
    if not path.exists() and _tcp_listener(port):
        # A tray listens on TCP a moment before its socket is there (it must hold the port first): give a
        # starting tray that moment before calling what listens an impostor.
        time.sleep(STARTING_GRACE)
    try:
        _check_private_dir(path.parent, repair=False)
    except NotRunning:
        raise _missing(port, f"no control socket in {path.parent}") from None
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise _missing(port, f"no control socket {path}") from None
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.geteuid():
        raise NotSecondline(f"{path} is not a socket of yours: refusing to talk to it")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        try:
            s.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            raise _missing(port, f"{path} is left from a stopped tray") from None
        uid = peer_uid(s)
        if uid != os.geteuid():
            raise NotSecondline(f"the process behind {path} runs as uid {uid}, not as you: it is not your "
                                "secondline; nothing was sent to it")
        s.sendall(json.dumps({"command": command, "args": dict(args or {})}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > 16 * 1024 * 1024:
                raise ControlError("the tray's answer is too long")
    except socket.timeout:
        raise ControlError(f"the tray did not answer within {timeout:.0f} s") from None
    except OSError as exc:
        raise ControlError(f"cannot talk to the tray through {path}: {exc.strerror or exc}") from None
    finally:
        s.close()
    try:
        reply = json.loads(data)
    except ValueError:
        raise ControlError("the tray's answer was cut off or not JSON") from None
    if not isinstance(reply, dict) or not isinstance(reply.get("status"), int):
        raise ControlError("the tray's answer was not understood")
    return reply
