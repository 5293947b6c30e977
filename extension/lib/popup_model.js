// What the popup lists, computed from a status document (pure, so it is unit-tested).

import { groupState } from "./status.js";

/** Only http(s) links from the document become hrefs: a javascript: URL in an alert must not run. */
export function safeUrl(url) {
  if (typeof url !== "string") return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function newestFirst(a, b) {
  // Alerts without a start time go last; ties keep the tray's order.
  const ta = a.since ? Date.parse(a.since) : -Infinity;
  const tb = b.since ? Date.parse(b.since) : -Infinity;
  return tb - ta;
}

/** One tile per group: name, palette key, counts (critical, warning, unknown, handled). */
export function tiles(doc) {
  return doc.groups.map((g) => ({
    name: g.name,
    state: groupState(doc, g),
    counts: {
      critical: g.counts.critical, warning: g.counts.warning, unknown: g.counts.unknown, handled: g.counts.handled,
    },
  }));
}

/** A source that cannot be read (its error, or stale): not one whose event stream alone is down. */
export function unreadable(s) {
  return Boolean(s.stale || (s.error && s.health === "unknown" && !s.alerts.length));
}

/**
 * Sources in document order, each with its open alerts (newest first) and its handled ones apart.
 * Pending/info alerts are listed with the open ones but flagged, as the tray does. `words`: shared/words.js.
 */
export function sourceSections(doc, words) {
  return doc.sources.map((s) => {
    const alerts = [...s.alerts].sort(newestFirst);
    return {
      name: s.name,
      type: s.type,
      group: s.group,
      health: s.health,
      unreadable: unreadable(s),
      problem: unreadable(s) ? words.phrase("unreadable", { reason: s.error || words.phrase("stale") }) : s.error || null,
      checkedAt: s.checked_at,
      capabilities: Array.isArray(s.capabilities) ? s.capabilities : null,   // null: an older tray lists none
      open: alerts.filter((a) => !a.handled),
      handled: alerts.filter((a) => a.handled),
    };
  });
}

/** "just now", "5 min", "3 h", "2 d" since an ISO time, for the alert list. */
export function age(iso, now = Date.now()) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}
