// The popup: overall state, a tile per group, alerts by source. Renders what the worker stored in
// chrome.storage.session and re-renders when it changes, so it is live while open. Text from the
// document only ever goes through textContent, links only through safeUrl().
// Actions (when paired, see lib/actions.js) are buttons on each unhandled alert and a snooze control; their
// results are kept per alert across re-renders and also shown in one status line, so a result stays
// readable even when the alert itself changes or goes away meanwhile.

import { tiles, sourceSections, safeUrl, age } from "./lib/popup_model.js";
import { baseUrl, normalise } from "./lib/settings.js";
import { snoozed } from "./lib/notify.js";
import { alertButtons, runAction, storedToken, PAIRING_KEY, SNOOZE_PRESETS, LOST_MESSAGE } from "./lib/actions.js";
import { hasAccess, requestAccess, NO_ACCESS_LINE } from "./lib/access.js";
import { OLDER_TRAY_LINE } from "./lib/status.js";
import { wordsFrom } from "./shared/words.js";

const loadShared = (name) => fetch(chrome.runtime.getURL(`shared/${name}`)).then((r) => r.json());
const palettePromise = loadShared("palette.json");
// Every state name and count phrase comes from the contract, as in the tray's menu and dashboard.
const wordsPromise = loadShared("vocabulary.json").then(wordsFrom);
let words = null;
const $ = (id) => document.getElementById(id);

const ui = {
  access: true,            // the browser lets the extension read 127.0.0.1 (lib/access.js)
  paired: false,
  lost: false,             // the tray refused our token (401): say so until paired again
  results: new Map(),      // "source\0id" -> {ok, text}: the last action result per alert
  busy: new Set(),         // "source\0id\0action" while a request is out
  port: null,
  rerender: () => {},
};
const key = (source, id) => `${source}\u0000${id}`;

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
  for (const k of words.counts) {
    dl.append(el("dt", { text: words.label(k) }),
      el("dd", { text: t.state === "no_data" ? "?" : String(t.counts[k] ?? 0) }));
  }
  return paint(el("article", { class: "tile", "aria-label": `${t.name}: ${words.label(t.state)}` },
    el("h2", { text: t.name, title: t.name }), el("p", { class: "state", text: words.label(t.state) }), dl), t.state, palette);
}

function renderAlert(a, palette, source = null) {
  const href = safeUrl(a.url);
  const title = href
    ? el("a", { class: "title", href, target: "_blank", rel: "noopener", text: a.title })
    : el("span", { class: "title", text: a.title });
  const state = a.handled ? "handled_only" : a.severity === "info" ? "ok" : a.severity;
  const classes = [a.pending ? "pending" : "", a.new ? "new" : ""].filter(Boolean).join(" ");
  const tag = words.alertTag(a);
  const li = el("li", { class: classes, "data-alert-id": a.id, "data-tag": tag },
    paint(el("span", { class: "dot", title: tag }), state, palette),
    title,
    el("span", { class: "age" }, a.new ? el("span", { class: "new-mark", text: words.word("new") }) : null, age(a.since)));
  // The tag where the dot's colour alone would not say it: handled (why), pending.
  const detail = [a.detail, a.handled || a.pending ? tag : ""].filter(Boolean).join(" · ");
  if (detail) li.append(el("span", { class: "detail", text: detail }));
  const card = safeUrl(a.card_url);
  const buttons = ui.paired && source ? alertButtons(source, a) : [];
  const result = ui.results.get(key(a.source, a.id));
  if (card || buttons.length || result) {
    const row = el("div", { class: "actions" });
    if (card) row.append(el("a", { class: "card", href: card, target: "_blank", rel: "noopener", text: "Trello card" }));
    for (const b of buttons) row.append(actionButton(a, b));
    if (result) row.append(el("span", { class: `result ${result.ok ? "ok" : "failed"}`, text: result.text }));
    if (result?.link && !card) {
      row.append(el("a", { class: "card", href: result.link, target: "_blank", rel: "noopener", text: "Open card" }));
    }
    li.append(row);
  }
  return li;
}

function actionButton(a, b) {
  const busyKey = `${key(a.source, a.id)}\u0000${b.action}`;
  const button = el("button", { type: "button", "data-action": b.action, "aria-label": `${b.verb}: ${a.title}`,
    title: b.verb, text: ui.busy.has(busyKey) ? "…" : b.label });
  // Busy is aria-disabled, not disabled: a disabled button drops the keyboard focus.
  if (ui.busy.has(busyKey)) button.setAttribute("aria-disabled", "true");
  button.addEventListener("click", async () => {
    if (ui.busy.has(busyKey)) return;
    ui.busy.add(busyKey);
    ui.rerender();
    const answer = await act(b.action, { source: a.source, id: a.id });
    ui.busy.delete(busyKey);
    // A new Trello card is linked at once; the tray's next document carries it as card_url too.
    const link = answer.ok ? safeUrl(answer.data.card_url) : null;
    ui.results.set(key(a.source, a.id), { ok: answer.ok, text: answer.text, link });
    showResult(answer.ok ? `${b.verb} (${a.title}): ${answer.text}` : `${b.verb} failed (${a.title}): ${answer.text}`,
      answer.ok);
    ui.rerender();
  });
  return button;
}

function showResult(text, ok) {
  const p = $("action-result");
  p.textContent = text;
  p.dataset.ok = ok ? "1" : "0";
  p.hidden = false;
}

/** Run an action with the stored token; on 401 the token is gone and the popup says pairing is lost. */
async function act(name, body = {}) {
  const answer = await runAction({ fetch: (u, i) => fetch(u, i), storage: chrome.storage.local, port: ui.port }, name, body);
  if (answer.lost) {
    ui.lost = storedToken(await chrome.storage.local.get(PAIRING_KEY)) === null;
    ui.paired = !ui.lost;
  }
  return answer;
}

/** Pop-ups the tray held back (snooze, off shift, rules), newest first, collapsed. */
function renderHeld(doc) {
  const held = Array.isArray(doc.notifications?.held) ? doc.notifications.held : [];
  const box = $("held");
  if (!held.length) return;
  box.querySelector("summary").textContent = `${held.length} notification${held.length === 1 ? "" : "s"} held back`;
  box.querySelector("ul").replaceChildren(...[...held].reverse().map((h) => {
    const t = Date.parse(h.at);
    return el("li", {}, el("span", { class: "age", text: Number.isNaN(t) ? "" : new Date(t).toLocaleTimeString() }),
      el("span", { class: "title", text: h.title }), el("span", { class: "detail", text: h.reason }));
  }));
  box.hidden = false;
}

function renderActionBar(doc) {
  const controls = $("snooze-controls");
  controls.hidden = !ui.paired;
  const hint = $("pair-hint");
  hint.hidden = ui.paired;
  $("pair-hint-text").textContent = ui.lost ? LOST_MESSAGE : "Pair in Options to act on alerts.";
  hint.dataset.lost = ui.lost ? "1" : "0";
  if (!ui.paired) return;
  const label = controls.firstElementChild;
  controls.replaceChildren(label);
  const presets = [...SNOOZE_PRESETS.map((p) => ({ ...p, name: "snooze", body: { preset: p.preset } }))];
  if (snoozed(doc)) presets.push({ label: "Resume", name: "resume", body: {}, preset: "resume" });
  for (const p of presets) {
    const button = el("button", { type: "button", "data-preset": p.preset,
      "aria-label": p.name === "resume" ? "Resume notifications" : `Snooze notifications for ${p.label}`, text: p.label });
    if (ui.busy.has(`snooze\u0000${p.preset}`)) button.setAttribute("aria-disabled", "true");
    button.addEventListener("click", async () => {
      if (ui.busy.has(`snooze\u0000${p.preset}`)) return;
      ui.busy.add(`snooze\u0000${p.preset}`);
      ui.rerender();
      const answer = await act(p.name, p.body);
      ui.busy.delete(`snooze\u0000${p.preset}`);
      showResult(answer.text, answer.ok);
      ui.rerender();
    });
    controls.append(button);
  }
}

function renderSource(s, palette) {
  const section = el("section", { class: "source", "data-source": s.name },
    el("h3", {}, paint(el("span", { class: "dot" }), s.unreadable ? "unknown" : s.health, palette),
      el("span", { class: "name", text: s.name, title: s.name }), el("span", { class: "group", text: `${s.group} · ${s.type}` })));
  if (s.problem) section.append(el("p", { class: "problem", text: s.problem }));
  if (s.open.length) {
    section.append(el("ul", { class: "alerts open" }, ...s.open.map((a) => renderAlert({ ...a, source: s.name }, palette, s))));
  } else if (!s.unreadable) {
    section.append(el("p", { class: "quiet", text: words.phrase(s.checkedAt ? "no_problems" : "not_read") }));
  }
  if (s.handled.length) {
    section.append(el("details", { class: "handled" },
      el("summary", { text: words.countList({ handled: s.handled.length }) }),
      el("ul", { class: "alerts" }, ...s.handled.map((a) => renderAlert({ ...a, source: s.name }, palette, s)))));
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
  $("snooze-controls").hidden = true;
  $("pair-hint").hidden = true;
  $("held").hidden = true;
  $("older").hidden = true;
  $("access").hidden = true;
  message.hidden = true;
  // The popup's own answer counts as well as the worker's: opened before the worker has looked, it still says so.
  if (!ui.access || view?.kind === "no_access") {
    paint(overall, "no_data", palette);
    $("headline").textContent = "No access to the tray";
    $("updated").textContent = "";
    $("access-text").textContent = NO_ACCESS_LINE;
    $("access").hidden = false;
    return;
  }
  if (!view) {
    paint(overall, "no_data", palette);
    $("headline").textContent = "Connecting to the tray…";
    $("updated").textContent = "";
    return;
  }
  paint(overall, view.state, palette);
  $("updated").textContent = last.at ? words.phrase("updated", { time: new Date(last.at).toLocaleTimeString() }) : "";
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
  // The same line as the tray's tooltip and dashboard: "1 critical, 1 warning", "All OK, 2 handled".
  $("headline").textContent = words.summary(view.state, doc.counts);
  const shift = shiftLine(doc);
  if (shift) {
    $("shift").textContent = shift;
    $("shift").hidden = false;
  }
  if (snoozed(doc)) {
    $("snooze").textContent = words.phrase("snoozed_until", { time: new Date(doc.notifications.snoozed_until).toLocaleTimeString() });
    $("snooze").hidden = false;
  }
  renderHeld(doc);
  renderActionBar(doc);
  if (view.older) {
    $("older").textContent = OLDER_TRAY_LINE;
    $("older").hidden = false;
  }
  $("tiles").append(...tiles(doc).map((t) => renderTile(t, palette)));
  $("sources").append(...sourceSections(doc, words).map((s) => renderSource(s, palette)));
  const links = (doc.links || []).map((l) => ({ ...l, href: safeUrl(l.url) })).filter((l) => l.href);
  if (links.length) {
    $("links").append(...links.map((l) => el("a", { href: l.href, target: "_blank", rel: "noopener",
      text: l.group ? `${l.title} (${l.group})` : l.title })));
    $("links").hidden = false;
  }
}

/**
 * Re-rendering replaces every node; put the keyboard back on the same control (an alert's action button or
 * a snooze button) so that a status update arriving while someone tabs through the popup does not lose them.
 */
function keepingFocus(renderFn) {
  const f = document.activeElement;
  const li = f?.closest?.("li[data-alert-id]");
  const section = f?.closest?.("section.source[data-source]");
  let selector = null;
  if (f?.dataset?.action && li && section) {
    selector = `section.source[data-source="${CSS.escape(section.dataset.source)}"] ` +
      `li[data-alert-id="${CSS.escape(li.dataset.alertId)}"] button[data-action="${CSS.escape(f.dataset.action)}"]`;
  } else if (f?.dataset?.preset) {
    selector = `#snooze-controls button[data-preset="${CSS.escape(f.dataset.preset)}"]`;
  }
  renderFn();
  if (selector) document.querySelector(selector)?.focus();
}

/** "Allow access": the browser's own prompt; the worker follows the grant by itself (permissions.onAdded). */
function grantButton() {
  $("grant").addEventListener("click", () => {
    // Called in the click handler itself, not after an await: browsers only prompt for a user action.
    requestAccess(chrome.permissions).then((granted) => {
      if (!granted) {
        showResult("Access not allowed: the badge and this popup stay empty until it is.", false);
        return;
      }
      ui.access = true;
      ui.rerender();
      chrome.runtime.sendMessage({ type: "refresh" }).catch(() => {});
    }, (err) => showResult(`The browser refused to ask: ${err.message}`, false));
  });
}

async function main() {
  grantButton();
  const palette = await palettePromise;
  words = await wordsPromise;
  let port = normalise(await chrome.storage.sync.get(null)).port;
  let { last } = await chrome.storage.session.get("last");
  ui.port = port;
  ui.access = await hasAccess(chrome.permissions);
  ui.paired = Boolean(storedToken(await chrome.storage.local.get(PAIRING_KEY)));
  ui.rerender = () => keepingFocus(() => render(last, port, palette));
  ui.rerender();
  chrome.storage.onChanged.addListener(async (changes, area) => {
    if (area === "session" && changes.last) last = changes.last.newValue;
    else if (area === "sync" && changes.port) ui.port = port = normalise(await chrome.storage.sync.get(null)).port;
    else if (area === "local" && changes[PAIRING_KEY]) {
      ui.paired = Boolean(storedToken({ [PAIRING_KEY]: changes[PAIRING_KEY].newValue }));
      if (ui.paired) ui.lost = false;
    } else return;
    ui.rerender();
  });
  const accessChanged = async () => {
    ui.access = await hasAccess(chrome.permissions);
    ui.rerender();
  };
  chrome.permissions?.onAdded?.addListener(accessChanged);
  chrome.permissions?.onRemoved?.addListener(accessChanged);
  // Wake the worker and ask for a fresh reading: opening the popup should never show old news.
  chrome.runtime.sendMessage({ type: "refresh" }).catch(() => {});
  // Opening the popup is reading the alerts: clear the tray's "new" marks. This is also the moment a
  // token the tray no longer accepts is found out.
  if (ui.paired && ui.access) {
    // A failure here shows through the pair hint (401) or the unreachable message: no extra line.
    await act("seen");
    ui.rerender();
  }
}

main();
