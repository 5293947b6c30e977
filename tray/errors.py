"""The one error family a source may raise. Anything else escaping a source is a bug."""
from __future__ import annotations


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
    """A config problem, always naming the file, the key and the reason."""

    def __init__(self, path: str, key: str | None, reason: str) -> None:
        self.path = path
        self.key = key
        self.reason = reason
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + reason)


class CredentialError(Exception):
    """The keyring cannot be used (none installed, locked). The message names the fix."""
