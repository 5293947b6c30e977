"""One vocabulary: every state name, count phrase and sentence the tray shows (menu, tooltip, pop-ups,
`secondline status`, the status document's summary) comes from shared/vocabulary.json, by the rules
shared/words.js applies in the extension and the dashboard. Both test suites check those rules against
the file's own $examples (extension/test/words.test.js is the other half)."""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tray.core import words
from tray.core.document import to_document
from tray.core.model import Alert, Event, EventKind, Severity
from tray.notify.notifier import compose
from tray.core.rules import reduce, source_snapshot, summary_line
from tray.outputs.tray.menu import menu_model

REPO = Path(__file__).resolve().parents[2]
VOCABULARY = json.loads((REPO / "shared" / "vocabulary.json").read_text(encoding="utf-8"))
EXAMPLES = VOCABULARY["$examples"]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("case", EXAMPLES["summary"], ids=lambda c: c["text"])
def test_summary_examples(case):
    assert words.summary(case["state"], case["counts"]) == case["text"]


def test_label_tag_and_phrase_examples():
    for case in EXAMPLES["label"]:
        assert words.label(case["key"]) == case["text"]
    for case in EXAMPLES["tag"]:
        assert words.alert_tag(case["alert"]) == case["text"], case
    for case in EXAMPLES["phrase"]:
        assert words.phrase(case["phrase"], **case["values"]) == case["text"]


def test_the_installed_package_reads_the_repository_file():
    assert words.vocabulary() == VOCABULARY


def snapshot():
    """One critical, one warning, one acknowledged: the issue's case ("Critical: 2 unhandled")."""
    crit = Alert(source="mon", id="web!http", title="web01: http", severity=Severity.CRITICAL)
    warn = Alert(source="mon", id="db!load", title="db01: load", severity=Severity.WARNING)
    acked = Alert(source="mon", id="db!disk", title="db01: disk", severity=Severity.CRITICAL, handled=True,
                  handled_reason="acknowledged")
    mon = source_snapshot(name="mon", type="icinga2", group="production", alerts=(crit, warn, acked),
                          checked_at=NOW, error=None)
    web = source_snapshot(name="web", type="httpcheck", group="staging", alerts=(), checked_at=NOW, error=None)
    return reduce([mon, web], NOW), crit, acked


def surfaces() -> dict[str, str]:
    """Everything the tray words about the snapshot, by where a user meets it."""
    snap, crit, acked = snapshot()
    menu = menu_model(snap, snoozed=False)
    production = next(e for e in menu if e[0].startswith("production"))
    staging = next(e for e in menu if e[0].startswith("staging"))
    mon_items = production[1][0][1]
    return {
        "tooltip": summary_line(snap),
        "document": to_document(snap)["summary"],
        "menu group": production[0],
        "menu calm group": staging[0],
        "menu source": production[1][0][0],
        "menu alert": mon_items[0][0],
        "menu handled alert": mon_items[-1][0],
        "menu empty source": staging[1][0][1][0][0],
        "pop-up": compose([Event(EventKind.RAISED, "mon", "production", alert=crit)]).title,
        "recovery": compose([Event(EventKind.CLEARED, "mon", "production", alert=acked, previous=acked)]).body,
    }


def test_every_surface_says_the_same_words_and_counts():
    got = surfaces()
    assert got == {
        "tooltip": "secondline: 1 critical, 1 warning, 1 handled",
        "document": "secondline: 1 critical, 1 warning, 1 handled",
        "menu group": "production: 1 critical, 1 warning, 1 handled",
        "menu calm group": "staging: All OK",
        "menu source": "mon: 1 critical, 1 warning, 1 handled",
        "menu alert": "[critical] web01: http",
        "menu handled alert": "[handled (acknowledged)] db01: disk",
        "menu empty source": "No open problems",
        "pop-up": "Critical: web01: http",
        "recovery": "mon · production\nwas critical, handled (acknowledged)",
    }


def test_every_surface_takes_its_words_from_the_vocabulary_file(monkeypatch):
    """Change a word in the file and every surface follows: none keeps a copy of its own."""
    v = copy.deepcopy(VOCABULARY)
    v["words"].update(critical="KRIT", warning="WARNUNG", handled="erledigt", ok="alles gut")
    v["handled_reasons"]["acknowledged"] = "bestätigt"
    v["phrases"].update(no_problems="Nichts offen", separator=" + ", handled_tag="{reason}")
    monkeypatch.setattr(words, "vocabulary", lambda: v)
    got = surfaces()
    assert got["tooltip"] == got["document"] == "secondline: 1 KRIT + 1 WARNUNG + 1 erledigt"
    assert got["menu group"] == "production: 1 KRIT + 1 WARNUNG + 1 erledigt"
    assert got["menu calm group"] == "staging: Alles gut"
    assert got["menu alert"] == "[KRIT] web01: http"
    assert got["menu handled alert"] == "[bestätigt] db01: disk"
    assert got["menu empty source"] == "Nichts offen"
    assert got["pop-up"] == "KRIT: web01: http"
    assert got["recovery"].endswith("was KRIT, bestätigt")


def test_no_module_of_the_tray_keeps_a_state_word_of_its_own():
    # The spellings the issue found for one state and one set of counts; none may come back.
    stray = re.compile(r"\b(ACK|CRIT|WARN|UNKN|Acknowledged|unhandled|handled only|no problems|"
                       r"open, \{|OK \(\{)\b")
    checked = [REPO / "tray" / n for n in ("core/rules.py", "outputs/tray/menu.py", "notify/notifier.py",
                                           "outputs/tray/pystray_backend.py", "outputs/tray/sni.py")]
    checked.append(REPO / "tray" / "outputs" / "http" / "dashboard" / "index.html")
    for path in checked:
        code = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.lstrip().startswith(("#", "//", "*", "/*")))
        code = re.sub(r'"""[\s\S]*?"""', "", code)           # docstrings explain, they are not shown
        hits = stray.findall(code)
        assert not hits, f"{path.relative_to(REPO)}: {hits}"
