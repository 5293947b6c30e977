"""The commands that talk to a running tray: status, snooze, pair. All go through the control channel
(tray.app.control: a Unix socket both ends check by uid), so none needs a token, a keyring, or trusts
whatever listens on 127.0.0.1:PORT."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any, Callable

from tray.config import loader as config_mod
from tray.core.errors import ConfigError

EXIT_BY_HEALTH = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def port_of(args: argparse.Namespace, load: Callable[[argparse.Namespace], config_mod.Config]) -> int:
    if getattr(args, "port", None):
        return args.port
    try:
        return load(args).server.port
    except ConfigError:
        return config_mod.DEFAULT_PORT


def ask(port: int, command: str, args: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One command to the tray; None (said on stderr) when it cannot be reached or is not secondline."""
    from tray.app.control import ControlError
    from tray.app import control
    try:
        return control.call(port, command, args or {})
    except ControlError as exc:
        print(f"secondline: {exc}", file=sys.stderr)
        return None


def _failed(reply: dict[str, Any]) -> bool:
    if reply.get("status") == 200:
        return False
    print(f"secondline: {reply.get('error') or 'the tray answered ' + str(reply.get('status'))}", file=sys.stderr)
    return True


def cmd_status(args: argparse.Namespace, load) -> int:
    from tray.app.control import ControlError, NotRunning
    from tray.app import control
    port = port_of(args, load)
    try:
        reply = control.call(port, "status", timeout=10)
    except NotRunning as exc:
        print(f"UNKNOWN: {exc}")
        return 3
    except ControlError as exc:
        print(f"UNKNOWN: {exc}")
        return 3
    doc = reply.get("document")
    if reply.get("status") != 200 or not isinstance(doc, dict):
        print(f"UNKNOWN: {reply.get('error') or 'the tray sent no status document'}")
        return 3
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(doc.get("summary") or doc.get("health"))
        from tray.core import words    # the menu's words for a group (shared/vocabulary.json)
        for g in doc.get("groups", []):
            state = "handled_only" if g.get("handled_only") else g["health"]
            print("  " + words.phrase("group", name=g["name"], summary=words.summary(state, g["counts"])))
        for s in doc.get("sources", []):
            if s.get("error"):
                print(f"  {s['name']}: {s['error']}")
    return EXIT_BY_HEALTH.get(doc.get("health"), 3)


def local_until(iso_text: str, now: datetime | None = None) -> str:
    """An instant from the endpoint (ISO, UTC) as a person reads it here: "22:22" today, "Thu 09:00"
    within a week, else the date too. Local time of this machine, to the minute."""
    try:
        when = datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone()
    except (TypeError, ValueError):
        return str(iso_text)
    here = (now or datetime.now(timezone.utc)).astimezone()
    days = (when.date() - here.date()).days
    if days == 0:
        return f"{when:%H:%M}"
    if 0 < days < 7:
        # Fixed English day names: strftime's %a follows the process locale.
        return f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[when.weekday()]} {when:%H:%M}"
    return f"{when:%Y-%m-%d %H:%M}"


def cmd_snooze(args: argparse.Namespace, load) -> int:
    off = args.preset.lower() in ("off", "resume", "none")
    reply = ask(port_of(args, load), "resume" if off else "snooze", {} if off else {"preset": args.preset})
    if reply is None or _failed(reply):
        return 1
    print("notifications resumed" if off else
          f"notifications snoozed until {local_until(reply.get('snoozed_until', ''))}")
    return 0


def cmd_pair(args: argparse.Namespace, load) -> int:
    port = port_of(args, load)
    chosen = [bool(args.code), args.list, bool(args.revoke)]
    if sum(chosen) != 1:
        print("secondline: give a CODE to approve (or --deny), or --list, or --revoke ID", file=sys.stderr)
        return 2
    if args.list:
        reply = ask(port, "pair-list")
        if reply is None or _failed(reply):
            return 1
        print_pairings(reply)
        return 0
    if args.revoke:
        reply = ask(port, "pair-revoke", {"id": args.revoke})
        if reply is None or _failed(reply):
            return 1
        print(f"revoked {reply.get('id')}: {reply.get('label')}. Its requests are refused from now on.")
        return 0
    reply = ask(port, "pair-approve", {"code": args.code, "deny": args.deny})
    if reply is None or _failed(reply):
        return 1
    if args.deny:
        print(f"pairing denied for {reply.get('label')}")
    else:
        print(f"pairing approved for {reply.get('label')}: client {reply.get('client')} "
              f"(`secondline pair --revoke {reply.get('client')}` to undo)")
    return 0


def print_pairings(reply: dict[str, Any]) -> None:
    clients = reply.get("clients") or []
    if clients:
        rows = [("ID", "PAIRED", "LAST USED", "CLIENT")]
        rows += [(c["id"], c["paired_at"], c.get("last_used") or "-", c["label"]) for c in clients]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            print("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    else:
        print("no paired clients")
    for p in reply.get("pending") or []:
        print(f"waiting for approval: code {p['code']} from {p['label']} (`secondline pair {p['code']}`)")
