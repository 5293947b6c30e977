"""Trello: the open cards of one list (or of one board, optionally one list of it by name).

Trello needs two secrets, an API key and a user token; store both under the source's name:

    secondline login NAME --field key      # from https://trello.com/power-ups/admin (API key)
    secondline login NAME --field token    # the token generated for that key

They live in the keyring as users `NAME:key` and `NAME:token` (or in the environment as
`SECONDLINE_SECRET_<NAME>_KEY` / `_TOKEN`). They are sent in an `Authorization: OAuth ...` header,
never in the URL, so they cannot end up in a proxy log or an error message.

A card's label colour gives its severity: red -> critical, orange or yellow -> warning, any other
(or none) -> listed for context without raising the colour.

Blindness (see base.py)
    An empty list is a board with nothing to do. The telltales: the list (or board) id does not exist
    or the token's member cannot see it (404, never excused), or it is archived (`closed`), where no
    card ever lands again. When the answer is empty (at most once per VISIBILITY_RECHECK while it
    stays empty), `GET /1/lists/ID?fields=name,closed` (or `/1/boards/ID`) says whether it is archived;
    a 404's reason names the token's member (`GET /1/members/me`). Cards in the answer prove sight: no
    extra request then.

URL forms: `board_id` may be the board's address as the browser shows it
(`https://trello.com/b/SHORTLINK/name`): its short link is a board id to the API.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.sources.common import check_http_url, parse_time
from tray.sources.base import Finding, Recheck, Source, blind_error, require

DEFAULT_URL = "https://api.trello.com"
CARD_FIELDS = "name,shortUrl,url,dateLastActivity,due,labels,closed,idList,desc"
_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_BOARD_URL = re.compile(r"^https?://(?:www\.)?trello\.com/b/([A-Za-z0-9]{1,64})(?:[/?#].*)?$")
EMPTY_HINT = "Trello never answers an empty body: a proxy between here and Trello answered instead"
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
            value = board_ref(getattr(self, key)) if key == "board_id" else getattr(self, key)
            if value is not None and not _ID.match(value):
                hint = " or the board's address, https://trello.com/b/ID/name" if key == "board_id" else ""
                raise ValueError(f"{key}: {value!r} is not a Trello id (letters and digits{hint})")
        check_http_url(self.url)


def board_ref(value: str | None) -> str | None:
    """A board id, or the short link out of a pasted board address."""
    if value is None:
        return None
    m = _BOARD_URL.match(value.strip())
    return m.group(1) if m else value


class TrelloSource(Source):
    type = "trello"
    Settings = TrelloSettings
    records = True              # can be the [actions] trello board: create_card()
    secrets = ("key", "token")

    def __init__(self, config: Any, secret_lookup: Any = None) -> None:
        super().__init__(config, secret_lookup)
        self.visibility = Recheck()
        self.board_id = board_ref(self.settings.board_id)

    def fetch(self, http: Any) -> Any:
        s = self.settings
        if s.list_id is not None:
            return self._read(http, f"/1/lists/{s.list_id}/cards", {"fields": CARD_FIELDS})
        cards = require(self._read(http, f"/1/boards/{self.board_id}/cards/open", {"fields": CARD_FIELDS}),
                        list, "cards")
        if s.list_name is None:
            return cards
        lists = self._read(http, f"/1/boards/{self.board_id}/lists", {"fields": "name,closed",
                                                                     "filter": "open"})
        return cards_of_list(cards, list_id_by_name(lists, s.list_name))

    def parse(self, payload: Any) -> list[Alert]:
        return card_alerts(self.name, payload)

    def poll(self, http: Any) -> Reading:
        payload = self.fetch(http)
        alerts = self.parse(payload)
        finding = None if payload else self.probe(self.visibility, lambda: self._archived_finding(http))
        return Reading(alerts=self.sight(alerts, finding))

    def _archived_finding(self, http: Any) -> Finding | None:
        s = self.settings
        what, path = (f"list {s.list_id}", f"/1/lists/{s.list_id}") if s.list_id is not None \
            else (f"board {self.board_id}", f"/1/boards/{self.board_id}")
        thing = require(self._read(http, path, {"fields": "name,closed"}), dict, what)
        if thing.get("closed") is not True:
            return None
        name = thing.get("name") if isinstance(thing.get("name"), str) else "?"
        return self.blind(f"{what} ({name!r}) is archived, so no card lands there any more",
                          f"point {'list_id' if s.list_id is not None else 'board_id'} to the live one",
                          excusable=False)

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
                            max_bytes=self.max_bytes, empty_hint=EMPTY_HINT)

    def _get(self, http: Any, path: str, params: Any = None) -> Any:
        return self._request(http, "GET", path, params).json()

    def _read(self, http: Any, path: str, params: Any = None) -> Any:
        """A GET of the watched list or board: a 404 means the source watches nothing (blind)."""
        resp = http.request("GET", self.settings.url.rstrip("/") + path, source=self.name, params=params,
                            headers=self._headers(), timeout=self.config.timeout, max_bytes=self.max_bytes,
                            ok_statuses=(404,), empty_hint=EMPTY_HINT)
        if resp.status == 404:
            s = self.settings
            what, key = (f"list {s.list_id}", "list_id") if s.list_id is not None else (f"board {self.board_id}",
                                                                                       "board_id")
            raise blind_error(f"{what} does not exist, or {self._member(http)} cannot see it (HTTP 404): check "
                              f"{key} and that the token's member is on the board")
        return resp.json()

    def _member(self, http: Any) -> str:
        """The token's member by name, for reasons (best effort: the reason stands without it)."""
        who = "the token's member"
        try:
            me = self._get(http, "/1/members/me", {"fields": "username"})
            if isinstance(me, dict) and isinstance(me.get("username"), str):
                who = f"the token's member '{me['username']}'"
        except SourceError:
            pass
        return self.reader(who, "token", "token")


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
