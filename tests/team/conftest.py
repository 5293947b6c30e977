"""Fixtures for the team source tests; the fake servers and shapes live in team_fakes.py."""
import pytest

from team_fakes import FakeApi
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
