"""Firefox's host permissions are the user's to give (MV3): the extension without access to 127.0.0.1.

Since Firefox 127 the install prompt grants host_permissions, but the user can withdraw them (about:addons ->
secondline -> Permissions), and with extensions.originControls.grantByDefault off (Firefox's behaviour before
127, and an admin's choice after) the add-on starts without them. Without access a fetch to the tray fails
exactly as if the tray were down; the extension asks the browser instead and says so: "perm" on the badge,
one line and an "Allow access" button in the popup and the options page. The button calls
permissions.request; the test answers Firefox's own prompt in the browser window, as a user would.
"""
from __future__ import annotations

import pytest

from support.browsers import LIVE, PALETTE, artifact, wait_for
from .fake_tray import FakeTray, demo_step

pytestmark = pytest.mark.slow

NO_ACCESS_LINE = "This browser has not allowed secondline to read the tray on 127.0.0.1."


def fetched(tray: FakeTray) -> list[dict]:
    return tray.events("status") + tray.events("events_open") + tray.events("post")


def test_installed_without_access_it_says_so_and_the_popup_button_asks(firefox_factory, artifacts):
    ff = firefox_factory(**{"extensions.originControls.grantByDefault": False})
    with FakeTray(doc=demo_step("critical")) as tray:
        ff.set_port(tray.port)
        assert ff.has_access() is False
        # The badge says what is wrong, not a bare "?"; the tooltip says what to do.
        ff.wait_badge("perm", PALETTE["no_data"], timeout=LIVE)
        title = ff.wait_title(lambda t: NO_ACCESS_LINE in t, "naming the missing access")
        assert "Allow access" in title
        assert not fetched(tray), "the extension fetched without the permission"

        options = ff.page("options.html", width=700, height=600)
        options.wait("#access")
        assert options.text("#access-text") == NO_ACCESS_LINE
        popup = ff.page("popup.html", width=380, height=400)
        popup.wait("#access")
        assert popup.text("#headline") == "No access to the tray"
        assert popup.text("#access-text") == NO_ACCESS_LINE
        assert popup.hidden("#message") and popup.count("#tiles article") == 0
        popup.screenshot(artifact(artifacts, "extension-popup-no-access", ff))

        # "Allow access" -> Firefox's prompt -> Allow: the badge follows the tray at once, the pages update.
        popup.click("#grant")
        prompt = ff.answer_permission_prompt(allow=True)
        print("Firefox's prompt:", prompt)
        assert "127.0.0.1" in prompt, prompt
        assert ff.has_access() is True
        ff.wait_badge("2", PALETTE["critical"], timeout=LIVE)
        popup.wait("#overall[data-state=critical]", timeout=LIVE)
        assert popup.hidden("#access")
        options.wait("#access", state="hidden", timeout=5)
        tray.set(demo_step("warning"))   # and it is the live stream that delivers
        ff.wait_badge("1", PALETTE["warning"], timeout=LIVE)


def test_withdrawn_access_turns_the_badge_to_perm_and_a_refusal_keeps_it(firefox, artifacts):
    ff = firefox   # installed as Firefox 127+ installs it: host permission granted
    with FakeTray(doc=demo_step("warning")) as tray:
        ff.set_port(tray.port)
        ff.wait_badge("1", PALETTE["warning"])
        popup = ff.page("popup.html", width=380, height=400)
        popup.wait("#overall[data-state=warning]")

        ff.withdraw_access()   # the user, in about:addons
        ff.wait_badge("perm", PALETTE["no_data"], timeout=LIVE)
        popup.wait("#access", timeout=5)
        # The extension let go of its stream: nothing is read from the tray without the permission.
        wait_for(lambda: tray.events("events_closed"), timeout=10, what="the stream to close")
        before = len(fetched(tray))
        tray.set(demo_step("critical"))

        # Asked, the user says no: nothing changes, and the popup says so.
        popup.click("#grant")
        ff.answer_permission_prompt(allow=False)
        popup.wait_text("#action-result", "Access not allowed", contains=True)
        assert ff.has_access() is False
        assert ff.badge() == ("perm", PALETTE["no_data"])
        assert popup.visible("#access")
        assert len(fetched(tray)) == before

        # From the options page this time, yes: the badge shows what the tray says now.
        options = ff.page("options.html", width=700, height=600)
        options.click("#grant")
        ff.answer_permission_prompt(allow=True)
        ff.wait_badge("2", PALETTE["critical"], timeout=LIVE)
        options.wait("#access", state="hidden", timeout=5)
        popup.wait("#overall[data-state=critical]", timeout=5)
