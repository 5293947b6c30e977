"""One poll path (tray.engine.polling) for the scheduler and `secondline check`: the same filters, the same
reasons, the same scrubbing of secrets, whichever of the two polls."""
import pytest

from tray.cli import main as cli
from tray.engine import polling
from tray.platform.credentials import REDACTOR
from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity
from tray.engine.scheduler import Runner
from tray.sources.base import Source, SourceConfig
from tray.engine.store import Store


class Scripted(Source):
    type = "scripted"
    answer: object = None

    def poll(self, http):
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


class Broken(Source):
    type = "broken"

    def __init__(self, config, secret_lookup=None):
        raise RuntimeError("constructor bug")


def alert(i, title):
    return Alert(source="s", id=i, title=title, severity=Severity.CRITICAL)


@pytest.fixture
def types(monkeypatch):
    monkeypatch.setattr("tray.engine.polling.source_class", lambda t: {"scripted": Scripted, "broken": Broken}[t])


CFG = SourceConfig(name="s", type="scripted", exclude=("^test",))


@pytest.mark.parametrize("answer,reason,kind", [
    (Reading(alerts=(alert("a", "web down"), alert("b", "test box down"))), None, ""),
    (SourceError("HTTP 503 from mon.example", kind="server"), "HTTP 503 from mon.example", "server"),
    (ZeroDivisionError("oops"), "internal error in the scripted source: ZeroDivisionError: oops", "bug"),
    ({"not": "a reading"}, "internal error in the scripted source: TypeError: poll() returned dict, not Reading",
     "bug"),
])
def test_one_poll_reading_or_reason(types, answer, reason, kind):
    Scripted.answer = answer
    src, failed = polling.start_source(CFG, None)
    assert failed is None
    out = polling.poll(src, CFG, None)
    assert (out.reason, out.kind) == (reason, kind)
    if reason is None:
        assert [a.id for a in out.reading.alerts] == ["a"]          # the source's exclude applied
    else:
        assert out.reading is None and (out.exception is not None) == (kind == "bug")


def test_a_constructor_bug_is_a_reason(types):
    src, failed = polling.start_source(SourceConfig(name="b", type="broken"), None)
    assert src is None and failed.reason == "internal error starting the source: RuntimeError"
    assert isinstance(failed.exception, RuntimeError)


def test_secrets_are_scrubbed_from_reasons(types):
    REDACTOR.add("s3cr3t-token-value")
    Scripted.answer = SourceError("401: bad token s3cr3t-token-value", kind="auth")
    out = polling.poll(Scripted(CFG), CFG, None)
    assert "s3cr3t-token-value" not in out.reason


def test_check_and_the_scheduler_say_the_same(types, monkeypatch):
    """`secondline check`'s row and the running app's source carry the same reason for the same poll."""
    monkeypatch.setattr("tray.platform.credentials.secret_lookup", lambda *a, **k: None)
    for answer in (SourceError("HTTP 503 from mon.example", kind="server"), ZeroDivisionError("oops"),
                   Reading(alerts=(alert("a", "web down"), alert("b", "test box down")))):
        Scripted.answer = answer
        name, type_, health, count, _, err = cli._poll_one(CFG)
        store = Store()
        try:
            store.configure([CFG])
            Runner(CFG, store, http=None, secret_lookup=None).poll_once()
            view = store.latest.source("s")
        finally:
            store.close()
        assert (health, err or None) == (view.health.value, view.error)
        assert count == ("-" if err else str(view.counts.problems))


def test_dead_helpers_are_gone():
    import tray.core.rules
    import tray.engine.store
    for module, name in ((tray.core.rules, "mark_stale"), (tray.core.rules, "with_snooze"),
                         (tray.engine.store, "snapshot_with"), (tray.engine.store.Store, "config_of")):
        assert not hasattr(module, name), name
