"""`secondline doctor`: what this machine gives secondline, so a user can see why something does not
work (no pop-ups, no icon, no menu, a source without a credential) without reading the code.

`report(config_path)` returns the text; every check is a small function returning (label, line) and
never raises: a check that fails says so on its own line. Secrets are looked up to see whether one is
stored, and never printed.
"""
from __future__ import annotations

import importlib.util
import json
import os
import platform
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping

from tray import __version__
from tray.outputs.tray.display import system_tray_owner

Line = tuple[str, str]


def check_version() -> Line:
    how = f"one-file binary {sys.executable}" if getattr(sys, "frozen", False) else \
        f"Python {platform.python_version()} {sys.executable}"
    return "version", f"secondline {__version__} ({how}; {platform.system()} {platform.release()})"


def load_config(config_path: str | None):
    """(path, Config or None, error text or None)."""
    from tray.config import loader as config_mod
    from tray.core.errors import ConfigError
    path = Path(config_path) if config_path else config_mod.default_config_path()
    if not path.exists():
        return path, None, "not found (secondline run --demo works without one; see the README to write one)"
    try:
        return path, config_mod.load(path), None
    except ConfigError as exc:
        return path, None, f"does not load: {exc}"
    except Exception as exc:   # a bug in the loader must not hide the rest of the report
        return path, None, f"does not load: internal error {type(exc).__name__}: {exc}"


def check_config(path: Path, cfg, error: str | None) -> Line:
    if error:
        return "config", f"{path}: {error}"
    from tray.config.loader import warnings
    n = len(cfg.sources)
    groups = sorted({s.group for s in cfg.sources})
    text = f"{path}: OK, {n} source(s)" + (f" in {', '.join(groups)}" if groups else "")
    problems = warnings(cfg)
    return "config", f"{path}: loads, but {problems[0].split(' ', 1)[1]}" if problems else text


def check_keyring() -> Line:
    from tray.platform.credentials import backend_name
    name = backend_name()
    try:
        import keyring
        kr = keyring.get_keyring()
        mod = type(kr).__module__
        if mod.startswith("keyring.backends.fail") or (
                mod.startswith("keyring.backends.chainer") and not getattr(kr, "backends", None)):
            hint = "no usable keyring: secrets can only come from SECONDLINE_SECRET_<NAME> variables"
        elif mod.startswith("keyrings.alt"):
            hint = "a plain-file keyring: secondline refuses it"
        else:
            hint = "usable"
    except Exception as exc:
        hint = f"unavailable ({type(exc).__name__})"
    return "keyring", f"{name} ({hint})"


def check_notifications() -> Line:
    try:
        from tray.notify.notifier import notification_service_reason
        reason = notification_service_reason()
    except Exception as exc:
        reason = f"cannot be checked ({type(exc).__name__}: {exc})"
    if reason is None:
        return "notifications", "desktop (pop-ups through the system's notification service)"
    return "notifications", f"console and log only: {reason}"


def tray_backend(env: Mapping[str, str], platform_name: str = sys.platform,
                 has_gi: bool | None = None) -> str:
    """Which pystray backend will draw the icon, and what that means for the menu."""
    if platform_name == "darwin":
        return "darwin (menu bar icon with its menu)"
    if platform_name in ("win32", "cygwin"):
        return "win32 (notification area icon with its menu)"
    forced = env.get("PYSTRAY_BACKEND", "")
    if has_gi is None:
        has_gi = importlib.util.find_spec("gi") is not None
    menu = {"appindicator": "AppIndicator icon with its menu",
            "gtk": "GTK status icon with its menu",
            "xorg": "XEmbed icon, no menu: a click opens the dashboard",
            "dummy": "no icon at all"}
    if forced:
        return f"{forced} (PYSTRAY_BACKEND; {menu.get(forced, 'unknown backend')})"
    if has_gi:
        return "appindicator or gtk (PyGObject found; icon with its menu)"
    return ("xorg (PyGObject is not installed; " + menu["xorg"] +
            "; install PyGObject for a menu, and on GNOME the AppIndicator extension)")


def tray_choice(env: Mapping[str, str], platform_name: str = sys.platform) -> str:
    """Which tray backend `secondline run` would start here now, and why (tray.outputs.tray.runner.choose)."""
    try:
        from tray.outputs.tray.runner import choose
        c = choose(env, platform_name)
    except Exception as exc:
        return f"cannot be checked ({type(exc).__name__}: {exc})"
    if c.backend == "sni":
        return f"StatusNotifierItem over D-Bus: {c.reason}"
    if c.backend == "pystray":
        return f"pystray {tray_backend(env, platform_name)}: {c.reason}"
    return f"none right now, the app retries: {c.reason}"


def check_display(env: Mapping[str, str] | None = None, platform_name: str = sys.platform) -> list[Line]:
    env = os.environ if env is None else env
    if not (platform_name.startswith("linux") or "bsd" in platform_name):
        return [("tray", tray_backend(env, platform_name))]
    x, wl = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    if not x and not wl:
        return [("display", "none (DISPLAY and WAYLAND_DISPLAY unset): `secondline run` runs headless, "
                 "the endpoint and dashboard only")]
    desktop = env.get("XDG_CURRENT_DESKTOP", "")
    lines = [("display", ", ".join(p for p in (f"DISPLAY={x}" if x else "", f"WAYLAND_DISPLAY={wl}" if wl else "",
                                              f"desktop {desktop}" if desktop else "") if p))]
    lines.append(("tray", tray_choice(env, platform_name)))
    if x:
        owner = system_tray_owner(x)
        if owner is not None:
            lines.append(("system tray", "an XEmbed tray host is running" if owner else
                          "no XEmbed tray host on this display: the xorg icon has nowhere to dock "
                          "(AppIndicator needs PyGObject)"))
    return lines


def check_port(port: int) -> Line:
    """Free, answered by a secondline, or taken by something else."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return "port", f"127.0.0.1:{port} is free"
        except OSError:
            pass
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=2) as r:
            doc = json.loads(r.read())
        if isinstance(doc, dict) and "health" in doc and "schema" in doc:
            return "port", (f"127.0.0.1:{port} is answered by a running secondline "
                            f"(health {doc.get('health')}: {doc.get('summary', '')})")
    except (urllib.error.URLError, OSError, ValueError):
        pass
    return "port", (f"127.0.0.1:{port} is taken by another program: set [server] port in the config "
                    "(and the extension's Options)")


def check_log() -> Line:
    try:
        from tray.platform.logs import log_dir
        return "log file", str(log_dir() / "secondline.log")
    except Exception as exc:
        return "log file", f"unknown ({type(exc).__name__}: {exc})"


def check_autostart() -> Line:
    try:
        from tray.platform import autostart
        entry = autostart.current_entry()
        state = autostart.status(entry)
    except Exception as exc:
        return "autostart", f"cannot be checked ({type(exc).__name__}: {exc})"
    text = {"enabled": f"enabled ({entry.path})", "disabled": "disabled (`secondline autostart enable`)",
            "stale": f"{entry.path} starts another installation (`secondline autostart enable` updates it)"}
    return "autostart", text[state]


def credential_state(name: str, field: str, optional: bool) -> str:
    """How this source's secret is found: never the secret itself."""
    from tray.platform.credentials import env_var, get_secret
    from tray.core.errors import CredentialError
    env = env_var(name, field)
    if os.environ.get(env):
        return f"from ${env}"
    try:
        value = get_secret(name, field)
    except CredentialError as exc:
        if optional:
            return f"none (optional; the keyring cannot be read: {exc})"
        return f"cannot be read: {exc}"
    except Exception as exc:
        return f"cannot be read: {type(exc).__name__}"
    if value:
        return "stored in the keyring"
    login = f"secondline login {name}" + (f" --field {field}" if field else "")
    return "none stored (optional)" if optional else f"MISSING: run `{login}`"


def auth_configured(settings) -> bool | None:
    """For a type whose secret is optional: does this source's config ask for one? True (`auth` is
    basic/bearer, or a `username` is set), False (auth = "none", or neither key set on a type that
    has them), None (nothing says: a token that is sent when one is stored, e.g. a team hub)."""
    auth = getattr(settings, "auth", None)
    if auth in ("basic", "bearer"):
        return True
    if auth == "none":
        return False
    if getattr(settings, "username", None):
        return True
    if hasattr(settings, "auth") or hasattr(settings, "username"):
        return False
    return None


def check_sources(cfg) -> list[Line]:
    from tray.sources import source_class
    lines: list[Line] = []
    for s in cfg.sources:
        head = f"{s.name} ({s.type}, {s.group}{'' if s.enabled else ', disabled'})"
        try:
            cls = source_class(s.type)
        except Exception as exc:
            lines.append((head, f"type cannot be loaded: {type(exc).__name__}"))
            continue
        if not cls.secrets:
            lines.append((head, "no credential needed"))
            continue
        optional = cls.secret_optional
        if optional:
            # Ask for a credential only where this source will send one: an Alertmanager without
            # auth reads fine on a machine with no keyring at all.
            wanted = auth_configured(s.settings)
            if wanted is False:
                lines.append((head, "no credential needed (no auth configured)"))
                continue
            optional = wanted is None
        parts = []
        for field in cls.secrets:
            state = credential_state(s.name, field, optional)
            parts.append(f"{field}: {state}" if field else state)
        lines.append((head, "; ".join(parts)))
    return lines


def _format(lines: list[Line], indent: str = "") -> list[str]:
    width = max((len(label) for label, _ in lines), default=0)
    return [f"{indent}{label.ljust(width)}  {value}" for label, value in lines]


def report(config_path: str | None = None, port: int | None = None) -> str:
    from tray.config.loader import DEFAULT_PORT
    path, cfg, error = load_config(config_path)
    port = port or (cfg.server.port if cfg is not None else DEFAULT_PORT)
    lines: list[Line] = [check_version(), check_config(path, cfg, error), check_keyring(),
                         check_notifications(), *check_display(), check_port(port), check_log(),
                         check_autostart()]
    out = _format(lines)
    if cfg is not None:
        out.append("sources:" if cfg.sources else "sources: none configured")
        out += _format(check_sources(cfg), "  ")
    return "\n".join(out)
