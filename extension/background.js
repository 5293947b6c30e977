// Service worker (Chrome) / event page (Firefox): follows the tray's status and draws the toolbar button.
// This file only wires browser events to two modules: lib/transport.js (the connection to the tray) and
// lib/view.js (badge, icon, tooltip and notifications).
//
// Three ways a change reaches the badge, fastest first:
//  1. a streaming fetch of /events (workers have no EventSource); each "status" event carries the whole document;
//  2. a GET /status.json (ETag) whenever the worker starts, the stream (re)opens, or the popup asks;
//  3. a chrome.alarms backstop every 30 s (the floor for packed extensions), which also restarts a killed worker.
// An open stream alone does not keep an MV3 worker alive (measured), so every byte read from it (the tray
// sends a ping at least every 15 s) is answered with a cheap extension API call, which resets the idle timer.
// (Firefox's event page too: a call into the browser's parent process resets its idle timer, an open fetch
// does not.)
// Before any of this the browser must let the extension read 127.0.0.1 (lib/access.js): without that the
// badge says "perm" and nothing is fetched until the permission arrives (permissions.onAdded).

import { interpret } from "./lib/status.js";
import { normalise } from "./lib/settings.js";
import { hasAccess } from "./lib/access.js";
import { Transport } from "./lib/transport.js";
import { showOnToolbar, Notifier } from "./lib/view.js";
import { wordsFrom } from "./shared/words.js";

const ALARM = "secondline-backstop";
const ALARM_MINUTES = 0.5;

const contract = Promise.all([loadJson("shared/palette.json"), loadJson("shared/status.schema.json"),
  loadJson("shared/vocabulary.json").then(wordsFrom)]);
let settings = null;

const notifier = new Notifier({
  notifications: chrome.notifications, tabs: chrome.tabs, session: chrome.storage.session,
  iconUrl: chrome.runtime.getURL("icons/icon-128.png"),
});
const transport = new Transport({
  // Called through a wrapper: the browser's fetch throws "Illegal invocation" when called as another object's method.
  fetch: (url, init) => fetch(url, init),
  hasAccess: () => hasAccess(chrome.permissions),
  keepAlive,
  onReading: show,
});

async function loadJson(path) {
  const res = await fetch(chrome.runtime.getURL(path));
  return res.json();
}

function keepAlive() {
  // Any extension API call resets the worker's idle timer; this one is cheap and has no side effect.
  chrome.runtime.getPlatformInfo().catch(() => {});
}

async function loadSettings() {
  if (!settings) {
    settings = normalise(await chrome.storage.sync.get(null));
    transport.follow(settings.port);
  }
  return settings;
}

/** Follow the tray, if the browser lets us read it; returns whether it does. */
async function start() {
  await loadSettings();
  return transport.start();
}

/** start(), then a fresh reading of /status.json (the popup opened, the port or the permission changed). */
async function refresh() {
  await loadSettings();
  await transport.refresh();
}

/** One reading from the tray (transport.js), in order: on the toolbar, as notifications, and for the popup. */
async function show(reading) {
  const [palette, schema, words] = await contract;
  const view = interpret(reading, schema);
  await showOnToolbar(chrome.action, view, { palette, words, splitIcon: settings.splitIcon });
  if (view.kind === "status") await notifier.changes(view.doc, words, settings);
  await chrome.storage.session.set({ last: { view, at: Date.now() } });
}

// Listeners are registered at the top level, so that the event that woke the worker is delivered.
chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== ALARM) return;
  await loadSettings();
  transport.dropIfSilent();
  await refresh();
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== "sync") return;
  // Swap in the new settings only once read, so a status arriving meanwhile is not dropped.
  chrome.storage.sync.get(null).then(async (stored) => {
    const s = (settings = normalise(stored));
    if (transport.follow(s.port)) {
      // A new port takes effect at once: the transport drops the old stream and everything learnt from it.
      await notifier.forgetGroups();
      refresh();
    } else if (changes.splitIcon) {
      const { last } = await chrome.storage.session.get("last");
      if (last) {
        const [palette, , words] = await contract;
        await showOnToolbar(chrome.action, last.view, { palette, words, splitIcon: s.splitIcon });
      }
    }
  });
});

chrome.notifications?.onClicked.addListener((id) => notifier.clicked(id));
chrome.notifications?.onClosed?.addListener((id) => notifier.closed(id));

chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
  if (msg?.type !== "refresh") return false;
  refresh().then(() => reply({ ok: true }), () => reply({ ok: false }));
  return true;   // reply is sent asynchronously
});

// Granted (the popup's or options page's "Allow access", the browser's own settings) or withdrawn: follow at once.
chrome.permissions?.onAdded?.addListener(() => refresh());
chrome.permissions?.onRemoved?.addListener(() => refresh());

chrome.runtime.onStartup.addListener(start);
chrome.runtime.onInstalled.addListener(start);

(async () => {
  if (!(await chrome.alarms.get(ALARM))) chrome.alarms.create(ALARM, { periodInMinutes: ALARM_MINUTES });
  await start();
})();
