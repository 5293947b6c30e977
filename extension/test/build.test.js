import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { build, manifestFor } from "../build.mjs";
import { REPO } from "./helpers.js";

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "extension", "manifest.json"), "utf8"));

test("Chrome gets a service worker and the ID key; Firefox gets background scripts and its gecko id", () => {
  const chrome = manifestFor("chrome", manifest);
  assert.equal(chrome.background.service_worker, "background.js");
  assert.equal(chrome.background.scripts, undefined);
  assert.equal(chrome.browser_specific_settings, undefined);
  assert.ok(chrome.key);
  const firefox = manifestFor("firefox", manifest);
  assert.deepEqual(firefox.background.scripts, ["background.js"]);
  assert.equal(firefox.background.service_worker, undefined);
  assert.equal(firefox.key, undefined);
  assert.ok(firefox.browser_specific_settings.gecko.id);
  assert.deepEqual(firefox.browser_specific_settings.gecko.data_collection_permissions, { required: ["none"] });
});

test("the manifest reaches the tray on any port of 127.0.0.1 and localhost, with no other host", () => {
  assert.deepEqual(manifest.host_permissions.sort(), ["http://127.0.0.1/*", "http://localhost/*"]);
});

test("the build copies the contract from shared/ byte for byte into both packages and zips", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "secondline-build-"));
  try {
    const built = build(out);
    for (const browser of ["chrome", "firefox"]) {
      for (const f of ["palette.json", "status.schema.json", "vocabulary.json", "words.js"]) {
        assert.deepEqual(fs.readFileSync(path.join(built[browser].dir, "shared", f)),
          fs.readFileSync(path.join(REPO, "shared", f)), `${browser} ${f}`);
      }
      const listing = execFileSync("python3", ["-c",
        "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print('\\n'.join(z.namelist()))",
        built[browser].zip], { encoding: "utf8" }).split("\n");
      for (const f of ["manifest.json", "background.js", "popup.html", "options.html", "lib/status.js",
        "shared/palette.json", "shared/status.schema.json", "shared/vocabulary.json", "shared/words.js",
        "icons/icon-128.png"]) {
        assert.ok(listing.includes(f), `${browser} zip lacks ${f}`);
      }
      assert.ok(!listing.some((f) => f.startsWith("test/") || f.startsWith("node_modules/") || f === "package.json"));
    }
    // Reproducible: building again gives the same bytes.
    const first = fs.readFileSync(built.chrome.zip);
    build(out);
    assert.deepEqual(fs.readFileSync(built.chrome.zip), first);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test("Firefox: the minimum version admits both ESRs Debian bookworm ships (140 in main, 153 in security)", () => {
  const gecko = manifestFor("firefox", manifest).browser_specific_settings;
  const major = (v) => Number(v.split(".")[0]);
  assert.ok(major(gecko.gecko.strict_min_version) <= 140, gecko.gecko.strict_min_version);
  // data_collection_permissions: Firefox desktop reads it from 140, Firefox for Android from 142.
  assert.ok(major(gecko.gecko.strict_min_version) >= 140);
  assert.ok(major(gecko.gecko_android.strict_min_version) >= 142);
});
