"""Secrets: the OS keyring (service "secondline", user = source name or "NAME:field"), or
SECONDLINE_SECRET_<NAME>[_<FIELD>] for machines without one. Never a plaintext fallback.

Every secret read is registered with the redacting log filter, so that it cannot reach a log
even when some library prints a header or URL.

Every secret read also records where it came from (the variable wins over the keyring), so that a
refused credential's reason names the place to fix: `origin_text()` for "sees nothing" reasons,
`refused_fix()` for 401/403.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from typing import Iterable

from tray.core.errors import CredentialError

SERVICE = "secondline"
log = logging.getLogger(__name__)

NO_BACKEND_FIX = ("no usable keyring: install and unlock a Secret Service (e.g. gnome-keyring or "
                  "KeePassXC) or KWallet, or set the environment variable {env} instead")
LOCKED_FIX = ("the keyring is locked or refused access ({detail}): unlock it (log in to the desktop "
              "session, or run `gnome-keyring-daemon --unlock`), or set {env} instead")
PLAINTEXT_REFUSED = ("the only keyring backend is {backend}, which stores secrets in a plain file: "
                     "secondline refuses it. Install a Secret Service or set {env}")


def keyring_user(name: str, field: str = "") -> str:
    return f"{name}:{field}" if field else name


def env_var(name: str, field: str = "") -> str:
    base = "SECONDLINE_SECRET_" + name.upper().replace("-", "_")
    return f"{base}_{field.upper().replace('-', '_')}" if field else base


# (source name, field) -> "env" or "keyring": where the last read secret came from.
_ORIGINS: dict[tuple[str, str], str] = {}
_ORIGINS_LOCK = threading.Lock()


def _note(name: str, field: str, where: str) -> None:
    with _ORIGINS_LOCK:
        _ORIGINS[(name, field)] = where


def origin(name: str, field: str = "") -> str | None:
    """"env", "keyring", or None when this process has not read that secret."""
    with _ORIGINS_LOCK:
        return _ORIGINS.get((name, field))


def origin_text(name: str, field: str = "") -> str:
    """Where the credential came from, as words for a reason ("from the keyring"); "" when not known."""
    where = origin(name, field)
    if where == "env":
        return f"from {env_var(name, field)}"
    if where == "keyring":
        return "from the keyring"
    return ""


def refused_fix(name: str) -> str:
    """The fix for a credential the server refused, for the place the credential came from."""
    with _ORIGINS_LOCK:
        fields = sorted(f for (n, f), _ in _ORIGINS.items() if n == name)
        places = {f: _ORIGINS[(name, f)] for f in fields}
    envs = [env_var(name, f) for f, where in places.items() if where == "env"]
    login = f"`secondline login {name}`"
    if envs:
        return (f"the credential comes from {' and '.join(envs)} (it overrides the keyring): correct its value "
                f"there, or unset it and store the right one with {login}")
    if places:
        return f"the credential comes from the keyring: store the right one with {login}"
    return f"check the credential: {login} (keyring), or {env_var(name)} if you set it"


def _backend():
    import keyring
    return keyring.get_keyring()


def backend_name() -> str:
    """A short description of the keyring backend, for `secondline doctor`."""
    try:
        kr = _backend()
    except Exception as exc:  # keyring may raise on a broken configuration
        return f"unavailable ({type(exc).__name__})"
    return f"{type(kr).__module__}.{type(kr).__name__}"


def _check_backend(env: str) -> None:
    kr = _backend()
    mod = type(kr).__module__
    if mod.startswith("keyring.backends.fail") or (
            mod.startswith("keyring.backends.chainer") and not getattr(kr, "backends", None)):
        raise CredentialError(NO_BACKEND_FIX.format(env=env))
    if mod.startswith("keyrings.alt"):
        raise CredentialError(PLAINTEXT_REFUSED.format(backend=type(kr).__name__, env=env))


def _translate(exc: Exception, env: str) -> CredentialError:
    import keyring.errors as ke
    if isinstance(exc, ke.NoKeyringError):
        return CredentialError(NO_BACKEND_FIX.format(env=env))
    if isinstance(exc, (ke.KeyringLocked, ke.InitError)):
        return CredentialError(LOCKED_FIX.format(detail=str(exc) or type(exc).__name__, env=env))
    return CredentialError(f"keyring error ({type(exc).__name__}: {exc}); or set {env} instead")


def get_secret(name: str, field: str = "") -> str | None:
    """The secret for a source, or None when none is stored. Raises CredentialError when the
    keyring cannot be used at all (and the environment gives none)."""
    env = env_var(name, field)
    value = os.environ.get(env)
    if value:
        REDACTOR.add(value)
        _note(name, field, "env")
        return value
    _check_backend(env)
    try:
        import keyring
        value = keyring.get_password(SERVICE, keyring_user(name, field))
    except CredentialError:
        raise
    except Exception as exc:
        raise _translate(exc, env) from None
    if value:
        REDACTOR.add(value)
        _note(name, field, "keyring")
    return value or None


def set_secret(name: str, value: str, field: str = "") -> None:
    env = env_var(name, field)
    _check_backend(env)
    try:
        import keyring
        keyring.set_password(SERVICE, keyring_user(name, field), value)
    except Exception as exc:
        raise _translate(exc, env) from None
    REDACTOR.add(value)


def delete_secret(name: str, field: str = "") -> bool:
    """Delete; False when there was nothing stored."""
    env = env_var(name, field)
    _check_backend(env)
    try:
        import keyring
        import keyring.errors as ke
        try:
            keyring.delete_password(SERVICE, keyring_user(name, field))
        except ke.PasswordDeleteError:
            return False
    except CredentialError:
        raise
    except Exception as exc:
        raise _translate(exc, env) from None
    return True


def secret_lookup(name: str, field: str = "") -> str | None:
    """The SecretLookup given to sources: a keyring problem becomes the source's error."""
    from tray.core.errors import SourceError
    try:
        return get_secret(name, field)
    except CredentialError as exc:
        raise SourceError(str(exc), kind="credential") from None


# -- redaction ---------------------------------------------------------------------------------

_GENERIC = [
    # Authorization headers and token-like query parameters, in case a library logs a request.
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(basic|bearer|token|oauth)?\s*[^\s\"',]+"),
    re.compile(r"(?i)\b((?:api_?)?(?:key|token|password|secret)=)[^&\s\"']+"),
    # A bare scheme and credential, as a server echoes a header back in an error text (a credential has a
    # digit or punctuation in it: "Basic authentication required" is words, not one).
    re.compile(r"(?i)\b((?:bearer|basic)\s+)(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*"),
]


class Redactor(logging.Filter):
    """Replaces every known secret (and credential-shaped text) in log records with '***'."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def add_many(self, secrets: Iterable[str]) -> None:
        for s in secrets:
            self.add(s)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for s in secrets:
            if s in text:
                text = text.replace(s, "***")
        for pat in _GENERIC:
            text = pat.sub(lambda m: m.group(1) + "***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        red = self.redact(msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.msg, record.args = red, None
        return True


REDACTOR = Redactor()


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of the root logger (filters on loggers do not see
    records propagated from child loggers; handler filters do)."""
    root = logger or logging.getLogger()
    for h in root.handlers:
        if REDACTOR not in h.filters:
            h.addFilter(REDACTOR)
