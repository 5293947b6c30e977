"""A plain HTTP check: is this URL answering, with the expected status (and text), fast enough?

Unlike every other type, a target that fails is not an unreadable source but the very thing being
watched: refused, timed out, a TLS failure, a wrong status or missing text are one critical alert,
slower than `warn_ms` is a warning. Only a check that cannot be attempted at all (an invalid URL)
is a source error.

Blindness: no signal of its own, and none needed: the check asks for one status (and text) and the
answer has it or not. A 200 that is empty is what `expect_text` is for: with it, an empty or
whitespace body is critical and says "the answer was empty"; without it, the status alone was asked
for. `allow_empty` is accepted like on every type and changes nothing here.
"""
import time
from dataclasses import dataclass
from typing import Any

from tray.core.errors import SourceError
from tray.core.model import Alert, Severity
from tray.sources.base import Source, require

ALERT_ID = "check"
ANY_STATUS = tuple(range(100, 600))
# Error kinds that mean our own request was wrong, not that the target is down.
OWN_FAULTS = ("config", "credential")


@dataclass(frozen=True)
class Probe:
    """What one request found; the input to the pure `parse`."""
    status: int | None          # None when no answer came
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None    # why no (complete) answer came


@dataclass(frozen=True)
class HttpCheckSettings:
    url: str
    expect_status: int = 200
    expect_text: str | None = None
    warn_ms: int | None = None          # slower than this -> warning
    method: str = "GET"
    verify_tls: bool = True
    ca_bundle: str | None = None

    def validate(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url: must start with http:// or https://")
        if not 100 <= self.expect_status <= 599:
            raise ValueError("expect_status: must be an HTTP status (100-599)")
        if self.warn_ms is not None and self.warn_ms <= 0:
            raise ValueError("warn_ms: must be more than 0")
        if self.method.upper() not in ("GET", "HEAD"):
            raise ValueError("method: GET or HEAD")
        if self.expect_text is not None and self.method.upper() == "HEAD":
            raise ValueError("expect_text: needs method GET (HEAD has no body)")


class HttpCheckSource(Source):
    type = "http"
    Settings = HttpCheckSettings
    secrets = ()
    max_bytes = 5 * 1024 * 1024

    def fetch(self, http: Any) -> Probe:
        s = self.settings
        verify: bool | str = s.ca_bundle if s.ca_bundle else s.verify_tls
        start = time.monotonic()
        try:
            resp = http.request(s.method.upper(), s.url, source=self.name, timeout=self.config.timeout,
                                verify=verify, max_bytes=self.max_bytes, ok_statuses=ANY_STATUS)
        except SourceError as exc:
            if exc.kind in OWN_FAULTS:
                raise
            return Probe(status=None, elapsed_ms=_ms_since(start), error=exc.reason)
        return Probe(status=resp.status, body=resp.body, elapsed_ms=_ms_since(start))

    def parse(self, payload: Any) -> list[Alert]:
        return check_alerts(self.name, require(payload, Probe, "the probe"), self.settings)


def _ms_since(start: float) -> float:
    return (time.monotonic() - start) * 1000.0


# -- pure judgement --------------------------------------------------------------------------

def check_alerts(source: str, probe: Probe, settings: HttpCheckSettings) -> list[Alert]:
    """No alert when all is well, else one (same id whatever the fault: down -> slow is a change)."""
    url = settings.url

    def alert(severity: Severity, title: str, detail: str) -> list[Alert]:
        return [Alert(source=source, id=ALERT_ID, title=title, severity=severity, detail=detail, url=url,
                      ref={"url": url})]

    if probe.status is None:
        return alert(Severity.CRITICAL, f"{source} is down", probe.error or "no answer")
    if probe.status != settings.expect_status:
        return alert(Severity.CRITICAL, f"{source} answers HTTP {probe.status}",
                     f"expected HTTP {settings.expect_status}, got {probe.status}")
    if settings.expect_text is not None:
        text = probe.body.decode("utf-8", errors="replace")
        if settings.expect_text not in text:
            if not text.strip():
                found = "the answer was empty" if not probe.body else "the answer was only whitespace"
                return alert(Severity.CRITICAL, f"{source} lacks the expected text",
                             f"{settings.expect_text!r} not found: {found} (a server or proxy answering for a "
                             "stopped application does that)")
            return alert(Severity.CRITICAL, f"{source} lacks the expected text",
                         f"{settings.expect_text!r} not found in the answer ({len(probe.body)} bytes)")
    if settings.warn_ms is not None and probe.elapsed_ms > settings.warn_ms:
        return alert(Severity.WARNING, f"{source} is slow",
                     f"answered in {probe.elapsed_ms:.0f} ms (warning above {settings.warn_ms} ms)")
    return []
