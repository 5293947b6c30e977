import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { hasAccess, requestAccess, TRAY_ORIGINS, NO_ACCESS_LINE } from "../lib/access.js";
import { interpret, badgeFor } from "../lib/status.js";
import { palette, schema, REPO, words } from "./helpers.js";

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "extension", "manifest.json"), "utf8"));

function permissions(granted, { throws = false } = {}) {
  const asked = [];
  return {
    asked,
    contains: async (p) => {
      asked.push(["contains", p]);
      if (throws) throw new Error("Invalid host permission");
      return granted;
    },
    request: async (p) => {
      asked.push(["request", p]);
      return true;
    },
  };
}

test("the origin asked for is the one the extension reads, and the manifest declares it", () => {
  assert.deepEqual(TRAY_ORIGINS, ["http://127.0.0.1/*"]);
  for (const o of TRAY_ORIGINS) assert.ok(manifest.host_permissions.includes(o), o);
});

test("hasAccess asks the browser about 127.0.0.1 and passes its answer on", async () => {
  const yes = permissions(true);
  assert.equal(await hasAccess(yes), true);
  assert.deepEqual(yes.asked, [["contains", { origins: TRAY_ORIGINS }]]);
  assert.equal(await hasAccess(permissions(false)), false);
});

test("no permissions API, or one that does not know the origin: nothing to ask the user for", async () => {
  assert.equal(await hasAccess(undefined), true);
  assert.equal(await hasAccess({}), true);
  assert.equal(await hasAccess(permissions(false, { throws: true })), true);
});

test("requestAccess asks for exactly the tray's origin", async () => {
  const p = permissions(false);
  assert.equal(await requestAccess(p), true);
  assert.deepEqual(p.asked, [["request", { origins: TRAY_ORIGINS }]]);
});

test("no access: 'perm' on grey (not a bare '?'), and the tooltip says what to press", () => {
  const view = interpret({ noAccess: true, port: 4242 }, schema);
  assert.equal(view.kind, "no_access");
  const b = badgeFor(view, palette, words);
  assert.deepEqual([b.text, b.color], ["perm", palette.no_data]);
  assert.ok(b.title.includes(NO_ACCESS_LINE), b.title);
  assert.match(b.title, /Allow access/);
  assert.ok(b.text.length <= 4, "fits the badge");
});
