"""Trello: the open cards of one list (or of one board, optionally one list of it by name).

Trello needs two secrets, an API key and a user token; store both under the source's name:

    secondline login NAME --field key      # from https://trello.com/power-ups/admin (API key)
    secondline login NAME --field token    # the token generated for that key

They live in the keyring as users `NAME:key` and `NAME:token` (or in the environment as
`SECONDLINE_SECRET_<NAME>_KEY` / `_TOKEN`). They are sent in an `Authorization: OAuth ...` header,
never in the URL, so they cannot end up in a proxy log or an error message.

A card's label colour gives its severity: red -> critical, orange or yellow -> warning, any other
(or none) -> listed for context without raising the colour.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tray.errors import SourceError
from tray.model import Alert, Severity
from tray.sources.common import check_http_url, parse_time
from tray.sources.base import Source, require

DEFAULT_URL = "https://api.trello.com"
CARD_FIELDS = "name,shortUrl,url,dateLastActivity,due,labels,closed,idList,desc"
_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
WARNING_COLOURS = ("orange", "yellow")
LABEL_FOR = {"critical": "red", "warning": "orange", "unknown": "purple", "info": "blue"}


@dataclass(frozen=True)
class TrelloSettings:
    list_id: str | None = None
    board_id: str | None = None
    list_name: str | None = None        # with board_id: only the cards of the list of this name
    url: str = DEFAULT_URL

    def validate(self) -> None:
        if (self.list_id is None) == (self.board_id is None):
            raise ValueError("list_id: set exactly one of list_id or board_id")
        if self.list_name is not None and self.board_id is None:
            raise ValueError("list_name: only with board_id")
        for key in ("list_id", "board_id"):
            value = getattr(self, key)
            if value is not None and not _ID.match(value):
                raise ValueError(f"{key}: {value!r} is not a Trello id (letters and digits)")
        check_http_url(self.url)


class TrelloSource(Source):
    type = "trello"
    Settings = TrelloSettings
    secrets = ("key", "token")

    def fetch(self, http: Any) -> Any:
        s = self.settings
        if s.list_id is not None:
            return self._get(http, f"/1/lists/{s.list_id}/cards", {"fields": CARD_FIELDS})
        cards = require(self._get(http, f"/1/boards/{s.board_id}/cards/open", {"fields": CARD_FIELDS}),
                        list, "cards")
        if s.list_name is None:
            return cards
        lists = self._get(http, f"/1/boards/{s.board_id}/lists", {"fields": "name,closed",
                                                                  "filter": "open"})
        return cards_of_list(cards, list_id_by_name(lists, s.list_name))

    def parse(self, payload: Any) -> list[Alert]:
        return card_alerts(self.name, payload)

    # -- actions -----------------------------------------------------------------------------
    def create_card(self, http: Any, alert: Alert, list_id: str) -> str:
        """File an alert as a card on a list (e.g. the team's "to investigate"); returns its link."""
        if not _ID.match(list_id):
            raise SourceError(f"not a Trello list id: {list_id!r}", kind="config")
        body: dict[str, Any] = {"idList": list_id, "name": alert.title, "desc": card_description(alert)}
        label = self._label_for(http, list_id, LABEL_FOR[alert.severity.value])
        if label:
            body["idLabels"] = [label]
        card = self._request(http, "POST", "/1/cards", json_body=body).json()
        card = require(card, dict, "the created card")
        link = card.get("shortUrl") or card.get("url")
        if not isinstance(link, str):
            raise SourceError("Trello created the card but sent no link back", kind="bad_content")
        return link

    def _label_for(self, http: Any, list_id: str, colour: str) -> str | None:
        """The id of the first label of that colour on the list's board, if the board has one."""
        board = require(self._get(http, f"/1/lists/{list_id}/board", {"fields": "id"}), dict, "the board")
        board_id = board.get("id")
        if not isinstance(board_id, str) or not _ID.match(board_id):
            return None
        labels = require(self._get(http, f"/1/boards/{board_id}/labels", {"fields": "color,name"}),
                         list, "labels")
        for label in labels:
            if isinstance(label, dict) and label.get("color") == colour and isinstance(label.get("id"), str):
                return label["id"]
        return None

    # -- plumbing ----------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        key, token = self.secret("key"), self.secret("token")
        return {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"',
                "Accept": "application/json"}

    def _request(self, http: Any, method: str, path: str, params: Any = None, json_body: Any = None) -> Any:
        return http.request(method, self.settings.url.rstrip("/") + path, source=self.name, params=params,
                            json_body=json_body, headers=self._headers(), timeout=self.config.timeout,
                            max_bytes=self.max_bytes)

    def _get(self, http: Any, path: str, params: Any = None) -> Any:
        return self._request(http, "GET", path, params).json()


# -- pure parsing ----------------------------------------------------------------------------

def list_id_by_name(lists: Any, name: str) -> str:
    for item in require(lists, list, "the board's lists"):
        item = require(item, dict, "a list")
        if item.get("name") == name and not item.get("closed") and isinstance(item.get("id"), str):
            return item["id"]
    raise SourceError(f"the board has no open list named {name!r}", kind="config")


def cards_of_list(cards: Any, list_id: str) -> list[Any]:
    return [c for c in require(cards, list, "cards") if isinstance(c, dict) and c.get("idList") == list_id]


def card_severity(labels: Any) -> Severity:
    colours = {label.get("color") for label in labels
               if isinstance(label, dict) and isinstance(label.get("color"), str)} \
        if isinstance(labels, list) else set()
    if "red" in colours:
        return Severity.CRITICAL
    if colours & set(WARNING_COLOURS):
        return Severity.WARNING
    return Severity.INFO


def card_alerts(source: str, payload: Any) -> list[Alert]:
    alerts = []
    for item in require(payload, list, "cards"):
        card = require(item, dict, "a card")
        cid = card.get("id")
        if not isinstance(cid, str) or not cid:
            raise SourceError("unexpected response shape: a card has no id", kind="bad_content")
        if card.get("closed") is True:
            continue
        labels = card.get("labels") if isinstance(card.get("labels"), list) else []
        names = [lb.get("name") or lb.get("color") for lb in labels
                 if isinstance(lb, dict) and isinstance(lb.get("name") or lb.get("color"), str)]
        detail = ", ".join(names)
        due = parse_time(card.get("due"))
        if due:
            detail = f"{detail} · due {due:%Y-%m-%d %H:%M}Z".lstrip(" ·")
        link = card.get("shortUrl") if isinstance(card.get("shortUrl"), str) else card.get("url")
        name = card.get("name") if isinstance(card.get("name"), str) else ""
        alerts.append(Alert(source=source, id=cid, title=name.strip() or f"card {cid}",
                            severity=card_severity(labels), detail=detail,
                            since=created_at(cid) or parse_time(card.get("dateLastActivity")),
                            url=link if isinstance(link, str) else None, ref={"card_id": cid}))
    return alerts


def created_at(card_id: str) -> datetime | None:
    """Trello ids are MongoDB ObjectIds: the first 8 hex digits are the creation time."""
    if not re.fullmatch(r"[0-9a-fA-F]{24}", card_id):
        return None
    return datetime.fromtimestamp(int(card_id[:8], 16), tz=timezone.utc)


def card_description(alert: Alert) -> str:
    lines = [f"**{alert.severity.value.upper()}** from secondline source `{alert.source}`"]
    if alert.since:
        lines.append(f"Since: {alert.since.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC")
    if alert.url:
        lines.append(f"Link: {alert.url}")
    if alert.detail:
        lines.extend(["", alert.detail])
    return "\n".join(lines)
