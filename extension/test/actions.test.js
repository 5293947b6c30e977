import "./webcrypto.js";
import test from "node:test";
import assert from "node:assert/strict";
import {
  alertButtons, actionRequest, pairRequest, pairStatusRequest, readActionAnswer, readPairStatus, runAction, pair,
  storedPairing, storedToken, successText, PAIRING_KEY, PAIR_POLL_MS, PAIR_TIMEOUT_MS, LOST_MESSAGE, SNOOZE_PRESETS,
} from "../lib/actions.js";
import { signAnswer, RESPONSE_HEADER } from "../lib/signing.js";
import { alert } from "./helpers.js";

/** chrome.storage.local as a plain object. */
function fakeStorage(initial = {}) {
  const data = { ...initial };
  return {
    data,
    async get(k) { return k in data ? { [k]: structuredClone(data[k]) } : {}; },
    async set(o) { Object.assign(data, structuredClone(o)); },
    async remove(k) { delete data[k]; },
  };
}

const KEY = "key-1-0123456789";

/**
 * fetch answering from a list of [status, body] (or an Error to throw), recording every call. With `key`, it
 * signs its answers as the tray does (for the signature in the request); without, it is an impostor.
 */
function fakeFetch(answers, key = KEY) {
  const calls = [];
  const fn = async (url, init) => {
    calls.push({ url, init, body: init.body ? JSON.parse(init.body) : null });
    const next = answers.length > 1 ? answers.shift() : answers[0];
    if (next instanceof Error) throw next;
    const [status, body] = next;
    const raw = new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
    const sig = /sig=([A-Za-z0-9_-]+)/.exec(init.headers?.Authorization ?? "")?.[1];
    const signature = key && sig ? await signAnswer(key, sig, status, raw) : null;
    return {
      status, ok: status >= 200 && status < 300,
      headers: { get: (name) => (name.toLowerCase() === RESPONSE_HEADER.toLowerCase() ? signature : null) },
      json: async () => JSON.parse(new TextDecoder().decode(raw)),
      arrayBuffer: async () => raw.buffer,
    };
  };
  fn.calls = calls;
  return fn;
}

const paired = () => fakeStorage({ [PAIRING_KEY]: { client: "c-1", key: KEY, pairedAt: "2026-11-26T18:00:00Z" } });

test("buttons: exactly what the source offers (its capabilities in the status document), in a fixed order", () => {
  const names = (capabilities, a = alert("a", "critical")) => alertButtons({ capabilities }, a).map((b) => b.action);
  assert.deepEqual(names(["trello", "recheck", "acknowledge"]), ["acknowledge", "recheck", "trello"]);
  assert.deepEqual(names(["acknowledge"]), ["acknowledge"]);
  assert.deepEqual(names(["acknowledge", "trello"]), ["acknowledge", "trello"]);
  assert.deepEqual(names([]), []);
  assert.deepEqual(names(["resolve", "acknowledge"]), ["acknowledge"], "a name this extension does not know");
  // Handled alerts need nothing; an alert already on Trello shows its card instead of a second button.
  const all = ["acknowledge", "recheck", "trello"];
  assert.deepEqual(names(all, alert("a", "critical", { handled: true, handled_reason: "acknowledged" })), []);
  assert.deepEqual(names(all, alert("a", "critical", { card_url: "https://trello.com/c/x" })), ["acknowledge", "recheck"]);
  assert.deepEqual(alertButtons({ capabilities: all }, null), []);
  // A tray of status schema 1 lists no capabilities: nothing is offered rather than guessed.
  assert.deepEqual(alertButtons({ type: "icinga2" }, alert("a", "critical")), []);
  assert.deepEqual(alertButtons(null, alert("a", "critical")), []);
  const labels = alertButtons({ capabilities: all }, alert("a", "warning")).map((b) => b.label);
  assert.deepEqual(labels, ["Ack", "Recheck", "Trello"]);
  assert.deepEqual(SNOOZE_PRESETS.map((p) => p.preset), ["15m", "1h", "end-of-shift"]);
});

test("an action request is signed, carries a JSON body, goes to the configured port, and never holds the key", async () => {
  const pairing = { client: "c-1", key: "s3cret-key" };
  const { url, init, sig } = await actionRequest(17474, pairing, "acknowledge", { source: "icinga-prod", id: "web01!http" });
  assert.equal(url, "http://127.0.0.1:17474/actions/acknowledge");
  assert.equal(init.method, "POST");
  assert.match(init.headers.Authorization, /^Secondline client=c-1, ts=\d+, nonce=[\w-]+, sig=[\w-]{43}$/);
  assert.ok(init.headers.Authorization.endsWith(`sig=${sig}`));
  assert.equal(init.headers["Content-Type"], "application/json");
  assert.deepEqual(JSON.parse(init.body), { source: "icinga-prod", id: "web01!http" });
  for (const part of [url, init.body, JSON.stringify(init.headers)]) assert.ok(!part.includes("s3cret-key"), part);
  assert.equal((await actionRequest(1, pairing, "end of/../x")).url, "http://127.0.0.1:1/actions/end%20of%2F..%2Fx");
  const p = pairRequest(9000);
  assert.equal(p.url, "http://127.0.0.1:9000/pair");
  assert.deepEqual(JSON.parse(p.init.body), {}, "no caller-chosen name: the tray names the requester by its origin");
  assert.equal(p.init.headers.Authorization, undefined);
  assert.deepEqual(JSON.parse(pairStatusRequest(9000, "rid").init.body), { id: "rid" });
});

test("answers: success text, the tray's own error, 401 means the pairing is lost", () => {
  assert.deepEqual(readActionAnswer("recheck", 200, { ok: true, result: "rescheduled" }),
    { ok: true, lost: false, text: "Recheck requested: rescheduled", data: { ok: true, result: "rescheduled" } });
  const fail = readActionAnswer("acknowledge", 502, { ok: false, error: "demo sources cannot acknowledge" });
  assert.equal(fail.ok, false);
  assert.equal(fail.lost, false);
  assert.equal(fail.text, "demo sources cannot acknowledge");
  const lost = readActionAnswer("snooze", 401, { ok: false, error: "missing or wrong token: pair this client first" });
  assert.equal(lost.lost, true);
  assert.equal(lost.text, LOST_MESSAGE);
  assert.equal(readActionAnswer("snooze", 403, null).text, "HTTP 403 from the tray");
  assert.equal(readActionAnswer("snooze", 200, { ok: false }).ok, false, "2xx without ok:true is not success");
  assert.match(successText("snooze", { snoozed_until: "2026-11-26T19:00:00Z" }), /^Notifications snoozed until /);
  assert.equal(successText("snooze", {}), "Notifications snoozed");
  assert.equal(successText("trello", { card_url: "https://trello.com/c/x" }), "Recorded on Trello");
});

test("a stored pairing needs a client id and a key (a bearer token of an older version is no pairing)", () => {
  assert.deepEqual(storedPairing({ [PAIRING_KEY]: { client: "c", key: "k", pairedAt: "x" } }), { client: "c", key: "k" });
  assert.equal(storedToken, storedPairing);
  for (const bad of [{}, null, { [PAIRING_KEY]: {} }, { [PAIRING_KEY]: { token: "old-bearer" } },
    { [PAIRING_KEY]: { client: "c", key: "" } }, { [PAIRING_KEY]: { client: 5, key: "k" } }]) {
    assert.equal(storedPairing(bad), null);
  }
});

test("runAction signs with the stored key; a 401 forgets the pairing, other failures keep it", async () => {
  const storage = paired();
  const ok = fakeFetch([[200, { ok: true, snoozed_until: "2026-11-26T19:00:00Z" }]]);
  const answer = await runAction({ fetch: ok, storage, port: 4000 }, "snooze", { preset: "1h" });
  assert.equal(answer.ok, true);
  assert.match(ok.calls[0].init.headers.Authorization, /^Secondline client=c-1, /);
  assert.deepEqual(ok.calls[0].body, { preset: "1h" });

  const failing = fakeFetch([[502, { ok: false, error: "demo sources cannot acknowledge" }]]);
  const f = await runAction({ fetch: failing, storage, port: 4000 }, "acknowledge", { source: "d", id: "x" });
  assert.equal(f.text, "demo sources cannot acknowledge");
  assert.equal(storedPairing(storage.data).client, "c-1", "a refused action keeps the pairing");

  const down = await runAction({ fetch: fakeFetch([new TypeError("Failed to fetch")]), storage, port: 4000 }, "seen");
  assert.equal(down.ok, false);
  assert.equal(down.lost, false);
  assert.match(down.text, /does not answer on 127\.0\.0\.1:4000/);
  assert.equal(storedPairing(storage.data).client, "c-1", "a tray that is down keeps the pairing");

  // A 401 is believed even unsigned: a tray that restarted without a keyring cannot sign for the old key.
  const lost = await runAction({ fetch: fakeFetch([[401, { ok: false, error: "not paired" }]], null), storage, port: 4000 }, "seen");
  assert.equal(lost.lost, true);
  assert.equal(storage.data[PAIRING_KEY], undefined, "the refused pairing is forgotten");

  const none = fakeFetch([[200, { ok: true }]]);
  const unpaired = await runAction({ fetch: none, storage, port: 4000 }, "seen");
  assert.equal(unpaired.ok, false);
  assert.equal(none.calls.length, 0, "nothing is sent without a pairing");
});

test("an answer the tray did not sign is not believed, and the pairing is kept", async () => {
  for (const [status, body] of [[200, { ok: true, snoozed_until: "2026-11-26T19:00:00Z" }], [502, { ok: false, error: "x" }]]) {
    const storage = paired();
    const impostor = await runAction({ fetch: fakeFetch([[status, body]], null), storage, port: 4000 }, "snooze", { preset: "1h" });
    assert.equal(impostor.ok, false);
    assert.equal(impostor.impostor, true);
    assert.match(impostor.text, /127\.0\.0\.1:4000 is not the secondline tray/);
    assert.equal(storedPairing(storage.data).client, "c-1");
    // Signed with another key: the same.
    const wrong = await runAction({ fetch: fakeFetch([[status, body]], "another-key"), storage, port: 4000 }, "snooze");
    assert.equal(wrong.impostor, true);
  }
});

test("a 401 for an old pairing does not forget a pairing made meanwhile", async () => {
  const storage = paired();
  const fetch = async () => {
    await storage.set({ [PAIRING_KEY]: { client: "c-2", key: "k-2" } });   // Options finished a new pairing meanwhile
    return { status: 401, ok: false, headers: { get: () => null }, arrayBuffer: async () => new TextEncoder().encode("{}").buffer };
  };
  await runAction({ fetch, storage, port: 1 }, "seen");
  assert.equal(storedPairing(storage.data).client, "c-2");
});

test("pair status answers", () => {
  assert.equal(readPairStatus(200, { state: "pending" }).kind, "wait");
  assert.deepEqual(readPairStatus(200, { state: "approved", client: "c", key: "K" }),
    { kind: "paired", client: "c", key: "K", text: "Paired" });
  assert.equal(readPairStatus(200, { state: "approved", token: "T" }).kind, "failed", "a bearer token is no key");
  for (const state of ["approved", "delivered", "denied", "expired", "unknown", "weird"]) {
    assert.equal(readPairStatus(200, { state }).kind, "failed", state);
  }
  assert.match(readPairStatus(200, { state: "denied" }).text, /denied/);
  assert.match(readPairStatus(200, { state: "expired" }).text, /expired/);
  assert.equal(readPairStatus(403, { ok: false, error: "forbidden" }).text, "forbidden");
});

/** A clock and sleep that advance together, so five minutes of polling take no time. */
function fakeClock() {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms) => { t += ms; } };
}

test("pair: shows the code, polls every second, stores the client id and key in local storage", async () => {
  const storage = fakeStorage();
  const clock = fakeClock();
  const fetch = fakeFetch([[200, { id: "rid", code: "123456" }], [200, { state: "pending" }], [200, { state: "pending" }],
    [200, { state: "approved", client: "c-9", key: "the-key" }]]);
  const codes = [];
  const waits = [];
  const result = await pair({ fetch, storage, port: 5000, onCode: (c) => codes.push(c),
    onWait: (w) => waits.push(w), ...clock });
  assert.equal(result.kind, "paired");
  assert.deepEqual(codes, ["123456"]);
  assert.equal(waits.length, 2);
  assert.deepEqual(fetch.calls.map((c) => c.url), ["http://127.0.0.1:5000/pair", ...Array(3).fill("http://127.0.0.1:5000/pair/status")]);
  assert.deepEqual(fetch.calls[1].body, { id: "rid" });
  assert.equal(storage.data[PAIRING_KEY].client, "c-9");
  assert.equal(storage.data[PAIRING_KEY].key, "the-key");
  assert.equal(result.key, undefined, "the key stays in storage, not in what the page is told");
  assert.ok(!Number.isNaN(Date.parse(storage.data[PAIRING_KEY].pairedAt)));
});

test("pair: gives up after five minutes, stops on denial, survives a tray hiccup", async () => {
  const clock = fakeClock();
  const waiting = fakeFetch([[200, { id: "rid", code: "000001" }], [200, { state: "pending" }]]);
  const storage = fakeStorage();
  const out = await pair({ fetch: waiting, storage, port: 1, ...clock });
  assert.equal(out.kind, "failed");
  assert.match(out.text, /five minutes/);
  assert.equal(waiting.calls.length - 1, PAIR_TIMEOUT_MS / PAIR_POLL_MS);
  assert.deepEqual(storage.data, {});

  const denied = await pair({ fetch: fakeFetch([[200, { id: "r", code: "1" }], [200, { state: "denied" }]]),
    storage, port: 1, ...fakeClock() });
  assert.match(denied.text, /denied/);

  const hiccup = fakeFetch([[200, { id: "r", code: "1" }], new TypeError("refused"), [200, { state: "approved", client: "c", key: "K" }]]);
  assert.equal((await pair({ fetch: hiccup, storage, port: 1, ...fakeClock() })).kind, "paired");

  const tooMany = await pair({ fetch: fakeFetch([[429, { ok: false, error: "too many pairing requests waiting" }]]),
    storage: fakeStorage(), port: 1, ...fakeClock() });
  assert.equal(tooMany.text, "too many pairing requests waiting");
  const down = await pair({ fetch: fakeFetch([new TypeError("refused")]), storage: fakeStorage(), port: 7, client: "c" });
  assert.match(down.text, /does not answer on 127\.0\.0\.1:7/);
});
