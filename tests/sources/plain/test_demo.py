"""The demo scenario drives health through every state, deterministically."""
from datetime import datetime, timezone

from tray.core.errors import SourceError
from tray.core.rules import reduce, source_snapshot
from tray.sources.plain import demo
from tray.sources.base import SourceConfig


def run_step(t, origin=1000.0):
    snaps = []
    for role in demo.ROLES:
        cfg = SourceConfig(name=f"demo-{role}", type="demo", group=role, interval=1,
                           settings=demo.DemoSettings(step_seconds=4))
        demo.reset_origin(origin)
        src = demo.DemoSource(cfg, clock=lambda: t)
        err, alerts = None, ()
        try:
            alerts = tuple(src.poll(None).alerts)
        except SourceError as e:
            err = e.reason
        now = datetime.fromtimestamp(t, tz=timezone.utc)
        snaps.append(source_snapshot(name=cfg.name, type="demo", group=role, alerts=alerts, checked_at=now, error=err))
    return reduce(snaps, datetime.fromtimestamp(t, tz=timezone.utc))


def test_scenario_states_in_order():
    states = [run_step(1000.0 + 4 * i + 2).state for i in range(12)]
    assert states == ["ok", "warning", "critical", "handled_only", "unknown", "ok"] * 2


def test_no_unscripted_transients():
    """Sampled every 0.1 s over a cycle, the state only ever moves forward through the script."""
    seq = []
    for k in range(240):
        st = run_step(1000.0 + k * 0.1).state
        if not seq or seq[-1] != st:
            seq.append(st)
    assert seq == ["ok", "warning", "critical", "handled_only", "unknown", "ok"]


def test_changes_in_one_step_are_a_poll_interval_apart():
    from tray.sources.plain.demo import ACKED_FROM, CRITICAL_PRODUCTION, UNREACHABLE_INTEGRATION, WARNING_STAGING
    step_seconds, max_poll_gap = 4.0, 1.1
    assert (ACKED_FROM - WARNING_STAGING[1]) * step_seconds > max_poll_gap
    assert (UNREACHABLE_INTEGRATION[1] - CRITICAL_PRODUCTION[1]) * step_seconds > max_poll_gap


def test_unreachable_step_names_the_reason():
    snap = run_step(1000.0 + 4 * 4 + 2)
    integ = snap.source("demo-integration")
    assert integ.error and "simulated outage" in integ.error


def test_demo_config_is_valid_and_never_the_users():
    from tray.config.loader import loads
    cfg = loads(demo.demo_config_toml(port=18080, sources=8), "<demo>")
    assert len(cfg.sources) == 8 and {s.group for s in cfg.sources} == set(demo.ROLES)
    assert cfg.server.port == 18080
