"""Trello: cards by label colour, list or board (+ list name), the OAuth header, creating a card."""
from datetime import datetime, timezone

import pytest

from support.team_apis import make, trello_card
from tray.core.errors import SourceError
from tray.core.model import Alert, Severity
from tray.sources.saas.trello import TrelloSource, card_alerts, card_description, created_at

KEY, TOKEN = "k3yABC", "t0kenXYZ"
AUTH = f'OAuth oauth_consumer_key="{KEY}", oauth_token="{TOKEN}"'
RED = "5f1e3a9c0000000000000001"
ORANGE = "5f1e3a9c0000000000000002"
YELLOW = "5f1e3a9c0000000000000003"
GREEN = "5f1e3a9c0000000000000004"
BARE = "5f1e3a9c0000000000000005"


def trello(api, **kw):
    return make(TrelloSource, "board", secrets={"key": KEY, "token": TOKEN}, url=api.url, **kw)


def cards():
    return [trello_card(RED, "Payments down", ["green", "red"]), trello_card(ORANGE, "Disk 85%", ["orange"]),
            trello_card(YELLOW, "Cert expires", ["yellow"], list_id="list2"),
            trello_card(GREEN, "Write runbook", ["green", None]), trello_card(BARE, "Idea", [])]


def test_list_cards_by_label_with_exact_request(api, http):
    api.get("/1/lists/list1/cards", cards())
    alerts = trello(api, list_id="list1").poll(http).alerts
    sev = {a.id: a.severity for a in alerts}
    assert sev == {RED: Severity.CRITICAL, ORANGE: Severity.WARNING, YELLOW: Severity.WARNING,
                   GREEN: Severity.INFO, BARE: Severity.INFO}
    assert [a.raises for a in alerts] == [True, True, True, False, False]
    red = alerts[0]
    assert red.url == "https://trello.com/c/00000001" and red.title == "Payments down"
    assert red.since == created_at(RED) == datetime.fromtimestamp(0x5F1E3A9C, tz=timezone.utc)
    (req,) = api.requests
    assert req.headers["authorization"] == AUTH
    assert "fields" in dict(req.query) and "labels" in req.arg("fields")
    for _, v in req.query:
        assert KEY not in v and TOKEN not in v
    assert "key" not in dict(req.query) and "token" not in dict(req.query)


def test_board_with_list_name(api, http):
    api.get("/1/boards/board1/cards/open", cards())
    api.get("/1/boards/board1/lists", [{"id": "list1", "name": "Incidents", "closed": False},
                                       {"id": "list2", "name": "Watch", "closed": False}])
    alerts = trello(api, board_id="board1", list_name="Watch").poll(http).alerts
    assert [a.id for a in alerts] == [YELLOW]
    assert {r.path for r in api.requests} == {"/1/boards/board1/cards/open", "/1/boards/board1/lists"}
    assert all(r.headers["authorization"] == AUTH for r in api.requests)


def test_whole_board(api, http):
    api.get("/1/boards/board1/cards/open", cards())
    assert len(trello(api, board_id="board1").poll(http).alerts) == 5


def test_unknown_list_name_is_a_config_error(api, http):
    api.get("/1/boards/board1/cards/open", cards())
    api.get("/1/boards/board1/lists", [{"id": "list1", "name": "Incidents", "closed": False}])
    with pytest.raises(SourceError) as err:
        trello(api, board_id="board1", list_name="Nope").poll(http)
    assert err.value.kind == "config" and "Nope" in err.value.reason


def test_closed_cards_are_skipped():
    closed = dict(trello_card(RED, "old", ["red"]), closed=True)
    assert card_alerts("t", [closed]) == []


def test_missing_key_names_login_field(api, http):
    src = make(TrelloSource, "board", secrets={"token": TOKEN}, url=api.url, list_id="list1")
    with pytest.raises(SourceError) as err:
        src.poll(http)
    assert err.value.kind == "credential" and "secondline login board --field key" in err.value.reason
    assert api.requests == []


def test_rate_limited_without_retry_after(api, http):
    api.get("/1/lists/list1/cards", {"error": "API_TOKEN_LIMIT_EXCEEDED"}, status=429)
    with pytest.raises(SourceError) as err:
        trello(api, list_id="list1").poll(http)
    assert err.value.kind == "rate_limited"


def test_create_card(api, http):
    api.get("/1/lists/list9/board", {"id": "board1"})
    api.get("/1/boards/board1/labels", [{"id": "lgreen", "color": "green", "name": ""},
                                        {"id": "lred", "color": "red", "name": "Critical"}])
    api.on("POST", "/1/cards", {"id": "newcard", "shortUrl": "https://trello.com/c/NEW12345"})
    alert = Alert(source="prod-icinga", id="web1!http", title="web1 HTTP down", severity=Severity.CRITICAL,
                  detail="connection refused", since=datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc),
                  url="https://icinga.example/host/web1")
    link = trello(api, list_id="list1").create_card(http, alert, "list9")
    assert link == "https://trello.com/c/NEW12345"
    post = api.requests[-1]
    assert post.method == "POST" and post.headers["authorization"] == AUTH
    body = post.json()
    assert body["idList"] == "list9" and body["name"] == "web1 HTTP down" and body["idLabels"] == ["lred"]
    for part in ("prod-icinga", "2026-03-01 08:00", "https://icinga.example/host/web1", "connection refused"):
        assert part in body["desc"]


def test_card_description_without_optional_parts():
    text = card_description(Alert(source="s", id="1", title="t", severity=Severity.WARNING))
    assert "WARNING" in text and "Link" not in text


@pytest.mark.parametrize("settings", [{}, {"list_id": "a", "board_id": "b"}, {"list_id": "a", "list_name": "x"},
                                      {"list_id": "../x"}])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        TrelloSource.Settings(**settings).validate()
