"""A private Nagios 4 (Debian's nagios4-core) and its real statusjson.cgi (nagios4-cgi) behind a
private Apache (apache2-bin, its own -f config), both on loopback, as the current user where Apache
allows it; nothing under /etc or /var is read or written.

Layout of the temp dir (world-traversable: when the tests run as root, Apache serves CGIs as `nobody`):
  nagios.cfg, objects.cfg, cgi.cfg   the daemon's and the CGIs' configuration (NAGIOS_CGI_CONFIG)
  check.sh, state/                   every check runs check.sh, which reads state/HOST or state/HOST!SVC
                                     ("<exit code> <output>"; no file = OK): the test sets states there
  var/                               status.dat, objects.cache, the external command file (nagios.cmd)
  apache/                            httpd.conf, htpasswd (Basic), htdigest (Digest), logs, pid

Apache serves the CGIs where Debian's /etc/nagios4/apache2.conf does (/nagios4/cgi-bin and
/cgi-bin/nagios4) with Debian's Digest auth (realm "Nagios4", htdigest.users), where upstream's
sample httpd.conf does (/nagios/cgi-bin) with Basic auth (realm "Nagios Access", htpasswd.users), and
at /nologin/cgi-bin without any login (the CGIs then get no user name).
cgi.cfg has use_authentication=1: user `nagiosadmin` sees everything, user `viewer` only the
objects it is a contact of (host db01), as Nagios's own authorization decides; user `stranger` gets past
Apache but Nagios knows nothing of it (no contact, not in cgi.cfg), so it sees no object at all.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from requests.auth import HTTPDigestAuth

from support.nagioscfg import (ADMIN, ADMIN_PW, APACHE, CGI_DIR, CHECK_SH, DIGEST_REALM, NAGIOS, NEVER_CHECKED, STRANGER,
                       STRANGER_PW, USERS, VIEWER, VIEWER_PW, cgi_cfg, httpd_conf, nagios_cfg, objects_cfg)
from support.procs import free_port


class Nagios:
    """`start()` writes everything and runs both daemons; `stop()` stops them by PID."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="secondline-nagios-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.nagios: subprocess.Popen | None = None
        self.apache: subprocess.Popen | None = None
        self.logs: list[Any] = []
        # What the tests drive the server with: Debian's Digest path, as nagiosadmin.
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = HTTPDigestAuth(ADMIN, ADMIN_PW)

    # -- URLs as a user would configure them ---------------------------------------------------
    @property
    def debian_url(self) -> str:         # Digest
        return f"{self.base}/nagios4"

    @property
    def debian_cgi_url(self) -> str:     # Debian's other alias, Digest
        return f"{self.base}/cgi-bin/nagios4"

    @property
    def upstream_url(self) -> str:       # Basic
        return f"{self.base}/nagios"

    @property
    def nologin_url(self) -> str:        # no auth at all: Nagios gets no user name
        return f"{self.base}/nologin"

    @property
    def statusjson(self) -> str:
        return f"{self.base}/nagios4/cgi-bin/statusjson.cgi"

    # -- lifecycle ------------------------------------------------------------------------------
    def write(self) -> None:
        d = self.dir
        as_root = os.geteuid() == 0
        user = "root" if as_root else subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        group = "root" if as_root else subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
        for sub in ("state", "var", "var/rw", "var/checkresults", "apache", "apache/run", "apache/htdocs"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "check.sh").write_text(CHECK_SH)
        (d / "nagios.cfg").write_text(nagios_cfg(d, user, group))
        (d / "objects.cfg").write_text(objects_cfg(d))
        (d / "cgi.cfg").write_text(cgi_cfg(d))
        (d / "apache" / "httpd.conf").write_text(httpd_conf(d, self.port, as_root))
        # htpasswd from apache2-utils, as upstream's install instructions do; bcrypt.
        for i, (u, p) in enumerate(USERS):
            subprocess.run(["htpasswd", "-cbB" if i == 0 else "-bB", "-C", "4", str(d / "apache" / "htpasswd.users"),
                            u, p], check=True, capture_output=True)
        # htdigest's format (the tool itself only reads a password from a terminal).
        lines = [f"{u}:{DIGEST_REALM}:{hashlib.md5(f'{u}:{DIGEST_REALM}:{p}'.encode()).hexdigest()}\n"
                 for u, p in USERS]
        (d / "apache" / "htdigest.users").write_text("".join(lines))
        # The CGIs run as `nobody` under root: they must read the configs, status.dat and objects.cache.
        for p in [d, *d.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        (d / "var" / "rw").chmod(0o700)   # the command file: only the daemon's user (and the test) write

    def start(self, timeout: float = 60) -> "Nagios":
        for binary in (NAGIOS, APACHE, f"{CGI_DIR}/statusjson.cgi"):
            if not os.path.exists(binary):
                raise RuntimeError(f"{binary} is missing: install nagios4-core nagios4-cgi apache2-bin "
                                   "(deps/debian.txt)")
        self.write()
        subprocess.run([NAGIOS, "-v", str(self.dir / "nagios.cfg")], check=True, capture_output=True)
        self.start_nagios()
        self.start_apache()
        self.wait_ready(timeout)
        return self

    def start_nagios(self) -> None:
        log = open(self.dir / "nagios.stdout", "ab")
        self.logs.append(log)
        # Foreground (no -d), its own session: stop() signals exactly this PID.
        self.nagios = subprocess.Popen([NAGIOS, str(self.dir / "nagios.cfg")], stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def start_apache(self) -> None:
        log = open(self.dir / "apache" / "stdout.log", "ab")
        self.logs.append(log)
        self.apache = subprocess.Popen([APACHE, "-f", str(self.dir / "apache" / "httpd.conf"), "-DFOREGROUND"],
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, env={"PATH": os.environ.get("PATH", ""),
                                                                    "LANG": "C"})

    def wait_ready(self, timeout: float = 60) -> None:
        """Ready = the CGI answers and every object has had its first check (nothing PENDING)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name, p in (("nagios", self.nagios), ("apache", self.apache)):
                if p is not None and p.poll() is not None:
                    raise RuntimeError(f"{name} exited rc={p.returncode}: {self.tail()}")
            try:
                svcs = self.query("servicecount")["data"]["count"]
                hosts = self.query("hostcount")["data"]["count"]
                if svcs.get("pending", 1) == len(NEVER_CHECKED) and hosts.get("pending", 1) == 0:
                    return
                last = f"pending: {svcs.get('pending')} services, {hosts.get('pending')} hosts"
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise TimeoutError(f"nagios not ready within {timeout}s ({last}): {self.tail()}")

    def tail(self) -> str:
        out = []
        for f in (self.dir / "nagios.stdout", self.dir / "var" / "nagios.log", self.dir / "apache" / "error.log",
                  self.dir / "apache" / "stdout.log"):
            if f.exists():
                out.append(f"--- {f.name}\n" + f.read_text(errors="replace")[-1500:])
        return "\n".join(out)

    def stop_nagios(self) -> None:
        _stop(self.nagios)

    def stop_apache(self) -> None:
        _stop(self.apache)

    def stop(self) -> None:
        self.stop_apache()
        self.stop_nagios()
        for log in self.logs:
            log.close()
        self.session.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- driving it -----------------------------------------------------------------------------
    def query(self, query: str, **params: str) -> Any:
        r = self.session.get(self.statusjson, params={"query": query, **params}, timeout=10)
        r.raise_for_status()
        return r.json()

    def command(self, line: str) -> None:
        """One external command, written to the command file (a FIFO) as cmd.cgi would. Non-blocking:
        with no Nagios reading it, opening fails at once (ENXIO) instead of hanging the test."""
        fd = os.open(self.dir / "var" / "rw" / "nagios.cmd", os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, f"[{int(time.time())}] {line}\n".encode())
        finally:
            os.close(fd)

    def set_state(self, obj: str, code: int, output: str = "") -> None:
        """The next check of `host` or `host!service` returns `code`; a check is forced now."""
        path = self.dir / "state" / obj
        if code == 0 and not output:
            path.unlink(missing_ok=True)
        else:
            path.write_text(f"{code} {output or ('state %d' % code)}\n")
            path.chmod(0o644)
        now = int(time.time())
        if "!" in obj:
            host, svc = obj.split("!", 1)
            self.command(f"SCHEDULE_FORCED_SVC_CHECK;{host};{svc};{now}")
        else:
            self.command(f"SCHEDULE_FORCED_HOST_CHECK;{obj};{now}")

    def status(self, obj: str) -> dict[str, Any]:
        if "!" in obj:
            host, svc = obj.split("!", 1)
            return self.query("service", hostname=host, servicedescription=svc)["data"]["service"]
        return self.query("host", hostname=obj)["data"]["host"]

    def wait_status(self, obj: str, status: int, timeout: float = 20, **fields: Any) -> dict[str, Any]:
        """Until statusjson shows `obj` with this status bitmask (and these field values)."""
        deadline = time.monotonic() + timeout
        d: dict[str, Any] = {}
        while time.monotonic() < deadline:
            d = self.status(obj)
            if d.get("status") == status and all(d.get(k) == v for k, v in fields.items()):
                return d
            time.sleep(0.1)
        raise AssertionError(f"{obj} did not reach status {status} {fields} within {timeout}s: {d}")

    def acknowledge(self, obj: str, comment: str = "on it") -> None:
        if "!" in obj:
            host, svc = obj.split("!", 1)
            self.command(f"ACKNOWLEDGE_SVC_PROBLEM;{host};{svc};1;0;1;test;{comment}")
        else:
            self.command(f"ACKNOWLEDGE_HOST_PROBLEM;{obj};1;0;1;test;{comment}")

    def downtime(self, obj: str, seconds: int = 3600) -> None:
        now = int(time.time())
        if "!" in obj:
            host, svc = obj.split("!", 1)
            self.command(f"SCHEDULE_SVC_DOWNTIME;{host};{svc};{now - 1};{now + seconds};1;0;{seconds};test;maintenance")
        else:
            self.command(f"SCHEDULE_HOST_DOWNTIME;{obj};{now - 1};{now + seconds};1;0;{seconds};test;maintenance")

    def clear(self, obj: str) -> None:
        """Back to OK, acknowledgement and downtimes removed."""
        if "!" in obj:
            host, svc = obj.split("!", 1)
            self.command(f"REMOVE_SVC_ACKNOWLEDGEMENT;{host};{svc}")
            self.command(f"DEL_DOWNTIME_BY_HOST_NAME;{host};{svc}")
        else:
            self.command(f"REMOVE_HOST_ACKNOWLEDGEMENT;{obj}")
            self.command(f"DEL_DOWNTIME_BY_HOST_NAME;{obj}")
        self.set_state(obj, 0)


def _stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM the process (Apache's parent stops its children, Nagios its workers), then wait until
    its whole process group (its own session, started by us) is gone; SIGKILL what is left."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
