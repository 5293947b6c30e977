"""[shift] and [notifications] through the real config loader: bad values are load-time errors
naming the file, the key and the reason."""
from __future__ import annotations

import pytest

from tray.config.loader import loads
from tray.core.errors import ConfigError
from tray.notify.policy import NotificationRules
from tray.shift.hours import ShiftSettings

GOOD = """
[notifications]
min_gap = 3
recoveries = false
outside_shift = "silent"
[notifications.rules]
"*" = ["critical"]
production = ["critical", "warning", "unknown"]
integration = []

[shift]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "16:00"
timezone = "Europe/London"
rota = "https://example.org/rota.ics"
me = "Alice"
"""


def test_a_full_config_reads_into_the_settings():
    c = loads(GOOD, "/cfg/config.toml")
    s = c.shift                     # parsed once, by the loader: what the app and reload use as is
    assert isinstance(s, ShiftSettings)
    assert (s.start, s.end, s.timezone, s.rota, s.me) == ("08:00", "16:00", "Europe/London",
                                                           "https://example.org/rota.ics", "Alice")
    r = c.notifications
    assert isinstance(r, NotificationRules)
    assert (r.recoveries, r.outside_shift, r.min_gap) == (False, "silent", 3.0)
    assert [s.value for s in sorted(r.severities("staging"))] == ["critical"]
    assert r.severities("integration") == frozenset()


@pytest.mark.parametrize("toml,key", [
    ('[shift]\ntimezone = "Europe/Lundon"\n', "shift.timezone"),
    ('[shift]\nstart = "9h30"\n', "shift.start"),
    ('[shift]\ndays = ["mon", "caturday"]\n', "shift.days"),
    ('[shift]\nrota = "r.csv"\n', "shift.me"),
    ('[notifications.rules]\nstaging = ["critical", "red"]\n', "notifications.rules.staging"),
    ('[notifications]\noutside_shift = "never"\n', "notifications.outside_shift"),
])
def test_bad_sections_fail_at_load_time(toml, key):
    with pytest.raises(ConfigError) as e:
        loads(toml, "/cfg/config.toml")
    assert e.value.key == key and e.value.path == "/cfg/config.toml"
