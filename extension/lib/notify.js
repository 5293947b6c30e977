// Which group state changes deserve a browser notification (pure). As in blinken: only on a change,
// never on the first reading, and only for the group x state pairs the user switched on.

import { groupState } from "./status.js";
import { ANY_GROUP } from "./settings.js";

/** {group name: palette key} for a status document. */
export function groupStates(doc) {
  return Object.fromEntries(doc.groups.map((g) => [g.name, groupState(doc, g)]));
}

function enabled(settings, group, state) {
  if (!settings.notifications) return false;
  const rules = settings.notify[group] ?? settings.notify[ANY_GROUP] ?? {};
  return rules[state] === true;
}

/** The web UI link to open when the notification for this group is clicked: its worst unhandled alert. */
export function linkFor(doc, group) {
  const order = { critical: 0, unknown: 1, warning: 2, info: 3 };
  const alerts = doc.sources.filter((s) => s.group === group).flatMap((s) => s.alerts)
    .filter((a) => a.url && !a.handled && !a.pending)
    .sort((a, b) => (order[a.severity] ?? 9) - (order[b.severity] ?? 9));
  return alerts[0]?.url ?? null;
}

/**
 * Notifications to raise going from `previous` ({group: state} or null on the first reading) to `doc`.
 * Returns [{group, state, title, message, url}], worded by `words` (shared/words.js over
 * shared/vocabulary.json) as the tray words its own. Nothing while the tray's notifications are snoozed.
 */
export function transitions(previous, doc, settings, words, now = Date.now()) {
  if (!previous) return [];
  // The tray's snooze silences the browser too: one "quiet" switch for the user.
  if (snoozed(doc, now)) return [];
  const current = groupStates(doc);
  const out = [];
  for (const g of doc.groups) {
    const state = current[g.name];
    const before = previous[g.name];
    if (before === undefined || before === state || state === "no_data") continue;
    if (!enabled(settings, g.name, state)) continue;
    out.push({
      group: g.name,
      state,
      title: words.phrase("group_changed", { name: g.name, label: words.word(state) }),
      // What it is now, or, when nothing is open any more, what it was.
      message: words.problems(g.counts) ? words.summary(state, g.counts) : words.phrase("was", { tag: words.word(before) }),
      url: linkFor(doc, g.name),
    });
  }
  return out;
}

/** True while the tray's notifications are snoozed. */
export function snoozed(doc, now = Date.now()) {
  const until = Date.parse(doc.notifications?.snoozed_until ?? "");
  return !Number.isNaN(until) && until > now;
}
