"""The log file holds alert titles and pairing codes: it and its directory are the user's only (0600 /
0700), whatever the umask, for files the rotation starts, and for files an older version left open;
upstream text echoing a credential is redacted like a log line."""
import logging
import os
import stat

import pytest

from tray.platform import logs
from tray.platform.credentials import REDACTOR


@pytest.fixture
def open_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_new_log_file_and_directory_are_private(open_umask, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = logs.setup()
    logging.getLogger("x").info("Pairing request: code 123456")
    assert path is not None and path.exists()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_rotated_files_are_private_too(open_umask, tmp_path):
    h = logs.PrivateRotatingFileHandler(tmp_path / "secondline.log", maxBytes=200, backupCount=2, encoding="utf-8")
    try:
        for i in range(20):
            h.emit(logging.LogRecord("x", logging.INFO, __file__, 1, "line %d " + "x" * 40, (i,), None))
    finally:
        h.close()
    files = sorted(tmp_path.glob("secondline.log*"))
    assert len(files) == 3
    assert all(mode(f) == 0o600 for f in files), [(f.name, oct(mode(f))) for f in files]


def test_what_an_older_version_left_open_is_closed(open_umask, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    d = logs.log_dir()
    d.mkdir(parents=True, mode=0o755)
    os.chmod(d, 0o755)
    for name in ("secondline.log", "secondline.log.1"):
        (d / name).write_text("old\n")
        os.chmod(d / name, 0o644)
    logs.setup()
    assert mode(d) == 0o700
    assert mode(d / "secondline.log") == 0o600 and mode(d / "secondline.log.1") == 0o600


def test_a_bare_bearer_credential_is_redacted():
    text = "HTTP 401: the proxy said 'Bearer abcdefgh12345678 is not valid'; Basic dXNlcjpwYXNzd29yZA== too"
    red = REDACTOR.redact(text)
    assert "abcdefgh12345678" not in red and "dXNlcjpwYXNzd29yZA" not in red
    assert "Bearer ***" in red and "Basic ***" in red
    assert REDACTOR.redact("basic auth failed") == "basic auth failed"
    assert REDACTOR.redact("Basic authentication required") == "Basic authentication required"


def test_an_upstream_hubs_text_is_redacted():
    from tray.sources.plain.hub import upstream_alerts
    REDACTOR.add("hub-token-0123456789")
    doc = {"schema": 1, "sources": [
        {"name": "proxied", "error": "HTTP 401: Authorization: Bearer hub-token-0123456789 refused", "alerts": [
            {"id": "a", "title": "token=hub-token-0123456789 leaked", "detail": "Bearer zzzz-zzzz-zzzz",
             "severity": "critical"}]}]}
    alerts = upstream_alerts(doc)
    text = " ".join(a.title + " " + a.detail for a in alerts)
    assert "hub-token-0123456789" not in text and "zzzz-zzzz-zzzz" not in text
    assert any(a.id == "secondline:unreadable" and "***" in a.detail for a in alerts)
