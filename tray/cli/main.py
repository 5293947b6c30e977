"""Command line: one function per command."""
from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Sequence

from tray import __version__
from tray.config import loader as config_mod
from tray.core.errors import ConfigError, CredentialError, did_you_mean

log = logging.getLogger("secondline")


def installed_version() -> str:
    """The version of the installed distribution (what pip, pipx and the wheel's name say). A bare
    checkout on PYTHONPATH, with no distribution metadata at all, falls back to the source's number."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("secondline")
    except PackageNotFoundError:
        return __version__


class _VersionAction(argparse.Action):
    """--version, looked up only when asked: reading distribution metadata costs start-up time."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help=kwargs.get("help", "print the installed version and exit"))

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"secondline {installed_version()}")
        parser.exit()


RUNNING_PORT_HELP = "port of the running instance (default: [server] port from the config, else 17474)"


def _config_arg(p: argparse.ArgumentParser, what: str = "config file") -> None:
    p.add_argument("--config", metavar="PATH", help=f"{what} (default: {config_mod.default_config_path()})")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="secondline", description="The on-call engineer's tray companion: "
                                "one icon for the team's health, pop-ups on changes, a local endpoint.")
    p.add_argument("--version", action=_VersionAction)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("run", help="run the tray app", description="Poll every source, show the tray icon, "
                       "raise notifications and serve http://127.0.0.1:PORT/.")
    r.add_argument("--demo", action="store_true", help="run the built-in demo (no credentials, no network; "
                   "never reads your config)")
    r.add_argument("--headless", action="store_true", help="no tray icon; notifications go to the console")
    r.add_argument("--port", type=int, help="endpoint port (default: [server] port, 17474)")
    r.add_argument("-v", "--verbose", action="store_true", help="debug logging on the console")
    _config_arg(r)

    c = sub.add_parser("check", help="validate the config and poll every source once",
                       description="Validate the config, poll every source once in parallel and print a table. "
                       "Exit 0 when every source could be read.")
    _config_arg(c)

    s = sub.add_parser("status", help="print the state of a running instance",
                       description="Read a running secondline and print a summary. Exit 0 ok, 1 warning, "
                       "2 critical, 3 unknown (the Nagios plugin convention).")
    s.add_argument("--port", type=int, default=None, help="port of the running instance (default 17474)")
    s.add_argument("--json", action="store_true", help="print the status document")
    _config_arg(s)

    sn = sub.add_parser("snooze", help="snooze pop-ups of a running instance",
                        description="Snooze pop-ups: 15m, 1h, end-of-shift, any Nm/Nh/Nd, a time of day "
                        "HH:MM, or 'off' to resume. The icon keeps showing the truth; the state survives a "
                        "restart.")
    sn.add_argument("preset", help="15m | 1h | end-of-shift | 30m | 14:00 | off")
    sn.add_argument("--port", type=int, default=None, help=RUNNING_PORT_HELP)
    _config_arg(sn, "config file, read for its [server] port")

    pa = sub.add_parser("pair", help="approve, list or revoke browser extensions' pairings",
                        description="Approve (or --deny) the pairing request showing this code, so that the "
                        "extension may call actions on the local endpoint with a key of its own; --list the "
                        "paired clients and waiting requests; --revoke one. Talks to the running tray through "
                        "its control socket: no token or keyring needed.")
    pa.add_argument("code", nargs="?", help="the six-digit code shown by the extension and in the tray's pop-up")
    pa.add_argument("--deny", action="store_true", help="refuse the request instead: the extension gets "
                    "no key and may ask again")
    pa.add_argument("--list", action="store_true", help="list the paired clients (ID, when, origin) and the "
                    "requests waiting for approval")
    pa.add_argument("--revoke", metavar="ID", help="forget a paired client (ID from --list): its requests are "
                    "refused from then on, and it must pair again (an ID starting with \"-\": --revoke=ID)")
    pa.add_argument("--port", type=int, default=None, help=RUNNING_PORT_HELP)
    _config_arg(pa, "config file, read for its [server] port")

    d = sub.add_parser("doctor", help="explain what works and what does not on this machine",
                       description="Print the config path, keyring, notification and tray backends, the port, "
                       "the log file, and whether each source has a credential.")
    _config_arg(d)

    au = sub.add_parser("autostart", help="start secondline when you log in",
                        description="XDG autostart on Linux, a LaunchAgent on macOS, the Startup folder on "
                        "Windows.")
    au.add_argument("action", choices=("enable", "disable", "status"),
                    help="enable: start at login; disable: no longer; status: whether it will")
    _config_arg(au, "config file the started app reads (default: its own default)")

    lp = sub.add_parser("login", help="store a source's secret in the OS keyring",
                        description="Store a source's secret in the OS keyring (service 'secondline', user = "
                        "source name). The secret is read with a hidden prompt on a terminal, or as one line "
                        "from standard input; it is never taken from the command line. The source must be "
                        "in the config.")
    lp.add_argument("name", help="the source's name from the config")
    lp.add_argument("--field", default="", help="for sources with several secrets (trello: key, token)")
    _config_arg(lp, "config file that names the source")
    lo = sub.add_parser("logout", help="delete a source's secret from the OS keyring",
                        description="Delete a source's secret from the OS keyring (service 'secondline', "
                        "user = source name). Works for a source no longer in the config too.")
    lo.add_argument("name", help="the source's name (as it was stored)")
    lo.add_argument("--field", default="", help="for sources with several secrets (trello: key, token)")
    _config_arg(lo, "config file (not needed to delete)")

    it = sub.add_parser("init", help="write a commented example config",
                        description="Write a commented example config: a demo source, and every source type "
                        "and setting as a commented example. Never overwrites a file.")
    _config_arg(it, "where to write it")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return {"run": cmd_run, "check": cmd_check, "status": cmd_status, "login": cmd_login,
                "logout": cmd_logout, "snooze": cmd_snooze, "pair": cmd_pair, "doctor": cmd_doctor,
                "autostart": cmd_autostart, "init": cmd_init}[args.command](args)
    except ConfigError as exc:
        print(f"secondline: config error: {exc}", file=sys.stderr)
        return 2
    except CredentialError as exc:
        print(f"secondline: keyring: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _load(args: argparse.Namespace) -> config_mod.Config:
    path = args.config or config_mod.default_config_path()
    return config_mod.load(path)


def _dump_threads_on_sigusr1() -> None:
    """`kill -USR1 PID` prints every thread's stack on stderr: how a hung tray tells where it hangs,
    even when one thread holds the interpreter."""
    import faulthandler
    import signal
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def cmd_run(args: argparse.Namespace) -> int:
    from tray.platform import logs
    from tray.app.wiring import App
    from tray.notify.notifier import ConsoleBackend, make_backend
    from tray.outputs.http.server import PortInUse
    from tray.sources.plain import demo
    from tray.outputs.tray.display import display_available

    log_path = logs.setup(verbose=args.verbose)
    _dump_threads_on_sigusr1()
    if args.demo:
        demo.reset_origin()
        cfg = config_mod.loads(demo.demo_config_toml(port=args.port or config_mod.DEFAULT_PORT), "<built-in demo>")
        log.info("demo mode: built-in scenario, no credentials, no network (your config is not read)")
    else:
        cfg = _load(args)
        for text in config_mod.warnings(cfg):
            log.warning("%s", text)
    headless = args.headless
    if not headless and not display_available():
        print("secondline: no display (DISPLAY / WAYLAND_DISPLAY unset): running without the tray icon; "
              "notifications are printed here", file=sys.stderr, flush=True)
        headless = True
    backend = ConsoleBackend() if headless else make_backend(False)
    token = None
    if args.demo:
        from tray.outputs.http.pairing import memory_token
        token = memory_token          # the demo never touches the keyring
    app = App(cfg, headless=headless, port=args.port, watch_config=not args.demo, backend=backend, token=token)
    try:
        app.start()
    except PortInUse as exc:
        print(f"secondline: {exc}", file=sys.stderr)
        return 1
    log.info("secondline %s: %d source(s); dashboard %s%s", __version__, len(cfg.sources), app.dashboard_url,
             f"; log file {log_path}" if log_path else "")
    app.serve(with_tray=not headless)
    return 0


def _poll_one(source_cfg) -> tuple[str, str, str, str, float, str]:
    """One poll, the scheduler's own (tray.engine.polling), as a row of the table."""
    from tray.engine import polling
    from tray.platform.credentials import secret_lookup
    from tray.engine.net import Http
    from tray.core.rules import source_snapshot
    t0 = time.monotonic()
    src, outcome = polling.start_source(source_cfg, secret_lookup)
    if src is not None:
        outcome = polling.poll(src, source_cfg, Http())
    assert outcome is not None
    err = outcome.reason
    elapsed = time.monotonic() - t0
    snap = source_snapshot(name=source_cfg.name, type=source_cfg.type, group=source_cfg.group,
                           alerts=outcome.reading.alerts if outcome.reading else (),
                           checked_at=datetime.now(timezone.utc), error=err)
    # An unreadable source has no alerts to count: "-", not the 1 unknown it adds to the icon.
    return (snap.name, snap.type, snap.health.value, "-" if err else str(snap.counts.problems), elapsed, err or "")


def cmd_check(args: argparse.Namespace) -> int:
    cfg = _load(args)
    problems = config_mod.warnings(cfg)
    print(f"config {cfg.path}: {'loads' if problems else 'OK'} ({len(cfg.sources)} source(s))")
    for text in problems:
        print(f"warning: {text}")
    if not cfg.sources:
        return 1      # nothing was checked: not a pass
    from tray.sources import offered_actions, record_board
    board = record_board(cfg.sources, cfg.actions.get("trello"))
    with ThreadPoolExecutor(max_workers=min(16, len(cfg.sources))) as pool:
        rows = list(pool.map(_poll_one, cfg.sources))
    # ACTIONS: what the menu and the extension's popup offer on the source's alerts.
    head = ("SOURCE", "TYPE", "HEALTH", "ALERTS", "ACTIONS", "TIME", "ERROR")
    table = [head] + [(n, t, h, a, ", ".join(offered_actions(c, board)) or "-", f"{e:.2f}s", err)
                      for c, (n, t, h, a, e, err) in zip(cfg.sources, rows)]
    widths = [max(len(r[i]) for r in table) for i in range(6)]
    for r in table:
        print("  ".join(r[i].ljust(widths[i]) for i in range(6)) + "  " + r[6])
    return 0 if all(not r[5] for r in rows) else 1


def cmd_status(args: argparse.Namespace) -> int:
    from tray.cli.running import cmd_status as run
    return run(args, _load)


def _read_secret(prompt: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def login_refusal(cfg: config_mod.Config, name: str, field: str) -> str | None:
    """Why `login NAME [--field F]` would store a secret nothing reads, or None when it is fine."""
    from tray.sources import source_class
    names = [s.name for s in cfg.sources]
    if name not in names:
        near = did_you_mean(name, names)
        known = f"did you mean {near!r}?" if near else (f"sources: {', '.join(names)}" if names else
                                                         "it has no [[sources]] yet")
        return f"no source named {name!r} in {cfg.path} ({known}); nothing stored"
    sc = next(s for s in cfg.sources if s.name == name)
    fields = source_class(sc.type).secrets
    if not fields:
        return f"{name} ({sc.type}) needs no secret; nothing stored"
    if field not in fields:
        want = ", ".join(f"--field {f}" for f in fields if f) or "no --field"
        return f"{name} ({sc.type}) takes {want}, not {'--field ' + field if field else 'none'}; nothing stored"
    return None


def cmd_login(args: argparse.Namespace) -> int:
    from tray.platform.credentials import set_secret
    refusal = login_refusal(_load(args), args.name, args.field)   # a config error stops here too
    if refusal:
        print(f"secondline: {refusal}", file=sys.stderr)
        return 1
    label = f"{args.name}" + (f" ({args.field})" if args.field else "")
    secret = _read_secret(f"Secret for {label}: ")
    if not secret:
        print("secondline: no secret given; nothing stored", file=sys.stderr)
        return 1
    set_secret(args.name, secret, args.field)
    print(f"stored the secret for {label} in the keyring")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from tray.platform.credentials import delete_secret
    label = f"{args.name}" + (f" ({args.field})" if args.field else "")
    if delete_secret(args.name, args.field):
        print(f"deleted the secret for {label}")
        return 0
    print(f"no secret stored for {label}")
    return 1


def cmd_snooze(args: argparse.Namespace) -> int:
    from tray.cli.running import cmd_snooze as run
    return run(args, _load)


def cmd_pair(args: argparse.Namespace) -> int:
    from tray.cli.running import cmd_pair as run
    return run(args, _load)


def local_until(iso_text: str, now: datetime | None = None) -> str:
    from tray.cli.running import local_until as fmt
    return fmt(iso_text, now)


def cmd_init(args: argparse.Namespace) -> int:
    from tray.platform import fsutil
    from tray.config.example import EXAMPLE
    from pathlib import Path
    path = Path(args.config).expanduser() if args.config else config_mod.default_config_path()
    try:
        fsutil.write_new(path, EXAMPLE, mode=0o600)
    except FileExistsError:
        print(f"secondline: {path} exists; nothing written (it is never overwritten: move it away first, "
              "or give another --config PATH)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"secondline: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}: a demo source, and every source type as a commented example.\n"
          f"Edit it, then `secondline check{'' if not args.config else ' --config ' + str(path)}`.")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from tray.cli import doctor
    print(doctor.report(args.config))
    return 0


def cmd_autostart(args: argparse.Namespace) -> int:
    from tray.platform import autostart
    return autostart.main(args.action, args.config)
