// The toolbar icon, like blinken's: one square in the overall colour, or split into blocks, one per group
// (the first group - e.g. production - takes the top half, the others share the bottom half side by side).
// Layout is pure (pixel rectangles) so it is unit-tested; drawing is a thin OffscreenCanvas loop.

import { groupState, worse } from "./status.js";

/** At most this many blocks share the bottom row; later groups fold into the last one (worst state wins). */
export const MAX_BOTTOM = 3;

/** The palette keys to draw, top block first. */
export function iconStates(view, split) {
  if (view.kind !== "status") return [view.state];
  const groups = view.doc.groups;
  if (!split || groups.length <= 1) return [view.state];
  const states = groups.map((g) => groupState(view.doc, g));
  const [top, ...rest] = states;
  const bottom = rest.slice(0, MAX_BOTTOM);
  for (const s of rest.slice(MAX_BOTTOM)) bottom[MAX_BOTTOM - 1] = worse(bottom[MAX_BOTTOM - 1], s);
  return [top, ...bottom];
}

/**
 * Pixel rectangles {x, y, w, h, state} covering a size x size icon with no gaps or overlaps.
 * One state: the whole square. More: the first takes the top half, the rest split the bottom half.
 */
export function iconBlocks(states, size) {
  if (states.length <= 1) return [{ x: 0, y: 0, w: size, h: size, state: states[0] ?? "no_data" }];
  const half = Math.round(size / 2);
  const blocks = [{ x: 0, y: 0, w: size, h: half, state: states[0] }];
  const n = states.length - 1;
  for (let i = 0; i < n; i++) {
    const x0 = Math.round((i * size) / n);
    const x1 = Math.round(((i + 1) * size) / n);
    blocks.push({ x: x0, y: half, w: x1 - x0, h: size - half, state: states[i + 1] });
  }
  return blocks;
}

/** Draw the blocks onto a 2D context; a thin light rule between blocks keeps equal colours apart. */
export function drawIcon(ctx, blocks, palette, size) {
  ctx.clearRect(0, 0, size, size);
  for (const b of blocks) {
    ctx.fillStyle = palette[b.state] ?? palette.no_data;
    ctx.fillRect(b.x, b.y, b.w, b.h);
  }
  if (blocks.length > 1) {
    const rule = Math.max(1, Math.round(size / 32));
    ctx.fillStyle = "#ffffff";
    for (const b of blocks.slice(1)) {
      ctx.fillRect(0, b.y, size, rule);                    // between the top half and the bottom row
      if (b.x > 0) ctx.fillRect(b.x, b.y, rule, b.h);      // between bottom blocks
    }
  }
}
