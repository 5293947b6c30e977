"""Fixtures for the team source tests; the fake servers and shapes live in support/team_apis.py."""
import pytest

from support.team_apis import FakeApi
from tray.engine.net import Http


@pytest.fixture
def api():
    fake = FakeApi()
    yield fake
    fake.close()


@pytest.fixture
def http():
    client = Http()
    yield client
    client.close()
