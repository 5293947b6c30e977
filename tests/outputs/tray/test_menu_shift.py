"""The tray menu as data, and the shift lines it shows (no display needed)."""
from datetime import datetime, timezone

from tray.config.loader import loads
from tray.core.model import Alert, Severity
from tray.core.rules import reduce, source_snapshot
from tray.shift.context import ShiftContext
from tray.outputs.tray.pystray_backend import menu_model

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)   # a Thursday


def snap():
    crit = Alert(source="mon", id="web!http", title="web: http", severity=Severity.CRITICAL, url="https://m/x")
    acked = Alert(source="mon", id="db!disk", title="db: disk", severity=Severity.WARNING, handled=True,
                  handled_reason="acknowledged")
    s1 = source_snapshot(name="mon", type="icinga2", group="production", alerts=(crit, acked), checked_at=NOW,
                         error=None, capabilities=("acknowledge", "recheck", "trello"))
    s2 = source_snapshot(name="pd", type="pagerduty", group="team", alerts=(), checked_at=NOW,
                         error="rate limited by api.pagerduty.com (HTTP 429), retrying in 30s")
    return reduce([s1, s2], NOW)


def labels(items):
    return [i[0] for i in items]


def test_menu_structure():
    m = menu_model(snap(), snoozed=False, extra_lines=("On shift until 17:30",),
                   is_new=lambda a: a.id == "web!http", card_for=lambda a: None, pairing_codes=("123456",))
    top = labels(m)
    assert top[0] == "secondline: 1 critical, 1 unknown, 1 handled" and top[1] == "On shift until 17:30"
    assert "production: 1 critical, 1 handled" in top
    assert top[-7:] == ["Open dashboard", "Refresh now", "Approve pairing 123456", "Snooze notifications for 1 hour",
                        "Snooze notifications", "Reload config", "Quit"]
    prod = next(i for i in m if i[0].startswith("production"))
    mon_items = prod[1][0][1]
    crit = mon_items[0]
    assert crit[0] == "● [critical] web: http"                       # new alerts are marked
    assert labels(crit[1]) == ["Open", "Acknowledge", "Recheck", "Record on Trello"]
    assert crit[1][1][1] == ("ack", "mon", "web!http")
    assert mon_items[1] == ("[handled (acknowledged)] db: disk", None)        # handled: no actions offered
    team = next(i for i in m if i[0].startswith("team"))
    assert "rate limited" in team[1][0][1][0][0]                     # the source's reason is shown


def test_menu_offers_exactly_what_the_source_can_do():
    """Capabilities come with the snapshot (each source type declares its own): a Nagios alert gets no
    action it could only fail at, an Alertmanager one no Recheck, and Trello only with a board configured."""
    crit = Alert(source="nag", id="web!http", title="web: http", severity=Severity.CRITICAL, url="https://m/x")
    bare = Alert(source="nag", id="db!disk", title="db: disk", severity=Severity.WARNING)

    def alert_entries(capabilities):
        s = source_snapshot(name="nag", type="nagios", group="production", alerts=(crit, bare), checked_at=NOW,
                            error=None, capabilities=capabilities)
        prod = next(i for i in menu_model(reduce([s], NOW), snoozed=False) if i[0].startswith("production"))
        return prod[1][0][1]

    nothing = alert_entries(())
    assert nothing[0] == ("[critical] web: http", ("open", "https://m/x"))
    assert nothing[1] == ("[warning] db: disk", None)
    ack_only = alert_entries(("acknowledge",))
    assert labels(ack_only[0][1]) == ["Open", "Acknowledge"] and labels(ack_only[1][1]) == ["Acknowledge"]
    record = alert_entries(("trello",))
    assert labels(record[0][1]) == ["Open", "Record on Trello"]


def test_menu_snoozed_and_card():
    m = menu_model(snap(), snoozed=True, card_for=lambda a: "https://trello.com/c/1")
    assert "Resume notifications" in labels(m)
    prod = next(i for i in m if i[0].startswith("production"))
    crit = prod[1][0][1][0]
    assert ("Trello card: https://trello.com/c/1", ("open", "https://trello.com/c/1")) in crit[1]


def test_shift_context_text_and_rota(tmp_path):
    rota = tmp_path / "rota.csv"
    rota.write_text("date,name\n2026-11-26,Jane\n2026-11-30,Jane\n2026-11-27,Omar\n")
    cfg = loads('[shift]\nstart = "09:30"\nend = "17:30"\ntimezone = "Europe/London"\n'
                'rota = "rota.csv"\nme = "Jane"\n', str(tmp_path / "config.toml"))
    ctx = ShiftContext(cfg, http=None)
    ctx.load_rota()
    assert ctx.rota_error is None and len(ctx.rota) == 3
    assert ctx.on_shift(NOW)
    assert ctx.text(NOW) == "On shift until 17:30"
    evening = datetime(2026, 11, 26, 19, 0, tzinfo=timezone.utc)
    assert not ctx.on_shift(evening)
    assert ctx.text(evening) == "Next shift: Mon 30 Nov"


def test_shift_context_bad_rota_falls_back(tmp_path):
    cfg = loads('[shift]\nrota = "missing.csv"\nme = "Jane"\n', str(tmp_path / "config.toml"))
    ctx = ShiftContext(cfg, http=None)
    ctx.load_rota()
    assert "missing.csv" in ctx.rota_error and ctx.rota is None


def test_no_shift_means_always_on():
    ctx = ShiftContext(loads(""), http=None)
    assert ctx.on_shift(NOW) and ctx.text(NOW) == ""
