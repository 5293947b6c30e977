"""Command line: one function per command."""
from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from tray import __version__
from tray import config as config_mod
from tray.errors import ConfigError, CredentialError, SourceError

log = logging.getLogger("secondline")

EXIT_BY_HEALTH = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="PATH",
                   help=f"config file (default: {config_mod.default_config_path()})")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="secondline", description="The on-call engineer's tray companion: "
                                "one icon for the team's health, pop-ups on changes, a local endpoint.")
    p.add_argument("--version", action="version", version=f"secondline {__version__}")
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
    sn.add_argument("--port", type=int, default=None)
    _config_arg(sn)

    pa = sub.add_parser("pair", help="approve a browser extension's pairing request",
                        description="Approve (or --deny) the pairing request showing this code, so that the "
                        "extension may call actions on the local endpoint.")
    pa.add_argument("code")
    pa.add_argument("--deny", action="store_true")
    pa.add_argument("--port", type=int, default=None)
    _config_arg(pa)

    d = sub.add_parser("doctor", help="explain what works and what does not on this machine",
                       description="Print the config path, keyring, notification and tray backends, the port, "
                       "the log file, and whether each source has a credential.")
    _config_arg(d)

    au = sub.add_parser("autostart", help="start secondline when you log in",
                        description="XDG autostart on Linux, a LaunchAgent on macOS, the Startup folder on "
                        "Windows.")
    au.add_argument("action", choices=("enable", "disable", "status"))
    _config_arg(au)

    for name, text in (("login", "store a source's secret in the OS keyring"),
                       ("logout", "delete a source's secret from the OS keyring")):
        lp = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + " (service 'secondline', "
                            "user = source name). The secret is read with a hidden prompt on a terminal, or as "
                            "one line from standard input; it is never taken from the command line.")
        lp.add_argument("name", help="the source's name from the config")
        lp.add_argument("--field", default="", help="for sources with several secrets (trello: key, token)")
        _config_arg(lp)
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
                "autostart": cmd_autostart}[args.command](args)
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


def cmd_run(args: argparse.Namespace) -> int:
    from tray import logs
    from tray.app import App
    from tray.notify import ConsoleBackend, make_backend
    from tray.server import PortInUse
    from tray.sources import demo
    from tray.display import display_available

    log_path = logs.setup(verbose=args.verbose)
    if args.demo:
        demo.reset_origin()
        cfg = config_mod.loads(demo.demo_config_toml(port=args.port or config_mod.DEFAULT_PORT), "<built-in demo>")
        log.info("demo mode: built-in scenario, no credentials, no network (your config is not read)")
    else:
        cfg = _load(args)
    headless = args.headless
    if not headless and not display_available():
        print("secondline: no display (DISPLAY / WAYLAND_DISPLAY unset): running without the tray icon; "
              "notifications are printed here", file=sys.stderr, flush=True)
        headless = True
    backend = ConsoleBackend() if headless else make_backend(False)
    token = None
    if args.demo:
        from tray.pairing import memory_token
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
    from tray.credentials import secret_lookup
    from tray.model import Reading
    from tray.net import Http
    from tray.rules import apply_filters, source_snapshot
    from tray.sources import source_class
    t0 = time.monotonic()
    err = None
    alerts: tuple = ()
    try:
        src = source_class(source_cfg.type)(source_cfg, secret_lookup)
        reading = src.poll(Http())
        if not isinstance(reading, Reading):
            raise TypeError("poll() did not return a Reading")
        alerts = apply_filters(reading.alerts, source_cfg.include, source_cfg.exclude)
    except SourceError as exc:
        err = exc.reason
    except Exception as exc:  # a bug in a source is reported, not raised
        err = f"internal error: {type(exc).__name__}: {exc}"
    if err:
        from tray.credentials import REDACTOR
        err = REDACTOR.redact(err)   # a server may echo the credential back (reason phrase, body)
    elapsed = time.monotonic() - t0
    from datetime import datetime, timezone
    snap = source_snapshot(name=source_cfg.name, type=source_cfg.type, group=source_cfg.group, alerts=alerts,
                           checked_at=datetime.now(timezone.utc), error=err)
    # An unreadable source has no alerts to count: "-", not the 1 unknown it adds to the icon.
    return (snap.name, snap.type, snap.health.value, "-" if err else str(snap.counts.problems), elapsed, err or "")


def cmd_check(args: argparse.Namespace) -> int:
    cfg = _load(args)
    print(f"config {cfg.path}: OK ({len(cfg.sources)} source(s))")
    if not cfg.sources:
        return 0
    with ThreadPoolExecutor(max_workers=min(16, len(cfg.sources))) as pool:
        rows = list(pool.map(_poll_one, cfg.sources))
    head = ("SOURCE", "TYPE", "HEALTH", "ALERTS", "TIME", "ERROR")
    table = [head] + [(n, t, h, a, f"{e:.2f}s", err) for n, t, h, a, e, err in rows]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    for r in table:
        print("  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5])
    return 0 if all(not r[5] for r in rows) else 1


def cmd_status(args: argparse.Namespace) -> int:
    port = args.port
    if port is None:
        try:
            port = _load(args).server.port if args.config else config_mod.DEFAULT_PORT
        except ConfigError:
            port = config_mod.DEFAULT_PORT
    url = f"http://127.0.0.1:{port}/status.json"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            doc = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"UNKNOWN: secondline is not answering on 127.0.0.1:{port} ({getattr(exc, 'reason', exc)}); "
              "start it with `secondline run`")
        return 3
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(doc.get("summary") or doc.get("health"))
        for g in doc.get("groups", []):
            c = g["counts"]
            state = "handled only" if g.get("handled_only") else g["health"]
            print(f"  {g['name']}: {state} (critical {c['critical']}, warning {c['warning']}, "
                  f"unknown {c['unknown']}, handled {c['handled']})")
        for s in doc.get("sources", []):
            if s.get("error"):
                print(f"  {s['name']}: {s['error']}")
    return EXIT_BY_HEALTH.get(doc.get("health"), 3)


def _read_secret(prompt: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def _known_source(args: argparse.Namespace) -> None:
    try:
        cfg = _load(args)
    except ConfigError:
        return
    if args.name not in [s.name for s in cfg.sources]:
        print(f"note: no source named {args.name!r} in {cfg.path}", file=sys.stderr)


def cmd_login(args: argparse.Namespace) -> int:
    from tray.credentials import set_secret
    _known_source(args)
    label = f"{args.name}" + (f" ({args.field})" if args.field else "")
    secret = _read_secret(f"Secret for {label}: ")
    if not secret:
        print("secondline: no secret given; nothing stored", file=sys.stderr)
        return 1
    set_secret(args.name, secret, args.field)
    print(f"stored the secret for {label} in the keyring")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from tray.credentials import delete_secret
    label = f"{args.name}" + (f" ({args.field})" if args.field else "")
    if delete_secret(args.name, args.field):
        print(f"deleted the secret for {label}")
        return 0
    print(f"no secret stored for {label}")
    return 1


def _port(args: argparse.Namespace) -> int:
    if getattr(args, "port", None):
        return args.port
    try:
        return _load(args).server.port
    except ConfigError:
        return config_mod.DEFAULT_PORT


def _post_action(port: int, action: str, body: dict) -> tuple[int, dict]:
    """POST /actions/ACTION to a running instance with the token from the keyring."""
    from tray.pairing import load_or_create_token
    token, _ = load_or_create_token()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/actions/{action}", data=json.dumps(body).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {token}",
                                                         "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {"error": exc.reason}


def _action_cli(port: int, action: str, body: dict) -> tuple[int, dict] | None:
    try:
        return _post_action(port, action, body)
    except (urllib.error.URLError, OSError) as exc:
        print(f"secondline is not answering on 127.0.0.1:{port} ({getattr(exc, 'reason', exc)})", file=sys.stderr)
        return None


def cmd_snooze(args: argparse.Namespace) -> int:
    port = _port(args)
    off = args.preset.lower() in ("off", "resume", "none")
    res = _action_cli(port, "resume" if off else "snooze", {} if off else {"preset": args.preset})
    if res is None:
        return 1
    status, data = res
    if status != 200:
        print(f"secondline: {data.get('error', status)}", file=sys.stderr)
        return 1
    print("notifications resumed" if off else f"notifications snoozed until {data.get('snoozed_until')}")
    return 0


def cmd_pair(args: argparse.Namespace) -> int:
    res = _action_cli(_port(args), "pair-approve", {"code": args.code, "deny": args.deny})
    if res is None:
        return 1
    status, data = res
    if status != 200:
        print(f"secondline: {data.get('error', status)}", file=sys.stderr)
        return 1
    print(f"pairing {'denied' if args.deny else 'approved'} for {data.get('client')}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from tray import doctor
    print(doctor.report(args.config))
    return 0


def cmd_autostart(args: argparse.Namespace) -> int:
    from tray import autostart
    return autostart.main(args.action, args.config)
