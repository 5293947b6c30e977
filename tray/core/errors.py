"""The one error family a source may raise. Anything else escaping a source is a bug."""
from __future__ import annotations

import difflib
from typing import Iterable


class SourceError(Exception):
    """A source cannot be read. `reason` is one plain line shown to the user as the source's error.

    `kind` lets the scheduler and tests tell faults apart without parsing text:
    timeout, refused, tls, auth, rate_limited, server, http, bad_content, oversize, slow,
    credential, config, stream, blind (a good answer from a reader that can see nothing), error.
    `retry_after` (seconds) is honoured by the scheduler when set (429 Retry-After, rate-limit reset).
    """

    def __init__(self, reason: str, *, kind: str = "error", retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.reason


class ConfigError(Exception):
    """A config problem, always naming the file, the key and the reason; and the line, once the
    loader has found it (`path:LINE: key: reason`). `shown` is how the key reads to a person
    (`interval in [[sources]] "web"`); "" when the reason names it already."""

    def __init__(self, path: str, key: str | None, reason: str, *, line: int | None = None,
                 shown: str | None = None) -> None:
        self.path = path
        self.key = key
        self.reason = reason
        self.line = line
        self.shown = shown
        label = key if shown is None else shown
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {label}: {reason}" if label else f"{where}: {reason}")


# The control channel's errors live here, not in tray.app.control: tray.app.control_tcp raises them too, and
# tray.app.control calls tray.app.control_tcp where there is no Unix socket.
class ControlError(Exception):
    """The CLI could not reach the tray; `str()` is the one-line reason and fix."""


class NotRunning(ControlError):
    pass


class NotSecondline(ControlError):
    pass


class CredentialError(Exception):
    """The keyring cannot be used (none installed, locked). The message names the fix."""


def did_you_mean(got: str, valid: Iterable[str]) -> str | None:
    """The valid name a typo most likely meant ("intervall" -> "interval"), or None."""
    valid = list(valid)
    close = difflib.get_close_matches(str(got).lower(), [v.lower() for v in valid], n=1, cutoff=0.6)
    return next((v for v in valid if v.lower() == close[0]), None) if close else None
