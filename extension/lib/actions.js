// Pairing with the tray and actions on alerts (request building and answer reading are pure; the few
// functions that do I/O take fetch and storage as arguments, so Node tests drive them with fakes).
//
// The tray's side (README "Actions and their security"): POST /pair -> {id, code}; the user approves the
// code in the tray; POST /pair/status -> {state, token?} hands the token out once. Every POST
// /actions/NAME carries "Authorization: Bearer TOKEN" and a JSON body. The token is kept in
// chrome.storage.local (never sync: it must not travel to other machines through the browser account).

import { baseUrl } from "./settings.js";

export const PAIRING_KEY = "pairing";   // chrome.storage.local: {token, pairedAt}
export const PAIR_POLL_MS = 1000;
export const PAIR_TIMEOUT_MS = 5 * 60 * 1000;   // the tray forgets a request after five minutes
export const LOST_MESSAGE = "Pairing lost: the tray refused this browser's token. Pair again in Options.";

// Which source types can do what, as the tray implements it (tray/sources/*: acknowledge, recheck).
// "demo" gets every control so that the UI can be tried with `secondline run --demo`; the tray then answers
// with its own error ("demo sources cannot acknowledge"), which the popup shows like any failure.
const ACKNOWLEDGE_TYPES = new Set(["icinga2", "alertmanager", "grafana", "pagerduty", "demo"]);
const RECHECK_TYPES = new Set(["icinga2", "demo"]);

export const SNOOZE_PRESETS = Object.freeze([
  { preset: "15m", label: "15 min" },
  { preset: "1h", label: "1 h" },
  { preset: "end-of-shift", label: "End of shift" },
]);

/**
 * The buttons an alert row gets: unhandled alerts only (a handled one needs no acknowledgement). Trello is
 * always offered; when no board is configured the tray says so and the popup shows it.
 */
export function alertButtons(sourceType, alert) {
  if (!alert || alert.handled) return [];
  const out = [];
  if (ACKNOWLEDGE_TYPES.has(sourceType)) out.push({ action: "acknowledge", label: "Ack", verb: "Acknowledge" });
  if (RECHECK_TYPES.has(sourceType)) out.push({ action: "recheck", label: "Recheck", verb: "Recheck" });
  if (!alert.card_url) out.push({ action: "trello", label: "Trello", verb: "Record on Trello" });
  return out;
}

/** A stored pairing, or null when there is none or it is malformed. */
export function storedToken(stored) {
  const p = stored?.[PAIRING_KEY];
  return p && typeof p.token === "string" && p.token ? p.token : null;
}

/** fetch() arguments for one action. */
export function actionRequest(port, token, name, body = {}) {
  return {
    url: `${baseUrl(port)}/actions/${encodeURIComponent(name)}`,
    init: {
      method: "POST",
      cache: "no-store",
      headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    },
  };
}

/** fetch() arguments for asking to pair, and for asking how it went. */
export function pairRequest(port, client) {
  return { url: `${baseUrl(port)}/pair`, init: jsonPost({ client }) };
}

export function pairStatusRequest(port, id) {
  return { url: `${baseUrl(port)}/pair/status`, init: jsonPost({ id }) };
}

function jsonPost(body) {
  return {
    method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
}

const SUCCESS = {
  acknowledge: "Acknowledged",
  recheck: "Recheck requested",
  trello: "Recorded on Trello",
  resume: "Notifications resumed",
  seen: "Marked as seen",
  refresh: "Refreshing every source",
};

/** What a successful action's answer means to the user. */
export function successText(name, data = {}) {
  if (name === "snooze") {
    const t = Date.parse(data.snoozed_until);
    if (Number.isNaN(t)) return "Notifications snoozed";
    return `Notifications snoozed until ${new Date(t).toLocaleTimeString()}`;
  }
  const base = SUCCESS[name] ?? "Done";
  return data.result && name !== "trello" ? `${base}: ${data.result}` : base;
}

/**
 * Read the tray's answer to an action: {ok, text, lost, data}. `lost` means the token is wrong (401): the
 * caller forgets it and offers to pair again. Other failures carry the tray's own error text.
 */
export function readActionAnswer(name, status, data) {
  const d = data && typeof data === "object" ? data : {};
  if (status === 401) return { ok: false, lost: true, text: LOST_MESSAGE, data: d };
  if (status >= 200 && status < 300 && d.ok === true) {
    return { ok: true, lost: false, text: successText(name, d), data: d };
  }
  const reason = typeof d.error === "string" && d.error ? d.error : `HTTP ${status} from the tray`;
  return { ok: false, lost: false, text: reason, data: d };
}

/**
 * Read one /pair/status answer: {kind: "wait" | "paired" | "failed", token?, text}.
 * "delivered" without a token means someone else collected it: this browser must pair again.
 */
export function readPairStatus(status, data) {
  const d = data && typeof data === "object" ? data : {};
  if (status < 200 || status >= 300) {
    return { kind: "failed", text: typeof d.error === "string" ? d.error : `HTTP ${status} from the tray` };
  }
  switch (d.state) {
    case "pending": return { kind: "wait", text: "Waiting for approval in the tray…" };
    case "approved":
      return typeof d.token === "string" && d.token
        ? { kind: "paired", token: d.token, text: "Paired" }
        : { kind: "failed", text: "The tray approved but sent no token. Pair again." };
    case "delivered": return { kind: "failed", text: "The token was already handed out for this request. Pair again." };
    case "denied": return { kind: "failed", text: "The pairing was denied in the tray." };
    case "expired": return { kind: "failed", text: "The code expired (five minutes). Pair again." };
    case "unknown": return { kind: "failed", text: "The tray no longer knows this request (restarted?). Pair again." };
    default: return { kind: "failed", text: "The tray's answer was not understood." };
  }
}

async function readJson(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * Run one action with the stored token. storage is chrome.storage.local (get/remove). On 401 the token is
 * removed, so every page then offers to pair again. Never throws: a refused connection is a failure text.
 */
export async function runAction({ fetch, storage, port }, name, body = {}) {
  const token = storedToken(await storage.get(PAIRING_KEY));
  if (!token) return { ok: false, lost: true, text: "Not paired: pair in Options to act on alerts.", data: {} };
  const { url, init } = actionRequest(port, token, name, body);
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    return { ok: false, lost: false, text: `The tray does not answer on 127.0.0.1:${port}.`, data: {} };
  }
  const answer = readActionAnswer(name, res.status, await readJson(res));
  if (answer.lost) {
    // Only forget the token we sent: a pairing finished meanwhile in Options must survive.
    const now = storedToken(await storage.get(PAIRING_KEY));
    if (now === token) await storage.remove(PAIRING_KEY);
  }
  return answer;
}

/**
 * Pair: ask, report the code through onCode(code), poll every PAIR_POLL_MS until approved, refused or
 * PAIR_TIMEOUT_MS, and store the token. Resolves to the final readPairStatus() result. `sleep` and `now`
 * are injectable for tests; `signal` (an AbortSignal) cancels.
 */
export async function pair({ fetch, storage, port, client, onCode = () => {}, onWait = () => {},
  sleep = (ms) => new Promise((r) => setTimeout(r, ms)), now = Date.now, signal = null }) {
  let res;
  const ask = pairRequest(port, client);
  try {
    res = await fetch(ask.url, ask.init);
  } catch {
    return { kind: "failed", text: `The tray does not answer on 127.0.0.1:${port}. Start it with: secondline run` };
  }
  const first = await readJson(res);
  if (!res.ok || typeof first?.id !== "string" || typeof first?.code !== "string") {
    return { kind: "failed", text: first?.error || `HTTP ${res.status} from the tray` };
  }
  onCode(first.code);
  const end = now() + PAIR_TIMEOUT_MS;
  const check = pairStatusRequest(port, first.id);
  while (now() < end) {
    await sleep(PAIR_POLL_MS);
    if (signal?.aborted) return { kind: "failed", text: "Pairing cancelled." };
    let step;
    try {
      const r = await fetch(check.url, check.init);
      step = readPairStatus(r.status, await readJson(r));
    } catch {
      step = { kind: "wait", text: "The tray does not answer; still trying…" };
    }
    if (step.kind === "paired") {
      await storage.set({ [PAIRING_KEY]: { token: step.token, pairedAt: new Date(now()).toISOString() } });
      return step;
    }
    if (step.kind === "failed") return step;
    onWait(step.text);
  }
  return { kind: "failed", text: "Nobody approved the code within five minutes. Pair again." };
}
