"""Against the REAL prometheus-alertmanager: alerts posted to it, one silenced; the source reports
exactly the right alerts with the right severities and the silenced one handled. Also with Basic auth
(--web.config.file, bcrypt), and acknowledge() creating a real silence."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from support.alertmanager import Alertmanager
from support.monitoring import make_source
from support.faults import wait_until
from tray.core.errors import SourceError
from tray.engine.net import Http

pytestmark = pytest.mark.slow

ALERTS = [
    {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
     "annotations": {"summary": "/var at 97%"}, "generatorURL": "http://prom.example:9090/graph?g0.expr=disk"},
    {"labels": {"alertname": "HighLoad", "severity": "warning", "instance": "web1"},
     "annotations": {"summary": "load 12"}},
    {"labels": {"alertname": "Deploying", "severity": "info"}, "annotations": {"summary": "release 42"}},
    {"labels": {"alertname": "NoSeverity", "job": "batch"}, "annotations": {"description": "no label"}},
    {"labels": {"alertname": "CertExpiry", "severity": "critical", "instance": "lb1"},
     "annotations": {"summary": "3 days left"}},
]


@pytest.fixture
def am(tmp_path):
    server = Alertmanager(tmp_path / "am").start()
    yield server
    server.stop()


@pytest.fixture
def am_auth(tmp_path):
    server = Alertmanager(tmp_path / "am-auth", user="ops", password="s3cret-pw").start()
    yield server
    server.stop()


def by_title(alerts):
    return {a.title: a for a in alerts}


def test_reports_exactly_the_posted_alerts(am):
    am.post_alerts(ALERTS)
    am.silence({"alertname": "CertExpiry"})
    src = make_source("alertmanager", url=am.url)

    def settled():
        alerts = src.poll(Http()).alerts
        got = by_title(alerts)
        return got if len(alerts) == 5 and got.get("CertExpiry on lb1") and got["CertExpiry on lb1"].handled \
            else None
    got = wait_until(settled, timeout=10)
    assert {t: (a.severity.value, a.handled, a.handled_reason) for t, a in got.items()} == {
        "DiskFull on db1": ("critical", False, None),
        "HighLoad on web1": ("warning", False, None),
        "Deploying": ("info", False, None),
        "NoSeverity on batch": ("warning", False, None),
        "CertExpiry on lb1": ("critical", True, "silenced"),
    }
    # What raises the colour: the unsilenced critical and warnings, never info or the silenced one.
    assert sorted(t for t, a in got.items() if a.raises) == ["DiskFull on db1", "HighLoad on web1",
                                                             "NoSeverity on batch"]
    disk = got["DiskFull on db1"]
    assert disk.url == "http://prom.example:9090/graph?g0.expr=disk"
    assert disk.detail == "/var at 97%"
    assert disk.since is not None and abs(datetime.now(timezone.utc) - disk.since) < timedelta(minutes=5)
    assert got["HighLoad on web1"].url.startswith(am.url + "/#/alerts?filter=")
    fingerprints = {a["labels"]["alertname"]: a["fingerprint"] for a in am.get("/api/v2/alerts")}
    assert {a.ref["labels"]["alertname"]: a.id for a in got.values()} == fingerprints


def test_filters_reach_the_server(am):
    am.post_alerts(ALERTS)
    src = make_source("alertmanager", url=am.url, filters=['severity="critical"'])
    alerts = wait_until(lambda: src.poll(Http()).alerts, timeout=10)
    assert sorted(a.title for a in alerts) == ["CertExpiry on lb1", "DiskFull on db1"]


def test_acknowledge_creates_a_silence(am):
    am.post_alerts(ALERTS[:2])
    src = make_source("alertmanager", url=am.url)
    alerts = wait_until(lambda: (lambda a: a if len(a) == 2 else None)(src.poll(Http()).alerts), timeout=10)
    load = by_title(alerts)["HighLoad on web1"]
    sid = src.acknowledge(Http(), load, author="alice", comment="looking", duration_s=600)
    silence = am.get(f"/api/v2/silence/{sid}")
    assert silence["createdBy"] == "alice" and silence["comment"] == "looking"
    assert silence["status"]["state"] == "active"
    ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=8) < ends - datetime.now(timezone.utc) <= timedelta(minutes=10, seconds=5)
    assert {m["name"]: m["value"] for m in silence["matchers"]} == dict(load.ref["labels"])

    def handled():
        now = by_title(src.poll(Http()).alerts)
        return now if now["HighLoad on web1"].handled else None
    now = wait_until(handled, timeout=10)
    assert not now["DiskFull on db1"].handled   # equality matchers on every label: only that alert


def test_basic_auth(am_auth):
    am_auth.post_alerts(ALERTS[:1])
    good = make_source("alertmanager", name="am-prod", url=am_auth.url, username="ops", secret="s3cret-pw")
    alerts = wait_until(lambda: good.poll(Http()).alerts, timeout=10)
    assert [(a.title, a.severity.value) for a in alerts] == [("DiskFull on db1", "critical")]
    wrong = make_source("alertmanager", name="am-prod", url=am_auth.url, username="ops", secret="nope")
    with pytest.raises(SourceError) as err:
        wrong.poll(Http())
    assert err.value.kind == "auth" and "secondline login am-prod" in err.value.reason
    anonymous = make_source("alertmanager", name="am-prod", url=am_auth.url)
    with pytest.raises(SourceError) as err:
        anonymous.poll(Http())
    assert err.value.kind == "auth"
    # Actions use the same credential.
    sid = good.acknowledge(Http(), alerts[0], author="bob", duration_s=60)
    assert am_auth.get(f"/api/v2/silence/{sid}")["createdBy"] == "bob"


def test_server_gone_is_unknown_not_green(am):
    src = make_source("alertmanager", url=am.url, timeout=2)
    assert src.poll(Http()).alerts == ()
    am.stop()
    with pytest.raises(SourceError) as err:
        src.poll(Http())
    assert err.value.kind == "refused"
