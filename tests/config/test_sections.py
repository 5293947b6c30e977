"""The config's tables are parsed once, by the loader, into the typed values the app uses; start-up and
reload take them as they are (no second parse in the app or the shift context)."""
import inspect

import pytest

from tray.config.loader import ConfigError, load, loads
from tray.config.sections import Link, ServerConfig
from tray.core.model import Severity
from tray.notify.policy import NotificationRules
from tray.shift.hours import ShiftSettings

FULL = """
[server]
port = 18001
[notifications]
min_gap = 2
outside_shift = "silent"
[notifications.rules]
staging = ["critical"]
[shift]
days = ["mon", "tue"]
start = "08:00"
end = "16:00"
[[links]]
title = "Runbook"
url = "https://wiki.example/runbook"
[[sources]]
name = "demo-production"
type = "demo"
"""


def test_each_table_is_read_into_its_typed_value():
    c = loads(FULL, "/cfg/config.toml")
    assert c.server == ServerConfig(port=18001, allowed_origins=(), extension_ids=c.server.extension_ids)
    assert isinstance(c.notifications, NotificationRules)
    assert (c.notifications.min_gap, c.notifications.outside_shift) == (2.0, "silent")
    assert c.notifications.severities("staging") == frozenset({Severity.CRITICAL})
    assert c.shift == ShiftSettings(days=("mon", "tue"), start="08:00", end="16:00")
    assert c.links == (Link(title="Runbook", url="https://wiki.example/runbook"),)


def test_without_the_tables_the_defaults():
    c = loads("", "c.toml")
    assert c.notifications == NotificationRules() and c.shift is None and c.links == ()


@pytest.mark.parametrize("text,key", [
    ('[shift]\nstart = "25:00"\n', "shift.start"),
    ("shift = 1\n", "shift"),
    ('[notifications.rules]\nstaging = ["red"]\n', "notifications.rules.staging"),
    ('[notifications]\nmin_gap = "soon"\n', "notifications.min_gap"),
])
def test_a_bad_table_is_a_load_time_error(text, key):
    with pytest.raises(ConfigError) as err:
        loads(text, "c.toml")
    assert err.value.key == key


def test_the_app_and_a_reload_use_the_parsed_values_as_they_are(tmp_path):
    from tray.app.wiring import App
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    cfg = load(path)
    app = App(cfg, headless=True, port=0, watch_config=False, state_path=str(tmp_path / "s.json"), token="t" * 20)
    try:
        assert app.popups.rules is cfg.notifications and app.shift.settings is cfg.shift
        path.write_text(FULL.replace("min_gap = 2", "min_gap = 7").replace('"08:00"', '"07:00"'))
        assert app.reload_config()
        assert app.popups.rules is app.config.notifications and app.popups.rules.min_gap == 7.0
        assert app.notifier.min_gap == 7.0
        assert app.shift.settings is app.config.shift and app.shift.settings.start == "07:00"
        # A bad table on reload keeps the last good config, whichever table it is in.
        path.write_text(FULL.replace('"08:00"', '"99:00"'))
        assert not app.reload_config()
        assert app.shift.settings.start == "07:00"
    finally:
        app.store.close()


def test_nothing_downstream_parses_a_table_again():
    import tray.app.wiring
    import tray.config.loader
    import tray.shift.context
    for module in (tray.app.wiring, tray.shift.context, tray.config.loader):
        text = inspect.getsource(module)
        assert "from_dict" not in text and "ImportError" not in text, module.__name__
