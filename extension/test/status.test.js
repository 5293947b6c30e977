import test from "node:test";
import assert from "node:assert/strict";
import { interpret, badgeFor, tooltip, docState, SUPPORTED_SCHEMA } from "../lib/status.js";
import { palette, schema, doc, group, words } from "./helpers.js";

const show = (d) => badgeFor(interpret({ doc: d, port: 17474 }, schema), palette, words);

test("the extension understands exactly the schema version in shared/ (fails when the contract moves)", () => {
  assert.equal(schema.properties.schema.const, SUPPORTED_SCHEMA);
});

test("ok: blank badge on the ok colour", () => {
  const b = show(doc());
  assert.deepEqual([b.text, b.color, b.textColor], ["", palette.ok, palette.text_on.ok]);
});

test("badge counts critical + warning + unknown, coloured by health; handled and pending do not count", () => {
  const b = show(doc({ health: "critical", c: { critical: 2, warning: 1, unknown: 1, handled: 5, pending: 3 } }));
  assert.equal(b.text, "4");
  assert.equal(b.color, palette.critical);
  assert.equal(b.textColor, palette.text_on.critical);
  assert.equal(show(doc({ health: "warning", c: { warning: 1 } })).color, palette.warning);
  assert.equal(show(doc({ health: "unknown", c: { unknown: 3 } })).color, palette.unknown);
});

test("all problems handled: blank badge on the dark green handled_only colour", () => {
  const b = show(doc({ health: "ok", handledOnly: true, c: { handled: 2 } }));
  assert.equal(b.text, "");
  assert.equal(b.color, palette.handled_only);
  assert.match(b.title, /^secondline: All OK, 2 handled$/m);
});

test("handled_only never hides an unhandled problem", () => {
  assert.equal(docState(doc({ health: "critical", handledOnly: true, c: { critical: 1 } })), "critical");
});

test("a big count is capped to fit the badge", () => {
  assert.equal(show(doc({ health: "critical", c: { critical: 1200 } })).text, "999+");
});

test("no sources, or none polled yet: no-data grey, blank", () => {
  const b = show(doc({ sources: [] }));
  assert.deepEqual([b.text, b.color], ["", palette.no_data]);
  assert.match(b.title, /no sources configured/);
  const d = doc();
  d.sources[0].checked_at = null;
  const w = show(d);
  assert.deepEqual([w.text, w.color], ["", palette.no_data]);
  assert.match(w.title, /waiting for the first poll/);
});

test("tray unreachable: '?' on grey, tooltip says how to start it", () => {
  const b = badgeFor(interpret({ error: "connection refused", port: 4242 }, schema), palette, words);
  assert.deepEqual([b.text, b.color], ["?", palette.no_data]);
  assert.match(b.title, /127\.0\.0\.1:4242/);
  assert.match(b.title, /secondline run/);
});

test("a newer schema shows '!' with a message, never a colour read from it", () => {
  for (const version of [3, 4, 10]) {
    const d = doc({ health: "critical", c: { critical: 3 } });
    d.schema = version;
    const b = show(d);
    assert.deepEqual([b.text, b.color], ["!", palette.no_data]);
    assert.match(b.title, new RegExp(`schema ${version}.*understands 2`));
  }
});

test("an older tray (schema 1, no capabilities) still shows its colour and count, marked older", () => {
  const d = doc({ health: "critical", c: { critical: 3 } });
  d.schema = 1;
  for (const s of d.sources) delete s.capabilities;
  const view = interpret({ doc: d, port: 17474 }, schema);
  assert.equal(view.kind, "status");
  assert.equal(view.older, true);
  const b = badgeFor(view, palette, words);
  assert.deepEqual([b.text, b.color], ["3", palette.critical]);
  assert.equal(interpret({ doc: doc(), port: 17474 }, schema).older, undefined);
  // Schema 1 is still checked: a wrong shape is refused as before.
  delete d.counts;
  assert.match(show(d).title, /missing "counts"/);
  // Schema 2 must list capabilities; schema 0 or none is no version this extension reads.
  const v2 = doc();
  delete v2.sources[0].capabilities;
  assert.match(show(v2).title, /missing "capabilities"/);
  const v0 = doc();
  v0.schema = 0;
  assert.equal(show(v0).text, "!");
});

test("a wrong-shaped document shows '!' naming what is wrong", () => {
  const d = doc();
  delete d.counts;
  const b = show(d);
  assert.equal(b.text, "!");
  assert.equal(b.color, palette.no_data);
  assert.match(b.title, /missing "counts"/);
  assert.equal(show("not JSON").text, "!");
  const e = doc();
  e.health = "purple";
  assert.match(show(e).title, /\$\.health/);
});

test("tooltip: a headline then one line per group, with unreachable sources named", () => {
  const d = doc({
    health: "critical", c: { critical: 2, warning: 1, unknown: 1, handled: 1 },
    groups: [group("production", "critical", { critical: 2, warning: 1 }), group("staging", "ok", { handled: 1 }, true),
      group("integration", "unknown", { unknown: 1 })],
  });
  d.sources[2].error = "connection refused";
  d.sources[2].checked_at = null;
  const lines = tooltip(interpret({ doc: d }, schema), words).split("\n");
  assert.deepEqual(lines, [
    "secondline: 2 critical, 1 unknown, 1 warning, 1 handled",
    "production: 2 critical, 1 warning",
    "staging: All OK, 1 handled",
    "integration: 1 unknown — icinga-integration cannot be read: connection refused",
  ]);
});

test("tooltip words the counts itself (as the popup does, whatever the tray's summary) and shows the shift line", () => {
  const d = doc({ health: "critical", c: { critical: 1 }, summary: "secondline: CRITICAL: 1 critical",
    shift: { on_shift: true, text: "On shift until 18:00" } });
  const t = tooltip(interpret({ doc: d }, schema), words);
  assert.match(t, /^secondline: 1 critical\n/);
  assert.match(t, /On shift until 18:00$/);
});
