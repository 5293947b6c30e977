"""Logging: console (stderr) and a rotating file in the user log dir, both redacted. The file (alert
titles, pairing codes, source names) and its directory are the user's only: 0600 and 0700, also when
an older version left them open, and for every file the rotation starts."""
from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

from tray.platform.credentials import install_redaction

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("secondline"))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files are created 0600 whatever the umask."""

    def _open(self):  # type: ignore[no-untyped-def]
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors,
                    opener=lambda path, flags: os.open(path, flags, 0o600))


def make_private(d: Path, name: str) -> None:
    """The log directory 0700 and the existing log files 0600 (POSIX; elsewhere the profile's ACL)."""
    if os.name != "posix":
        return
    os.chmod(d, 0o700)
    for f in d.glob(name + "*"):
        if f.is_file() and not f.is_symlink():
            os.chmod(f, 0o600)


def setup(verbose: bool = False, to_file: bool = True) -> Path | None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    console.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.addHandler(console)
    path = None
    if to_file:
        try:
            d = log_dir()
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = d / "secondline.log"
            make_private(d, path.name)
            fh = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
            fh.setFormatter(logging.Formatter(FORMAT))
            fh.setLevel(logging.DEBUG if verbose else logging.INFO)
            root.addHandler(fh)
        except OSError as exc:
            logging.getLogger(__name__).warning("cannot write the log file: %s", exc)
            path = None
    # Chatty libraries: their debug output could carry request details. urllib3's warnings are
    # its planned retries (tray.engine.net: the outcome is the source's own one-line reason): --verbose only.
    for name in ("desktop_notifier", "PIL", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING if verbose else logging.ERROR)
    install_redaction()
    return path
