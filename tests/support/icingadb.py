"""Icinga DB Web (Debian's icingadb-web 1.0.2 in icingaweb2 2.11) over a real Icinga DB: the private
icinga2 of the Icinga tests with its `icingadb` feature writing to a private redis-server, the icingadb
daemon (1.1.0) syncing Redis into a private MariaDB, and Icinga Web 2 reading that database (and Redis).
Built on support.icingaweb.IcingaWeb: the same MariaDB, users, roles and PHP server."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from support.icinga2 import start_icinga
from support.icingaweb import WEB_DB_USER, IcingaWeb, _stop
from support.procs import free_port

ICINGADB_SCHEMA = "/usr/share/icingadb/schema/mysql/schema.sql"
ICINGADB_MODULE = "/usr/share/icingaweb2/modules/icingadb"
IDB_USER, IDB_PW = "icingadb", "idb-pw"


class IcingaDBWeb(IcingaWeb):
    module = "icingadb"
    module_dir = ICINGADB_MODULE
    viewer_restriction = 'icingadb/filter/objects = "host.name=h2"'
    outsider_restriction = 'icingadb/filter/objects = "host.name=no-such-host"'

    def __init__(self) -> None:
        super().__init__()
        self.redis_port = free_port()
        self.redis: subprocess.Popen | None = None
        self.icingadb: subprocess.Popen | None = None

    def setup_backend_db(self) -> None:
        for path in (ICINGADB_SCHEMA, ICINGADB_MODULE):
            if not Path(path).exists():
                raise RuntimeError(f"{path} is missing: install icingadb icingadb-web redis-server (deps/debian.txt)")
        self.db.sql(f"""
            CREATE DATABASE icingadb;
            CREATE USER '{IDB_USER}'@'127.0.0.1' IDENTIFIED BY '{IDB_PW}';
            GRANT ALL ON icingadb.* TO '{IDB_USER}'@'127.0.0.1';
            GRANT SELECT ON icingadb.* TO '{WEB_DB_USER}'@'127.0.0.1';""")
        self.db.load("icingadb", ICINGADB_SCHEMA)

    def write_module_config(self, etc: Path) -> None:
        (etc / "modules" / "icingadb" / "config.ini").write_text('[icingadb]\nresource = "icingadb"\n')
        (etc / "modules" / "icingadb" / "redis.ini").write_text(
            f'[redis1]\nhost = "127.0.0.1"\nport = "{self.redis_port}"\n')

    def start_icinga(self) -> None:
        if self.redis is None or self.redis.poll() is not None:
            self.start_redis()
        self.icinga = start_icinga(self.dir / "icinga2", self.icinga_port,
                                   env={"ICINGADB_REDIS_PORT": str(self.redis_port)})
        if self.icingadb is None or self.icingadb.poll() is not None:
            self.start_icingadb()

    def start_redis(self) -> None:
        self.redis_log = open(self.dir / "redis.log", "ab")
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=self.redis_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, text=True)
            if r.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise TimeoutError("redis-server did not answer")

    def start_icingadb(self) -> None:
        (self.dir / "icingadb.yml").write_text(f"""\
database:
  host: 127.0.0.1
  port: {self.db.port}
  database: icingadb
  user: {IDB_USER}
  password: {IDB_PW}
redis:
  host: 127.0.0.1
  port: {self.redis_port}
logging:
  level: warn
  output: console
""")
        self.icingadb_log = open(self.dir / "icingadb.log", "ab")
        self.icingadb = subprocess.Popen(["icingadb", "--config", str(self.dir / "icingadb.yml")],
                                         stdout=self.icingadb_log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def stop_icingadb(self) -> None:
        _stop(self.icingadb)

    def stop_backend(self) -> None:
        self.stop_icingadb()
        _stop(self.redis)
        for name in ("redis_log", "icingadb_log"):
            if getattr(self, name, None):
                getattr(self, name).close()

    def host_names(self) -> set[str]:
        return {h["name"] for h in self.get("/icingadb/hosts")}

    def tail(self) -> str:
        extra = self.dir / "icingadb.log"
        head = super().tail()
        return head + (f"\n--- icingadb.log\n{extra.read_text(errors='replace')[-1500:]}" if extra.exists() else "")

    # -- reading it as a user would -----------------------------------------------------------------
    def state(self, obj: str) -> dict[str, Any]:
        """The object's `state` as Icinga DB Web shows it (strings: "2", "hard", "1"/"")."""
        if "!" in obj:
            host, svc = obj.split("!", 1)
            rows = self.get("/icingadb/services", **{"host.name": host, "name": svc})
        else:
            rows = self.get("/icingadb/hosts", name=obj)
        return rows[0]["state"] if rows else {}

    def wait_state(self, obj: str, timeout: float = 20, **fields: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        st: dict[str, Any] = {}
        while time.monotonic() < deadline:
            st = self.state(obj)
            if st and all(st.get(k) == v for k, v in fields.items()):
                return st
            time.sleep(0.1)
        raise AssertionError(f"{obj}: {fields} not shown within {timeout}s: { {k: st.get(k) for k in fields} }")
