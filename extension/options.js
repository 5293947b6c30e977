// Options: stored in chrome.storage.sync and saved on every change; the worker listens to
// storage.onChanged, so a new port takes effect at once.

import { normalise, parsePort, NOTIFY_STATES, ANY_GROUP } from "./lib/settings.js";
import { pair, storedToken, PAIRING_KEY } from "./lib/actions.js";
import { hasAccess, requestAccess, NO_ACCESS_LINE } from "./lib/access.js";
import { wordsFrom } from "./shared/words.js";

const $ = (id) => document.getElementById(id);
// The states' names as the popup, the tray's menu and the dashboard say them (shared/vocabulary.json).
const wordsPromise = fetch(chrome.runtime.getURL("shared/vocabulary.json")).then((r) => r.json()).then(wordsFrom);
let words = null;
const SAVED_FOR_MS = 4000;
let savedTimer = null;

async function knownGroups() {
  // Groups the tray reported last, so the table lists real names; "*" covers any other group.
  const { last } = await chrome.storage.session.get("last").catch(() => ({}));
  return last?.view?.doc?.groups?.map((g) => g.name) ?? [];
}

function notifyTable(groups, notify) {
  const head = $("notify-table").tHead.rows[0];
  for (const s of NOTIFY_STATES) head.append(Object.assign(document.createElement("th"), { scope: "col", textContent: words.label(s) }));
  const body = $("notify-table").tBodies[0];
  const names = [...new Set([...groups, ...Object.keys(notify).filter((g) => g !== ANY_GROUP)]), ANY_GROUP];
  for (const g of names) {
    const row = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = g === ANY_GROUP ? "Any other group" : g;
    row.append(th);
    for (const s of NOTIFY_STATES) {
      const box = Object.assign(document.createElement("input"), { type: "checkbox", checked: notify[g]?.[s] === true });
      box.dataset.group = g;
      box.dataset.state = s;
      box.setAttribute("aria-label", `${th.textContent}: notify on ${words.label(s)}`);
      // The state's name beside the box shows where the table is stacked (narrow windows) and the header is not.
      const label = Object.assign(document.createElement("label"), { className: "cell" });
      label.append(box, Object.assign(document.createElement("span"), { className: "state-name", textContent: words.label(s) }));
      row.insertCell().append(label);
    }
  }
}

function readNotify() {
  const notify = {};
  for (const box of document.querySelectorAll("#notify-table input[type=checkbox]")) {
    (notify[box.dataset.group] ??= {})[box.dataset.state] = box.checked;
  }
  return notify;
}

async function save() {
  const port = parsePort($("port").value);
  if (port === null) {
    $("port-error").textContent = "A port is a whole number from 1 to 65535.";
    return;
  }
  $("port-error").textContent = "";
  await chrome.storage.sync.set({
    port, splitIcon: $("splitIcon").checked, notifications: $("notifications").checked, notify: readNotify(),
  });
  const saved = $("saved");
  saved.textContent = `✓ Saved at ${new Date().toLocaleTimeString()}`;
  saved.dataset.shown = "1";
  clearTimeout(savedTimer);
  savedTimer = setTimeout(() => { saved.dataset.shown = "0"; }, SAVED_FOR_MS);
}

// -- pairing (the client id and key go to chrome.storage.local, never sync) ------------------------------
let pairing = null;   // the AbortController of a pairing in progress

function showPairState(kind, text) {
  $("pair-state").dataset.kind = kind;
  $("pair-state").textContent = text;
}

async function showPaired() {
  const stored = await chrome.storage.local.get(PAIRING_KEY);
  const paired = Boolean(storedToken(stored));
  if (pairing) return;   // a pairing in progress owns the display
  $("pair-prompt").hidden = true;
  $("forget").hidden = !paired;
  $("pair").textContent = paired ? "Pair again" : "Pair with the tray";
  if (paired) {
    const at = Date.parse(stored[PAIRING_KEY].pairedAt);
    showPairState("paired", Number.isNaN(at) ? "Paired" : `Paired (since ${new Date(at).toLocaleString()})`);
  } else if ($("pair-state").dataset.kind === "paired") {
    // Lost elsewhere (the popup forgets a token the tray refuses); other messages (a failure, "forgotten")
    // stay until the next attempt.
    showPairState("none", "Not paired.");
  }
}

async function startPairing() {
  pairing?.abort();
  const me = (pairing = new AbortController());
  $("pair").disabled = true;
  $("forget").hidden = true;
  showPairState("wait", "Asking the tray…");
  const port = normalise(await chrome.storage.sync.get(null)).port;
  const result = await pair({
    fetch: (url, init) => fetch(url, init), storage: chrome.storage.local, port,
    signal: me.signal,
    onCode: (code) => {
      $("pair-code").textContent = code;
      $("pair-command").textContent = `secondline pair ${code}`;
      // The tray's pop-up names the requester by this address (its Origin), never by a name it was told.
      $("pair-origin").textContent = location.origin;
      $("pair-prompt").hidden = false;
      showPairState("wait", "Waiting for approval in the tray…");
    },
    onWait: (text) => showPairState("wait", text),
  });
  if (pairing !== me) return;
  pairing = null;
  $("pair").disabled = false;
  $("pair-prompt").hidden = true;
  showPairState(result.kind, result.text);
  await showPaired();
}

async function forgetPairing() {
  await chrome.storage.local.remove(PAIRING_KEY);
  showPairState("none", "Pairing forgotten in this browser. Revoke it in the tray too: secondline pair --list, " +
    "then secondline pair --revoke ID.");
  await showPaired();
}

// -- the browser's permission to read 127.0.0.1 ------------------------------------------------------------
async function showAccess() {
  const granted = await hasAccess(chrome.permissions);
  $("access-text").textContent = NO_ACCESS_LINE;
  $("access").hidden = granted;
  document.body.dataset.access = granted ? "granted" : "missing";
}

function askAccess() {
  // Straight from the click: browsers only prompt for a user action. The worker follows the grant itself.
  requestAccess(chrome.permissions).then(showAccess, (err) => {
    $("access-text").textContent = `${NO_ACCESS_LINE} The browser refused to ask: ${err.message}`;
  });
}

async function main() {
  $("grant").addEventListener("click", askAccess);
  chrome.permissions?.onAdded?.addListener(showAccess);
  chrome.permissions?.onRemoved?.addListener(showAccess);
  await showAccess();
  const settings = normalise(await chrome.storage.sync.get(null));
  $("port").value = settings.port;
  $("splitIcon").checked = settings.splitIcon;
  $("notifications").checked = settings.notifications;
  words = await wordsPromise;
  notifyTable(await knownGroups(), settings.notify);
  $("form").addEventListener("change", save);
  $("form").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("pair").addEventListener("click", startPairing);
  $("forget").addEventListener("click", forgetPairing);
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && changes[PAIRING_KEY]) showPaired();
  });
  await showPaired();
  document.body.dataset.ready = "1";
}

main();
