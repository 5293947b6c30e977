// Service worker (Chrome) / event page (Firefox): follows the tray's status and draws the toolbar button.
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

import { interpret, badgeFor } from "./lib/status.js";
import { SseParser } from "./lib/sse.js";
import { iconStates, iconBlocks, drawIcon } from "./lib/icon.js";
import { normalise, baseUrl } from "./lib/settings.js";
import { transitions, groupStates } from "./lib/notify.js";
import { hasAccess } from "./lib/access.js";
import { wordsFrom } from "./shared/words.js";

const ALARM = "secondline-backstop";
const ALARM_MINUTES = 0.5;
const RETRY_MAX_MS = 5000;
// After this long without the tray, stop retrying from timers and leave it to the alarm, so a browser
// without a running tray does not keep the worker awake for ever.
const RETRY_AWAKE_MS = 2 * 60 * 1000;
// The tray pings at least every 15 s: a stream silent for longer than this is stuck, not idle.
const STREAM_SILENT_MS = 45 * 1000;
const POLL_TIMEOUT_MS = 5000;

const contract = Promise.all([loadJson("shared/palette.json"), loadJson("shared/status.schema.json"),
  loadJson("shared/vocabulary.json").then(wordsFrom)]);
let settings = null;
let stream = null;          // {port, controller, lastByte}
let retryTimer = null;
let retryDelay = 1000;
let lostSince = null;       // when the tray was first found unreachable (null while reachable)
let latest = null;          // {port, doc, etag, time}: the newest document applied
// Readings are numbered when they start (a poll when it is sent, a stream event when it arrives): a poll
// answer that comes back after a newer reading was applied, e.g. "unreachable" when the tray stopped, is
// old news and must not put the badge back.
let readings = 0;
let appliedReading = 0;
let showing = Promise.resolve();

async function loadJson(path) {
  const res = await fetch(chrome.runtime.getURL(path));
  return res.json();
}

function keepAlive() {
  // Any extension API call resets the worker's idle timer; this one is cheap and has no side effect.
  chrome.runtime.getPlatformInfo().catch(() => {});
}

async function loadSettings() {
  if (!settings) settings = normalise(await chrome.storage.sync.get(null));
  return settings;
}

/** Follow the tray, if the browser lets us read it; returns whether it does. */
async function start() {
  await loadSettings();
  if (!(await hasAccess(chrome.permissions))) {
    dropStream();
    await apply(settings.port, { noAccess: true, seq: ++readings });
    return false;
  }
  ensureStream();
  return true;
}

/** start(), then a fresh reading of /status.json (the popup opened, the port or the permission changed). */
async function refresh() {
  if (await start()) await poll(settings.port);
}

function dropStream() {
  clearTimeout(retryTimer);
  if (!stream) return;
  const old = stream;
  stream = null;
  old.controller.abort();
}

function ensureStream() {
  if (stream && stream.port === settings.port) return;
  if (stream) stream.controller.abort();
  openStream(settings.port);
}

async function openStream(port) {
  const me = { port, controller: new AbortController(), lastByte: Date.now() };
  stream = me;
  clearTimeout(retryTimer);
  try {
    const res = await fetch(`${baseUrl(port)}/events`, {
      signal: me.controller.signal, cache: "no-store", headers: { Accept: "text/event-stream" },
    });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} from /events`);
    // Changes from here on arrive on the stream; fetch the current document once to start from.
    poll(port);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the tray closed /events");
      me.lastByte = Date.now();
      keepAlive();
      for (const item of parser.push(value)) {
        if (item.type === "event" && item.event === "status") {
          let doc;
          try {
            doc = JSON.parse(item.data);
          } catch {
            doc = "not JSON";
          }
          if (stream === me) await apply(port, { doc, seq: ++readings });
        }
      }
    }
  } catch (err) {
    if (stream !== me) return;   // replaced on purpose (port changed): nothing to report
    stream = null;
    await poll(port);            // tells "tray down" (-> "?") from "stream dropped, tray fine"
    scheduleRetry();
  }
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  if (lostSince && Date.now() - lostSince > RETRY_AWAKE_MS) return;   // the alarm carries on from here
  retryTimer = setTimeout(() => {
    keepAlive();
    start();
  }, retryDelay);
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
}

/** GET /status.json (conditional on the last ETag) and apply it, or apply "unreachable". */
async function poll(port) {
  const seq = ++readings;
  const headers = {};
  if (latest && latest.port === port && latest.etag) headers["If-None-Match"] = latest.etag;
  let res;
  try {
    res = await fetch(`${baseUrl(port)}/status.json`, {
      cache: "no-store", headers, signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
    });
  } catch (err) {
    // A fetch without the host permission fails just like one to a stopped tray: ask which it was.
    if (!(await hasAccess(chrome.permissions))) return apply(port, { noAccess: true, seq });
    return apply(port, { error: err.name === "TimeoutError" ? "no answer within 5 s" : "connection refused", seq });
  }
  if (res.status === 304) return;
  if (!res.ok) return apply(port, { error: `HTTP ${res.status}`, seq });
  let doc;
  try {
    doc = await res.json();
  } catch {
    doc = "not JSON";
  }
  return apply(port, { doc, polled: true, seq }, res.headers.get("ETag"));
}

function generatedAt(doc) {
  const t = Date.parse(doc?.generated_at);
  return Number.isNaN(t) ? 0 : t;
}

function apply(port, reading, etag = null) {
  // Serialised: a poll answer and a stream event must not interleave their badge updates.
  showing = showing.then(() => applyNow(port, reading, etag)).catch((err) => console.error("secondline:", err));
  return showing;
}

async function applyNow(port, reading, etag) {
  if (!settings || port !== settings.port) return;
  if (reading.seq < appliedReading) return;
  if (reading.polled && latest && latest.port === port && generatedAt(reading.doc) < latest.time) {
    // A poll answer overtaken by a newer stream event. Stream events themselves arrive in order and are
    // always applied, so a tray clock stepping back cannot freeze the badge.
    return;
  }
  appliedReading = reading.seq;
  const [palette, schema, words] = await contract;
  const view = interpret({ ...reading, port }, schema);
  if (view.kind === "unreachable") {
    lostSince ??= Date.now();
    latest = null;
  } else if (view.kind === "no_access") {
    lostSince = null;
    latest = null;
  } else {
    lostSince = null;
    retryDelay = 1000;
    latest = { port, doc: reading.doc, etag, time: generatedAt(reading.doc) };
  }
  await show(view, palette, words);
  if (view.kind === "status") await notifyChanges(view.doc, words);
  await chrome.storage.session.set({ last: { view, at: Date.now() } });
}

async function show(view, palette, words) {
  const badge = badgeFor(view, palette, words);
  const imageData = drawToolbarIcon(view, palette);
  // Text, colours and tooltip are set back to back (the slow icon work is done before), so no one sees a
  // new count on an old colour, or under an old tooltip, for more than an instant.
  await Promise.all([
    chrome.action.setBadgeBackgroundColor({ color: badge.color }),
    chrome.action.setBadgeText({ text: badge.text }),
    chrome.action.setBadgeTextColor?.({ color: badge.textColor }),
    chrome.action.setTitle({ title: badge.title }),
  ]);
  if (imageData) await chrome.action.setIcon({ imageData });
  console.info(`secondline badge "${badge.text}" ${view.state} ${badge.color}`);
}

function drawToolbarIcon(view, palette) {
  if (typeof OffscreenCanvas === "undefined") return null;
  const states = iconStates(view, settings.splitIcon);
  const imageData = {};
  for (const size of [16, 32]) {
    const canvas = new OffscreenCanvas(size, size);
    const ctx = canvas.getContext("2d");
    drawIcon(ctx, iconBlocks(states, size), palette, size);
    imageData[size] = ctx.getImageData(0, 0, size, size);
  }
  return imageData;
}

async function notifyChanges(doc, words) {
  const { groups: previous = null } = await chrome.storage.session.get("groups");
  await chrome.storage.session.set({ groups: groupStates(doc) });
  for (const n of transitions(previous, doc, settings, words)) {
    const id = `secondline-${n.group}-${Date.now()}`;
    const { links = {} } = await chrome.storage.session.get("links");
    links[id] = n.url ?? `${baseUrl(settings.port)}/`;
    await chrome.storage.session.set({ links });
    chrome.notifications.create(id, {
      type: "basic", iconUrl: chrome.runtime.getURL("icons/icon-128.png"), title: n.title, message: n.message,
    });
  }
}

// Listeners are registered at the top level, so that the event that woke the worker is delivered.
chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== ALARM) return;
  await loadSettings();
  if (stream && Date.now() - stream.lastByte > STREAM_SILENT_MS) dropStream();
  await refresh();
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== "sync") return;
  const before = settings?.port;
  // Swap in the new settings only once read, so a status arriving meanwhile is not dropped.
  chrome.storage.sync.get(null).then(async (stored) => {
    const s = (settings = normalise(stored));
    if (s.port !== before) {
      // A new port takes effect at once: drop the old stream and everything learnt from it.
      latest = null;
      lostSince = null;
      retryDelay = 1000;
      await chrome.storage.session.remove("groups");
      refresh();
    } else if (changes.splitIcon) {
      const { last } = await chrome.storage.session.get("last");
      if (last) {
        const [palette, , words] = await contract;
        await show(last.view, palette, words);
      }
    }
  });
});

chrome.notifications?.onClicked.addListener(async (id) => {
  const { links = {} } = await chrome.storage.session.get("links");
  if (links[id]) chrome.tabs.create({ url: links[id] });
  chrome.notifications.clear(id);
});

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
