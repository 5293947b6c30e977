// The popup: overall state, a tile per group, alerts by source. Renders what the worker stored in
// chrome.storage.session and re-renders when it changes, so it is live while open. Text from the
// document only ever goes through textContent, links only through safeUrl().

import { tiles, sourceSections, safeUrl, age } from "./lib/popup_model.js";
import { problems } from "./lib/status.js";
import { baseUrl, normalise } from "./lib/settings.js";
import { snoozed } from "./lib/notify.js";

const palettePromise = fetch(chrome.runtime.getURL("shared/palette.json")).then((r) => r.json());
const $ = (id) => document.getElementById(id);
const STATE_LABEL = {
  ok: "All ok", warning: "Warning", unknown: "Unknown", critical: "Critical",
  handled_only: "All problems handled", no_data: "No data yet",
};

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function paint(node, state, palette) {
  node.style.setProperty("--c-bg", palette[state] ?? palette.no_data);
  node.style.setProperty("--c-fg", palette.text_on?.[state] ?? "#000000");
  node.dataset.state = state;
  return node;
}

function renderTile(t, palette) {
  const dl = el("dl");
  const rows = [["Critical", t.counts.critical], ["Warning", t.counts.warning], ["Unknown", t.counts.unknown],
    ["Acknowledged", t.counts.handled]];
  for (const [label, n] of rows) {
    dl.append(el("dt", { text: label }), el("dd", { text: t.state === "no_data" ? "?" : String(n ?? 0) }));
  }
  return paint(el("article", { class: "tile", "aria-label": `${t.name}: ${STATE_LABEL[t.state]}` },
    el("h2", { text: t.name }), dl), t.state, palette);
}

function renderAlert(a, palette) {
  const href = safeUrl(a.url);
  const title = href
    ? el("a", { class: "title", href, target: "_blank", rel: "noopener", text: a.title })
    : el("span", { class: "title", text: a.title });
  const state = a.handled ? "handled_only" : a.severity === "info" ? "ok" : a.severity;
  const li = el("li", { class: a.pending ? "pending" : "", "data-alert-id": a.id },
    paint(el("span", { class: "dot", title: a.handled ? `${a.severity}, ${a.handled_reason || "handled"}` : a.severity }), state, palette),
    title,
    el("span", { class: "age", text: age(a.since) }));
  const detail = [a.detail, a.handled ? a.handled_reason || "handled" : "", a.pending ? "pending" : ""].filter(Boolean).join(" · ");
  if (detail) li.append(el("span", { class: "detail", text: detail }));
  return li;
}

function renderSource(s, palette) {
  const section = el("section", { class: "source", "data-source": s.name },
    el("h3", {}, paint(el("span", { class: "dot" }), s.problem ? "unknown" : s.health, palette),
      el("span", { text: s.name }), el("span", { class: "group", text: `${s.group} · ${s.type}` })));
  if (s.problem) section.append(el("p", { class: "problem", text: s.problem }));
  if (s.open.length) {
    section.append(el("ul", { class: "alerts open" }, ...s.open.map((a) => renderAlert(a, palette))));
  } else if (!s.problem) {
    section.append(el("p", { class: "quiet", text: "No open problems." }));
  }
  if (s.handled.length) {
    section.append(el("details", { class: "handled" },
      el("summary", { text: `${s.handled.length} handled` }),
      el("ul", { class: "alerts" }, ...s.handled.map((a) => renderAlert(a, palette)))));
  }
  return section;
}

function shiftLine(doc) {
  if (doc.shift?.text) return doc.shift.text;
  const on = doc.sources.filter((s) => s.on_call?.on_call);
  if (!on.length) return "";
  const until = on[0].on_call.until ? ` until ${new Date(on[0].on_call.until).toLocaleString()}` : "";
  return `You are on call (${on.map((s) => s.name).join(", ")})${until}`;
}

function render(last, port, palette) {
  $("dashboard").href = `${baseUrl(port)}/`;
  const overall = $("overall");
  const message = $("message");
  const view = last?.view;
  for (const id of ["tiles", "sources", "links"]) $(id).replaceChildren();
  $("links").hidden = true;
  $("shift").hidden = true;
  $("snooze").hidden = true;
  message.hidden = true;
  if (!view) {
    paint(overall, "no_data", palette);
    $("headline").textContent = "Connecting to the tray…";
    $("updated").textContent = "";
    return;
  }
  paint(overall, view.state, palette);
  $("updated").textContent = last.at ? `updated ${new Date(last.at).toLocaleTimeString()}` : "";
  if (view.kind === "unreachable") {
    $("headline").textContent = "Tray not reachable";
    message.textContent = `Nothing answers on 127.0.0.1:${view.port} (${view.message}).\n` +
      "Start the tray with: secondline run\nor set its port in Options.";
    message.hidden = false;
    return;
  }
  if (view.kind !== "status") {
    $("headline").textContent = view.kind === "newer" ? "Extension needs an update" : "Unreadable status";
    message.textContent = view.message;
    message.hidden = false;
    return;
  }
  const doc = view.doc;
  const n = problems(doc.counts);
  $("headline").textContent = n ? `${STATE_LABEL[view.state]}: ${n} unhandled` : STATE_LABEL[view.state];
  const shift = shiftLine(doc);
  if (shift) {
    $("shift").textContent = shift;
    $("shift").hidden = false;
  }
  if (snoozed(doc)) {
    $("snooze").textContent = `Notifications snoozed until ${new Date(doc.notifications.snoozed_until).toLocaleTimeString()}`;
    $("snooze").hidden = false;
  }
  $("tiles").append(...tiles(doc).map((t) => renderTile(t, palette)));
  $("sources").append(...sourceSections(doc).map((s) => renderSource(s, palette)));
  const links = (doc.links || []).map((l) => ({ ...l, href: safeUrl(l.url) })).filter((l) => l.href);
  if (links.length) {
    $("links").append(...links.map((l) => el("a", { href: l.href, target: "_blank", rel: "noopener",
      text: l.group ? `${l.title} (${l.group})` : l.title })));
    $("links").hidden = false;
  }
}

async function main() {
  const palette = await palettePromise;
  let port = normalise(await chrome.storage.sync.get(null)).port;
  let { last } = await chrome.storage.session.get("last");
  render(last, port, palette);
  chrome.storage.onChanged.addListener(async (changes, area) => {
    if (area === "session" && changes.last) last = changes.last.newValue;
    else if (area === "sync" && changes.port) port = normalise(await chrome.storage.sync.get(null)).port;
    else return;
    render(last, port, palette);
  });
  // Wake the worker and ask for a fresh reading: opening the popup should never show old news.
  chrome.runtime.sendMessage({ type: "refresh" }).catch(() => {});
}

main();
