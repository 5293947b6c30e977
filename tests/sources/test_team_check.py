"""End to end through the real CLI: `secondline check` with one source of each team type, and a real
`secondline run --headless` as the upstream of a second one (the team hub), both on free ports.

Secrets reach the subprocesses the way a server without a keyring gives them: SECONDLINE_SECRET_*.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest

from support.procs import free_port
from support.team_apis import pd_incident, pd_pager, statuspage_summary, trello_card, zd_ticket, zd_view_pager
from tray.sources.plain.hub import UNREADABLE_ID

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
SCHEMA = json.loads((ROOT / "shared" / "status.schema.json").read_text())
PD_TOKEN, ZD_TOKEN, TR_KEY, TR_TOKEN = "pd-tok-123", "zd-tok-456", "trkey789", "trtokABC"
PROXY_TOKEN = "proxy-bearer-xyz"
SECRETS = {"SECONDLINE_SECRET_TEAM_HUB": PROXY_TOKEN, "SECONDLINE_SECRET_PD": PD_TOKEN,
           "SECONDLINE_SECRET_ZD": ZD_TOKEN, "SECONDLINE_SECRET_ZD_BAD": "wrong", "SECONDLINE_SECRET_TR_KEY": TR_KEY,
           "SECONDLINE_SECRET_TR_TOKEN": TR_TOKEN}


def serve_vendors(api) -> None:
    api.get("/incidents", pd_pager([pd_incident(1, "triggered", "high"), pd_incident(2, "acknowledged")]))
    api.get("/oncalls", {"oncalls": [{"start": "2026-03-01T08:00:00Z", "end": "2099-03-08T08:00:00Z",
                                      "escalation_level": 1}], "more": False})
    api.get("/api/v2/views/25/count.json", {"view_count": {"view_id": 25, "value": 2, "fresh": True}})
    api.get("/api/v2/views/25/tickets.json", zd_view_pager([zd_ticket(1), zd_ticket(2, "high")]))

    def zd_bad(req):
        return 401, {}, {"error": "Couldn't authenticate you"}
    api.get("/api/v2/views/99/count.json", zd_bad)
    api.get("/1/lists/list1/cards", [trello_card("5f1e3a9c0000000000000004", "Write runbook", ["green"])])
    api.get("/api/v2/summary.json", statuspage_summary("minor", [("API", "operational"),
                                                                 ("Webhooks", "degraded_performance")]))
    api.get("/health", b"all good")
    api.get("/broken", b"oops", status=503)


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, **SECRETS}
    return subprocess.run([sys.executable, "-m", "tray", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def table(stdout: str) -> dict[str, list[str]]:
    rows = {}
    for line in stdout.splitlines():
        cols = [c for c in line.split("  ") if c.strip()]
        if len(cols) >= 5 and cols[0] != "SOURCE" and not line.startswith("config "):
            rows[cols[0].strip()] = [c.strip() for c in cols]
    return rows


def test_check_shows_each_type_correctly(api, tmp_path):
    serve_vendors(api)
    hub_doc = {"schema": 1, "generated_at": "2026-03-01T08:00:00Z", "health": "critical",
               "handled_only": False, "counts": {"critical": 1, "warning": 0, "unknown": 0, "handled": 0},
               "groups": [], "notifications": {"snoozed_until": None},
               "sources": [{"name": "prod-icinga", "type": "icinga2", "group": "production", "health": "critical",
                            "checked_at": "2026-03-01T08:00:00Z", "error": None, "stale": False,
                            "alerts": [{"id": "web1!http", "source": "prod-icinga", "title": "web1 HTTP",
                                        "detail": "", "severity": "critical", "since": None, "url": None,
                                        "handled": False, "handled_reason": None, "pending": False}]}]}
    api.get("/status.json", hub_doc)
    cfg = tmp_path / "check.toml"
    cfg.write_text(f"""
[[sources]]
name = "pd"
type = "pagerduty"
url = "{api.url}"
user_id = "PUSER1"

[[sources]]
name = "zd"
type = "zendesk"
url = "{api.url}"
email = "agent@acme.example"
view_id = 25

[[sources]]
name = "tr"
type = "trello"
url = "{api.url}"
list_id = "list1"

[[sources]]
name = "sp"
type = "statuspage"
url = "{api.url}"

[[sources]]
name = "web"
type = "http"
url = "{api.url}/health"
expect_text = "good"

[[sources]]
name = "web-down"
type = "http"
url = "{api.url}/broken"

[[sources]]
name = "hub"
type = "secondline"
url = "{api.url}"

[[sources]]
name = "pd-nokey"
type = "pagerduty"
url = "{api.url}"
""")
    out = run_cli("check", "--config", str(cfg))
    rows = table(out.stdout)
    health = {name: cols[2] for name, cols in rows.items()}
    assert health == {"pd": "critical", "zd": "warning", "tr": "ok", "sp": "warning", "web": "ok",
                      "web-down": "critical", "hub": "critical", "pd-nokey": "unknown"}, out.stdout + out.stderr
    assert {name: cols[3] for name, cols in rows.items()} == {
        "pd": "1", "zd": "2", "tr": "0", "sp": "1", "web": "0", "web-down": "1", "hub": "1", "pd-nokey": "-"}
    # Names the fix: `secondline login pd-nokey`, or the variable when there is no keyring at all.
    assert any(fix in rows["pd-nokey"][-1] for fix in ("secondline login pd-nokey", "SECONDLINE_SECRET_PD_NOKEY"))
    assert out.returncode == 1      # one source could not be read
    # The secrets travelled in headers, from the environment, and nowhere else.
    auth = {r.path: r.headers.get("authorization", "") for r in api.requests}
    assert auth["/incidents"] == f"Token token={PD_TOKEN}"
    assert auth["/1/lists/list1/cards"] == f'OAuth oauth_consumer_key="{TR_KEY}", oauth_token="{TR_TOKEN}"'
    assert auth["/api/v2/views/25/tickets.json"].startswith("Basic ")
    for secret in (PD_TOKEN, ZD_TOKEN, TR_KEY, TR_TOKEN):
        assert secret not in out.stdout + out.stderr
        assert all(secret not in r.path and all(secret not in v for _, v in r.query) for r in api.requests)


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def wait_for(fn, timeout: float = 30.0):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            value = fn()
            if value:
                return value
        except (OSError, ValueError, KeyError, StopIteration) as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"not reached within {timeout}s (last error: {last})")


def start(config: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, **SECRETS}
    return subprocess.Popen([sys.executable, "-m", "tray", "run", "--headless", "--config", str(config),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, cwd=ROOT)


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


def test_a_real_instance_as_the_upstream_of_another(api, tmp_path):
    serve_vendors(api)
    up_port, down_port = free_port(), free_port()
    refused = free_port()       # nothing listens there
    up_cfg = tmp_path / "upstream.toml"
    up_cfg.write_text(f"""
[notifications]
enabled = false

[[sources]]
name = "pd"
type = "pagerduty"
group = "production"
interval = 1
url = "{api.url}"
user_id = "PUSER1"

[[sources]]
name = "web-down"
type = "http"
group = "production"
interval = 1
timeout = 2
url = "http://127.0.0.1:{refused}/health"

[[sources]]
name = "zd-bad"
type = "zendesk"
group = "support"
interval = 1
url = "{api.url}"
email = "agent@acme.example"
view_id = 99
""")
    # The team's reverse proxy: wants a bearer token, and rewrites Host to the upstream's loopback
    # address (as the upstream endpoint requires) simply by connecting to it.
    def proxy(req):
        if req.headers.get("authorization") != f"Bearer {PROXY_TOKEN}":
            return 401, {}, {"error": "no token"}
        with urllib.request.urlopen(f"http://127.0.0.1:{up_port}/status.json", timeout=5) as resp:
            return resp.status, {}, resp.read()
    api.get("/secondline/status.json", proxy)
    down_cfg = tmp_path / "downstream.toml"
    down_cfg.write_text(f"""
[notifications]
enabled = false

[[sources]]
name = "team-hub"
type = "secondline"
group = "team"
interval = 1
url = "{api.url}/secondline"
""")
    upstream = start(up_cfg, up_port)
    downstream = start(down_cfg, down_port)
    logs = ""
    try:
        def upstream_ready():
            doc = get_json(f"http://127.0.0.1:{up_port}/status.json")
            by = {s["name"]: s for s in doc["sources"]}
            return doc if all(by[n]["checked_at"] or by[n]["error"] for n in by) else None
        up_doc = wait_for(upstream_ready)
        jsonschema.validate(up_doc, SCHEMA)
        pd = next(s for s in up_doc["sources"] if s["name"] == "pd")
        assert pd["on_call"] == {"on_call": True, "until": "2099-03-08T08:00:00Z"}

        def hub_has_everything():
            doc = get_json(f"http://127.0.0.1:{down_port}/status.json")
            hub = next(s for s in doc["sources"] if s["name"] == "team-hub")
            keys = {(a["source"], a["id"]) for a in hub["alerts"]}
            want = {("pd", "PINC0001"), ("pd", "PINC0002"), ("web-down", "check"), ("zd-bad", UNREADABLE_ID)}
            return (doc, hub) if want <= keys else None
        doc, hub = wait_for(hub_has_everything)
        jsonschema.validate(doc, SCHEMA)
        assert hub["type"] == "secondline" and hub["group"] == "team" and hub["health"] == "critical"
        alerts = {(a["source"], a["id"]): a for a in hub["alerts"]}
        incident = alerts[("pd", "PINC0001")]
        assert incident["url"] == "https://acme.pagerduty.com/incidents/PINC0001"
        assert incident["severity"] == "critical"
        assert alerts[("pd", "PINC0002")]["handled_reason"] == "acknowledged"
        assert "refused" in alerts[("web-down", "check")]["detail"]
        unreadable = alerts[("zd-bad", UNREADABLE_ID)]
        assert unreadable["severity"] == "unknown" and "HTTP 401" in unreadable["detail"]
        assert hub["counts"]["critical"] == 2 and hub["counts"]["unknown"] == 1 and hub["counts"]["handled"] == 1
        # The downstream's own summary agrees: critical, exit 2 from `secondline status`.
        status = run_cli("status", "--port", str(down_port))
        assert status.returncode == 2, status.stdout
        proxied = [r for r in api.requests if r.path == "/secondline/status.json"]
        assert proxied and all(r.headers["authorization"] == f"Bearer {PROXY_TOKEN}" for r in proxied)
    finally:
        logs = stop(downstream) + stop(upstream)
    for secret in (PD_TOKEN, "wrong", PROXY_TOKEN):
        assert f"={secret}" not in logs and f" {secret}" not in logs
