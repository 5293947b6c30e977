// Options stored in chrome.storage.sync, with their defaults and checks (pure).

import { DEFAULT_PORT } from "./status.js";

export const NOTIFY_STATES = ["critical", "warning", "unknown", "handled_only", "ok"];
/** Key for the notification toggles of groups that have no row of their own. */
export const ANY_GROUP = "*";

export const DEFAULTS = Object.freeze({
  port: DEFAULT_PORT,
  splitIcon: true,
  // Off by default: the tray already pops up desktop notifications.
  notifications: false,
  // {group name or "*": {state: true}}; a state absent means off.
  notify: {},
});

/** A TCP port from user input, or null when it is not one. */
export function parsePort(value) {
  const s = String(value).trim();
  if (!/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : null;
}

/** Stored options merged over the defaults, with anything malformed replaced by its default. */
export function normalise(stored) {
  const s = { ...DEFAULTS, ...(stored || {}) };
  return {
    port: parsePort(s.port) ?? DEFAULTS.port,
    splitIcon: s.splitIcon !== false,
    notifications: s.notifications === true,
    notify: s.notify && typeof s.notify === "object" ? s.notify : {},
  };
}

export function baseUrl(port) {
  return `http://127.0.0.1:${port}`;
}
