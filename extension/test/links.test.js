import test from "node:test";
import assert from "node:assert/strict";
import { remember, forget, lookup, LinkStore, MAX_LINKS, STORAGE_KEY } from "../lib/links.js";
import { FakeStorageArea } from "./fakes.js";

test("the newest MAX_LINKS are kept, oldest dropped first", () => {
  let links = [];
  for (let i = 0; i < MAX_LINKS + 50; i++) links = remember(links, `n${i}`, `https://mon.example/${i}`);
  assert.equal(MAX_LINKS, 100);
  assert.equal(links.length, MAX_LINKS);
  assert.equal(lookup(links, "n49"), null);
  assert.equal(lookup(links, "n50"), "https://mon.example/50");
  assert.equal(lookup(links, `n${MAX_LINKS + 49}`), `https://mon.example/${MAX_LINKS + 49}`);
  assert.deepEqual(links.map(([id]) => id), Array.from({ length: MAX_LINKS }, (_, i) => `n${i + 50}`));
});

test("an id raised again counts as new and is not kept twice", () => {
  let links = remember(remember(remember([], "a", "1"), "b", "2"), "a", "3", 2);
  assert.deepEqual(links, [["b", "2"], ["a", "3"]]);
  links = remember(links, "c", "4", 2);
  assert.deepEqual(links, [["a", "3"], ["c", "4"]]);
});

test("forget drops one link; anything but a list of pairs reads as no links", () => {
  const links = remember(remember([], "a", "1"), "b", "2");
  assert.deepEqual(forget(links, "a"), [["b", "2"]]);
  assert.deepEqual(forget(links, "zz"), links);
  // The form older versions stored ({id: url}), or garbage: start again rather than fail every click.
  for (const junk of [undefined, null, { a: "1" }, "x", [["a"]], [null]]) {
    assert.equal(lookup(junk, "a"), null);
    assert.deepEqual(remember(junk, "b", "2"), [["b", "2"]]);
  }
});

test("the store keeps its order through storage that sorts keys, and stays bounded", async () => {
  const area = new FakeStorageArea();
  const store = new LinkStore(area, 3);
  // Ids whose sorted order is not their age: an object map would lose which is oldest.
  for (const id of ["z", "m", "a", "k"]) await store.add(id, `https://mon.example/${id}`);
  assert.deepEqual((await store.all()).map(([id]) => id), ["m", "a", "k"]);
  assert.equal(await store.get("z"), null);
  assert.equal(await store.get("a"), "https://mon.example/a");
  // A worker started later reads the same map.
  assert.equal(await new LinkStore(area, 3).get("k"), "https://mon.example/k");
});

test("changes made at the same time are all kept (no read-modify-write race)", async () => {
  const area = new FakeStorageArea();
  const store = new LinkStore(area);
  await Promise.all([store.add("a", "1"), store.add("b", "2"), store.remove("a"), store.add("c", "3")]);
  assert.deepEqual(await store.all(), [["b", "2"], ["c", "3"]]);
});

test("forgetting an unknown id writes nothing", async () => {
  const area = new FakeStorageArea();
  const store = new LinkStore(area);
  await store.add("a", "1");
  const writes = area.writes;
  await store.remove("nope");
  assert.equal(area.writes, writes);
  assert.deepEqual(JSON.parse(area.data[STORAGE_KEY]), [["a", "1"]]);
});
