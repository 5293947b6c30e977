"""The config loader validates each monitoring type's own keys (Settings fields and validate())."""
from __future__ import annotations

import pytest

from tray.config.loader import loads
from tray.core.errors import ConfigError


def one(body: str):
    return loads("[[sources]]\nname = \"x\"\n" + body, "test.toml").sources[0]


def test_every_type_loads_with_its_keys():
    s = one('type = "alertmanager"\nurl = "http://am:9093"\nauth = "bearer"\nfilters = [\'team="db"\']\n'
            'ui_url = "https://am.example"\nverify_tls = false\n')
    assert s.settings.filters == ['team="db"'] and s.settings.auth == "bearer" and s.settings.verify_tls is False
    s = one('type = "icingadb"\nurl = "https://mon/icingaweb2"\nusername = "ops"\nca_bundle = "/etc/ca.pem"\n'
            'soft = true\n')
    assert (s.settings.username, s.settings.ca_bundle, s.settings.soft) == ("ops", "/etc/ca.pem", True)
    for t in ("icingaweb2", "nagios", "icinga1", "prometheus", "grafana"):
        assert one(f'type = "{t}"\nurl = "https://h"\n').settings.url == "https://h"


@pytest.mark.parametrize("body,key", [
    ('type = "alertmanager"\nurl = "http://am"\nauth = "token"\n', "auth"),
    ('type = "alertmanager"\nurl = "http://am"\nauth = "basic"\n', "username"),
    ('type = "nagios"\nurl = "nagios.example"\n', "url"),
    ('type = "grafana"\n', "url"),
    ('type = "icingaweb2"\nurl = "https://h"\nsoft = "yes"\n', "soft"),
    ('type = "prometheus"\nurl = "https://h"\nfilters = ["a"]\n', "filters"),
])
def test_bad_keys_name_the_key(body, key):
    with pytest.raises(ConfigError) as err:
        one(body)
    assert err.value.key and err.value.key.endswith(key), str(err.value)
