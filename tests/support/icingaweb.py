"""Icinga Web 2 (Debian's icingaweb2 + its monitoring module) over a real IDO database, all private and
on loopback:

- MariaDB (mariadb-server): mariadb-install-db + mariadbd on a temp datadir, TCP on 127.0.0.1:PORT,
  no fsync (test data); databases `icinga` (the IDO schema from icinga2-ido-mysql) and `icingaweb2`
  (Icinga Web's own schema: its users, with PHP password_hash()es);
- icinga2: the same private instance the Icinga tests use (tests/support/mk-icinga.sh), with the IDO
  feature added (IDO_MYSQL_PORT), so states set through its API land in the IDO as in production;
- Icinga Web 2 served by PHP's built-in server with its own router (what `icingacli web serve` runs),
  ICINGAWEB_CONFIGDIR pointing at a private config: a `db` user backend, roles (`icingaadmin` sees
  everything; `viewer` only host h2, through a monitoring/filter/objects restriction; `outsider` nothing,
  its restriction matching no object; `newcomer` signs in but has no role), the monitoring
  module enabled with the IDO as its backend.

Each process is started in its own session and stopped by its PID.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from support.procs import free_port

from support.icinga2 import Icinga, start_icinga, stop_icinga

ADMIN, ADMIN_PW = "icingaadmin", "iw admin pw"
VIEWER, VIEWER_PW = "viewer", "view only pw"
# Signs in, but its role's object filter matches no object: it sees nothing (issue 17's blind reader).
OUTSIDER, OUTSIDER_PW = "outsider", "outside pw"
# Signs in, but no role names it: no permission at all.
NEWCOMER, NEWCOMER_PW = "newcomer", "new pw"
WEB_USERS = ((ADMIN, ADMIN_PW), (VIEWER, VIEWER_PW), (OUTSIDER, OUTSIDER_PW), (NEWCOMER, NEWCOMER_PW))
IDO_USER, IDO_PW = "icinga", "ido-pw"
WEB_DB_USER, WEB_DB_PW = "icingaweb2", "iw-db-pw"
IDO_SCHEMA = "/usr/share/icinga2-ido-mysql/schema/mysql.sql"
WEB_SCHEMA = "/usr/share/icingaweb2/schema/mysql.schema.sql"
WEB_PUBLIC = "/usr/share/icingaweb2/public"
WEB_ROUTER = "/usr/share/php/Icinga/Application/webrouter.php"
MONITORING_MODULE = "/usr/share/icingaweb2/modules/monitoring"
# Icinga Web below /icingaweb2 only, as Debian's Apache alias serves it (every other path is the web server's
# 404). PHP's built-in server has no aliases: this router sets what Apache's alias would (SCRIPT_NAME under
# the prefix) before Icinga Web's own router runs, so Icinga Web computes its base URL as /icingaweb2.
PREFIX = "/icingaweb2"
PREFIX_ROUTER = f"""<?php
$prefix = '{PREFIX}';
$uri = $_SERVER['REQUEST_URI'];
if ($uri !== $prefix && strpos($uri, $prefix . '/') !== 0 && strpos($uri, $prefix . '?') !== 0) {{
    http_response_code(404);
    header('Content-Type: text/html');
    echo "<html><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\\n";
    return true;
}}
$_SERVER['SERVER_SOFTWARE'] = 'Apache';
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $prefix . '/index.php';
$_SERVER['SCRIPT_FILENAME'] = '{WEB_PUBLIC}/index.php';
return require '{WEB_ROUTER}';
"""
# Test data only: no fsync, small buffers.
MARIADB_OPTS = ["--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M", "--innodb-flush-method=nosync",
                "--innodb-doublewrite=0", "--innodb-flush-log-at-trx-commit=0", "--skip-log-bin",
                "--performance-schema=OFF",
                # Grants name 127.0.0.1; without this mariadb-install-db needs the host's own name to
                # resolve, and a minimal Debian root (no /etc/hosts) resolves neither it nor localhost.
                "--skip-name-resolve"]


def _as_root() -> list[str]:
    return ["--user=root"] if os.geteuid() == 0 else []


class MariaDB:
    def __init__(self, d: Path) -> None:
        self.dir = d
        self.port = free_port()
        self.sock = d / "mysqld.sock"
        self.proc: subprocess.Popen | None = None

    def install(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # --force: the script refuses to run unless `hostname` or localhost resolves (--skip-name-resolve
        # does not stop that check), and a minimal root has no /etc/hosts.
        subprocess.run(["mariadb-install-db", "--no-defaults", "--force", f"--datadir={self.dir / 'data'}",
                        "--auth-root-authentication-method=normal", "--skip-test-db", *_as_root(), *MARIADB_OPTS],
                       check=True, capture_output=True)

    def start(self, timeout: float = 60) -> None:
        self.log = open(self.dir / "mariadbd.out", "ab")
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.dir / 'data'}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.sock}", f"--pid-file={self.dir / 'mariadbd.pid'}",
             f"--log-error={self.dir / 'mariadbd.err'}", *_as_root(), *MARIADB_OPTS],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {(self.dir / 'mariadbd.err').read_text()[-2000:]}")
            if subprocess.run(self._client() + ["-e", "SELECT 1"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("mariadbd did not accept connections")

    def _client(self, db: str = "") -> list[str]:
        return ["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot", *([db] if db else [])]

    def sql(self, text: str, db: str = "") -> str:
        r = subprocess.run(self._client(db) + ["-N", "-B", "-e", text], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"SQL failed: {r.stderr.strip()}")
        return r.stdout

    def load(self, db: str, schema: str) -> None:
        with open(schema, "rb") as f:
            subprocess.run(self._client(db), stdin=f, check=True, capture_output=True)

    def stop(self) -> None:
        _stop(self.proc)
        if getattr(self, "log", None):
            self.log.close()


class IcingaWeb:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="secondline-icingaweb-"))
        self.db = MariaDB(self.dir / "mariadb")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.icinga: Icinga | None = None
        self.php: subprocess.Popen | None = None
        self.icinga_port = free_port()
        self.prefixed: str | None = None             # serve_prefixed()'s base URL, once started
        self.prefixed_php: subprocess.Popen | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> "IcingaWeb":
        for path in (IDO_SCHEMA, WEB_SCHEMA, WEB_ROUTER, MONITORING_MODULE):
            if not os.path.exists(path):
                raise RuntimeError(f"{path} is missing: install icinga2-ido-mysql icingaweb2 "
                                   "icingaweb2-module-monitoring php-cli php-mysql mariadb-server (deps/debian.txt)")
        self.db.install()
        self.db.start()
        self.db.sql(f"""
            CREATE DATABASE icingaweb2;
            CREATE USER '{WEB_DB_USER}'@'127.0.0.1' IDENTIFIED BY '{WEB_DB_PW}';
            GRANT ALL ON icingaweb2.* TO '{WEB_DB_USER}'@'127.0.0.1';""")
        self.db.load("icingaweb2", WEB_SCHEMA)
        rows = ", ".join(f"('{u}', 1, '{_password_hash(p)}')" for u, p in WEB_USERS)
        self.db.sql(f"INSERT INTO icingaweb_user (name, active, password_hash) VALUES {rows}", "icingaweb2")
        self.setup_backend_db()
        self.write_config()
        self.start_icinga()
        self.start_php()
        self.wait_ready()
        return self

    def setup_backend_db(self) -> None:
        """The IDO database, which icinga2 writes and Icinga Web reads."""
        self.db.sql(f"""
            CREATE DATABASE icinga;
            CREATE USER '{IDO_USER}'@'127.0.0.1' IDENTIFIED BY '{IDO_PW}';
            GRANT ALL ON icinga.* TO '{IDO_USER}'@'127.0.0.1';
            GRANT SELECT ON icinga.* TO '{WEB_DB_USER}'@'127.0.0.1';""")
        self.db.load("icinga", IDO_SCHEMA)

    def start_icinga(self) -> None:
        self.icinga = start_icinga(self.dir / "icinga2", self.icinga_port,
                                   env={"IDO_MYSQL_PORT": str(self.db.port), "IDO_MYSQL_USER": IDO_USER,
                                        "IDO_MYSQL_PASSWORD": IDO_PW, "IDO_MYSQL_DB": "icinga"})

    def start_php(self) -> None:
        self.php_log = open(self.dir / "php.log", "ab")
        self.php = self._php(self.port, WEB_ROUTER, self.php_log)

    def _php(self, port: int, router: str, log: Any) -> subprocess.Popen:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ICINGAWEB_CONFIGDIR": str(self.dir / "etc"),
               "LANG": "C.UTF-8"}
        (self.dir / "sessions").mkdir(exist_ok=True)
        return subprocess.Popen(
            ["php", "-d", f"session.save_path={self.dir / 'sessions'}", "-d", "display_errors=stderr",
             "-S", f"127.0.0.1:{port}", "-t", WEB_PUBLIC, router],
            env=env, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)

    def serve_prefixed(self, timeout: float = 30) -> str:
        """A second web server over the same config and databases, with Icinga Web only below /icingaweb2
        (PREFIX_ROUTER): its base URL, without the prefix. Started on first use, stopped by stop()."""
        if self.prefixed is None:
            router = self.dir / "prefix-router.php"
            router.write_text(PREFIX_ROUTER)
            port = free_port()
            self.prefixed_log = open(self.dir / "php-prefixed.log", "ab")
            self.prefixed_php = self._php(port, str(router), self.prefixed_log)
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if requests.get(url + PREFIX + "/monitoring/list/hosts", params={"format": "json"},
                                    auth=(ADMIN, ADMIN_PW), headers={"Accept": "application/json"},
                                    timeout=10).status_code < 500:
                        break
                except requests.RequestException:
                    pass
                if self.prefixed_php.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the prefixed PHP server did not start: {self.tail()}")
                time.sleep(0.1)
            self.prefixed = url
        return self.prefixed

    def wait_ready(self, timeout: float = 60) -> None:
        """Until Icinga Web lists the private icinga2's hosts, read from the IDO."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.php and self.php.poll() is not None:
                raise RuntimeError(f"php exited: {self.tail()}")
            try:
                hosts = self.host_names()
                if {"h1", "h2", "h3", "h4"} <= hosts:
                    return
                last = f"hosts so far: {sorted(hosts)}"
            except (requests.RequestException, ValueError) as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise TimeoutError(f"Icinga Web 2 not ready within {timeout}s ({last}): {self.tail()}")

    def host_names(self) -> set[str]:
        return {h["host_name"] for h in self.get("/monitoring/list/hosts")}

    def tail(self) -> str:
        out = []
        for f in (self.dir / "php.log", self.dir / "icingaweb2.log", self.dir / "mariadb" / "mariadbd.err"):
            if f.exists():
                out.append(f"--- {f.name}\n" + f.read_text(errors="replace")[-1500:])
        return "\n".join(out)

    def stop_php(self) -> None:
        _stop(self.php)

    def stop_icinga(self, timeout: float = 30) -> None:
        if self.icinga:
            stop_icinga(self.icinga.proc, timeout=timeout)

    def stop_backend(self) -> None:
        """What runs between icinga2 and the database besides them (none for the IDO)."""

    def stop(self) -> None:
        self.stop_php()
        _stop(self.prefixed_php)
        if getattr(self, "prefixed_log", None):
            self.prefixed_log.close()
        self.stop_icinga()
        self.stop_backend()
        self.db.stop()
        if getattr(self, "php_log", None):
            self.php_log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- config -----------------------------------------------------------------------------------
    # What differs between the monitoring module over the IDO and Icinga DB Web (support/icingadb.py).
    module = "monitoring"
    module_dir = MONITORING_MODULE
    backend_db = "icinga"
    viewer_restriction = "monitoring/filter/objects = \"host_name=h2\""
    outsider_restriction = "monitoring/filter/objects = \"host_name=no-such-host\""

    def write_module_config(self, etc: Path) -> None:
        (etc / "modules" / "monitoring" / "backends.ini").write_text('[icinga]\ntype = "ido"\nresource = "icinga_ido"\n')

    def write_config(self) -> None:
        etc = self.dir / "etc"
        (etc / "enabledModules").mkdir(parents=True)
        (etc / "modules" / self.module).mkdir(parents=True)
        (etc / "enabledModules" / self.module).symlink_to(self.module_dir)
        (etc / "config.ini").write_text(f"""\
[global]
show_stacktraces = "1"
config_backend = "ini"
module_path = "/usr/share/icingaweb2/modules"

[logging]
log = "file"
file = "{self.dir / 'icingaweb2.log'}"
level = "WARNING"
""")
        db = f'type = "db"\ndb = "mysql"\nhost = "127.0.0.1"\nport = "{self.db.port}"\n' \
             f'username = "{WEB_DB_USER}"\npassword = "{WEB_DB_PW}"\n'
        (etc / "resources.ini").write_text(f'[icingaweb_db]\n{db}dbname = "icingaweb2"\ncharset = "utf8mb4"\n\n'
                                           f'[icinga_ido]\n{db}dbname = "icinga"\ncharset = "utf8"\n\n'
                                           f'[icingadb]\n{db}dbname = "icingadb"\ncharset = "utf8mb4"\n')
        (etc / "authentication.ini").write_text('[icingaweb2]\nbackend = "db"\nresource = "icingaweb_db"\n')
        (etc / "roles.ini").write_text(f"""\
[admins]
users = "{ADMIN}"
permissions = "*"

[viewers]
users = "{VIEWER}"
permissions = "module/{self.module}"
{self.viewer_restriction}

[outsiders]
users = "{OUTSIDER}"
permissions = "module/{self.module}"
{self.outsider_restriction}
""")
        self.write_module_config(etc)

    # -- reading it as a user would -----------------------------------------------------------------
    def get(self, path: str, user: str = ADMIN, password: str = ADMIN_PW, **params: Any) -> Any:
        r = requests.get(self.url + path, params={**params, "format": "json"}, auth=(user, password),
                         headers={"Accept": "application/json"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def service(self, obj: str) -> dict[str, Any]:
        host, svc = obj.split("!", 1)
        rows = self.get("/monitoring/list/services", host_name=host, service_description=svc,
                        addColumns="service_state_type")
        return rows[0] if rows else {}

    def host(self, name: str) -> dict[str, Any]:
        rows = self.get("/monitoring/list/hosts", host_name=name, addColumns="host_state_type")
        return rows[0] if rows else {}

    def wait_row(self, obj: str, timeout: float = 20, **fields: Any) -> dict[str, Any]:
        """Until Icinga Web shows `obj` (host or host!service) with these column values (IDO lag)."""
        deadline = time.monotonic() + timeout
        row: dict[str, Any] = {}
        while time.monotonic() < deadline:
            row = self.service(obj) if "!" in obj else self.host(obj)
            if row and all(row.get(k) == v for k, v in fields.items()):
                return row
            time.sleep(0.1)
        raise AssertionError(f"{obj}: {fields} not shown within {timeout}s: {row}")


def _password_hash(password: str) -> str:
    """What Icinga Web stores: PHP's password_hash() (Icinga Web checks it with password_verify())."""
    r = subprocess.run(["php", "-r", "echo password_hash(stream_get_contents(STDIN), PASSWORD_DEFAULT);"],
                       input=password, capture_output=True, text=True, check=True)
    return r.stdout.strip()


def _stop(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
