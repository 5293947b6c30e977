// Pairing with the tray and actions on alerts (request building and answer reading are pure; the few
// functions that do I/O take fetch and storage as arguments, so Node tests drive them with fakes).
//
// The tray's side (README "Actions and their security"): POST /pair -> {id, code}; the user checks the code
// (and this browser's address) in the tray's pop-up and approves it there; POST /pair/status -> {state,
// client?, key?} hands this browser its own client id and key, once. Every POST /actions/NAME is signed with
// that key (lib/signing.js: the key itself never leaves the browser again) and the tray's answer must be
// signed back, or it is not the tray's. The pairing is kept in chrome.storage.local (never sync: it must
// not travel to other machines through the browser account).

import { baseUrl } from "./settings.js";
import { signRequest, genuineAnswer, RESPONSE_HEADER } from "./signing.js";

export const PAIRING_KEY = "pairing";   // chrome.storage.local: {client, key, pairedAt}
export const PAIR_POLL_MS = 1000;
export const PAIR_TIMEOUT_MS = 5 * 60 * 1000;   // the tray forgets a request after five minutes
export const LOST_MESSAGE = "Pairing lost: the tray no longer accepts this browser. Pair again in Options.";

/** What an answer that the tray did not sign means: something else answers on the tray's port. */
export function notTheTray(port) {
  return `The program answering on 127.0.0.1:${port} is not the secondline tray (its answer is not signed with ` +
    "this browser's key): nothing was done.";
}

// The buttons an alert can get, in order, by the action's name: the tray lists, per source, which of these
// it offers (the status document's `capabilities`, schema 2); a name this extension does not know is ignored.
const BUTTONS = [
  { action: "acknowledge", label: "Ack", verb: "Acknowledge" },
  { action: "recheck", label: "Recheck", verb: "Recheck" },
  { action: "trello", label: "Trello", verb: "Record on Trello" },
];

export const SNOOZE_PRESETS = Object.freeze([
  { preset: "15m", label: "15 min" },
  { preset: "1h", label: "1 h" },
  { preset: "end-of-shift", label: "End of shift" },
]);

/**
 * The buttons an alert row gets: exactly what its source offers (`source.capabilities`), on unhandled alerts
 * only (a handled one needs no acknowledgement), and no second Trello card for an alert that has one. A
 * source without the list (a tray of status schema 1) gets none.
 */
export function alertButtons(source, alert) {
  if (!alert || alert.handled || !Array.isArray(source?.capabilities)) return [];
  const offered = new Set(source.capabilities);
  return BUTTONS.filter((b) => offered.has(b.action) && !(b.action === "trello" && alert.card_url)).map((b) => ({ ...b }));
}

/** The stored pairing {client, key}, or null when there is none or it is malformed (e.g. a bearer token of an
 * older version, which the tray no longer accepts). */
export function storedPairing(stored) {
  const p = stored?.[PAIRING_KEY];
  return p && typeof p.client === "string" && p.client && typeof p.key === "string" && p.key
    ? { client: p.client, key: p.key } : null;
}

/** The same, under the name the pages use to ask "paired?" (truthy when paired). */
export const storedToken = storedPairing;

/** fetch() arguments for one action, signed; `sig` is what the answer's signature must cover. */
export async function actionRequest(port, pairing, name, body = {}) {
  const path = `/actions/${encodeURIComponent(name)}`;
  const text = JSON.stringify(body);
  const { authorization, sig } = await signRequest(pairing, "POST", path, text);
  return {
    url: `${baseUrl(port)}${path}`,
    sig,
    init: {
      method: "POST",
      cache: "no-store",
      headers: { "Authorization": authorization, "Content-Type": "application/json" },
      body: text,
    },
  };
}

/** fetch() arguments for asking to pair, and for asking how it went. */
export function pairRequest(port) {
  return { url: `${baseUrl(port)}/pair`, init: jsonPost({}) };
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
 * Read the tray's answer to an action: {ok, text, lost, data}. `lost` means the tray refuses this browser
 * (401: revoked, or a tray that restarted without a keyring): the caller forgets the pairing and offers to
 * pair again. Other failures carry the tray's own error text.
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
 * Read one /pair/status answer: {kind: "wait" | "paired" | "failed", client?, key?, text}.
 * "delivered" without a key means someone else collected it: this browser must pair again.
 */
export function readPairStatus(status, data) {
  const d = data && typeof data === "object" ? data : {};
  if (status < 200 || status >= 300) {
    return { kind: "failed", text: typeof d.error === "string" ? d.error : `HTTP ${status} from the tray` };
  }
  switch (d.state) {
    case "pending": return { kind: "wait", text: "Waiting for approval in the tray…" };
    case "approved":
      return typeof d.client === "string" && d.client && typeof d.key === "string" && d.key
        ? { kind: "paired", client: d.client, key: d.key, text: "Paired" }
        : { kind: "failed", text: "The tray approved but sent no key. Pair again." };
    case "delivered": return { kind: "failed", text: "The key was already handed out for this request. Pair again." };
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
 * Run one action, signed with the stored pairing's key. storage is chrome.storage.local (get/remove). A 401
 * forgets the pairing, so every page then offers to pair again; an answer the tray did not sign is not
 * believed (something else answers on the port). Never throws: a refused connection is a failure text.
 */
export async function runAction({ fetch, storage, port }, name, body = {}) {
  const pairing = storedPairing(await storage.get(PAIRING_KEY));
  if (!pairing) return { ok: false, lost: true, text: "Not paired: pair in Options to act on alerts.", data: {} };
  const { url, init, sig } = await actionRequest(port, pairing, name, body);
  let res;
  let raw;
  try {
    res = await fetch(url, init);
    raw = new Uint8Array(await res.arrayBuffer());
  } catch {
    return { ok: false, lost: false, text: `The tray does not answer on 127.0.0.1:${port}.`, data: {} };
  }
  let data = null;
  try {
    data = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    data = null;
  }
  if (res.status === 401) {
    // Signed or not: a tray that restarted without a keyring has a new master and cannot sign for our key.
    // Only forget the pairing we used: one finished meanwhile in Options must survive.
    const now = storedPairing(await storage.get(PAIRING_KEY));
    if (now && now.client === pairing.client && now.key === pairing.key) await storage.remove(PAIRING_KEY);
    return readActionAnswer(name, 401, data);
  }
  if (!(await genuineAnswer(pairing.key, sig, res.status, raw, res.headers?.get?.(RESPONSE_HEADER)))) {
    return { ok: false, lost: false, impostor: true, text: notTheTray(port), data: {} };
  }
  return readActionAnswer(name, res.status, data);
}

/**
 * Pair: ask, report the code through onCode(code), poll every PAIR_POLL_MS until approved, refused or
 * PAIR_TIMEOUT_MS, and store the client id and key. Resolves to the final readPairStatus() result. `sleep` and `now`
 * are injectable for tests; `signal` (an AbortSignal) cancels.
 */
export async function pair({ fetch, storage, port, onCode = () => {}, onWait = () => {},
  sleep = (ms) => new Promise((r) => setTimeout(r, ms)), now = Date.now, signal = null }) {
  let res;
  const ask = pairRequest(port);
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
      await storage.set({ [PAIRING_KEY]: { client: step.client, key: step.key, pairedAt: new Date(now()).toISOString() } });
      return { kind: step.kind, text: step.text, client: step.client };
    }
    if (step.kind === "failed") return step;
    onWait(step.text);
  }
  return { kind: "failed", text: "Nobody approved the code within five minutes. Pair again." };
}
