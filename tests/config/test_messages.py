"""Config errors as a person meets them: the line (path:LINE:), the source by name rather than a
0-based index, "did you mean" for a near miss, a table called a table, a warning for a config that
watches nothing; `secondline init`; `login` for a source that is not there; every option explained."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tray.config import loader as config
from tray.config import tomlpos
from tray.cli.main import build_parser, main
from tray.core.errors import ConfigError
from tray.config.example import EXAMPLE

FILE = """\
# a comment
[server]
port = 17474

[notifications]
min_gap = 5
[notifications.rules]
staging = ["critical"]

[[sources]]
name = "icinga"
type = "demo"
include = [
  "web",
  "db",
]

[[sources]]
name = "am"            # with a comment
type = "demo"
description = '''
  [[sources]]
  name = "not a key"
'''

[[links]]
title = "Runbook"
url = "https://docs.example.com"

[[sources]]
"name" = "third"
type.x = 1
"""


@pytest.mark.parametrize("key,line", [
    ("server", 2), ("server.port", 3), ("notifications.min_gap", 6), ("notifications.rules.staging", 8),
    ("sources[0]", 10), ("sources[0].name", 11), ("sources[0].include", 13), ("sources[0].include[1]", 13),
    ("sources[1]", 18), ("sources[1].name", 19), ("sources[1].description", 21),
    ("links[0].url", 28),
    ("sources[2]", 30), ("sources[2].name", 31), ("sources[2].type", 32), ("sources[2].type.x", 32),
    ("sources[1].nothing", 18),         # a missing key: its table's header
])
def test_every_key_has_its_line_even_in_arrays_of_tables(key, line):
    assert tomlpos.line_of(FILE, key) == line


def test_keys_inside_multiline_strings_are_not_keys():
    lines = tomlpos.key_lines(FILE)
    assert "sources[3]" not in lines and not any("not a key" in k for k in lines)


def load_error(text: str, path: str = "config.toml") -> ConfigError:
    with pytest.raises(ConfigError) as err:
        config.loads(text, path)
    return err.value


def test_a_bad_value_in_the_nth_source_names_its_line_and_name():
    text = ('[[sources]]\nname = "a"\ntype = "demo"\n\n[[sources]]\nname = "b"\ntype = "demo"\n\n'
            '[[sources]]\nname = "icinga-prod"\ntype = "demo"\ninterval = 0.5\n')
    e = load_error(text)
    assert e.key == "sources[2].interval" and e.line == 12
    assert str(e) == 'config.toml:12: interval in [[sources]] "icinga-prod": must be at least 1 second, got 0.5'


def test_a_source_without_a_name_is_counted_from_one():
    e = load_error('[[sources]]\nname = "a"\ntype = "demo"\n[[sources]]\ntype = "demo"\n')
    assert str(e) == "config.toml:4: name in [[sources]] no. 2: is required"


@pytest.mark.parametrize("text,line,message", [
    ('[[sources]]\nname = "a"\ntype = "demo"\nintervall = 3\n', 4,
     "[[sources]] \"a\": unknown key 'intervall'; did you mean 'interval'?"),
    ('[[sources]]\nname = "a"\ntype = "icinga"\n', 3, "type in [[sources]] \"a\": unknown type 'icinga'; did you mean 'icinga2'?"),
    ('[server]\nprot = 1\n', 2, "server.prot: unknown key; did you mean 'port'?"),
    ('[notifications]\nmingap = 1\n', 2, "notifications.mingap: unknown key; did you mean 'min_gap'?"),
    ('[shift]\nstrat = "09:00"\n', 2, "shift.strat: unknown key; did you mean 'start'?"),
    ('[notifications.rules]\nstaging = ["critcal"]\n', 2, "did you mean 'critical'?"),
    # A table is called a table, not "notification: unknown key 'notification'".
    ('\n[notification]\nenabled = true\n', 2, "unknown table [notification]; did you mean [notifications]?"),
    ('[[source]]\nname = "a"\n', 1, "unknown table [[source]]; did you mean [[sources]]?"),
    ('port = 17474\n', 1, "unknown top-level key 'port': it belongs in [server]"),
])
def test_near_misses_get_a_suggestion(text, line, message):
    e = load_error(text)
    assert e.line == line, str(e)
    assert str(e).startswith(f"config.toml:{line}: ") and message in str(e), str(e)
    assert not re.search(r"(\w+): unknown (key|table) '?\[?\1", str(e)), "the name said twice"


def test_a_syntax_error_names_the_line():
    e = load_error('[server]\nport = 1\nname = "unterminated\n')
    assert e.line == 3 and str(e).startswith("config.toml:3: not valid TOML")


def test_cli_says_the_line(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text('[[sources]]\nname = "a"\ntype = "demo"\n\n[notification]\nenabled = true\n')
    assert main(["check", "--config", str(p)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"secondline: config error: {p}:5: unknown table [notification]; did you mean [notifications]?"


@pytest.mark.parametrize("text", ["", "# only comments\n", "[server]\nport = 17474\n",
                                  '[[sources]]\nname = "a"\ntype = "demo"\nenabled = false\n'])
def test_a_config_that_watches_nothing_is_not_ok(tmp_path, capsys, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    code = main(["check", "--config", str(p)])
    out = capsys.readouterr().out
    assert "OK" not in out.splitlines()[0] and "warning: " in out and "nothing is watched" in out, out
    if "[[sources]]" not in text:
        assert code == 1 and "secondline init" in out


def test_a_config_that_watches_nothing_is_said_by_doctor(tmp_path):
    from tray.cli import doctor
    p = tmp_path / "c.toml"
    p.write_text("")
    line = next(v for k, v in (l.split("  ", 1) for l in doctor.report(str(p)).splitlines() if "  " in l)
                if k.strip() == "config")
    assert "nothing is watched" in line and "OK" not in line


# -- secondline init ------------------------------------------------------------------------------

def test_init_writes_a_commented_example_that_loads(tmp_path, capsys):
    p = tmp_path / "sub" / "config.toml"
    assert main(["init", "--config", str(p)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert p.read_text() == EXAMPLE
    assert p.stat().st_mode & 0o777 == 0o600
    cfg = config.load(p)
    assert [s.type for s in cfg.sources] == ["demo"]
    assert main(["check", "--config", str(p)]) == 0
    assert [f.name for f in p.parent.iterdir()] == ["config.toml"]       # no temporary file left


def test_every_commented_example_loads_once_uncommented():
    """The examples are real config: uncommenting every one gives a config that loads, with every
    source type of the README's table."""
    text = "\n".join(re.sub(r"^#(?=\S)", "", line) for line in EXAMPLE.splitlines())
    cfg = config.loads(text, "example.toml")
    assert {s.type for s in cfg.sources} >= {"icinga2", "icingadb", "nagios", "alertmanager", "prometheus",
                                               "grafana", "pagerduty", "zendesk", "trello", "statuspage",
                                               "http", "secondline", "demo"}
    assert cfg.shift is not None and cfg.links and cfg.user.name and cfg.notifications.rules


def test_init_never_overwrites(tmp_path, capsys):
    p = tmp_path / "config.toml"
    p.write_text("# mine\n")
    assert main(["init", "--config", str(p)]) == 1
    assert "exists" in capsys.readouterr().err and p.read_text() == "# mine\n"


def test_write_new_loses_a_race_rather_than_overwrite(tmp_path, monkeypatch):
    """The file appearing between the check and the write: still not overwritten."""
    import os

    from tray.platform import fsutil
    p = tmp_path / "c.toml"
    real_link = os.link

    def link_after_someone_else(src, dst):
        p.write_text("someone else's\n")
        return real_link(src, dst)
    monkeypatch.setattr(os, "link", link_after_someone_else)
    with pytest.raises(FileExistsError):
        fsutil.write_new(p, "ours\n")
    assert p.read_text() == "someone else's\n" and [f.name for f in tmp_path.iterdir()] == ["c.toml"]


# -- login for a source that is not there ----------------------------------------------------------

CFG = '[[sources]]\nname = "icinga-prod"\ntype = "icinga2"\nurl = "https://i:5665"\nusername = "u"\n' \
      '[[sources]]\nname = "board"\ntype = "trello"\nlist_id = "l"\n' \
      '[[sources]]\nname = "status"\ntype = "statuspage"\nurl = "https://s"\n'


@pytest.mark.parametrize("argv,fragment", [
    (["login", "nope"], "no source named 'nope'"),
    (["login", "icinga-prd"], "did you mean 'icinga-prod'?"),
    (["login", "status"], "status (statuspage) needs no secret"),
    (["login", "board"], "board (trello) takes --field key, --field token"),
    (["login", "icinga-prod", "--field", "token"], "takes no --field"),
])
def test_login_refuses_what_nothing_would_read(tmp_path, argv, fragment):
    p = tmp_path / "c.toml"
    p.write_text(CFG)
    r = subprocess.run([sys.executable, "-m", "tray", *argv, "--config", str(p)], input="s3cret\n",
                       capture_output=True, text=True, timeout=60,
                       env={**__import__("os").environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert r.returncode == 1, r
    assert fragment in r.stderr and "nothing stored" in r.stderr, r.stderr
    assert "stored the secret" not in r.stdout


def test_login_without_a_config_says_so(tmp_path, capsys):
    assert main(["login", "x", "--config", str(tmp_path / "none.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


# -- help ---------------------------------------------------------------------------------------

def test_every_argument_of_every_command_is_explained():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert "init" in sub.choices
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.dest == "help":
                continue
            assert action.help and action.help.strip(), f"secondline {name}: {action.option_strings or action.dest}"
    # logout reads no secret: its help must not say how one is read.
    assert "hidden prompt" in sub.choices["login"].format_help()
    assert "hidden prompt" not in sub.choices["logout"].format_help()
