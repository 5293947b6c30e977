"""The user's marks on alerts ("new", Trello cards, snooze) and what a menu entry does, each tested on
its own pieces, without an App: tray.app.userstate and tray.outputs.tray.controller."""
from __future__ import annotations

import threading

from tray.config.loader import loads
from tray.core.model import Alert, Reading, Severity
from tray.outputs.http.pairing import OriginPolicy, Pairing
from tray.notify.popups import Popups
from tray.shift.context import ShiftContext
from tray.app.state import State
from tray.engine.store import Store
from tray.outputs.tray.controller import MenuController
from tray.app.userstate import UserState

CONFIG = '[[sources]]\nname = "mon"\ntype = "demo"\n'


def pieces(tmp_path):
    cfg = loads(CONFIG, str(tmp_path / "c.toml"))
    store = Store(offered=lambda c: ())
    store.configure(cfg.sources)
    user = UserState(State.load(tmp_path / "state.json"), store, ShiftContext(cfg, http=None))
    return cfg, store, user


def crit(aid):
    return Alert(source="mon", id=aid, title=f"{aid} down", severity=Severity.CRITICAL)


def test_new_until_seen_cards_kept_while_the_alert_is_there(tmp_path):
    _, store, user = pieces(tmp_path)
    try:
        store.record_reading("mon", Reading(alerts=(crit("a"), crit("b"))))
        user.observe(store.latest, [])
        assert user.is_new(crit("a")) and user.is_new(crit("b"))
        user.remember_card(crit("a"), "https://trello.com/c/1")
        doc = user.decorate({"sources": [{"alerts": [{"source": "mon", "id": "a"}, {"source": "mon", "id": "b"}]}]})
        assert doc["sources"][0]["alerts"] == [{"source": "mon", "id": "a", "new": True,
                                                "card_url": "https://trello.com/c/1"},
                                               {"source": "mon", "id": "b", "new": True}]
        user.mark_seen()
        assert not user.is_new(crit("a"))
        assert State.load(tmp_path / "state.json").cards == {"mon/a": "https://trello.com/c/1"}

        store.record_reading("mon", Reading(alerts=(crit("b"),)))      # "a" cleared: its card goes too
        user.observe(store.latest, [])
        assert user.card_for(crit("a")) is None
        assert State.load(tmp_path / "state.json").cards == {}
    finally:
        store.close()


def test_snooze_is_saved_and_told_to_the_store(tmp_path):
    _, store, user = pieces(tmp_path)
    try:
        until = user.snooze("1h")
        assert user.snoozed() and store.latest.snoozed_until == until
        assert State.load(tmp_path / "state.json").snoozed_until == until.replace(microsecond=0)   # kept to the second
        user.resume()
        assert not user.snoozed() and store.latest.snoozed_until is None
    finally:
        store.close()


class FakeActions:
    def __init__(self):
        self.ran = []

    def from_menu(self, name, source, alert_id):
        self.ran.append((name, source, alert_id))


def test_menu_entries_act_through_the_pieces_they_are_given(tmp_path):
    cfg, store, user = pieces(tmp_path)
    pairing = Pairing("t" * 20, clients_path=tmp_path / "clients.json", policy=OriginPolicy((), ()))
    actions, quit_ = FakeActions(), threading.Event()
    ctl = MenuController(store=store, user=user, popups=Popups(cfg.notifications, user.shift, user, store, pairing),
                         pairing=pairing, actions=actions, dashboard_url=lambda: "http://127.0.0.1:1/",
                         refresh=lambda: None, reload=lambda: True, quit=quit_.set)
    try:
        store.record_reading("mon", Reading(alerts=(crit("a"),)))
        user.observe(store.latest, [])
        assert ctl.menu_inputs().is_new(crit("a"))
        ctl.perform(("ack", "mon", "a"))
        ctl.perform(("trello", "mon", "a"))
        assert actions.ran == [("acknowledge", "mon", "a"), ("trello", "mon", "a")]
        assert not ctl.menu_inputs().is_new(crit("a"))      # the menu was looked at
        ctl.perform(("snooze", "15m"))
        assert ctl.menu_inputs().snoozed
        assert any(line.startswith("Notifications snoozed until") for line in ctl.menu_inputs().extra_lines)
        ctl.perform(("nonsense",))                          # logged, never raised
        ctl.perform(("quit",))
        assert quit_.is_set()
    finally:
        store.close()
