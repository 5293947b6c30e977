#!/usr/bin/env node
// Build the extension for Chrome and Firefox from the one source tree:
//   dist/extension-chrome/   unpacked, for "Load unpacked" and the browser tests
//   dist/extension-firefox/  unpacked, for `web-ext lint` / `web-ext run`
//   dist/secondline-chrome.zip, dist/secondline-firefox.zip
// The contract files (palette, status schema, vocabulary and words.js) are copied from the project's shared/ on every build, so the
// extension never carries a hand-kept copy that could drift. Node built-ins only; the zips are reproducible
// (fixed timestamps, sorted entries).
//
//   node build.mjs [--out DIR]     (DIR defaults to <repo>/dist)

import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(HERE);
// The contract: palette, status schema, the words (vocabulary.json) and the rules that apply them (words.js).
const SHARED = ["palette.json", "status.schema.json", "vocabulary.json", "words.js"];
// What ships: everything the manifest and pages load, nothing of the tooling.
const SOURCES = ["background.js", "popup.html", "popup.js", "popup.css", "options.html", "options.js", "lib", "icons"];

function outDir() {
  const i = process.argv.indexOf("--out");
  return i > 0 ? path.resolve(process.argv[i + 1]) : path.join(REPO, "dist");
}

/** The manifest for one browser: each keeps only the background form it runs, and its own keys. */
export function manifestFor(browser, manifest) {
  const m = structuredClone(manifest);
  if (browser === "chrome") {
    delete m.background.scripts;
    delete m.browser_specific_settings;
  } else {
    delete m.background.service_worker;
    delete m.key;   // Chrome's ID key means nothing to Firefox, which uses gecko.id
  }
  return m;
}

function copyTree(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.cpSync(src, dst, { recursive: true });
}

function listFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [path.relative(base, p).split(path.sep).join("/")];
  }).sort();
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A plain deflate zip of a directory (what both stores and "install from file" accept). */
function zipDir(dir, zipPath) {
  const DOS_DATE = (0 << 9) | (1 << 5) | 1;   // 1980-01-01, so that equal trees give equal zips
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const name of listFiles(dir)) {
    const data = fs.readFileSync(path.join(dir, name));
    const packed = zlib.deflateRawSync(data, { level: 9 });
    const nameBuf = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8); local.writeUInt16LE(0, 10); local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(packed.length, 18); local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26); local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8); central.writeUInt16LE(8, 10); central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE, 14); central.writeUInt32LE(crc, 16); central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24); central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(0, 30); central.writeUInt32LE(0, 34); central.writeUInt32LE((0o100644 * 0x10000) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(centrals.length / 2, 8); end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  fs.writeFileSync(zipPath, Buffer.concat([...locals, cd, end]));
}

export function build(out = outDir()) {
  const manifest = JSON.parse(fs.readFileSync(path.join(HERE, "manifest.json"), "utf8"));
  const built = {};
  for (const browser of ["chrome", "firefox"]) {
    const dir = path.join(out, `extension-${browser}`);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const s of SOURCES) copyTree(path.join(HERE, s), path.join(dir, s));
    for (const s of SHARED) copyTree(path.join(REPO, "shared", s), path.join(dir, "shared", s));
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifestFor(browser, manifest), null, 2) + "\n");
    const zip = path.join(out, `secondline-${browser}.zip`);
    zipDir(dir, zip);
    built[browser] = { dir, zip };
  }
  return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = build();
  for (const [browser, { dir, zip }] of Object.entries(built)) console.log(`${browser}: ${dir}  ${zip}`);
}
