"""The app as the tray backends see it: `tray.outputs.tray.menu.TrayController` implemented over the pieces
the app wires (store, user state, pop-up lines, pairing, actions), each handed in. The backends
depend on the Protocol only; this module is the one that knows what a menu entry does."""
from __future__ import annotations

import logging
import webbrowser
from dataclasses import dataclass
from typing import Callable

from tray.app.actions import Actions
from tray.core.model import Event, Snapshot
from tray.outputs.http.pairing import Pairing
from tray.notify.popups import Popups
from tray.engine.store import Store
from tray.outputs.tray.menu import Action, MenuInputs
from tray.app.userstate import UserState

log = logging.getLogger(__name__)

# Menu entries that run an alert action, and the action's name (as in POST /actions/NAME).
ALERT_ACTIONS = {"ack": "acknowledge", "recheck": "recheck", "trello": "trello"}


@dataclass
class MenuController:
    store: Store
    user: UserState
    popups: Popups
    pairing: Pairing
    actions: Actions
    dashboard_url: Callable[[], str]
    refresh: Callable[[], None]
    reload: Callable[[], object]
    quit: Callable[[], None]

    def latest(self) -> Snapshot:
        return self.store.latest

    def subscribe(self, fn: Callable[[Snapshot, list[Event]], None]) -> None:
        self.store.subscribe(fn)

    def menu_inputs(self) -> MenuInputs:
        return MenuInputs(snoozed=self.user.snoozed(), extra_lines=self.popups.menu_lines(),
                          is_new=self.user.is_new, card_for=self.user.card_for,
                          pairing_codes=tuple(r.code for r in self.pairing.pending()))

    def perform(self, action: Action) -> None:
        kind = action[0]
        try:
            self.user.mark_seen()      # the user has looked at the menu: nothing is "new" any more
            if kind == "open":
                webbrowser.open(action[1])
            elif kind == "dashboard":
                webbrowser.open(self.dashboard_url())
            elif kind == "refresh":
                self.refresh()
            elif kind == "snooze":
                self.user.snooze(action[1])
            elif kind == "resume":
                self.user.resume()
            elif kind == "reload":
                self.reload()
            elif kind == "quit":
                self.quit()
            elif kind == "pair":
                self.pairing.decide(action[1])
                self.store.touch()     # the menu and the status document drop the request
            elif kind in ALERT_ACTIONS:
                self.actions.from_menu(ALERT_ACTIONS[kind], action[1], action[2])
            else:
                log.warning("unknown menu action %r", kind)
        except Exception:
            log.exception("menu action %s failed", kind)
