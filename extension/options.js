// Options: stored in chrome.storage.sync and saved on every change; the worker listens to
// storage.onChanged, so a new port takes effect at once.

import { normalise, parsePort, NOTIFY_STATES, ANY_GROUP } from "./lib/settings.js";

const $ = (id) => document.getElementById(id);
const LABEL = { critical: "Critical", warning: "Warning", unknown: "Unknown", handled_only: "Handled", ok: "OK" };

async function knownGroups() {
  // Groups the tray reported last, so the table lists real names; "*" covers any other group.
  const { last } = await chrome.storage.session.get("last").catch(() => ({}));
  return last?.view?.doc?.groups?.map((g) => g.name) ?? [];
}

function notifyTable(groups, notify) {
  const head = $("notify-table").tHead.rows[0];
  for (const s of NOTIFY_STATES) head.append(Object.assign(document.createElement("th"), { scope: "col", textContent: LABEL[s] }));
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
      box.setAttribute("aria-label", `${th.textContent}: notify on ${LABEL[s]}`);
      row.insertCell().append(box);
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
  $("saved").textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
}

async function main() {
  const settings = normalise(await chrome.storage.sync.get(null));
  $("port").value = settings.port;
  $("splitIcon").checked = settings.splitIcon;
  $("notifications").checked = settings.notifications;
  notifyTable(await knownGroups(), settings.notify);
  $("form").addEventListener("change", save);
  $("form").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  document.body.dataset.ready = "1";
}

main();
