"""The private Nagios 4 + Apache of the tests, as files: nagios.cfg, the objects, cgi.cfg and Apache's
httpd.conf (support/nagios.py writes them into its temp dir and runs the daemons).

Checks are real active checks: every host and service runs check.sh, which reads the state the test
wrote to state/HOST or state/HOST!SERVICE. Intervals are seconds (interval_length=1), status.dat is
rewritten every second and check results are reaped every second, so a forced check shows in
statusjson.cgi within about a second.
"""
from __future__ import annotations

from pathlib import Path

NAGIOS = "/usr/sbin/nagios4"
APACHE = "/usr/sbin/apache2"
CGI_DIR = "/usr/lib/cgi-bin/nagios4"
MODULES = "/usr/lib/apache2/modules"

ADMIN, ADMIN_PW = "nagiosadmin", "n4g-admin pw"
VIEWER, VIEWER_PW = "viewer", "view-only"
# Apache lets this one in; Nagios knows nothing of it (no contact, not in cgi.cfg): it sees nothing.
STRANGER, STRANGER_PW = "stranger", "strange pw"
USERS = ((ADMIN, ADMIN_PW), (VIEWER, VIEWER_PW), (STRANGER, STRANGER_PW))
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


def nagios_cfg(d: Path, user: str, group: str) -> str:
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


def objects_cfg(d: Path) -> str:
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


def cgi_cfg(d: Path) -> str:
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


def httpd_conf(d: Path, port: int, as_root: bool) -> str:
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

# Debian's paths (nagios4-cgi's /etc/nagios4/apache2.conf) and upstream's; and one the web server asks
# no login for (as behind a proxy that passes none on): the CGIs get no REMOTE_USER there.
ScriptAlias /cgi-bin/nagios4 {CGI_DIR}
ScriptAlias /nagios4/cgi-bin {CGI_DIR}
ScriptAlias /nagios/cgi-bin {CGI_DIR}
ScriptAlias /nologin/cgi-bin {CGI_DIR}
SetEnv NAGIOS_CGI_CONFIG {d}/cgi.cfg

# As Debian's default site: an (empty) document root, so a path nothing serves is a 404.
DocumentRoot "{a}/htdocs"
<Directory />
    Require all denied
</Directory>
<Directory {a}/htdocs>
    Require all granted
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
