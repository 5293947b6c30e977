import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { wordsFrom } from "../../shared/words.js";
import { transitions } from "../lib/notify.js";
import { tooltip, interpret } from "../lib/status.js";
import { normalise } from "../lib/settings.js";
import { vocabulary, words, schema, doc, group, REPO } from "./helpers.js";

// The same examples tests/core/test_words.py checks tray/core/words.py against: one set of words, one set of rules.
const ex = vocabulary.$examples;

test("summaries: the vocabulary's examples", () => {
  for (const e of ex.summary) assert.equal(words.summary(e.state, e.counts), e.text, JSON.stringify(e));
});

test("labels, alert tags and phrases: the vocabulary's examples", () => {
  for (const e of ex.label) assert.equal(words.label(e.key), e.text);
  for (const e of ex.tag) assert.equal(words.alertTag(e.alert), e.text, JSON.stringify(e.alert));
  for (const e of ex.phrase) assert.equal(words.phrase(e.phrase, e.values), e.text);
});

test("every word the extension shows comes from the vocabulary file: change it there, it changes here", () => {
  const v = structuredClone(vocabulary);
  v.words.critical = "KRIT";
  v.words.ok = "grün";
  v.phrases.unreadable = "unlesbar: {reason}";
  const w = wordsFrom(v);
  const d = doc({ health: "critical", c: { critical: 1, unknown: 1 },
    groups: [group("production", "critical", { critical: 1 }), group("staging", "unknown", { unknown: 1 })] });
  d.sources[1].error = "HTTP 503";
  const tip = tooltip(interpret({ doc: d }, schema), w);
  assert.equal(tip.split("\n")[0], "secondline: 1 KRIT, 1 unknown");
  assert.match(tip, /icinga-staging unlesbar: HTTP 503/);
  const [n] = transitions({ production: "ok", staging: "unknown" }, d,
    normalise({ notifications: true, notify: { "*": { critical: true } } }), w);
  assert.equal(n.title, "production: KRIT");
  const calm = doc({ groups: [group("production", "ok")] });
  const [back] = transitions({ production: "critical" }, calm, normalise({ notifications: true, notify: { "*": { ok: true } } }), w);
  assert.deepEqual([back.title, back.message], ["production: Grün", "was KRIT"]);
});

test("no page or module of the extension keeps a state word of its own", () => {
  // The words the issue found in five spellings; none may be written into the extension's code again.
  const stray = /\b(ACK|CRIT|WARN|UNKN|Acknowledged|unhandled problem|All problems handled|No open problems)\b/;
  const files = ["popup.js", "popup.html", "options.js", "options.html", "background.js",
    // (lib/actions.js words what an action did, "Acknowledged" included: a verb, not a state)
    ...fs.readdirSync(path.join(REPO, "extension", "lib")).filter((f) => f !== "actions.js").map((f) => path.join("lib", f))];
  for (const f of files) {
    const text = fs.readFileSync(path.join(REPO, "extension", f), "utf8").replace(/^\s*(\/\/|\*|\/\*).*$/gm, "");
    assert.doesNotMatch(text, stray, f);
  }
});
