"""Config errors name the file, the key and the reason; good configs load."""
import pytest

from tray.config import loader as config
from tray.core.errors import ConfigError

GOOD = """
[server]
port = 18000
[notifications]
enabled = false
[[sources]]
name = "demo-a"
type = "demo"
group = "production"
interval = 5
[[sources]]
name = "demo-b"
type = "demo"
group = "staging"
include = ["^web"]
exclude = "load"
step_seconds = 2
"""


def test_good_config(tmp_path):
    p = tmp_path / "config.toml"
    p.write_text(GOOD)
    cfg = config.load(p)
    assert cfg.server.port == 18000 and not cfg.notifications.enabled
    a, b = cfg.sources
    assert (a.name, a.type, a.group, a.interval, a.timeout) == ("demo-a", "demo", "production", 5.0, 10.0)
    assert b.include == ("^web",) and b.exclude == ("load",) and b.settings.step_seconds == 2.0


def test_defaults():
    cfg = config.loads("")
    assert cfg.server.port == 17474 and cfg.notifications.enabled and cfg.sources == ()


def test_default_path_from_platformdirs(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.default_config_path() == tmp_path / "secondline" / "config.toml"


def src(extra: str = "", name: str = "s1", type_: str = "demo") -> str:
    return f'[[sources]]\nname = "{name}"\ntype = "{type_}"\n{extra}\n'


@pytest.mark.parametrize("text,key,words", [
    ("bogus = 1", "bogus", ["unknown top-level key 'bogus'", "valid names: actions, links, notifications, server, shift, sources, user"]),
    ("[server]\nport = 'x'", "server.port", ["must be an integer", "'x'"]),
    ("[server]\nport = 70000", "server.port", ["between 1 and 65535"]),
    ("[server]\nbind = '0.0.0.0'", "server.bind", ["server.bind: unknown key", "allowed_origins, extension_ids, port"]),
    ("[server]\nallowed_origins = ['*']", "server.allowed_origins[0]", ["must be an origin"]),
    ("[notifications]\nenabled = 'yes'", "notifications.enabled", ["true or false"]),
    ("[notifications]\nsound = true", "notifications.sound", ["notifications.sound: unknown key"]),
    (src() + src(), "sources[1].name", ["duplicate source name 's1'"]),
    (src(name="bad name"), "sources[0].name", ["letters, digits and '-'"]),
    ('[[sources]]\ntype = "demo"', "sources[0].name", ["is required"]),
    ('[[sources]]\nname = "x"', "sources[0].type", ["is required", "demo"]),
    (src(type_="zabbix"), "sources[0].type", ["unknown type 'zabbix'", "valid types:", "demo"]),
    (src("interval = 0.5"), "sources[0].interval", ["at least 1 second"]),
    (src("interval = 'often'"), "sources[0].interval", ["must be a number"]),
    (src("timeout = -1"), "sources[0].timeout", ["between 0 and 300"]),
    (src("include = ['(']"), "sources[0].include[0]", ["invalid regular expression"]),
    (src("include = [1]"), "sources[0].include", ["list of strings"]),
    (src("colour = 'red'"), "sources[0].colour", ["unknown key 'colour'", "step_seconds", "interval"]),
    (src("step_seconds = 'fast'"), "sources[0].step_seconds", ["must be a number"]),
    (src("step_seconds = 0"), "sources[0].step_seconds", ["more than 0"]),
    (src("role = 'qa'"), "sources[0].role", ["must be one of production, staging, integration"]),
    (src("group = ''"), "sources[0].group", ["must not be empty"]),
    ("[[links]]\ntitle = 'x'", "links[0].url", ["is required"]),
    ("[[links]]\ntitle = 'x'\nurl = 'javascript:alert(1)'", "links[0].url", ["http(s)"]),
    ("sources = 3", "sources", ["array of tables"]),
])
def test_errors_name_file_key_reason(tmp_path, text, key, words):
    p = tmp_path / "my.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert err.value.key == key, msg
    # path:LINE: as compilers say it, so that an editor jumps there.
    assert err.value.line is not None and msg.startswith(f"{p}:{err.value.line}: "), msg
    for w in words:
        assert w in msg, msg


def test_toml_syntax_error_names_file_and_line(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[server\nport = 1")
    with pytest.raises(ConfigError) as err:
        config.load(p)
    assert str(p) in str(err.value) and "not valid TOML" in str(err.value) and "line 1" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path / "nope.toml")
    assert "no such file" in str(err.value)


def test_write_atomic(tmp_path):
    p = tmp_path / "sub" / "c.toml"
    config.write_atomic(p, GOOD)
    assert p.read_text() == GOOD
    config.write_atomic(p, "")
    assert p.read_text() == "" and [f.name for f in p.parent.iterdir()] == ["c.toml"]


def test_cli_check_reports_config_error(tmp_path, capsys):
    from tray.cli.main import main
    p = tmp_path / "c.toml"
    p.write_text(src("interval = 0"))
    assert main(["check", "--config", str(p)]) == 2
    err = capsys.readouterr().err
    assert f'{p}:4: interval in [[sources]] "s1": must be at least 1 second' in err
