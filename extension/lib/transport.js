// The connection to the tray: a streaming GET /events, a GET /status.json (ETag) to start from and to tell
// "tray down" from "stream dropped", and retries with backoff. No chrome.* here: the browser's parts (fetch,
// the permission check, the call that keeps the worker awake, timers) are handed in, so node --test can
// drive every path with a fake fetch.
//
// What comes out is one stream of readings, in the order they are to be shown, through `onReading`:
//   {port, doc}        a document (maybe "not JSON" or of a newer schema: the view decides what it means)
//   {port, error}      the tray is unreachable, and why ("connection refused", "HTTP 500", ...)
//   {port, noAccess}   the browser does not let the extension read 127.0.0.1
// Readings are serialised (the next waits until onReading is done with the last), so a poll answer and a
// stream event never interleave their badge updates.

import { SseParser } from "./sse.js";
import { baseUrl } from "./settings.js";

export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 5000;
// After this long without the tray, stop retrying from timers and leave it to the alarm, so a browser
// without a running tray does not keep the worker awake for ever.
export const RETRY_AWAKE_MS = 2 * 60 * 1000;
// The tray pings at least every 15 s: a stream silent for longer than this is stuck, not idle.
export const STREAM_SILENT_MS = 45 * 1000;
export const POLL_TIMEOUT_MS = 5000;

function generatedAt(doc) {
  const t = Date.parse(doc?.generated_at);
  return Number.isNaN(t) ? 0 : t;
}

export class Transport {
  /**
   * @param {object} io
   * @param {typeof fetch} io.fetch
   * @param {() => Promise<boolean>} io.hasAccess  whether the browser lets the extension read 127.0.0.1
   * @param {(reading: object) => Promise<void>|void} io.onReading
   * @param {() => void} [io.keepAlive]  a cheap browser call: an open stream alone does not keep a worker alive
   */
  constructor({ fetch, hasAccess, onReading, keepAlive = () => {}, now = () => Date.now(),
    // Wrapped: a browser's timer functions throw "Illegal invocation" when called as this object's methods.
    setTimeout: setTimer = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: clearTimer = (id) => globalThis.clearTimeout(id),
    log = console }) {
    Object.assign(this, { fetchFn: fetch, hasAccess, onReading, keepAlive, now, setTimer, clearTimer, log });
    this.port = null;
    this.stream = null;       // {port, controller, lastByte}
    this.retryTimer = null;
    this.retryDelay = RETRY_FIRST_MS;
    this.lostSince = null;    // when the tray was first found unreachable (null while reachable)
    this.latest = null;       // {port, etag, time}: the newest document passed on
    // Readings are numbered when they start (a poll when it is sent, a stream event when it arrives): a
    // poll answer that comes back after a newer reading was passed on, e.g. "unreachable" when the tray
    // stopped, is old news and must not put the badge back.
    this.readings = 0;
    this.appliedReading = 0;
    this.showing = Promise.resolve();
  }

  /**
   * Follow the tray on `port` from now on. A new port takes effect at once: readings still on their way from
   * the old one are dropped, and everything learnt from it (ETag, lost since, backoff) is forgotten.
   */
  follow(port) {
    if (port === this.port) return false;
    this.port = port;
    this.latest = null;
    this.lostSince = null;
    this.retryDelay = RETRY_FIRST_MS;
    return true;
  }

  /** Keep a stream open, if the browser lets us read the tray; returns whether it does. */
  async start() {
    if (!(await this.hasAccess())) {
      this.drop();
      await this.pass(this.port, { noAccess: true }, ++this.readings);
      return false;
    }
    this.ensureStream();
    return true;
  }

  /** start(), then a fresh reading of /status.json (the popup opened, the port or the permission changed). */
  async refresh() {
    if (await this.start()) await this.poll(this.port);
  }

  /** For the alarm: a stream that has been silent past the tray's pings is stuck, so open a new one. */
  dropIfSilent() {
    if (this.stream && this.now() - this.stream.lastByte > STREAM_SILENT_MS) this.drop();
  }

  drop() {
    this.clearTimer(this.retryTimer);
    if (!this.stream) return;
    const old = this.stream;
    this.stream = null;
    old.controller.abort();
  }

  ensureStream() {
    if (this.stream && this.stream.port === this.port) return;
    if (this.stream) this.stream.controller.abort();
    this.openStream(this.port);
  }

  async openStream(port) {
    const me = { port, controller: new AbortController(), lastByte: this.now() };
    this.stream = me;
    this.clearTimer(this.retryTimer);
    try {
      const res = await this.fetchFn(`${baseUrl(port)}/events`, {
        signal: me.controller.signal, cache: "no-store", headers: { Accept: "text/event-stream" },
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} from /events`);
      // Changes from here on arrive on the stream; fetch the current document once to start from.
      this.poll(port);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the tray closed /events");
        me.lastByte = this.now();
        this.keepAlive();
        for (const item of parser.push(value)) {
          if (item.type !== "event" || item.event !== "status") continue;
          let doc;
          try {
            doc = JSON.parse(item.data);
          } catch {
            doc = "not JSON";
          }
          if (this.stream === me) await this.pass(port, { doc }, ++this.readings);
        }
      }
    } catch {
      if (this.stream !== me) return;   // replaced on purpose (port changed): nothing to report
      this.stream = null;
      await this.poll(port);            // tells "tray down" (-> "?") from "stream dropped, tray fine"
      this.scheduleRetry();
    }
  }

  scheduleRetry() {
    this.clearTimer(this.retryTimer);
    if (this.lostSince !== null && this.now() - this.lostSince > RETRY_AWAKE_MS) return;   // the alarm carries on
    this.retryTimer = this.setTimer(() => {
      this.keepAlive();
      this.start();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
  }

  /** GET /status.json (conditional on the last ETag) and pass it on, or pass on why the tray is unreachable. */
  async poll(port) {
    const seq = ++this.readings;
    const headers = {};
    if (this.latest && this.latest.port === port && this.latest.etag) headers["If-None-Match"] = this.latest.etag;
    let res;
    try {
      res = await this.fetchFn(`${baseUrl(port)}/status.json`, {
        cache: "no-store", headers, signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
      });
    } catch (err) {
      // A fetch without the host permission fails just like one to a stopped tray: ask which it was.
      if (!(await this.hasAccess())) return this.pass(port, { noAccess: true }, seq);
      return this.pass(port, { error: err?.name === "TimeoutError" ? "no answer within 5 s" : "connection refused" }, seq);
    }
    if (res.status === 304) return undefined;
    if (!res.ok) return this.pass(port, { error: `HTTP ${res.status}` }, seq);
    let doc;
    try {
      doc = await res.json();
    } catch {
      doc = "not JSON";
    }
    return this.pass(port, { doc }, seq, { polled: true, etag: res.headers.get("ETag") });
  }

  pass(port, reading, seq, { polled = false, etag = null } = {}) {
    this.showing = this.showing.then(() => this.passNow(port, reading, seq, polled, etag))
      .catch((err) => this.log.error("secondline:", err));
    return this.showing;
  }

  async passNow(port, reading, seq, polled, etag) {
    if (port !== this.port) return;
    if (seq < this.appliedReading) return;
    if (polled && this.latest && this.latest.port === port && generatedAt(reading.doc) < this.latest.time) {
      // A poll answer overtaken by a newer stream event. Stream events themselves arrive in order and are
      // always passed on, so a tray clock stepping back cannot freeze the badge.
      return;
    }
    this.appliedReading = seq;
    if (reading.noAccess) {
      this.lostSince = null;
      this.latest = null;
    } else if (!reading.doc) {
      this.lostSince ??= this.now();
      this.latest = null;
    } else {
      this.lostSince = null;
      this.retryDelay = RETRY_FIRST_MS;
      this.latest = { port, etag, time: generatedAt(reading.doc) };
    }
    await this.onReading({ port, ...reading });
  }
}
