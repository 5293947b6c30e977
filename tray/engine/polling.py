"""One poll of one source, as the scheduler and `secondline check` both do it: build the source, poll,
check the shape of what came back, apply the source's include/exclude, and turn every failure into a
reason fit to show (secrets scrubbed). A bug in a source is a reason too, never an exception that
escapes: the caller logs it with its traceback."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tray.platform.credentials import REDACTOR
from tray.core.errors import SourceError
from tray.core.model import Reading
from tray.core.rules import apply_filters
from tray.sources import source_class
from tray.sources.base import SecretLookup, Source, SourceConfig


@dataclass(frozen=True)
class Outcome:
    """A poll's result: the reading (filtered) or the reason it failed, with what the scheduler needs
    to back off (`retry_after`, `kind`; "bug" when the source itself raised something unexpected)."""
    reading: Reading | None = None
    reason: str | None = None
    retry_after: float | None = None
    kind: str = ""
    exception: BaseException | None = None      # for a "bug": the traceback to log

    @property
    def ok(self) -> bool:
        return self.reason is None


def start_source(config: SourceConfig, secret_lookup: SecretLookup | None) -> tuple[Source | None, Outcome | None]:
    """The source object, or the failure (a bug in its constructor must not stop the app)."""
    try:
        return source_class(config.type)(config, secret_lookup), None
    except Exception as exc:
        return None, Outcome(reason=REDACTOR.redact(f"internal error starting the source: {type(exc).__name__}"),
                             kind="bug", exception=exc)


def poll(source: Source, config: SourceConfig, http: Any) -> Outcome:
    """Poll `source` once."""
    try:
        reading = source.poll(http)
        if not isinstance(reading, Reading):
            raise TypeError(f"poll() returned {type(reading).__name__}, not Reading")
        alerts = apply_filters(reading.alerts, config.include, config.exclude)
    except SourceError as exc:
        # A reason can quote the server (e.g. the HTTP reason phrase), and a server may echo the
        # credential it was sent: scrub known secrets before the text reaches the log, the status
        # document, the events or the terminal.
        return Outcome(reason=REDACTOR.redact(exc.reason), retry_after=exc.retry_after, kind=exc.kind)
    except Exception as exc:
        return Outcome(reason=REDACTOR.redact(f"internal error in the {config.type} source: "
                                              f"{type(exc).__name__}: {str(exc)[:120]}"),
                       kind="bug", exception=exc)
    return Outcome(reading=Reading(alerts=alerts, on_call=reading.on_call))
