"""The team types through the real config loader: keys, types and cross-field rules name file and key."""
import pytest

from tray.config.loader import loads
from tray.core.errors import ConfigError


def one(body: str) -> str:
    return "[[sources]]\nname = \"s\"\n" + body


@pytest.mark.parametrize("body, key", [
    ('type = "pagerduty"\nurgencies = ["urgent"]', "sources[0].urgencies"),
    ('type = "pagerduty"\nservice_ids = "PSVC01"', "sources[0].service_ids"),
    ('type = "zendesk"\nsubdomain = "acme"\nemail = "a@b.example"', "sources[0].view_id"),
    ('type = "zendesk"\nsubdomain = "acme"\nview_id = 5', "sources[0].email"),
    ('type = "zendesk"\nsubdomain = "acme"\nemail = "a@b.example"\nview_id = 5\ncritical_at = 0',
     "sources[0].critical_at"),
    ('type = "trello"\nlist_id = "a"\nboard_id = "b"', "sources[0].list_id"),
    ('type = "statuspage"', "sources[0].url"),
    ('type = "http"\nurl = "http://x"\nexpect_status = "200"', "sources[0].expect_status"),
    ('type = "secondline"\nurl = "127.0.0.1:17474"', "sources[0].url"),
    ('type = "secondline"\nurl = "http://h"\ntoken = "x"', "sources[0].token"),
])
def test_bad_config_names_the_key(body, key):
    with pytest.raises(ConfigError) as err:
        loads(one(body), "team.toml")
    assert err.value.key == key, str(err.value)
    assert str(err.value).startswith("team.toml:")


def test_good_config_for_every_type():
    cfg = loads("\n".join([
        one('type = "pagerduty"\nservice_ids = ["PSVC01"]\nurgencies = ["high"]\nuser_id = "PUSER1"'),
        '[[sources]]\nname = "z"\ntype = "zendesk"\nsubdomain = "acme"\nemail = "a@b.example"\n'
        'query = "status<solved"\nwarning_at = 1\ncritical_at = 5',
        '[[sources]]\nname = "t"\ntype = "trello"\nboard_id = "b1"\nlist_name = "Incidents"',
        '[[sources]]\nname = "p"\ntype = "statuspage"\nurl = "https://www.githubstatus.com"',
        '[[sources]]\nname = "w"\ntype = "http"\nurl = "https://example.com/health"\nwarn_ms = 800',
        '[[sources]]\nname = "h"\ntype = "secondline"\nurl = "https://hub.example/secondline"',
    ]), "team.toml")
    by = {s.name: s for s in cfg.sources}
    assert by["s"].settings.url == "https://api.pagerduty.com" and by["s"].settings.service_ids == ["PSVC01"]
    assert by["z"].settings.critical_at == 5
    assert by["t"].settings.url == "https://api.trello.com"
    assert by["w"].settings.expect_status == 200
