import test from "node:test";
import assert from "node:assert/strict";
import { firstError } from "../lib/schema.js";
import { schema, doc, alert } from "./helpers.js";

test("a good document passes, with extra fields (links, shift) allowed", () => {
  const d = doc({ links: [{ title: "Grafana", url: "https://g.example", group: null }], shift: { on_shift: true, text: "x" } });
  d.sources[0].alerts.push(alert("a1", "critical"), alert("a2", "info", { handled: true, handled_reason: "silenced" }));
  assert.equal(firstError(d, schema), null);
});

test("each kind of fault is named with its path", () => {
  const cases = [
    [(d) => { d.schema = 3; }, /\$\.schema: expected 2/],
    [(d) => { d.sources[0].capabilities = "acknowledge"; }, /\$\.sources\[0\]\.capabilities: expected array/],
    [(d) => { d.counts.critical = -1; }, /\$\.counts\.critical: below 0/],
    [(d) => { d.counts.warning = 1.5; }, /\$\.counts\.warning: expected integer/],
    [(d) => { d.generated_at = "yesterday"; }, /\$\.generated_at: wrong format/],
    [(d) => { d.sources[0].alerts.push({ ...alert("x", "fatal") }); }, /\$\.sources\[0\]\.alerts\[0\]\.severity/],
    [(d) => { delete d.sources[0].stale; }, /\$\.sources\[0\]: missing "stale"/],
    [(d) => { d.sources[0].checked_at = 5; }, /\$\.sources\[0\]\.checked_at/],
    [(d) => { d.groups = {}; }, /\$\.groups: expected array/],
  ];
  for (const [spoil, message] of cases) {
    const d = doc();
    spoil(d);
    assert.match(firstError(d, schema) ?? "passed", message);
  }
});
