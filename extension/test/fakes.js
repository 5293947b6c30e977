// Fakes of the browser APIs the worker's modules are handed: what node --test runs them against.

/**
 * A chrome.storage area. Values go through JSON as they do through the browser's storage, and objects come
 * back with their keys sorted, as Chrome returns them: code that relied on an object's key order would
 * pass in Firefox and fail in Chrome.
 */
export class FakeStorageArea {
  constructor() {
    this.data = {};
    this.writes = 0;
  }

  static sorted(value) {
    if (Array.isArray(value)) return value.map(FakeStorageArea.sorted);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, FakeStorageArea.sorted(value[k])]));
    }
    return value;
  }

  async get(keys) {
    await null;   // the browser answers asynchronously: let other work interleave as it would
    const names = keys === null ? Object.keys(this.data) : [].concat(keys);
    const out = {};
    for (const k of names) if (k in this.data) out[k] = FakeStorageArea.sorted(JSON.parse(this.data[k]));
    return out;
  }

  async set(items) {
    await null;
    this.writes++;
    for (const [k, v] of Object.entries(items)) this.data[k] = JSON.stringify(v);
  }

  async remove(keys) {
    await null;
    for (const k of [].concat(keys)) delete this.data[k];
  }
}

/** chrome.notifications: what was created and cleared. */
export class FakeNotifications {
  constructor() {
    this.shown = new Map();
    this.created = [];
  }

  create(id, options) {
    this.shown.set(id, options);
    this.created.push(id);
  }

  clear(id) {
    this.shown.delete(id);
  }
}

/** Let every pending promise chain run (fakes answer in microtasks; streams take a few turns). */
export async function settle(turns = 50) {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
