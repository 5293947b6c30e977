// Status document -> what the toolbar shows (badge text, colours, tooltip). Pure: no browser API here,
// so node --test can cover every rule. The palette and schema come from the project's shared/ contract.

import { firstError } from "./schema.js";
import { NO_ACCESS_LINE } from "./access.js";

/** The status-document version this code was written for. A test fails when shared/ moves past it. */
export const SUPPORTED_SCHEMA = 2;
/** The oldest version still read: an older tray's documents show, without the actions they cannot list. */
export const OLDEST_SCHEMA = 1;
/** What the popup says instead of action buttons when the tray is older than this extension. */
export const OLDER_TRAY_LINE = "The tray runs an older secondline, which does not say what can be done to its " +
  "alerts: update it to act on alerts from here.";
export const DEFAULT_PORT = 17474;

const RANK = { no_data: 0, ok: 1, handled_only: 2, warning: 3, unknown: 4, critical: 5 };

/** The worse of two palette keys (unknown sits between warning and critical, as in the tray). */
export function worse(a, b) {
  return (RANK[b] ?? 0) > (RANK[a] ?? 0) ? b : a;
}

/** Unhandled problems: what the badge counts. */
export function problems(counts) {
  return (counts?.critical || 0) + (counts?.warning || 0) + (counts?.unknown || 0);
}

function noData(sources) {
  return sources.length === 0 || sources.every((s) => s.checked_at === null && !s.error);
}

/** The palette key of the whole document: a health, or handled_only / no_data. */
export function docState(doc) {
  if (noData(doc.sources)) return "no_data";
  if (doc.handled_only && doc.health === "ok") return "handled_only";
  return doc.health;
}

/** The palette key of one group of the document. */
export function groupState(doc, group) {
  if (noData(doc.sources.filter((s) => s.group === group.name))) return "no_data";
  if (group.handled_only && group.health === "ok") return "handled_only";
  return group.health;
}

/**
 * The contract a document of `version` must meet: shared/'s (the newest) for it, and for version 1 the same
 * without what version 2 added (each source's `capabilities`).
 */
export function schemaFor(version, schema) {
  if (!schema || version !== 1) return schema;
  const older = structuredClone(schema);
  older.properties.schema = { const: 1 };
  const source = older.properties.sources.items;
  source.required = source.required.filter((k) => k !== "capabilities");
  delete source.properties.capabilities;
  return older;
}

/**
 * Classify what came back from the tray.
 * `reading` is {doc} after a good fetch, {error, port} when the tray could not be reached, or {noAccess, port}
 * when the browser does not let the extension read 127.0.0.1 at all.
 * Returns a view: {kind: "status"|"unreachable"|"no_access"|"newer"|"invalid", state, doc?, message?, port};
 * a status from a tray older than this extension also says `older` (it lists no actions: offer none).
 */
export function interpret(reading, schema) {
  const port = reading.port ?? DEFAULT_PORT;
  if (reading.noAccess) return { kind: "no_access", state: "no_data", port, message: NO_ACCESS_LINE };
  if (!reading.doc) {
    return { kind: "unreachable", state: "no_data", port, message: reading.error || "no answer" };
  }
  const doc = reading.doc;
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { kind: "invalid", state: "no_data", port, message: "$: expected an object" };
  }
  if (typeof doc.schema === "number" && doc.schema > SUPPORTED_SCHEMA) {
    return {
      kind: "newer", state: "no_data", port,
      message: `The tray sends status schema ${doc.schema}; this extension understands ${SUPPORTED_SCHEMA}. ` +
        "Update the secondline extension.",
    };
  }
  const older = doc.schema >= OLDEST_SCHEMA && doc.schema < SUPPORTED_SCHEMA;
  const err = schema ? firstError(doc, schemaFor(doc.schema, schema)) : null;
  if (err) return { kind: "invalid", state: "no_data", port, message: `The tray sent a document this extension cannot read (${err}).` };
  return { kind: "status", state: docState(doc), port, doc, ...(older ? { older: true } : {}) };
}

/**
 * "production: 2 critical, 1 handled", then each of its sources that cannot be read: a group as the tray's
 * menu and `secondline status` show it (the words and rules of shared/vocabulary.json, `words`).
 */
function groupLine(doc, group, words) {
  const state = groupState(doc, group);
  let line = words.phrase("group", { name: group.name, summary: words.summary(state, group.counts) });
  const broken = doc.sources.filter((s) => s.group === group.name && (s.error || s.stale));
  for (const s of broken) line += ` — ${s.name} ${words.phrase("unreadable", { reason: s.error || words.phrase("stale") })}`;
  return line;
}

/** The tooltip: a headline, then one line per group. `words`: shared/words.js over shared/vocabulary.json. */
export function tooltip(view, words) {
  if (view.kind === "unreachable") {
    return `secondline: tray not reachable on 127.0.0.1:${view.port} (${view.message}).\n` +
      "Start it with: secondline run (or change the port in the extension's options).";
  }
  if (view.kind === "no_access") {
    return `secondline: ${view.message}\nOpen the secondline popup and press "Allow access".`;
  }
  if (view.kind !== "status") return `secondline: ${view.message}`;
  const doc = view.doc;
  const lines = [];
  if (view.state === "no_data") {
    lines.push(doc.sources.length ? "secondline: waiting for the first poll" : "secondline: no sources configured");
  } else {
    // Worded here, not taken from the tray's `summary`: the popup beside it says the same, whatever the tray's age.
    lines.push(words.phrase("app_summary", { summary: words.summary(view.state, doc.counts) }));
  }
  for (const g of doc.groups) lines.push(groupLine(doc, g, words));
  if (doc.shift?.text) lines.push(doc.shift.text);
  return lines.join("\n");
}

/** The badge of a browser that has not allowed the extension to read 127.0.0.1 (fits the badge's ~4 characters). */
export const NO_ACCESS_BADGE = "perm";

/**
 * Badge text: the unhandled count (blank when 0), "?" unreachable, "perm" no permission to read 127.0.0.1,
 * "!" unreadable or newer schema.
 */
export function badgeText(view) {
  if (view.kind === "unreachable") return "?";
  if (view.kind === "no_access") return NO_ACCESS_BADGE;
  if (view.kind !== "status") return "!";
  const n = problems(view.doc.counts);
  if (!n) return "";
  return n > 999 ? "999+" : String(n);
}

/** Everything the toolbar button shows, from the view, the shared palette and the shared words. */
export function badgeFor(view, palette, words) {
  return {
    text: badgeText(view),
    color: palette[view.state],
    textColor: palette.text_on?.[view.state] ?? "#000000",
    title: tooltip(view, words),
  };
}
