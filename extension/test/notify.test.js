import test from "node:test";
import assert from "node:assert/strict";
import { transitions, groupStates, linkFor, snoozed } from "../lib/notify.js";
import { normalise } from "../lib/settings.js";
import { doc, group, alert, words } from "./helpers.js";

const critical = () => {
  const d = doc({ health: "critical", c: { critical: 1 }, groups: [group("production", "critical", { critical: 1 }), group("staging", "ok")] });
  d.sources[0].alerts.push(alert("w", "warning", { url: "https://mon.example/w" }), alert("c", "critical", { url: "https://mon.example/c" }));
  return d;
};
const on = (notify) => normalise({ notifications: true, notify });

test("never on the first reading", () => {
  assert.deepEqual(transitions(null, critical(), on({ "*": { critical: true } }), words), []);
});

test("a change to a state switched on for that group notifies, linking its worst alert", () => {
  const n = transitions({ production: "ok", staging: "ok" }, critical(), on({ production: { critical: true } }), words);
  assert.equal(n.length, 1);
  assert.equal(n[0].group, "production");
  assert.equal(n[0].title, "production: Critical");
  assert.equal(n[0].message, "1 critical");
  assert.equal(n[0].url, "https://mon.example/c");
});

test("off by default, off per state, and no repeat while the state stays", () => {
  assert.deepEqual(transitions({ production: "ok" }, critical(), normalise({}), words), []);
  assert.deepEqual(transitions({ production: "ok" }, critical(), on({ production: { warning: true } }), words), []);
  assert.deepEqual(transitions({ production: "critical" }, critical(), on({ production: { critical: true } }), words), []);
});

test("groups without their own row follow the 'any other group' row", () => {
  const n = transitions({ production: "ok" }, critical(), on({ "*": { critical: true }, staging: { critical: true } }), words);
  assert.deepEqual(n.map((x) => x.group), ["production"]);
});

test("groupStates and linkFor skip handled alerts", () => {
  const d = critical();
  d.sources[0].alerts[1].handled = true;
  assert.equal(linkFor(d, "production"), "https://mon.example/w");
  assert.deepEqual(groupStates(d), { production: "critical", staging: "ok" });
});

test("nothing while the tray's notifications are snoozed", () => {
  const d = critical();
  const now = Date.parse("2026-11-26T12:00:00Z");
  d.notifications.snoozed_until = "2026-11-26T13:00:00Z";
  assert.equal(snoozed(d, now), true);
  assert.deepEqual(transitions({ production: "ok" }, d, on({ production: { critical: true } }), words, now), []);
  d.notifications.snoozed_until = "2026-11-26T11:00:00Z";
  assert.equal(snoozed(d, now), false);
  assert.equal(transitions({ production: "ok" }, d, on({ production: { critical: true } }), words, now).length, 1);
});
