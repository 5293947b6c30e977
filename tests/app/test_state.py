"""Persistent app state: snooze and "new" marks survive a restart; writes are atomic; a corrupt
file never stops the app."""
from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime, timedelta, timezone

import pytest

from tray.core.model import Alert, Severity
from tray.shift.hours import ShiftSettings
from tray.app.state import State, alert_key, default_state_path, snooze_until

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def test_missing_file_is_an_empty_state(tmp_path):
    s = State.load(tmp_path / "nope" / "state.json")
    assert (s.snoozed_until, s.seen, s.first_seen) == (None, set(), {})
    assert not (tmp_path / "nope").exists()      # loading writes nothing


def test_survives_a_restart(tmp_path):
    path = tmp_path / "sub" / "state.json"
    s = State.load(path)
    s.snooze(NOW + timedelta(hours=1))
    s.observe(["icinga/a", "icinga/b"], NOW)
    s.mark_seen(["icinga/a"])
    s.save()

    again = State.load(path)              # a new process reading the same file
    assert again.snoozed_until == NOW + timedelta(hours=1)
    assert again.snoozed_until.tzinfo is not None
    assert again.is_snoozed(NOW) and not again.is_snoozed(NOW + timedelta(hours=1))
    assert again.new_keys(["icinga/a", "icinga/b", "pd/c"]) == {"icinga/b", "pd/c"}
    assert again.first_seen == {"icinga/a": "2026-11-26T12:00:00Z", "icinga/b": "2026-11-26T12:00:00Z"}

    again.resume()
    again.save()
    assert State.load(path).snoozed_until is None
    assert not State.load(path).is_snoozed(NOW)


def test_snooze_keeps_the_instant_whatever_the_zone(tmp_path):
    s = State.load(tmp_path / "s.json")
    from zoneinfo import ZoneInfo
    s.snooze(datetime(2026, 7, 1, 17, 30, tzinfo=ZoneInfo("Europe/London")))
    s.save()
    assert State.load(tmp_path / "s.json").snoozed_until == datetime(2026, 7, 1, 16, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        s.snooze(datetime(2026, 7, 1, 17, 30))     # naive: which 17:30?


def test_new_until_seen_and_new_again_after_it_comes_back(tmp_path):
    s = State.load(tmp_path / "s.json")
    s.observe(["x/1"], NOW)
    assert s.new_keys(["x/1"]) == {"x/1"}
    s.mark_seen(["x/1"])                       # the user opened the menu
    s.observe(["x/1", "x/2"], NOW + timedelta(minutes=1))
    assert s.new_keys(["x/1", "x/2"]) == {"x/2"}
    assert s.first_seen["x/1"] == "2026-11-26T12:00:00Z"   # not moved by a later poll
    assert s.prune(["x/2"]) is True            # x/1 cleared
    assert s.prune(["x/2"]) is False
    assert "x/1" not in s.first_seen
    assert s.new_keys(["x/1", "x/2"]) == {"x/1", "x/2"}     # x/1 is back: new again


def test_alert_key():
    assert alert_key(Alert(source="icinga", id="web1!http", title="t", severity=Severity.CRITICAL)) == "icinga/web1!http"


def test_file_is_plain_json(tmp_path):
    s = State.load(tmp_path / "s.json")
    s.snooze(NOW)
    s.mark_seen(["b/2", "a/1"])
    s.save()
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc == {"version": 1, "snoozed_until": "2026-11-26T12:00:00Z", "seen": ["a/1", "b/2"], "first_seen": {},
                   "cards": {}}


def test_card_links_persist(tmp_path):
    s = State.load(tmp_path / "s.json")
    s.cards["mon/web!http"] = "https://trello.com/c/abc"
    s.save()
    assert State.load(tmp_path / "s.json").cards == {"mon/web!http": "https://trello.com/c/abc"}


def test_a_failed_write_leaves_the_old_file_and_no_litter(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    s = State.load(path)
    s.snooze(NOW)
    s.save()
    before = path.read_bytes()

    def crash(fd):
        raise OSError(28, "No space left on device")
    s.mark_seen(["a/1"] * 1 + [f"k/{i}" for i in range(1000)])
    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        s.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_readers_never_see_a_partial_file(tmp_path):
    """One thread saves a large state over and over while another reads the file raw: every read
    parses. (A plain open/write would be caught half-written.)"""
    path = tmp_path / "s.json"
    s = State.load(path)
    s.mark_seen(f"source/alert-{i}" for i in range(5000))
    s.save()
    stop = threading.Event()
    bad: list[str] = []

    def read():
        while not stop.is_set():
            raw = path.read_bytes()
            try:
                json.loads(raw)
            except ValueError:
                bad.append(raw[-40:].decode(errors="replace"))

    t = threading.Thread(target=read)
    t.start()
    try:
        for i in range(60):
            s.snooze(NOW + timedelta(minutes=i))
            s.save()
    finally:
        stop.set()
        t.join()
    assert bad == []
    assert State.load(path).snoozed_until == NOW + timedelta(minutes=59)


@pytest.mark.parametrize("content", [
    b"",
    b"{not json",
    b'{"seen": ["a/1"], "snoozed_until": "2026-11-26T12:00:00Z"',      # cut off mid-write elsewhere
    b"[]",
    b'{"seen": "a/1"}',
    b'{"seen": [1, 2]}',
    b'{"first_seen": {"a/1": 5}}',
    b'{"first_seen": {"a/1": "yesterday"}}',
    b'{"snoozed_until": "tomorrow"}',
    b'{"snoozed_until": "2026-11-26T12:00:00"}',                       # no zone
    b'{"snoozed_until": 1764158400}',
    b"\xff\xfe\x00garbage",
])
def test_corrupt_file_is_an_empty_state_and_a_warning(tmp_path, caplog, content):
    path = tmp_path / "s.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="tray.app.state"):
        s = State.load(path)
    assert (s.snoozed_until, s.seen, s.first_seen) == (None, set(), {})
    assert any("corrupt" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)
    s.snooze(NOW)
    s.save()                                  # and it can be overwritten with a good one
    assert State.load(path).snoozed_until == NOW


def test_unreadable_path_is_an_empty_state(tmp_path, caplog):
    (tmp_path / "dir.json").mkdir()           # a directory where the file should be
    with caplog.at_level(logging.WARNING, logger="tray.app.state"):
        s = State.load(tmp_path / "dir.json")
    assert s.seen == set() and caplog.records


def test_default_path_is_the_platform_state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    p = default_state_path()
    assert p.name == "state.json" and "secondline" in p.parts
    if os.name == "posix" and "darwin" not in os.sys.platform:
        assert p == tmp_path / "xdg" / "secondline" / "state.json"
    s = State.load()
    s.snooze(NOW)
    s.save()
    assert State.load(p).snoozed_until == NOW


# --- snooze presets --------------------------------------------------------------------------------

LONDON_SHIFT = ShiftSettings(timezone="Europe/London")


@pytest.mark.parametrize("preset,now,expected", [
    ("15m", NOW, NOW + timedelta(minutes=15)),
    ("1h", NOW, NOW + timedelta(hours=1)),
    ("30m", NOW, NOW + timedelta(minutes=30)),
    ("2h", NOW, NOW + timedelta(hours=2)),
    ("1d", NOW, NOW + timedelta(days=1)),
    # End of shift: 17:30 London is 17:30 UTC in winter, 16:30 UTC in summer.
    ("end-of-shift", NOW, datetime(2026, 11, 26, 17, 30, tzinfo=timezone.utc)),
    ("end-of-shift", datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc), datetime(2026, 7, 1, 16, 30, tzinfo=timezone.utc)),
    # A time of day in the shift's zone: today if still ahead, else tomorrow.
    ("14:00", NOW, datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc)),
    ("until 9:00", NOW, datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)),
    ("14:00", datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc), datetime(2026, 7, 1, 13, 0, tzinfo=timezone.utc)),
    ("12:00", NOW, datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)),
])
def test_snooze_presets(preset, now, expected):
    assert snooze_until(preset, now, LONDON_SHIFT) == expected


@pytest.mark.parametrize("preset,now,fragment", [
    ("end-of-shift", datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc), "not on shift now"),
    ("forever", NOW, "unknown snooze 'forever'"),
    ("0m", NOW, "unknown snooze"),
    ("30d", NOW, "longer than a week"),
    ("25:00", NOW, "not a time of day"),
    ("1h", datetime(2026, 11, 26, 12, 0), "timezone-aware"),
])
def test_snooze_preset_errors(preset, now, fragment):
    with pytest.raises(ValueError) as e:
        snooze_until(preset, now, LONDON_SHIFT)
    assert fragment in str(e.value)
