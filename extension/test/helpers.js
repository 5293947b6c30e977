// Test helpers: the shared contract as the extension gets it, and small status documents.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { wordsFrom } from "../../shared/words.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const palette = JSON.parse(fs.readFileSync(path.join(REPO, "shared", "palette.json"), "utf8"));
export const schema = JSON.parse(fs.readFileSync(path.join(REPO, "shared", "status.schema.json"), "utf8"));
/** shared/vocabulary.json, as the extension and the tray read it, with shared/words.js's rules over it. */
export const vocabulary = JSON.parse(fs.readFileSync(path.join(REPO, "shared", "vocabulary.json"), "utf8"));
export const words = wordsFrom(vocabulary);
export { REPO };

const NOW = "2026-11-26T18:00:00Z";

export function counts(c = {}) {
  return { critical: 0, warning: 0, unknown: 0, handled: 0, pending: 0, ...c };
}

export function alert(id, severity, extra = {}) {
  return {
    id, source: "src", title: `alert ${id}`, detail: "", severity, since: NOW,
    url: `https://mon.example/${id}`, handled: false, handled_reason: null, pending: false, ...extra,
  };
}

/** A schema-valid document; groups: [{name, health, handled_only, counts}], sources per group made up. */
export function doc({ health = "ok", handledOnly = false, c = {}, groups = null, sources = null, ...extra } = {}) {
  const gs = groups ?? [{ name: "production", health, handled_only: handledOnly, counts: counts(c) }];
  return {
    schema: 2, generated_at: NOW, health, handled_only: handledOnly, counts: counts(c),
    groups: gs,
    sources: sources ?? gs.map((g) => ({
      name: `icinga-${g.name}`, type: "icinga2", group: g.name, health: g.health, checked_at: NOW,
      error: null, stale: false, on_call: null, capabilities: ["acknowledge", "recheck"], alerts: [],
    })),
    notifications: { snoozed_until: null },
    ...extra,
  };
}

export function group(name, health, c = {}, handledOnly = false) {
  return { name, health, handled_only: handledOnly, counts: counts(c) };
}
