"""Fixtures for the source tests of the team types (`api`: a fake vendor API, support/team_apis.py; `http`:
the shared client), for any test under tests/sources/."""
import pytest

from support.team_apis import FakeApi
from tray.net import Http


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
