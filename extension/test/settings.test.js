import test from "node:test";
import assert from "node:assert/strict";
import { parsePort, normalise, DEFAULTS } from "../lib/settings.js";

test("ports", () => {
  assert.equal(parsePort("17474"), 17474);
  assert.equal(parsePort(" 8080 "), 8080);
  for (const bad of ["0", "65536", "-1", "80.5", "abc", "", "1e3"]) assert.equal(parsePort(bad), null, bad);
});

test("defaults: port 17474, split icon on, browser notifications off", () => {
  assert.deepEqual(normalise(undefined), { port: 17474, splitIcon: true, notifications: false, notify: {} });
  assert.equal(DEFAULTS.port, 17474);
  assert.equal(normalise({ port: "99999" }).port, 17474);
  assert.equal(normalise({ splitIcon: false }).splitIcon, false);
});
