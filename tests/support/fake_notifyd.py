"""A fake org.freedesktop.Notifications service for tests (no X needed).

Run it on a (private) session bus: `python fake_notifyd.py LOGFILE`. It owns the name, prints
"fake-notifyd ready" once it does, and appends every Notify call as one JSON line to LOGFILE
(app_name, summary, body, actions, hints, expire_timeout), so a test can read what popped up.

A test plays the person clicking a pop-up with the extra method `org.secondline.Test.Click(id,
action_key)` on the same object: the service emits `ActionInvoked(id, action_key)` as a real
notification daemon does (action "default" = a click on the pop-up's body).
"""
# No `from __future__ import annotations`: dbus-fast reads the signature strings below.
import asyncio
import json
import sys

from dbus_fast import Variant  # noqa: F401  (hints arrive as Variants)
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method, signal

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


class Notifications(ServiceInterface):
    def __init__(self, log_path: str) -> None:
        super().__init__(NAME)
        self.log_path = log_path
        self.n = 0

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",  # noqa: F821
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":  # noqa: F821
        self.n += 1
        rec = {"id": self.n, "app_name": app_name, "summary": summary, "body": body, "icon": app_icon,
               "actions": list(actions), "expire_timeout": expire_timeout,
               "hints": {k: (v.value if not isinstance(v.value, bytes) else "<bytes>") for k, v in hints.items()}}
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, default=str) + "\n")
        return self.n

    @method()
    def CloseNotification(self, id: "u") -> None:  # noqa: F821,A002
        self.NotificationClosed(id, 3)

    @method()
    def GetCapabilities(self) -> "as":  # noqa: F821
        return ["body", "actions", "icon-static"]

    @method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return ["fake-notifyd", "secondline-tests", "1.0", "1.2"]

    @signal()
    def NotificationClosed(self, id: "u", reason: "u") -> "uu":  # noqa: F821,A002
        return [id, reason]

    @signal()
    def ActionInvoked(self, id: "u", action_key: "s") -> "us":  # noqa: F821,A002
        return [id, action_key]


class TestControl(ServiceInterface):
    def __init__(self, notifications: Notifications) -> None:
        super().__init__("org.secondline.Test")
        self.notifications = notifications

    @method()
    def Click(self, id: "u", action_key: "s") -> None:  # noqa: F821,A002
        self.notifications.ActionInvoked(id, action_key)


async def main(log_path: str) -> None:
    bus = await MessageBus().connect()
    service = Notifications(log_path)
    bus.export(PATH, service)
    bus.export(PATH, TestControl(service))
    await bus.request_name(NAME)
    print("fake-notifyd ready", flush=True)
    await bus.wait_for_disconnect()   # the bus going away (end of the test) ends this process


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
