"""Blind is not green (issue 17): the shared mechanism, the real Alertmanager's telltales, Grafana's.

- `allow_empty` is a common key of every type; `Source.sight()` turns a finding into "unknown" (nothing
  else to show) or one unknown alert beside the visible ones; the visibility check is bookkept by
  `Recheck`; a blind source keeps its schedule (no back-off), so a fixed permission shows at once.
- Alertmanager (the real one, Debian's prometheus-alertmanager): an empty list is all well, so its
  telltale is a `receiver` the server does not have, or `filters` naming a label it does not know.
- Grafana (documented shapes): a token that sees no rule instance.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.sourcespecs import make, product_types, toml_for
from support.faults import FaultServer
from support.parts import PartDidNotStart
from support.procs import free_port, stop
from tray.config import loader as config_mod
from tray.core.errors import ConfigError, SourceError
from tray.core.model import Alert, Reading, Severity
from tray.engine.net import Http
from tray.engine.scheduler import Runner
from tray.sources.base import BLIND_ALERT_ID, Recheck, Source, SourceConfig
from tray.engine.store import Store

# -- the shared mechanism ------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", product_types() + ["demo"])
def test_allow_empty_is_a_key_of_every_type(type_name):
    text = (toml_for(type_name, "http://127.0.0.1:9", "src") if type_name != "demo"
            else '[[sources]]\nname = "src"\ntype = "demo"\n') + "allow_empty = true\n"
    [src] = config_mod.loads(text, "c.toml").sources
    assert src.allow_empty is True
    [src] = config_mod.loads(text.replace("allow_empty = true\n", ""), "c.toml").sources
    assert src.allow_empty is False


def test_allow_empty_must_be_a_boolean():
    with pytest.raises(ConfigError) as exc:
        config_mod.loads('[[sources]]\nname = "d"\ntype = "demo"\nallow_empty = "yes"\n', "c.toml")
    assert str(exc.value) == "c.toml:4: allow_empty in [[sources]] \"d\": must be true or false, got 'yes'"


class _Src(Source):
    type = "t"


def _src(allow_empty: bool = False) -> _Src:
    return _Src(SourceConfig(name="s", type="t", allow_empty=allow_empty))


def _alert(aid: str, severity: Severity = Severity.CRITICAL) -> Alert:
    return Alert(source="s", id=aid, title=aid, severity=severity)


def test_sight_shapes():
    src = _src()
    finding = src.blind("user 'x' sees 0 hosts", "authorize it")
    assert finding.reason == ("user 'x' sees 0 hosts: authorize it (or set allow_empty = true on this source if "
                              "nothing to see is expected)")
    assert src.sight([], None) == ()
    with pytest.raises(SourceError) as exc:
        src.sight([], finding)
    assert exc.value.kind == "blind" and exc.value.reason == finding.reason
    visible = src.sight([_alert("h1")], finding)               # a visible critical stays critical
    assert [a.id for a in visible] == ["h1", BLIND_ALERT_ID]
    assert visible[1].severity is Severity.UNKNOWN and visible[1].raises and visible[1].detail == finding.reason
    assert _src(allow_empty=True).sight([], finding) == ()
    strict = src.blind("view 9 does not exist", "check view_id", excusable=False)
    assert "allow_empty" not in strict.reason
    with pytest.raises(SourceError):
        _src(allow_empty=True).sight([], strict)


def test_recheck_bookkeeping_and_failing_checks():
    now = [100.0]
    rc = Recheck(every=60, clock=lambda: now[0])
    assert rc.due() and rc.due("host")
    rc.saw("host")
    assert not rc.due("host") and rc.due("service")
    now[0] += 59.9
    assert not rc.due("host")
    now[0] += 0.1
    assert rc.due("host")
    src = _src()
    calls = []

    def failing():
        calls.append(1)
        raise SourceError("server error (HTTP 500)", kind="server")
    rc2 = Recheck(every=60, clock=lambda: now[0])
    assert src.probe(rc2, failing) is None and not rc2.due()      # tells nothing, waits its turn
    assert src.probe(rc2, failing) is None and calls == [1]
    finding = src.blind("nothing", "fix")
    rc3 = Recheck(every=60, clock=lambda: now[0])
    assert src.probe(rc3, lambda: finding) is finding and rc3.due()   # blind: asked again next poll


class _Flip(Source):
    """Blind, then a 500, under one Runner: the delays it asks for."""
    type = "flip"
    answers: list = []

    def poll(self, http):
        kind = self.answers.pop(0)
        if kind == "ok":
            return Reading()
        raise SourceError(f"{kind} happened", kind=kind)


def test_a_blind_source_keeps_its_schedule_while_faults_back_off(monkeypatch):
    monkeypatch.setattr("tray.engine.polling.source_class", lambda t: _Flip)
    store = Store()
    try:
        cfg = SourceConfig(name="f", type="flip", interval=10.0)
        store.configure([cfg])
        runner = Runner(cfg, store, http=None, secret_lookup=None)
        _Flip.answers[:] = ["blind", "blind", "blind", "server", "server", "server", "ok"]
        blind_delays = [runner.poll_once() for _ in range(3)]
        fault_delays = [runner.poll_once() for _ in range(3)]
        assert all(9.0 <= d <= 11.0 for d in blind_delays), blind_delays
        assert fault_delays[-1] >= 40.0, fault_delays
        assert store.latest.source("f").error == "server happened"
        runner.poll_once()
        assert store.latest.source("f").error is None
    finally:
        store.close()


# -- Alertmanager, the real server ---------------------------------------------------------------

AM_CONFIG = """\
route:
  receiver: "null"
  group_by: ["alertname"]
  routes:
    - receiver: team-db
      matchers: ['team="db"']
receivers:
  - name: "null"
  - name: team-db
"""


@pytest.fixture(scope="module")
def am(tmp_path_factory):
    binary = shutil.which("prometheus-alertmanager")
    if not binary:
        raise PartDidNotStart("Alertmanager", "prometheus-alertmanager is not installed (see deps/debian.txt)")
    d = tmp_path_factory.mktemp("am-blind")
    (d / "alertmanager.yml").write_text(AM_CONFIG)
    port = free_port()
    log = open(d / "am.log", "wb")
    proc = subprocess.Popen([binary, f"--config.file={d / 'alertmanager.yml'}", f"--storage.path={d / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT, cwd=d)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            raise PartDidNotStart("Alertmanager", f"exited with {proc.returncode}", d / "am.log")
        try:
            if requests.get(url + "/-/ready", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            stop(proc)
            raise PartDidNotStart("Alertmanager", f"not ready on {url} within 20 s", d / "am.log")
        time.sleep(0.05)
    try:
        yield url
    finally:
        stop(proc)
        log.close()


def post_alert(url: str, **labels: str) -> None:
    now = datetime.now(timezone.utc)
    body = [{"labels": {"alertname": "DiskFull", "severity": "critical", **labels},
             "annotations": {"summary": "disk"}, "startsAt": now.isoformat(),
             "endsAt": (now + timedelta(minutes=10)).isoformat()}]
    assert requests.post(url + "/api/v2/alerts", json=body, timeout=5).status_code == 200


def am_source(url: str, **kw):
    from tray.sources.alerting.alertmanager import AlertmanagerSource
    allow_empty = kw.pop("allow_empty", False)
    cfg = SourceConfig(name="am", type="alertmanager", timeout=5, allow_empty=allow_empty,
                       settings=AlertmanagerSource.Settings(url=url, **kw))
    cfg.settings.validate()
    return AlertmanagerSource(cfg, lambda n, f: None)


def test_alertmanager_receiver_the_server_does_not_have(am):
    with pytest.raises(SourceError) as exc:
        am_source(am, receiver="team-dbb", allow_empty=True).poll(Http())
    assert exc.value.kind == "blind"
    assert exc.value.reason.startswith("receiver 'team-dbb' matches none of the server's receivers (null, team-db)")
    assert "allow_empty" not in exc.value.reason                      # a typo is never an empty estate
    assert am_source(am, receiver="team-db").poll(Http()).alerts == ()   # known: empty is all well


def test_alertmanager_receiver_narrows_to_what_is_routed_there(am):
    post_alert(am, team="db", instance="db1")
    post_alert(am, team="web", instance="web1")

    def titles():
        return sorted(a.title for a in am_source(am, receiver="team-db").poll(Http()).alerts)
    deadline = time.monotonic() + 15
    while titles() != ["DiskFull on db1"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert titles() == ["DiskFull on db1"]


def test_alertmanager_filter_on_a_label_nobody_knows(am):
    with pytest.raises(SourceError) as exc:
        am_source(am, filters=['tema="db"']).poll(Http())
    assert exc.value.kind == "blind" and "filters name label 'tema'" in exc.value.reason
    assert "allow_empty = true" in exc.value.reason
    assert am_source(am, filters=['tema="db"'], allow_empty=True).poll(Http()).alerts == ()
    # Known from the config's routes, or from a current alert: empty answers are believed.
    assert am_source(am, filters=['team="qa"']).poll(Http()).alerts == ()
    post_alert(am, region="us", instance="x1")
    assert am_source(am, filters=['region="eu"']).poll(Http()).alerts == ()
    # A negative matcher on an unknown label matches everything: no finding.
    assert am_source(am, filters=['nolabel!="x"']).poll(Http()).alerts != ()


def test_alertmanager_url_forms(am):
    for pasted in ("/#/alerts", "/api/v2", "/api/v2/alerts", "/"):
        am_source(am + pasted).poll(Http())
    with pytest.raises(SourceError) as exc:
        am_source(am + "/prefix").poll(Http())
    assert "HTTP 404" in exc.value.reason and "route prefix" in exc.value.reason
    with pytest.raises(SourceError) as exc:
        am_source(am, filters=["not a matcher"]).poll(Http())
    assert exc.value.kind == "config" and "HTTP 400" in exc.value.reason and "`filters`" in exc.value.reason


# -- Grafana, documented shapes ------------------------------------------------------------------

EMPTY_RULES = {"status": "success", "data": {"alerts": []}}
NORMAL = {"status": "success", "data": {"alerts": [{"labels": {"alertname": "CPU"}, "annotations": {},
                                                    "state": "Normal", "activeAt": "2026-03-01T10:00:00Z"}]}}


def test_grafana_token_that_sees_no_rules():
    with FaultServer() as srv:
        srv.route("/api/alertmanager/grafana/api/v2/alerts", [])
        srv.route("/api/prometheus/grafana/api/v1/alerts", EMPTY_RULES)
        with pytest.raises(SourceError) as exc:
            make("grafana", srv.url).poll(Http())
        assert exc.value.kind == "blind"
        assert exc.value.reason.startswith("the Grafana service-account token sees no alert rules: give the "
                                           "service account the Viewer role")
        assert make("grafana", srv.url, allow_empty=True).poll(Http()).alerts == ()
        srv.route("/api/prometheus/grafana/api/v1/alerts", NORMAL)
        assert make("grafana", srv.url).poll(Http()).alerts == ()        # sees a rule, all Normal: ok
        for pasted in ("/alerting/list?search=cpu", "/d/abc/dash?orgId=1", "/?orgId=1", "/#x"):
            assert make("grafana", srv.url + pasted).poll(Http()).alerts == ()
        assert srv.requests[-1].path == "/api/prometheus/grafana/api/v1/alerts"


def test_grafana_404_says_where_it_looked():
    with FaultServer() as srv:
        srv.ok({"message": "Not found"}, status=404)
        with pytest.raises(SourceError) as exc:
            make("grafana", srv.url + "/grafana").poll(Http())
        assert "no Grafana alerting API at" in exc.value.reason and "sub path" in exc.value.reason


def test_matchers_an_absent_label_satisfies_make_no_claim():
    from tray.sources.alerting.alertmanager import label_in_config, matcher_labels, unknown_receiver
    assert matcher_labels(['team="db"', 'none=""', 'env=~"prod|"', 'x=~"a.+"', '{sev="crit"}', 'y!="1"',
                           'z!~"a"', 'garbage']) == ["team", "x", "sev"]
    assert label_in_config("team", 'matchers: [team="db"]') and not label_in_config("team", "teams: x")
    assert unknown_receiver("team-.*", ["team-db"]) is None
    assert unknown_receiver("team", ["team-db"]) == "receiver 'team' matches none of the server's receivers (team-db)"
    assert "(none)" in unknown_receiver("x", [])
