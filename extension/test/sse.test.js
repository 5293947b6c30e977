import test from "node:test";
import assert from "node:assert/strict";
import { SseParser } from "../lib/sse.js";

const STREAM = ": ping\n\nevent: status\ndata: {\"a\":1}\n\nevent: status\r\ndata: line1\r\ndata: line2\r\n\r\ndata: plain\n\n";
const EXPECTED = [
  { type: "comment", text: "ping" },
  { type: "event", event: "status", data: "{\"a\":1}" },
  { type: "event", event: "status", data: "line1\nline2" },
  { type: "event", event: "message", data: "plain" },
];

test("events, comments, CRLF and multi-line data", () => {
  assert.deepEqual(new SseParser().push(STREAM), EXPECTED);
});

test("the same items whatever the chunk boundaries (network reads split anywhere)", () => {
  for (let size = 1; size <= 7; size++) {
    const p = new SseParser();
    const out = [];
    for (let i = 0; i < STREAM.length; i += size) out.push(...p.push(STREAM.slice(i, i + size)));
    assert.deepEqual(out, EXPECTED, `chunk size ${size}`);
  }
});

test("an event is only delivered at its blank line", () => {
  const p = new SseParser();
  assert.deepEqual(p.push("event: status\ndata: {}\n"), []);
  assert.deepEqual(p.push("\n"), [{ type: "event", event: "status", data: "{}" }]);
});
