"""What every source type is: settings, a thin fetch, a pure parse.

A source type is a subclass of `Source` with:
- `type`: its config name;
- `Settings`: a frozen dataclass of its own config keys (config.py validates the TOML against the
  field names, types and defaults; a field without a default is required). Field types may be
  str, int, float, bool, list[str], dict[str, str], and `X | None`. A `validate(self)` method may
  raise ValueError("key: reason") for cross-field rules.
- `secrets`: the credential fields it needs: () none, ("",) one secret stored under the source name,
  ("key", "token") several (stored as NAME:key, NAME:token). `secret_optional` when a missing one is
  fine (e.g. an Alertmanager without auth).
- `fetch(http)` (requests only, raises SourceError) and `parse(payload)` (pure, no I/O, no clock
  unless passed in), or `poll(http)` when a source needs several requests (paging, on-call).

Sources that can push (Icinga 2 event stream) also return `watchers()`: callables that the
scheduler runs each in its own thread, restarting them with back-off if they raise.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Protocol, Sequence

from tray.errors import SourceError
from tray.model import Alert, Reading

SecretLookup = Callable[[str, str], "str | None"]   # (source name, field) -> secret or None


@dataclass(frozen=True)
class NoSettings:
    pass


@dataclass(frozen=True)
class SourceConfig:
    """The keys every source has, plus its type's own `settings`."""
    name: str
    type: str
    group: str = "default"
    interval: float = 30.0
    timeout: float = 10.0
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    enabled: bool = True
    settings: Any = field(default_factory=NoSettings)


COMMON_KEYS = ("name", "type", "group", "interval", "timeout", "include", "exclude", "enabled")


class StreamContext(Protocol):
    """What a watcher thread may do. Given by the scheduler."""
    stop: threading.Event

    def publish(self, alerts: Sequence[Alert]) -> None:
        """Replace the source's alerts at once with this full list (a stream applied an event)."""

    def request_poll(self) -> None:
        """Ask for a full poll now (on connect, or when a change detector fired)."""

    def connected(self) -> None:
        """The stream is up: clears a stream error and requests a reconciling poll."""

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the app is stopping."""


class Actions:
    """Optional actions a source type can perform on one of its alerts (tray menu / endpoint).

    A source class that supports an action overrides the method; the default says it cannot.
    Each raises SourceError with a plain reason on failure and changes nothing locally.
    """

    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        raise SourceError(f"{self.type} sources cannot acknowledge", kind="config")  # type: ignore[attr-defined]

    def recheck(self, http: Any, alert: Alert) -> str:
        raise SourceError(f"{self.type} sources cannot recheck", kind="config")  # type: ignore[attr-defined]


class Source(Actions):
    type: ClassVar[str] = ""
    Settings: ClassVar[type] = NoSettings
    secrets: ClassVar[tuple[str, ...]] = ()
    secret_optional: ClassVar[bool] = False
    max_bytes: ClassVar[int] = 20 * 1024 * 1024

    def __init__(self, config: SourceConfig, secret_lookup: SecretLookup | None = None) -> None:
        self.config = config
        self.name = config.name
        self.settings = config.settings
        self._secret_lookup = secret_lookup

    # -- credentials -------------------------------------------------------------------------
    def secret(self, field: str = "", *, required: bool | None = None) -> str | None:
        """The stored secret, or None when it is optional and absent.

        `required` defaults to the type's `secret_optional`; a source whose auth is optional but
        configured (Alertmanager with `auth = "basic"`) asks with required=True, so that a keyring
        that cannot be used is reported as such rather than as a missing secret."""
        needed = (not self.secret_optional) if required is None else required
        try:
            value = self._secret_lookup(self.name, field) if self._secret_lookup else None
        except SourceError:
            # No usable keyring: fatal when the secret is needed, nothing to read when it is not
            # (an Alertmanager without auth must work on a bare server).
            if needed:
                raise
            value = None
        if value is None and needed:
            suffix = f" --field {field}" if field else ""
            raise SourceError(f"no credential: run `secondline login {self.name}{suffix}`",
                              kind="credential")
        return value

    # -- reading -----------------------------------------------------------------------------
    def poll(self, http: Any) -> Reading:
        """One complete read. The default is fetch + parse; override for multi-request sources."""
        return Reading(alerts=tuple(self.parse(self.fetch(http))))

    def fetch(self, http: Any) -> Any:
        raise NotImplementedError

    def parse(self, payload: Any) -> list[Alert]:
        raise NotImplementedError

    def watchers(self) -> list[Callable[[Any, StreamContext], None]]:
        return []

    def close(self) -> None:
        """Release anything held (open streams). Called when the source is removed or on quit."""


def require(payload: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """Shape check for parsers: a wrong-shaped payload is a SourceError, never a TypeError."""
    if not isinstance(payload, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SourceError(f"unexpected response shape: {what} is not a {names}", kind="bad_content")
    return payload
