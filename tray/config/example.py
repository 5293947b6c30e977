"""The commented example config that `secondline init` writes.

It loads as it is (a demo source, so that the icon has something to show), and every commented
example loads too once its "#" is removed: lines of prose start with "# ", lines of TOML with "#"
and no space (tests/config/test_messages.py uncomments them all and loads the result).
"""
from __future__ import annotations

EXAMPLE = """\
# secondline configuration, written by `secondline init`.
#
# Edit it, then `secondline check` validates it and polls each source once. A running secondline
# reads a saved change within two seconds and keeps the last good config if the new one is wrong.
# Every key is described in the README ("Configuration" and "Source types").
#
# Lines that start with "#" and no space are examples: remove the "#" to use one.
# Secrets never go in this file: `secondline login NAME` stores a source's secret in the OS keyring.

#[server]
#port = 17474                         # the local endpoint, always on 127.0.0.1
#allowed_origins = []                 # CORS origins, e.g. ["chrome-extension://ID"]

[notifications]
enabled = true
min_gap = 5                           # seconds: at most one pop-up per gap; a burst becomes one pop-up
#recoveries = true                    # pop up when a problem goes away
#outside_shift = "on_call_critical"   # or "silent"
#[notifications.rules]                # which severities pop up per group ("*" = any other group)
#production = ["critical", "warning", "unknown"]
#staging = ["critical"]

#[shift]                              # working hours: outside them only critical pop-ups, only on call
#days = ["mon", "tue", "wed", "thu", "fri"]
#start = "09:30"
#end = "17:30"
#timezone = "Europe/London"           # default: this machine's

#[user]
#name = "Jane Doe"                    # author of acknowledgements and silences
#email = "jane@example.com"           # PagerDuty's From header

#[[links]]                            # in the menu, the dashboard and the extension popup
#title = "Declare an incident"
#url = "https://docs.example.com/manual/declare-an-incident"

# -- sources: one [[sources]] table each ---------------------------------------------------------
# Every source takes name (unique; letters, digits, "-"), type, group, interval (seconds),
# timeout, include / exclude (regexes on host, service and alert name) and enabled.

# A built-in scenario, so that there is something to see: remove it once a real source is in.
[[sources]]
name = "demo"
type = "demo"
group = "production"

# Icinga 2 API (password: `secondline login icinga-production`)
#[[sources]]
#name = "icinga-production"
#type = "icinga2"
#group = "production"
#url = "https://icinga.example.com:5665"
#username = "secondline"
#ca_bundle = "/etc/ssl/icinga-ca.crt"
#web_url = "https://icinga.example.com/icingaweb2"

# Icinga Web 2 / Icinga DB Web (types icingaweb2, icingadb); password only with a username
#[[sources]]
#name = "icingaweb-staging"
#type = "icingadb"
#group = "staging"
#url = "https://icinga.example.com/icingaweb2"
#username = "secondline"

# Nagios statusjson.cgi (type nagios) or Icinga 1 (type icinga1)
#[[sources]]
#name = "nagios"
#type = "nagios"
#group = "production"
#url = "https://nagios.example.com/nagios"
#username = "nagiosadmin"

# Prometheus Alertmanager (auth: none, basic or bearer; the secret via `secondline login`)
#[[sources]]
#name = "alertmanager"
#type = "alertmanager"
#group = "production"
#url = "http://alertmanager.example.com:9093"
#auth = "none"
#filters = ['team="db"']

# Prometheus alerts (pending ones are listed, not raised)
#[[sources]]
#name = "prometheus"
#type = "prometheus"
#group = "staging"
#url = "http://prometheus.example.com:9090"

# Grafana-managed alerting (service-account token: `secondline login grafana`)
#[[sources]]
#name = "grafana"
#type = "grafana"
#group = "production"
#url = "https://grafana.example.com"

# PagerDuty incidents and your on-call status (API token: `secondline login pagerduty`)
#[[sources]]
#name = "pagerduty"
#type = "pagerduty"
#group = "production"
#service_ids = ["PSVC001"]
#user_id = "PUSER01"

# A Zendesk view (API token: `secondline login zendesk`)
#[[sources]]
#name = "zendesk"
#type = "zendesk"
#group = "team"
#subdomain = "acme"
#email = "jane@example.com"
#view_id = 360001234567
#critical_at = 10

# Cards of a Trello list (`secondline login trello --field key`, then `--field token`)
#[[sources]]
#name = "trello"
#type = "trello"
#group = "team"
#list_id = "5f0c0ffee0c0ffee0c0ffee0"

# An Atlassian status page
#[[sources]]
#name = "github-status"
#type = "statuspage"
#group = "vendors"
#url = "https://www.githubstatus.com"

# A plain HTTP check
#[[sources]]
#name = "website"
#type = "http"
#group = "production"
#url = "https://www.example.com/health"
#expect_status = 200
#warn_ms = 800

# Another secondline, e.g. the team hub (an optional bearer token via `secondline login hub`)
#[[sources]]
#name = "hub"
#type = "secondline"
#group = "team"
#url = "https://hub.example.com/secondline"
"""
