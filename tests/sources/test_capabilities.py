"""What a source can do to its alerts is declared once, by its type, and offered exactly: the status
document publishes it per source (schema 2), the endpoint refuses what is not offered, and the demo
really does what it declares (in memory)."""
import inspect

import jsonschema
import pytest

from support import fakesource
from tray.config.loader import loads
from tray.core.document import schema
from tray.core.model import Alert, Severity
from tray.sources import REGISTRY, capabilities, offered_actions, record_board, source_class
from tray.sources.plain import demo
from tray.sources.base import ACKNOWLEDGE, CAPABILITIES, RECHECK, Source, SourceConfig
from tray.core.errors import SourceError


BUILT_IN = sorted(t for t in REGISTRY if not REGISTRY[t].startswith("support."))   # not the tests' fakes


@pytest.mark.parametrize("type_name", BUILT_IN)
def test_a_type_declares_exactly_the_actions_it_implements(type_name):
    cls = source_class(type_name)
    for action in (ACKNOWLEDGE, RECHECK):
        implemented = getattr(cls, action) is not getattr(Source, action)
        assert (action in cls.capabilities) == implemented, (type_name, action)
    assert cls.records == callable(getattr(cls, "create_card", None)), type_name


def test_declared_capabilities_by_type():
    assert {t: capabilities(t) for t in BUILT_IN if capabilities(t)} == {
        "alertmanager": ("acknowledge",), "demo": ("acknowledge", "recheck"), "grafana": ("acknowledge",),
        "icinga2": ("acknowledge", "recheck"), "pagerduty": ("acknowledge",)}
    assert capabilities("no-such-type") == ()


BOARD = """
[actions]
trello = "board"
[[sources]]
name = "mon"
type = "icinga2"
url = "https://icinga.example:5665"
username = "u"
[[sources]]
name = "nag"
type = "nagios"
url = "https://nagios.example/cgi-bin/nagios4"
username = "u"
[[sources]]
name = "board"
type = "trello"
list_id = "l1"
"""


def test_record_on_trello_is_offered_only_with_a_running_board_and_not_on_the_board_itself():
    cfg = loads(BOARD, "<test>")
    board = record_board(cfg.sources, cfg.actions.get("trello"))
    by_name = {s.name: offered_actions(s, board) for s in cfg.sources}
    assert by_name == {"mon": ("acknowledge", "recheck", "trello"), "nag": ("trello",), "board": ()}
    # No board configured, or one that is switched off, or not a board: nothing to record on.
    assert record_board(cfg.sources, None) is None
    off = loads(BOARD.replace('list_id = "l1"', 'list_id = "l1"\nenabled = false'), "<test>")
    assert record_board(off.sources, "board") is None
    assert record_board(cfg.sources, "nag") is None
    assert offered_actions(cfg.sources[1], None) == ()


def test_the_status_document_lists_each_sources_capabilities(tmp_path):
    from tray.app.wiring import App
    fakesource.register()
    cfg = loads(BOARD.replace('type = "trello"\nlist_id = "l1"', 'type = "fake"') +
                '[[sources]]\nname = "demo-production"\ntype = "demo"\n', str(tmp_path / "c.toml"))
    app = App(cfg, headless=True, port=0, watch_config=False, state_path=str(tmp_path / "s.json"), token="t" * 20)
    try:
        app.store.configure(cfg.sources)      # what the scheduler does at start
        doc = app.endpoint.document()
    finally:
        app.store.close()
    assert doc["schema"] == 2
    jsonschema.Draft202012Validator(schema()).validate(doc)
    assert {s["name"]: s["capabilities"] for s in doc["sources"]} == {
        "mon": ["acknowledge", "recheck", "trello"], "nag": ["trello"], "board": ["acknowledge", "recheck"],
        "demo-production": ["acknowledge", "recheck", "trello"]}


def test_schema_2_requires_capabilities():
    from tray.core.rules import reduce, source_snapshot
    from tray.core.document import to_document
    from datetime import datetime, timezone
    now = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)
    doc = to_document(reduce([source_snapshot(name="a", type="demo", group="g", alerts=(), checked_at=now,
                                              error=None)], now))
    validator = jsonschema.Draft202012Validator(schema())
    validator.validate(doc)
    del doc["sources"][0]["capabilities"]
    assert not validator.is_valid(doc)


def demo_source(t, role="production"):
    cfg = SourceConfig(name=f"demo-{role}", type="demo", group=role, interval=1,
                       settings=demo.DemoSettings(step_seconds=4))
    demo.reset_origin(1000.0)
    clock = {"t": t}
    return demo.DemoSource(cfg, clock=lambda: clock["t"]), clock


def test_the_demo_acknowledges_in_memory_until_the_alert_clears():
    src, clock = demo_source(1000.0 + 4 * 2.2)         # step 2: the critical, not yet acknowledged
    crit = next(a for a in src.poll(None).alerts if a.id == demo.CRITICAL_ID)
    assert crit.raises
    said = src.acknowledge(None, crit, author="Jane")
    assert "Jane" in said
    after = next(a for a in src.poll(None).alerts if a.id == demo.CRITICAL_ID)
    assert after.handled and after.handled_reason == "acknowledged"
    with pytest.raises(SourceError, match="not an open problem"):
        src.acknowledge(None, crit, author="Jane")     # already handled: nothing left to do
    clock["t"] = 1000.0 + 24 + 4 * 2.2                 # the next cycle raises it afresh
    again = next(a for a in src.poll(None).alerts if a.id == demo.CRITICAL_ID)
    assert again.raises
    assert src.recheck(None, again)


def test_the_demo_staging_warning_can_be_acknowledged():
    src, _ = demo_source(1000.0 + 4 * 1.5, role="staging")
    warn = src.poll(None).alerts[0]
    assert warn.id == demo.WARNING_ID and warn.raises
    src.acknowledge(None, warn, author="Jane")
    assert src.poll(None).alerts[0].handled
    gone = Alert(source=src.name, id="nope", title="x", severity=Severity.CRITICAL)
    with pytest.raises(SourceError):
        src.recheck(None, gone)


def test_the_endpoint_refuses_what_a_source_does_not_offer(tmp_path):
    """A Nagios alert cannot be acknowledged from here: 409 with the reason, nothing sent anywhere."""
    from tray.app.actions import ActionError
    from tray.app.wiring import App
    fakesource.register()
    cfg = loads('[[sources]]\nname = "nag"\ntype = "fake"\n', str(tmp_path / "c.toml"))
    app = App(cfg, headless=True, port=0, watch_config=False, state_path=str(tmp_path / "s.json"), token="t" * 20)
    try:
        from tray.core.model import Reading
        app.store.configure(cfg.sources)
        app.store.offered = lambda c: ()
        app.store.record_reading("nag", Reading(alerts=(Alert(source="nag", id="x", title="x down",
                                                              severity=Severity.CRITICAL),)))
        for action, reason in (("acknowledge", "fake sources cannot acknowledge"),
                               ("recheck", "fake sources cannot recheck"),
                               ("trello", "no Trello board configured")):
            with pytest.raises(ActionError) as err:
                getattr(app.actions, f"do_{action}")({"source": "nag", "id": "x"})
            assert err.value.status == 409 and reason in err.value.reason
    finally:
        app.store.close()


def test_no_type_list_outside_the_sources():
    """The menu and the endpoint read capabilities; neither names a source type ("trello" is also the
    name of the record action and of its [actions] key)."""
    import tray.app.actions
    import tray.outputs.tray.menu
    for module in (tray.app.actions, tray.outputs.tray.menu):
        text = inspect.getsource(module)
        for t in set(REGISTRY) - set(CAPABILITIES):
            assert f'"{t}"' not in text, (module.__name__, t)
