// What the user sees of a reading outside the popup: the toolbar button (badge text and colours, tooltip,
// icon) and browser notifications. The rules (lib/status.js, lib/icon.js, lib/notify.js) are pure; this
// module applies them through the browser APIs it is handed, so node --test can run it with fakes.

import { badgeFor } from "./status.js";
import { iconStates, iconBlocks, drawIcon } from "./icon.js";
import { transitions, groupStates } from "./notify.js";
import { baseUrl } from "./settings.js";
import { LinkStore } from "./links.js";

const ICON_SIZES = [16, 32];

/** The toolbar icon for a view at each size, or null where there is no OffscreenCanvas to draw it with. */
export function toolbarIcon(view, palette, splitIcon) {
  if (typeof OffscreenCanvas === "undefined") return null;
  const states = iconStates(view, splitIcon);
  const imageData = {};
  for (const size of ICON_SIZES) {
    const canvas = new OffscreenCanvas(size, size);
    const ctx = canvas.getContext("2d");
    drawIcon(ctx, iconBlocks(states, size), palette, size);
    imageData[size] = ctx.getImageData(0, 0, size, size);
  }
  return imageData;
}

/** Draw a view (lib/status.js interpret) on the toolbar button through `action` (chrome.action). */
export async function showOnToolbar(action, view, { palette, words, splitIcon, log = console }) {
  const badge = badgeFor(view, palette, words);
  const imageData = toolbarIcon(view, palette, splitIcon);
  // Text, colours and tooltip are set back to back (the slow icon work is done before), so no one sees a
  // new count on an old colour, or under an old tooltip, for more than an instant.
  await Promise.all([
    action.setBadgeBackgroundColor({ color: badge.color }),
    action.setBadgeText({ text: badge.text }),
    action.setBadgeTextColor?.({ color: badge.textColor }),   // Chrome before 110 lacks it
    action.setTitle({ title: badge.title }),
  ]);
  if (imageData) await action.setIcon({ imageData });
  // The browser tests that run without a debugger read the badge from this line.
  log.info(`secondline badge "${badge.text}" ${view.state} ${badge.color}`);
  return badge;
}

/**
 * Browser notifications for group state changes the user switched on, and where a click on one leads.
 * The last group states live in storage.session (not in the worker, which the browser stops when idle), so
 * a change is noticed across a restart of the worker, but never announced on the first reading.
 */
export class Notifier {
  constructor({ notifications, tabs, session, iconUrl, links = new LinkStore(session), now = () => Date.now() }) {
    Object.assign(this, { notifications, tabs, session, iconUrl, links, now });
  }

  /** Raise a notification for each switched-on change from the last document to `doc`; returns their ids. */
  async changes(doc, words, settings) {
    const { groups: previous = null } = await this.session.get("groups");
    await this.session.set({ groups: groupStates(doc) });
    const raised = [];
    for (const n of transitions(previous, doc, settings, words)) {
      const id = `secondline-${n.group}-${this.now()}`;
      // The link first: a click may come as soon as the notification is up.
      await this.links.add(id, n.url ?? `${baseUrl(settings.port)}/`);
      this.notifications.create(id, { type: "basic", iconUrl: this.iconUrl, title: n.title, message: n.message });
      raised.push(id);
    }
    return raised;
  }

  /** A new port is another tray: its first document is a first reading again. */
  forgetGroups() {
    return this.session.remove("groups");
  }

  async clicked(id) {
    const url = await this.links.get(id);
    if (url) this.tabs.create({ url });
    this.notifications.clear(id);
    await this.links.remove(id);
  }

  /** Closed by the user, by clear() after a click, or by the browser: its link has no use any more. */
  closed(id) {
    return this.links.remove(id);
  }
}
