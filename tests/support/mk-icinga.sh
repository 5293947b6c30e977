#!/bin/sh
# usage: mk-icinga.sh DIR PORT -> a self-contained Icinga 2 instance in DIR, run as the current user.
# Env: BULK_HOSTS / BULK_SERVICES (default 0) add BULK_HOSTS hosts "b<i>" with BULK_SERVICES passive
# services each, for benchmarks that want a realistically sized object list.
# Adapted from /work/shared/reference/recipes/mk-icinga.sh (measured on Debian's 2.13.6).
set -eu
export ICINGA2_USER=$(id -un) ICINGA2_GROUP=$(id -gn)   # else root switches to 'nagios' and aborts
D=$(realpath -m "$1"); PORT=$2; NODE=${NODE:-localhost}   # the certificate CN: connect to https://localhost:PORT to verify it
BULK_HOSTS=${BULK_HOSTS:-0}; BULK_SERVICES=${BULK_SERVICES:-0}
mkdir -p "$D/etc" "$D/data/certs" "$D/log" "$D/cache" "$D/spool" "$D/run"
# PKI: a private CA + a node certificate signed by it, all under $D/data (nothing global).
DEFS="-DDataDir=$D/data -DLogDir=$D/log"
if [ ! -f "$D/data/certs/$NODE.crt" ]; then
  icinga2 pki new-ca $DEFS >/dev/null
  icinga2 pki new-cert $DEFS --cn "$NODE" --key "$D/data/certs/$NODE.key" --csr "$D/data/certs/$NODE.csr" >/dev/null
  # Signed by openssl rather than `icinga2 pki sign-csr` for one reason: an IP address in the
  # subjectAltName, so that the tests connect to https://127.0.0.1 and never resolve "localhost"
  # (a minimal Debian root has no /etc/hosts, and there "localhost" does not resolve at all).
  printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n' "$NODE" > "$D/data/certs/san.ext"
  openssl x509 -req -in "$D/data/certs/$NODE.csr" -CA "$D/data/ca/ca.crt" -CAkey "$D/data/ca/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$D/data/certs/san.ext" -out "$D/data/certs/$NODE.crt" 2>/dev/null
  cp "$D/data/ca/ca.crt" "$D/data/certs/ca.crt"
fi
cat > "$D/etc/icinga2.conf" <<CONF
const NodeName = "$NODE"
const ZoneName = "$NODE"
include <itl>                      // CheckCommand "dummy" / "passive"

object Endpoint NodeName { }
object Zone ZoneName { endpoints = [ NodeName ] }

object ApiListener "api" {
  bind_host = "127.0.0.1"
  bind_port = $PORT
  accept_config = false
  accept_commands = false
}

object FileLogger "main-log" {
  severity = "information"
  path = LogDir + "/icinga2.log"
}

// The test driver: sets states, acknowledges, schedules downtimes.
object ApiUser "test" {
  password = "test-secret"
  permissions = [ "objects/query/Host", "objects/query/Service", "status/query", "events/*", "actions/*",
                  "filter-expression" ]
}

// What secondline is documented to need (read-only plus events and the two actions).
object ApiUser "secondline" {
  password = "sl-secret"
  permissions = [ "objects/query/Host", "objects/query/Service", "status/query",
                  "events/StateChange", "events/AcknowledgementSet", "events/AcknowledgementCleared",
                  "events/DowntimeStarted", "events/DowntimeRemoved",
                  "actions/acknowledge-problem", "actions/reschedule-check" ]
}

// Can query objects but not read /v1/status (the change detector must degrade, not fail the source).
object ApiUser "nostatus" {
  password = "ns-secret"
  permissions = [ "objects/query/Host", "objects/query/Service", "events/*" ]
}

// Blind readers (issue 17): authenticated, authorized for the endpoints, but their permission filters
// match nothing, so every answer is a well-formed "all is well". secondline must say so, never go green.
object ApiUser "blind" {
  password = "blind-secret"
  permissions = [ { permission = "objects/query/Host"; filter = {{ false }} },
                  { permission = "objects/query/Service"; filter = {{ false }} }, "status/query" ]
}
// Sees every host but no service (a filter written for another team's services, say).
object ApiUser "noservices" {
  password = "nosvc-secret"
  permissions = [ "objects/query/Host", { permission = "objects/query/Service"; filter = {{ false }} },
                  "status/query" ]
}
// Sees every service but no host.
object ApiUser "nohosts" {
  password = "nohost-secret"
  permissions = [ { permission = "objects/query/Host"; filter = {{ false }} }, "objects/query/Service",
                  "status/query" ]
}

template Host "passive-host" {
  check_command = "dummy"
  enable_active_checks = false
  max_check_attempts = 1
  address = "127.0.0.1"
}

template Service "passive-service" {
  check_command = "passive"
  enable_active_checks = false
  max_check_attempts = 1
}

object Host "h1" { import "passive-host"; display_name = "Host One" }
object Host "h2" { import "passive-host" }
object Host "h3" { import "passive-host"; max_check_attempts = 3 }

for (s in [ "svc1", "svc2", "svc3", "svc4", "svc5" ]) {
  object Service s { import "passive-service"; host_name = "h1" }
}
object Service "web" { import "passive-service"; host_name = "h2"; display_name = "Web Frontend" }
object Service "db" { import "passive-service"; host_name = "h2" }
// h4 sits behind h2: when both are DOWN, h4 is unreachable.
object Host "h4" { import "passive-host" }
object Dependency "h4-behind-h2" { parent_host_name = "h2"; child_host_name = "h4" }
// Three attempts: a first non-OK result is SOFT.
object Service "flappy" { import "passive-service"; host_name = "h3"; max_check_attempts = 3 }

// Object bodies are evaluated later, outside the loop: only names may use the loop variable.
for (i in range($BULK_HOSTS)) {
  object Host "b" + i { import "passive-host"; vars.bulk = true }
}
for (j in range($BULK_SERVICES)) {
  apply Service "s" + j { import "passive-service"; assign where host.vars.bulk }
}
CONF

# Optional: the IDO feature (Icinga Web 2's monitoring module reads it), only when a fixture asks for it
# with IDO_MYSQL_PORT (a private MariaDB on 127.0.0.1, see tests/support/icingaweb.py).
if [ -n "${IDO_MYSQL_PORT:-}" ]; then
cat >> "$D/etc/icinga2.conf" <<CONF

library "db_ido_mysql"
object IdoMysqlConnection "ido-mysql" {
  host = "127.0.0.1"
  port = $IDO_MYSQL_PORT
  user = "${IDO_MYSQL_USER:-icinga}"
  password = "${IDO_MYSQL_PASSWORD:-}"
  database = "${IDO_MYSQL_DB:-icinga}"
}
CONF
fi

# Optional: the Icinga DB feature (writes to a Redis that the icingadb daemon reads), only when a fixture
# asks for it with ICINGADB_REDIS_PORT (a private redis-server on 127.0.0.1).
if [ -n "${ICINGADB_REDIS_PORT:-}" ]; then
cat >> "$D/etc/icinga2.conf" <<CONF

object IcingaDB "icingadb" {
  host = "127.0.0.1"
  port = $ICINGADB_REDIS_PORT
}
CONF
fi
