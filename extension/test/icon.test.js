import test from "node:test";
import assert from "node:assert/strict";
import { iconStates, iconBlocks, drawIcon, MAX_BOTTOM } from "../lib/icon.js";
import { interpret } from "../lib/status.js";
import { palette, schema, doc, group } from "./helpers.js";

const three = () => doc({
  health: "critical", c: { critical: 1, warning: 1 },
  groups: [group("production", "critical", { critical: 1 }), group("staging", "warning", { warning: 1 }),
    group("integration", "ok", { handled: 1 }, true)],
});
const view = (d) => interpret({ doc: d }, schema);

test("blinken's split: production the top half, staging and integration the bottom quarters", () => {
  const states = iconStates(view(three()), true);
  assert.deepEqual(states, ["critical", "warning", "handled_only"]);
  assert.deepEqual(iconBlocks(states, 32), [
    { x: 0, y: 0, w: 32, h: 16, state: "critical" },
    { x: 0, y: 16, w: 16, h: 16, state: "warning" },
    { x: 16, y: 16, w: 16, h: 16, state: "handled_only" },
  ]);
});

test("split off, or a single group: one plain block in the overall state", () => {
  assert.deepEqual(iconStates(view(three()), false), ["critical"]);
  assert.deepEqual(iconStates(view(doc({ health: "warning", c: { warning: 1 } })), true), ["warning"]);
  assert.deepEqual(iconBlocks(["warning"], 16), [{ x: 0, y: 0, w: 16, h: 16, state: "warning" }]);
});

test("unreachable or unreadable: one grey block whatever the split setting", () => {
  assert.deepEqual(iconStates(interpret({ error: "refused" }, schema), true), ["no_data"]);
});

test("more groups than fit the bottom row fold into the last block, worst state winning", () => {
  const d = doc({
    health: "critical", c: { critical: 1 },
    groups: ["a", "b", "c", "d", "e", "f"].map((n) => group(n, n === "f" ? "critical" : "ok")),
  });
  const states = iconStates(view(d), true);
  assert.equal(states.length, 1 + MAX_BOTTOM);
  assert.deepEqual(states, ["ok", "ok", "ok", "critical"]);
});

test("blocks tile the square exactly (no gap, no overlap) for every size and count", () => {
  for (const size of [16, 19, 32, 33, 48]) {
    for (let n = 1; n <= 1 + MAX_BOTTOM; n++) {
      const grid = new Array(size * size).fill(0);
      const blocks = iconBlocks(Array.from({ length: n }, () => "ok"), size);
      assert.equal(blocks.length, n);
      for (const b of blocks) {
        assert.ok(b.w > 0 && b.h > 0, `empty block at size ${size}, n ${n}`);
        for (let y = b.y; y < b.y + b.h; y++) for (let x = b.x; x < b.x + b.w; x++) grid[y * size + x] += 1;
      }
      assert.ok(grid.every((v) => v === 1), `size ${size}, ${n} blocks`);
    }
  }
});

test("drawIcon fills each block with its palette colour", () => {
  const fills = [];
  const ctx = { fillStyle: null, clearRect() {}, fillRect(x, y, w, h) { fills.push([this.fillStyle, x, y, w, h]); } };
  drawIcon(ctx, iconBlocks(["critical", "warning", "ok"], 32), palette, 32);
  assert.deepEqual(fills.slice(0, 3), [
    [palette.critical, 0, 0, 32, 16], [palette.warning, 0, 16, 16, 16], [palette.ok, 16, 16, 16, 16],
  ]);
  assert.ok(fills.slice(3).every(([c]) => c === "#ffffff"), "then only the white rules between blocks");
});
