import test from "node:test";
import assert from "node:assert/strict";
import { safeUrl, sourceSections, tiles, age } from "../lib/popup_model.js";
import { doc, group, alert, words } from "./helpers.js";

test("only http(s) links become hrefs", () => {
  assert.equal(safeUrl("https://mon.example/a?b=1"), "https://mon.example/a?b=1");
  assert.equal(safeUrl("javascript:alert(1)"), null);
  assert.equal(safeUrl("data:text/html,x"), null);
  assert.equal(safeUrl(null), null);
  assert.equal(safeUrl("not a url"), null);
});

test("alerts by source, newest first, handled ones apart, unreachable sources with their reason", () => {
  const d = doc({ groups: [group("production", "critical", { critical: 2 }), group("staging", "unknown", { unknown: 1 })] });
  d.sources[0].alerts = [
    alert("old", "critical", { since: "2026-11-26T10:00:00Z" }),
    alert("new", "critical", { since: "2026-11-26T12:00:00Z" }),
    alert("nodate", "warning", { since: null }),
    alert("acked", "critical", { handled: true, handled_reason: "acknowledged" }),
  ];
  d.sources[1].error = "HTTP 503";
  d.sources[1].health = "unknown";
  const [prod, staging] = sourceSections(d, words);
  assert.deepEqual(prod.open.map((a) => a.id), ["new", "old", "nodate"]);
  assert.deepEqual(prod.handled.map((a) => a.id), ["acked"]);
  assert.equal(prod.problem, null);
  assert.equal(staging.problem, "cannot be read: HTTP 503");
  assert.equal(staging.unreadable, true);
  assert.deepEqual(prod.capabilities, ["acknowledge", "recheck"]);
  delete d.sources[0].capabilities;
  assert.equal(sourceSections(d, words)[0].capabilities, null, "an older tray lists none");
});

test("tiles carry blinken's counts and the group state", () => {
  const d = doc({ groups: [group("production", "ok", { handled: 2 }, true)] });
  assert.deepEqual(tiles(d), [{ name: "production", state: "handled_only", counts: { critical: 0, warning: 0, unknown: 0, handled: 2 } }]);
});

test("age", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  assert.equal(age("2026-11-26T11:59:30Z", now), "just now");
  assert.equal(age("2026-11-26T11:55:00Z", now), "5 min");
  assert.equal(age("2026-11-26T09:00:00Z", now), "3 h");
  assert.equal(age("2026-11-24T12:00:00Z", now), "2 d");
  assert.equal(age(null, now), "");
});
