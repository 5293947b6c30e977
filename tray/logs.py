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
    # Chatty libraries: their debug output could carry request details.
    for name in ("urllib3", "desktop_notifier", "PIL", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    install_redaction()
    return path
