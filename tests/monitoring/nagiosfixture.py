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
/cgi-bin/nagios4) with Debian's Digest auth (realm "Nagios4", htdigest.users), and where upstream's
sample httpd.conf does (/nagios/cgi-bin) with Basic auth (realm "Nagios Access", htpasswd.users).
cgi.cfg has use_authentication=1: user `nagiosadmin` sees everything, user `viewer` only the
objects it is a contact of (host db01), as Nagios's own authorization decides.
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

from support.procs import free_port

NAGIOS = "/usr/sbin/nagios4"
APACHE = "/usr/sbin/apache2"
CGI_DIR = "/usr/lib/cgi-bin/nagios4"
MODULES = "/usr/lib/apache2/modules"
PLUGINS_OK = "/usr/lib/nagios/plugins"

ADMIN, ADMIN_PW = "nagiosadmin", "n4g-admin pw"
VIEWER, VIEWER_PW = "viewer", "view-only"
DIGEST_REALM = "Nagios4"             # Debian's /etc/nagios4/apache2.conf
BASIC_REALM = "Nagios Access"        # upstream sample-config/httpd.conf

# host -> its services. Each test drives its own objects, so tests do not disturb each other.
HOSTS: dict[str, list[str]] = {
    "web01": ["http", "disk", "load", "ssh"],
    "db01": ["mysql", "backup"],
    "app01": ["api", "queue", "cert"],
    "edge01": [],                        # host-state tests
    "edge02": [],                        # behind edge01 (parents): unreachable when both fail
    "lab01": ["flappy", "never"],        # flappy: 10 attempts, a non-OK result stays SOFT;
                                         # never: active checks off, never checked: PENDING
    "bench01": ["probe"],                # the detection-latency benchmark
}
SOFT_SERVICES = {("lab01", "flappy")}
NEVER_CHECKED = {("lab01", "never")}
PARENTS = {"edge02": "edge01"}

CHECK_SH = """#!/bin/sh
# check.sh HOST [SERVICE]: the state the test wrote to state/HOST or state/HOST!SERVICE, else OK.
f="$(dirname "$0")/state/$1${2:+!$2}"
if [ -f "$f" ]; then
  read -r code output < "$f"
  echo "$output"
  exit "$code"
fi
echo "OK - all fine"
exit 0
"""


def _nagios_cfg(d: Path, user: str, group: str) -> str:
    v = d / "var"
    return f"""\
log_file={v}/nagios.log
cfg_file={d}/objects.cfg
object_cache_file={v}/objects.cache
precached_object_file={v}/objects.precache
status_file={v}/status.dat
status_update_interval=1
nagios_user={user}
nagios_group={group}
check_external_commands=1
command_file={v}/rw/nagios.cmd
query_socket={v}/rw/nagios.qh
lock_file={v}/nagios.lock
temp_file={v}/nagios.tmp
temp_path={v}
check_result_path={v}/checkresults
check_result_reaper_frequency=1
max_check_result_reaper_time=2
event_broker_options=0
log_rotation_method=n
log_archive_path={v}
use_syslog=0
log_initial_states=0
log_external_commands=1
log_passive_checks=1
retain_state_information=0
interval_length=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
max_service_check_spread=1
max_host_check_spread=1
max_concurrent_checks=0
service_check_timeout=10
host_check_timeout=10
execute_service_checks=1
execute_host_checks=1
accept_passive_service_checks=1
accept_passive_host_checks=1
enable_notifications=0
enable_event_handlers=0
enable_flap_detection=0
check_for_orphaned_services=0
check_for_orphaned_hosts=0
check_service_freshness=0
check_host_freshness=0
check_for_updates=0
bare_update_check=0
date_format=iso8601
illegal_object_name_chars=`~$%^&*|'"<>?,()=
illegal_macro_output_chars=`~$&|'"<>
debug_level=0
debug_file={v}/nagios.debug
"""


def _objects_cfg(d: Path) -> str:
    out = [f"""\
define timeperiod {{
  timeperiod_name 24x7
  alias always
  sunday 00:00-24:00
  monday 00:00-24:00
  tuesday 00:00-24:00
  wednesday 00:00-24:00
  thursday 00:00-24:00
  friday 00:00-24:00
  saturday 00:00-24:00
}}
define command {{
  command_name check_state_host
  command_line /bin/sh {d}/check.sh $HOSTNAME$
}}
define command {{
  command_name check_state_service
  command_line /bin/sh {d}/check.sh $HOSTNAME$ $SERVICEDESC$
}}
define command {{
  command_name notify_nobody
  command_line /bin/true
}}
define contact {{
  contact_name {ADMIN}
  alias Nagios Admin
  host_notifications_enabled 0
  service_notifications_enabled 0
  host_notification_period 24x7
  service_notification_period 24x7
  host_notification_options n
  service_notification_options n
  host_notification_commands notify_nobody
  service_notification_commands notify_nobody
}}
define contact {{
  contact_name {VIEWER}
  alias Read-only viewer of db01
  host_notifications_enabled 0
  service_notifications_enabled 0
  host_notification_period 24x7
  service_notification_period 24x7
  host_notification_options n
  service_notification_options n
  host_notification_commands notify_nobody
  service_notification_commands notify_nobody
}}
define host {{
  name test-host
  register 0
  check_command check_state_host
  check_interval 2
  retry_interval 1
  max_check_attempts 1
  check_period 24x7
  notification_period 24x7
  notifications_enabled 0
  contacts {ADMIN}
  active_checks_enabled 1
}}
define service {{
  name test-service
  register 0
  check_command check_state_service
  check_interval 2
  retry_interval 1
  max_check_attempts 1
  check_period 24x7
  notification_period 24x7
  notifications_enabled 0
  contacts {ADMIN}
  active_checks_enabled 1
}}
"""]
    for host, services in HOSTS.items():
        contacts = f"{ADMIN},{VIEWER}" if host == "db01" else ADMIN
        parents = f"  parents {PARENTS[host]}\n" if host in PARENTS else ""
        out.append(f"define host {{\n  use test-host\n  host_name {host}\n  alias {host.upper()}\n"
                   f"  address 127.0.0.1\n  contacts {contacts}\n{parents}}}\n")
        for svc in services:
            extra = "  max_check_attempts 10\n  retry_interval 600\n" if (host, svc) in SOFT_SERVICES else ""
            extra += "  active_checks_enabled 0\n" if (host, svc) in NEVER_CHECKED else ""
            out.append(f"define service {{\n  use test-service\n  host_name {host}\n  service_description {svc}\n"
                       f"  contacts {contacts}\n{extra}}}\n")
    return "".join(out)


def _cgi_cfg(d: Path) -> str:
    # The CGIs trust the web server's REMOTE_USER; cgi.cfg decides what each user may see.
    return f"""\
main_config_file={d}/nagios.cfg
physical_html_path=/usr/share/nagios4/htdocs
url_html_path=/nagios4
use_authentication=1
use_ssl_authentication=0
authorized_for_system_information={ADMIN}
authorized_for_configuration_information={ADMIN}
authorized_for_system_commands={ADMIN}
authorized_for_all_services={ADMIN}
authorized_for_all_hosts={ADMIN}
authorized_for_all_service_commands={ADMIN}
authorized_for_all_host_commands={ADMIN}
use_pending_states=1
result_limit=100
escape_html_tags=1
lock_author_names=1
"""


def _httpd_conf(d: Path, port: int, as_root: bool) -> str:
    a = d / "apache"
    mods = ["mpm_prefork", "authz_core", "authz_host", "authz_user", "authn_core", "authn_file", "auth_basic",
            "auth_digest", "alias", "cgi", "env"]
    load = "\n".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in mods)
    # Apache refuses to serve as root: as root its children become `nobody`, as anyone else they stay.
    user = "User nobody\nGroup nogroup\n" if as_root else ""
    auth_digest = f"""\
    AuthType Digest
    AuthName "{DIGEST_REALM}"
    AuthDigestDomain "{DIGEST_REALM}"
    AuthDigestProvider file
    AuthUserFile "{a}/htdigest.users"
    Require valid-user"""
    auth_basic = f"""\
    AuthType Basic
    AuthName "{BASIC_REALM}"
    AuthBasicProvider file
    AuthUserFile "{a}/htpasswd.users"
    Require valid-user"""
    return f"""\
ServerRoot "{a}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{a}/httpd.pid"
DefaultRuntimeDir "{a}/run"
Mutex file:{a}/run default
ErrorLog "{a}/error.log"
LogLevel warn
{load}
{user}LogFormat "%h %u %t \\"%r\\" %>s %b" common
CustomLog "{a}/access.log" common
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16
Timeout 30
KeepAlive On

# Debian's paths (nagios4-cgi's /etc/nagios4/apache2.conf) and upstream's.
ScriptAlias /cgi-bin/nagios4 {CGI_DIR}
ScriptAlias /nagios4/cgi-bin {CGI_DIR}
ScriptAlias /nagios/cgi-bin {CGI_DIR}
SetEnv NAGIOS_CGI_CONFIG {d}/cgi.cfg

<Directory />
    Require all denied
</Directory>
<Directory {CGI_DIR}>
    Options +ExecCGI
    Require all granted
</Directory>
<Location /cgi-bin/nagios4>
{auth_digest}
</Location>
<Location /nagios4/cgi-bin>
{auth_digest}
</Location>
<Location /nagios/cgi-bin>
{auth_basic}
</Location>
"""


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
    def statusjson(self) -> str:
        return f"{self.base}/nagios4/cgi-bin/statusjson.cgi"

    # -- lifecycle ------------------------------------------------------------------------------
    def write(self) -> None:
        d = self.dir
        as_root = os.geteuid() == 0
        user = "root" if as_root else subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        group = "root" if as_root else subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
        for sub in ("state", "var", "var/rw", "var/checkresults", "apache", "apache/run"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "check.sh").write_text(CHECK_SH)
        (d / "nagios.cfg").write_text(_nagios_cfg(d, user, group))
        (d / "objects.cfg").write_text(_objects_cfg(d))
        (d / "cgi.cfg").write_text(_cgi_cfg(d))
        (d / "apache" / "httpd.conf").write_text(_httpd_conf(d, self.port, as_root))
        # htpasswd from apache2-utils, as upstream's install instructions do; bcrypt.
        subprocess.run(["htpasswd", "-cbB", "-C", "4", str(d / "apache" / "htpasswd.users"), ADMIN, ADMIN_PW],
                       check=True, capture_output=True)
        subprocess.run(["htpasswd", "-bB", "-C", "4", str(d / "apache" / "htpasswd.users"), VIEWER, VIEWER_PW],
                       check=True, capture_output=True)
        # htdigest's format (the tool itself only reads a password from a terminal).
        lines = [f"{u}:{DIGEST_REALM}:{hashlib.md5(f'{u}:{DIGEST_REALM}:{p}'.encode()).hexdigest()}\n"
                 for u, p in ((ADMIN, ADMIN_PW), (VIEWER, VIEWER_PW))]
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
