"""What every source type is: settings, a thin fetch, a pure parse.

A source type is a subclass of `Source` with:
- `type`: its config name;
- `Settings`: a frozen dataclass of its own config keys (tray.config.loader validates the TOML against the
  field names, types and defaults; a field without a default is required). Field types may be
  str, int, float, bool, list[str], dict[str, str], and `X | None`. A `validate(self)` method may
  raise ValueError("key: reason") for cross-field rules.
- `secrets`: the credential fields it needs: () none, ("",) one secret stored under the source name,
  ("key", "token") several (stored as NAME:key, NAME:token). `secret_optional` when a missing one is
  fine (e.g. an Alertmanager without auth).
- `fetch(http)` (requests only, raises SourceError) and `parse(payload)` (pure, no I/O, no clock
  unless passed in), or `poll(http)` when a source needs several requests (paging, on-call).
- `capabilities`: what it can do to one of its own alerts (ACKNOWLEDGE, RECHECK), each backed by its
  method; `records` when it can be the `[actions] trello` board (it has `create_card`). This is the one
  place that says so: the status document publishes it per source, and the menu, the extension's popup,
  the CLI and the endpoint offer exactly that (tray.sources.offered_actions adds recording on the board).

Sources that can push (Icinga 2 event stream) also return `watchers()`: callables that the
scheduler runs each in its own thread, restarting them with back-off if they raise.

Blindness
    A well-formed, successful answer that holds nothing because the reader cannot see (a user the
    server authenticates but does not authorize for any object, a token scoped to nothing, a view
    that matches nothing) looks exactly like "all is well". Each type's module docstring says which
    signal in its API tells "nothing visible" from "nothing wrong" (or that it has none). A source
    that finds itself blind calls `sight()`: with nothing else to show the source is unknown with a
    reason that names the reader and the fix (SourceError kind "blind"); with visible alerts, they
    stay listed (a visible critical stays critical) and one unknown alert carries the reason. The
    common key `allow_empty = true` says an empty answer is expected: then a blindness finding that
    could be a legitimately empty estate reads as ok. Findings that cannot be (a view id that does
    not exist) are `excusable=False` and ignore it.

    A type plugs in with a few lines: `self.visibility = Recheck()` in `__init__`; in `poll`, when the
    answer is empty, `finding = self.probe(self.visibility, lambda: ...)` where the check returns
    `self.blind("user 'x' sees 0 hosts", "authorize it in cgi.cfg")` or None (a check whose request
    fails tells nothing); then `Reading(alerts=self.sight(alerts, finding))`. `self.reader("user 'x'",
    "password")` adds where the secret came from. `Http.request(..., empty_hint=...)` says what an
    empty 200 means for the product (a CGI whose daemon is stopped answers a lone newline).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Protocol, Sequence

from tray.core.errors import SourceError
from tray.core.model import Alert, Reading, Severity

log = logging.getLogger(__name__)

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
    allow_empty: bool = False      # an answer showing nothing at all is expected here: ok, not "blind"
    settings: Any = field(default_factory=NoSettings)


# What can be done to an alert, by the name of its action (POST /actions/NAME, the menu's entries, the
# extension's buttons). RECORD is the app's, not a source's: recording on the configured Trello board.
ACKNOWLEDGE = "acknowledge"
RECHECK = "recheck"
RECORD = "trello"
CAPABILITIES = (ACKNOWLEDGE, RECHECK, RECORD)      # in the order they are offered

COMMON_KEYS = ("name", "type", "group", "interval", "timeout", "include", "exclude", "enabled", "allow_empty")

BLIND_ALERT_ID = "secondline:blind"
ALLOW_EMPTY_HINT = "or set allow_empty = true on this source if nothing to see is expected"

# How long a visibility probe's "I can see" stays trusted while the answers stay empty.
VISIBILITY_RECHECK = 300.0


class Recheck:
    """When a source whose answer is empty should probe its visibility again (pure bookkeeping).

    A probe that saw something is trusted for `every` seconds, so an empty estate costs one probe per
    `every`, not one per poll; a probe that saw nothing is not remembered, so the next poll probes
    again and a fixed permission turns the source green at the next poll."""

    def __init__(self, every: float = VISIBILITY_RECHECK, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._seen: dict[str, float] = {}

    def due(self, key: str = "") -> bool:
        at = self._seen.get(key)
        return at is None or self.clock() - at >= self.every

    def saw(self, key: str = "") -> None:
        self._seen[key] = self.clock()

    def forget(self, key: str = "") -> None:
        self._seen.pop(key, None)


@dataclass(frozen=True)
class Finding:
    """Why a successful answer may be blindness: `reason` is the one line shown; `excusable` when an
    empty estate could be real, so that `allow_empty = true` accepts it."""
    reason: str
    excusable: bool = True


def blind_error(reason: str) -> SourceError:
    """The reader sees nothing it is meant to watch: the source is unknown with this reason."""
    return SourceError(reason, kind="blind")


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


class AlertActions:
    """Optional actions a source type can perform on one of its alerts (tray menu / endpoint).

    A source class that supports an action declares it in `capabilities` and overrides the method; the
    default says it cannot. Each raises SourceError with a plain reason on failure and changes nothing
    locally.
    """

    def acknowledge(self, http: Any, alert: Alert, *, author: str, comment: str = "",
                    duration_s: float = 7200) -> str:
        raise SourceError(f"{self.type} sources cannot acknowledge", kind="config")  # type: ignore[attr-defined]

    def recheck(self, http: Any, alert: Alert) -> str:
        raise SourceError(f"{self.type} sources cannot recheck", kind="config")  # type: ignore[attr-defined]


class Source(AlertActions):
    type: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()   # of ACKNOWLEDGE, RECHECK
    records: ClassVar[bool] = False                          # can be the [actions] trello board
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

    def credential_origin(self, field: str = "") -> str:
        """Where this source's secret came from: "from the keyring", "from SECONDLINE_SECRET_X", or ""."""
        from tray.platform.credentials import origin_text
        return origin_text(self.name, field)

    def reader(self, who: str, secret: str = "credential", field: str = "") -> str:
        """`who` (the user or token a reason is about) with where its secret came from, when known."""
        where = self.credential_origin(field)
        return f"{who} ({secret} {where})" if where else who

    # -- blindness -----------------------------------------------------------------------------
    def blind(self, finding: str, fix: str, *, excusable: bool = True) -> "Finding":
        """A blindness finding: what the reader sees, the fix, and (when an empty estate could be real,
        i.e. `excusable`) how to say that nothing to see is expected."""
        reason = f"{finding}: {fix}"
        return Finding(f"{reason} ({ALLOW_EMPTY_HINT})" if excusable else reason, excusable)

    def sight(self, alerts: Sequence[Alert], finding: "Finding | None") -> tuple[Alert, ...]:
        """Apply a blindness finding (None when the reader can see).

        Nothing else to show: raise blind_error (the source is unknown, never ok). Visible alerts: keep
        them and add one unknown alert with the reason. `allow_empty` excuses an excusable finding."""
        if finding is None or (finding.excusable and self.config.allow_empty):
            return tuple(alerts)
        if not alerts:
            raise blind_error(finding.reason)
        return tuple(alerts) + (Alert(source=self.name, id=BLIND_ALERT_ID,
                                      title=f"{self.name} cannot see everything it watches",
                                      severity=Severity.UNKNOWN, detail=finding.reason),)

    def probe(self, recheck: "Recheck", check: Callable[[], "Finding | None"], key: str = "") -> "Finding | None":
        """Run a visibility check when `recheck` says one is due; a check that saw is trusted for a while.

        A check whose own request fails (a 500, a 429 on a secondary endpoint) tells nothing: the main
        answer stands, and the check waits for the next recheck rather than hammering a struggling server."""
        if not recheck.due(key):
            return None
        try:
            finding = check()
        except SourceError as exc:
            if exc.kind == "blind":
                raise
            log.debug("source %s: visibility check failed: %s", self.name, exc.reason)
            recheck.saw(key)
            return None
        if finding is None:
            recheck.saw(key)
        return finding

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
