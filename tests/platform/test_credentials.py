"""Keyring look-up (in-memory backend), env fallback, clear errors, never plaintext, redaction."""
import io
import logging

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from tray.platform import credentials
from tray.core.errors import CredentialError, SourceError
from tray.sources.base import Source, SourceConfig


class Memory(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        try:
            del self.store[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username)


class Locked(Memory):
    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    set_password = get_password


@pytest.fixture
def mem():
    saved = keyring.get_keyring()
    kr = Memory()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(saved)


def test_set_get_delete(mem):
    credentials.set_secret("pd-team", "s3cret-token")
    assert mem.store == {("secondline", "pd-team"): "s3cret-token"}
    assert credentials.get_secret("pd-team") == "s3cret-token"
    credentials.set_secret("trello", "k", field="key")
    assert ("secondline", "trello:key") in mem.store
    assert credentials.delete_secret("pd-team") is True
    assert credentials.delete_secret("pd-team") is False
    assert credentials.get_secret("pd-team") is None


def test_env_fallback(mem, monkeypatch):
    monkeypatch.setenv("SECONDLINE_SECRET_ICINGA_PROD", "from-env")
    monkeypatch.setenv("SECONDLINE_SECRET_TRELLO_BOARD_TOKEN", "tok")
    assert credentials.get_secret("icinga-prod") == "from-env"
    assert credentials.get_secret("trello-board", "token") == "tok"
    assert credentials.env_var("a-b", "key") == "SECONDLINE_SECRET_A_B_KEY"


def test_no_backend_is_a_clear_error():
    from keyring.backends import fail
    saved = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(CredentialError) as err:
            credentials.set_secret("x", "y")
        assert "no usable keyring" in str(err.value) and "SECONDLINE_SECRET_X" in str(err.value)
        with pytest.raises(SourceError) as err2:
            credentials.secret_lookup("x")
        assert err2.value.kind == "credential"
    finally:
        keyring.set_keyring(saved)


def test_locked_keyring_is_a_clear_error():
    saved = keyring.get_keyring()
    keyring.set_keyring(Locked())
    try:
        with pytest.raises(CredentialError) as err:
            credentials.get_secret("x")
        assert "locked" in str(err.value) and "unlock" in str(err.value)
    finally:
        keyring.set_keyring(saved)


def test_plaintext_backend_refused():
    class PlaintextKeyring(Memory):
        pass
    PlaintextKeyring.__module__ = "keyrings.alt.file"
    saved = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        with pytest.raises(CredentialError) as err:
            credentials.set_secret("x", "y")
        assert "refuses" in str(err.value)
    finally:
        keyring.set_keyring(saved)


def test_missing_secret_message(mem):
    class NeedsSecret(Source):
        type = "t"
        secrets = ("",)
    src = NeedsSecret(SourceConfig(name="pd-team", type="t"), credentials.secret_lookup)
    with pytest.raises(SourceError) as err:
        src.secret()
    assert err.value.reason == "no credential: run `secondline login pd-team`"


def test_redaction_filter():
    r = credentials.Redactor()
    r.add("hunter2-very-secret")
    logger = logging.getLogger("test.redaction")
    stream = io.StringIO()
    h = logging.StreamHandler(stream)
    h.addFilter(r)
    logger.addHandler(h)
    logger.propagate = False
    try:
        logger.warning("token is %s", "hunter2-very-secret")
        logger.warning("GET /x?key=abc123&token=zzz999 Authorization: Bearer eyJabc.def")
        try:
            raise ValueError("bad hunter2-very-secret")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(h)
    out = stream.getvalue()
    assert "hunter2-very-secret" not in out and "abc123" not in out and "zzz999" not in out
    assert "eyJabc" not in out and out.count("***") >= 4


def test_secrets_read_are_registered_for_redaction(mem):
    credentials.set_secret("svc", "registered-secret-1")
    credentials.get_secret("svc")
    assert "registered-secret-1" not in credentials.REDACTOR.redact("x registered-secret-1 y")


def _config_with_pd_team() -> None:
    """login stores a secret only for a source of the config (the default path: XDG_CONFIG_HOME)."""
    from tray.config.loader import default_config_path
    path = default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[[sources]]\nname = "pd-team"\ntype = "pagerduty"\n')


def test_cli_login_from_stdin_and_logout(mem, monkeypatch, capsys):
    from tray.cli.main import main
    _config_with_pd_team()
    monkeypatch.setattr("sys.stdin", io.StringIO("line-secret\n"))
    assert main(["login", "pd-team"]) == 0
    assert mem.store[("secondline", "pd-team")] == "line-secret"
    out = capsys.readouterr()
    assert "line-secret" not in out.out + out.err
    assert main(["logout", "pd-team"]) == 0
    assert main(["logout", "pd-team"]) == 1


def test_cli_login_without_keyring_fails_clearly(monkeypatch, capsys):
    from keyring.backends import fail
    from tray.cli.main import main
    _config_with_pd_team()
    saved = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setattr("sys.stdin", io.StringIO("zzz\n"))
    try:
        assert main(["login", "pd-team"]) == 1
    finally:
        keyring.set_keyring(saved)
    err = capsys.readouterr().err
    assert "no usable keyring" in err and "Traceback" not in err


# -- where a credential came from (issue 17): a refused one names the place to fix ---------------

def test_origin_is_recorded_per_read(mem, monkeypatch):
    mem.set_password("secondline", "kr-src", "from-keyring")
    monkeypatch.setenv("SECONDLINE_SECRET_ENV_SRC", "from-env")
    assert credentials.origin("kr-src") is None and credentials.origin_text("kr-src") == ""
    credentials.get_secret("kr-src")
    credentials.get_secret("env-src")
    assert credentials.origin("kr-src") == "keyring" and credentials.origin_text("kr-src") == "from the keyring"
    assert credentials.origin_text("env-src") == "from SECONDLINE_SECRET_ENV_SRC"
    # The variable wins over the keyring, and says so.
    mem.set_password("secondline", "env-src", "also-in-keyring")
    assert credentials.get_secret("env-src") == "from-env" and credentials.origin("env-src") == "env"


def test_refused_fix_names_the_place(mem, monkeypatch):
    mem.set_password("secondline", "kr-two", "x" * 8)
    credentials.get_secret("kr-two")
    assert credentials.refused_fix("kr-two") == ("the credential comes from the keyring: store the right one "
                                                 "with `secondline login kr-two`")
    monkeypatch.setenv("SECONDLINE_SECRET_TRELLO_ENV_TOKEN", "t" * 8)
    mem.set_password("secondline", "trello-env:key", "k" * 8)
    credentials.get_secret("trello-env", "key")
    credentials.get_secret("trello-env", "token")
    fix = credentials.refused_fix("trello-env")
    assert fix.startswith("the credential comes from SECONDLINE_SECRET_TRELLO_ENV_TOKEN (it overrides the keyring)")
    assert "`secondline login trello-env`" in fix
    never = credentials.refused_fix("never-read")
    assert "`secondline login never-read`" in never and "SECONDLINE_SECRET_NEVER_READ" in never


def test_a_refused_credential_reason_names_its_origin(mem, monkeypatch):
    """Through the shared client: the 401 / 403 reason says where to correct the credential."""
    from support.faults import FaultServer
    from tray.engine.net import Http
    monkeypatch.setenv("SECONDLINE_SECRET_PD_ORIGIN", "tok-origin")
    credentials.get_secret("pd-origin")
    with FaultServer() as srv:
        with pytest.raises(SourceError) as err:
            Http().request("GET", srv.configure("http401"), source="pd-origin", timeout=2)
        assert "refused the credential (HTTP 401)" in err.value.reason
        assert "comes from SECONDLINE_SECRET_PD_ORIGIN" in err.value.reason and "tok-origin" not in err.value.reason
        with pytest.raises(SourceError) as err:
            Http().request("GET", srv.configure("http403"), source="pd-origin", timeout=2)
        assert "(HTTP 403)" in err.value.reason and "lacks a permission" in err.value.reason
