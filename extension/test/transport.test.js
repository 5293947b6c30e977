import test from "node:test";
import assert from "node:assert/strict";
import { Transport, RETRY_AWAKE_MS, RETRY_FIRST_MS, RETRY_MAX_MS, STREAM_SILENT_MS } from "../lib/transport.js";
import { settle } from "./fakes.js";
import { doc } from "./helpers.js";

const PORT = 17474;
const encoder = new TextEncoder();

/**
 * A fake tray behind a fake fetch: /status.json answers with `poll` (a function of the request), /events
 * with a stream the test writes to. Aborting a request errors its stream, as the browser's fetch does.
 */
class FakeTray {
  constructor() {
    this.requests = [];
    this.poll = () => json(doc());
    this.events = (init) => this.openStream(init);
    this.streams = [];
    this.fetch = async (url, init = {}) => {
      this.requests.push({ url, headers: init.headers ?? {} });
      const path = new URL(url).pathname;
      if (path === "/status.json") return this.poll(init);
      if (path === "/events") return this.events(init);
      return new Response("not found", { status: 404 });
    };
  }

  openStream(init = {}) {
    const s = {};
    const body = new ReadableStream({ start: (c) => { s.controller = c; } });
    init.signal?.addEventListener("abort", () => s.controller.error(new DOMException("aborted", "AbortError")));
    s.send = (text) => s.controller.enqueue(encoder.encode(text));
    s.status = (d) => s.send(`event: status\ndata: ${JSON.stringify(d)}\n\n`);
    s.close = () => s.controller.close();
    this.streams.push(s);
    return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  }

  paths() {
    return this.requests.map((r) => new URL(r.url).pathname);
  }
}

function json(d, { status = 200, etag = null } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (etag) headers.ETag = etag;
  return new Response(typeof d === "string" ? d : JSON.stringify(d), { status, headers });
}

const refused = () => Promise.reject(new TypeError("Failed to fetch"));

/** A transport on a fake tray, with timers and clock in the test's hand. */
function setup({ access = true } = {}) {
  const tray = new FakeTray();
  const readings = [];
  const timers = [];
  let clock = 1_000_000;
  const io = {
    fetch: (url, init) => tray.fetch(url, init),
    hasAccess: async () => io.access,
    access,
    onReading: (r) => { readings.push(r); },
    keepAlive: () => { io.keptAlive++; },
    keptAlive: 0,
    now: () => clock,
    setTimeout: (fn, ms) => timers.push({ fn, ms, cleared: false }),
    clearTimeout: (id) => { if (id) timers[id - 1].cleared = true; },
    log: { error: (...a) => readings.push({ logged: a }) },
  };
  const transport = new Transport(io);
  transport.follow(PORT);
  const pending = () => timers.filter((t) => !t.cleared);
  return { tray, readings, transport, io, pending, tick: (ms) => { clock += ms; } };
}

test("starts from /status.json, then passes on each status event of the stream, in order", async () => {
  const { tray, readings, transport, io } = setup();
  await transport.start();
  await settle();
  assert.deepEqual(tray.paths(), ["/events", "/status.json"]);
  assert.equal(tray.requests[0].headers.Accept, "text/event-stream");
  assert.deepEqual(readings, [{ port: PORT, doc: doc() }]);
  const [s] = tray.streams;
  s.send(": ping\n\n");
  s.status(doc({ health: "warning", generated_at: "2026-11-26T18:00:01Z" }));
  s.send("event: status\ndata: {not json\n\n");
  await settle();
  assert.deepEqual(readings.slice(1).map((r) => r.doc.health ?? r.doc), ["warning", "not JSON"]);
  assert.ok(io.keptAlive >= 2, "every read from the stream keeps the worker awake");
});

test("a poll says why the tray is unreachable: refused, HTTP status, or not JSON", async () => {
  const { tray, readings, transport } = setup();
  for (const [answer, expected] of [
    [refused, { error: "connection refused" }],
    [() => json("oops", { status: 500 }), { error: "HTTP 500" }],
    [() => json("<html>"), { doc: "not JSON" }],
  ]) {
    tray.poll = answer;
    await transport.poll(PORT);
    assert.deepEqual(readings.at(-1), { port: PORT, ...expected });
  }
});

test("a poll timing out says so", async () => {
  const { tray, readings, transport } = setup();
  tray.poll = () => Promise.reject(new DOMException("timed out", "TimeoutError"));
  await transport.poll(PORT);
  assert.deepEqual(readings, [{ port: PORT, error: "no answer within 5 s" }]);
});

test("polls are conditional on the last ETag, and a 304 changes nothing", async () => {
  const { tray, readings, transport } = setup();
  tray.poll = () => json(doc(), { etag: '"v1"' });
  await transport.poll(PORT);
  tray.poll = (init) => (init.headers["If-None-Match"] === '"v1"' ? new Response(null, { status: 304 }) : json(doc()));
  await transport.poll(PORT);
  assert.equal(tray.requests[1].headers["If-None-Match"], '"v1"');
  assert.equal(readings.length, 1);
});

test("without the browser's permission nothing is fetched and the reading says so", async () => {
  const { tray, readings, transport } = setup({ access: false });
  assert.equal(await transport.start(), false);
  await transport.refresh();
  await settle();
  assert.deepEqual(tray.requests, []);
  assert.deepEqual(readings, [{ port: PORT, noAccess: true }, { port: PORT, noAccess: true }]);
});

test("a failed fetch withdrawn permission reads as no access, not as a stopped tray", async () => {
  const { tray, readings, transport, io } = setup();
  tray.poll = refused;
  io.access = false;
  await transport.poll(PORT);
  assert.deepEqual(readings, [{ port: PORT, noAccess: true }]);
});

test("a dropped stream is told from a stopped tray by a poll, and retried with backoff up to the cap", async () => {
  const { tray, readings, transport, pending } = setup();
  await transport.start();
  await settle();
  tray.streams[0].close();   // the stream ends, the tray still answers
  await settle();
  assert.deepEqual(readings.map((r) => r.doc ? "doc" : r.error), ["doc", "doc"]);
  assert.deepEqual(pending().map((t) => t.ms), [RETRY_FIRST_MS]);

  // Now the tray is gone: each retry fails and waits longer, never past the cap.
  tray.events = refused;
  tray.poll = refused;
  const delays = [];
  for (let i = 0; i < 5; i++) {
    const [t] = pending();
    delays.push(t.ms);
    t.cleared = true;
    t.fn();
    await settle();
  }
  assert.deepEqual(delays, [1000, 2000, 4000, RETRY_MAX_MS, RETRY_MAX_MS]);
  assert.equal(readings.at(-1).error, "connection refused");

  // The tray is back: the next retry finds it and the backoff starts again from the first delay.
  tray.events = (init) => tray.openStream(init);
  tray.poll = () => json(doc());
  const [t] = pending();
  t.cleared = true;
  t.fn();
  await settle();
  assert.ok(readings.at(-1).doc);
  assert.equal(transport.lostSince, null);
  assert.equal(transport.retryDelay, RETRY_FIRST_MS);
});

test("after two minutes without the tray, timers stop retrying and leave it to the alarm", async () => {
  const { tray, readings, transport, pending, tick } = setup();
  tray.events = refused;
  tray.poll = refused;
  await transport.start();
  await settle();
  assert.equal(readings.at(-1).error, "connection refused");
  assert.equal(pending().length, 1);
  tick(RETRY_AWAKE_MS + 1);
  const [t] = pending();
  t.cleared = true;
  t.fn();
  await settle();
  assert.equal(pending().length, 0, "no retry timer keeps the worker awake");
  assert.ok(transport.lostSince !== null);
});

test("a poll answer overtaken by a newer reading is dropped", async () => {
  const { tray, readings, transport } = setup();
  await transport.start();
  await settle();
  // A poll sent before the stream event arrives, answered after it: "unreachable" is old news.
  let answer;
  tray.poll = () => new Promise((resolve, reject) => { answer = reject; });
  const late = transport.poll(PORT);
  await settle();
  tray.streams[0].status(doc({ health: "warning", generated_at: "2026-11-26T18:00:05Z" }));
  await settle();
  answer(new TypeError("Failed to fetch"));
  await late;
  assert.deepEqual(readings.map((r) => r.doc?.health ?? r.error), ["ok", "warning"]);

  // A poll sent later but carrying an older document than the stream already gave is dropped too.
  tray.poll = () => json(doc({ health: "critical", generated_at: "2026-11-26T18:00:01Z" }));
  await transport.poll(PORT);
  assert.equal(readings.length, 2);
});

test("a new port drops what is still on its way from the old one and forgets its ETag", async () => {
  const { tray, readings, transport } = setup();
  tray.poll = () => json(doc(), { etag: '"old"' });
  await transport.start();
  await settle();
  const old = tray.streams[0];
  assert.equal(transport.follow(PORT), false);
  assert.equal(transport.follow(PORT + 1), true);
  old.status(doc({ health: "critical" }));
  await settle();
  assert.equal(readings.length, 1);
  await transport.refresh();
  await settle();
  const toNew = tray.requests.filter((r) => r.url.includes(`:${PORT + 1}/`));
  assert.deepEqual(toNew.map((r) => new URL(r.url).pathname).sort(), ["/events", "/status.json", "/status.json"]);
  assert.ok(toNew.every((r) => !r.headers["If-None-Match"]));
  assert.ok(readings.slice(1).every((r) => r.port === PORT + 1));
  // The old stream was aborted on purpose: no poll of the old port, no retry for it.
  assert.equal(tray.requests.filter((r) => r.url.includes(`:${PORT}/`)).length, 2);
});

test("the alarm drops a stream silent past the tray's pings, and only then", async () => {
  const { tray, transport, tick } = setup();
  await transport.start();
  await settle();
  tick(STREAM_SILENT_MS);
  transport.dropIfSilent();
  await transport.start();
  assert.equal(tray.streams.length, 1, "a stream within the ping interval is kept");
  tick(1);
  transport.dropIfSilent();
  await transport.start();
  await settle();
  assert.equal(tray.streams.length, 2);
});

test("a reading that fails to show is logged and does not stop the next", async () => {
  const { tray, transport } = setup();
  const seen = [];
  const logged = [];
  transport.log = { error: (...a) => logged.push(a) };
  transport.onReading = (r) => {
    seen.push(r);
    if (seen.length === 1) throw new Error("boom");
  };
  await transport.poll(PORT);
  tray.poll = () => json(doc({ generated_at: "2026-11-26T18:00:09Z" }));
  await transport.poll(PORT);
  assert.equal(seen.length, 2);
  assert.equal(logged.length, 1);
});
