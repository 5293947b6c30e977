"""Logging: console (stderr) and a rotating file in the user log dir, both redacted."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs

from tray.credentials import install_redaction

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("secondline"))


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
            d.mkdir(parents=True, exist_ok=True)
            path = d / "secondline.log"
            fh = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
            fh.setFormatter(logging.Formatter(FORMAT))
            fh.setLevel(logging.DEBUG if verbose else logging.INFO)
            root.addHandler(fh)
        except OSError as exc:
            logging.getLogger(__name__).warning("cannot write the log file: %s", exc)
            path = None
    # Chatty libraries: their debug output could carry request details. urllib3's warnings are
    # its planned retries (tray.net: the outcome is the source's own one-line reason): --verbose only.
    for name in ("desktop_notifier", "PIL", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING if verbose else logging.ERROR)
    install_redaction()
    return path
