import test from "node:test";
import assert from "node:assert/strict";
import { showOnToolbar, Notifier } from "../lib/view.js";
import { interpret } from "../lib/status.js";
import { normalise } from "../lib/settings.js";
import { MAX_LINKS } from "../lib/links.js";
import { FakeStorageArea, FakeNotifications } from "./fakes.js";
import { doc, group, alert, palette, schema, words } from "./helpers.js";

const on = normalise({ notifications: true, port: 17999, notify: { "*": { critical: true, ok: true } } });

function critical(url = "https://mon.example/c") {
  const d = doc({ health: "critical", c: { critical: 1 }, groups: [group("production", "critical", { critical: 1 })] });
  d.sources[0].alerts.push(alert("c", "critical", { url }));
  return d;
}
const ok = () => doc({ health: "ok" });

function notifier(now = () => 1) {
  const session = new FakeStorageArea();
  const notifications = new FakeNotifications();
  const opened = [];
  const n = new Notifier({
    notifications, session, tabs: { create: ({ url }) => opened.push(url) }, iconUrl: "icons/icon-128.png", now,
  });
  return { n, session, notifications, opened };
}

test("the badge, its colours and tooltip are set from the view, and the line the plain-browser tests read is logged", async () => {
  const calls = [];
  const action = new Proxy({}, { get: (_, name) => async (arg) => calls.push([name, arg]) });
  const logged = [];
  const view = interpret({ doc: critical(), port: 17474 }, schema);
  const badge = await showOnToolbar(action, view, { palette, words, splitIcon: true, log: { info: (l) => logged.push(l) } });
  assert.equal(badge.text, "1");
  const set = Object.fromEntries(calls);
  assert.deepEqual(set.setBadgeText, { text: "1" });
  assert.deepEqual(set.setBadgeBackgroundColor, { color: palette.critical });
  assert.equal(set.setTitle.title, badge.title);
  assert.equal("setIcon" in set, false);   // node has no OffscreenCanvas: the icon is the browser tests' part
  assert.deepEqual(logged, [`secondline badge "1" critical ${palette.critical}`]);
});

test("a change raises a notification whose click opens its alert, then forgets the link", async () => {
  const { n, notifications, opened, session } = notifier();
  assert.deepEqual(await n.changes(ok(), words, on), []);   // never on the first reading
  const [id] = await n.changes(critical(), words, on);
  assert.equal(notifications.shown.get(id).title, "production: Critical");
  assert.deepEqual((await session.get("links")).links, [[id, "https://mon.example/c"]]);
  await n.clicked(id);
  assert.deepEqual(opened, ["https://mon.example/c"]);
  assert.equal(notifications.shown.has(id), false);
  assert.deepEqual((await session.get("links")).links, []);
  await n.clicked(id);   // a second click (or one on a dropped link) opens nothing
  assert.equal(opened.length, 1);
});

test("a notification without an alert link leads to the tray's dashboard; closing it forgets the link", async () => {
  const { n, session } = notifier();
  await n.changes(critical(), words, on);
  const [id] = await n.changes(ok(), words, on);
  assert.deepEqual((await session.get("links")).links, [[id, "http://127.0.0.1:17999/"]]);
  await n.closed(id);
  assert.deepEqual((await session.get("links")).links, []);
});

test("the link map stays bounded however many notifications are raised and never clicked", async () => {
  let t = 0;
  const { n, session, notifications } = notifier(() => ++t);
  await n.changes(ok(), words, on);
  for (let i = 0; i < MAX_LINKS + 30; i++) {
    await n.changes(critical(`https://mon.example/${i}`), words, on);
    await n.changes(ok(), words, on);
  }
  const links = (await session.get("links")).links;
  assert.equal(notifications.created.length, 2 * (MAX_LINKS + 30));
  assert.equal(links.length, MAX_LINKS);
  // The newest are kept: the last raised is the last kept, the first ones are gone.
  assert.deepEqual(links.map(([id]) => id), notifications.created.slice(-MAX_LINKS));
});

test("a new port starts with a first reading again: no notification for the first document", async () => {
  const { n, notifications } = notifier();
  await n.changes(ok(), words, on);
  await n.forgetGroups();
  assert.deepEqual(await n.changes(critical(), words, on), []);
  assert.equal(notifications.created.length, 0);
});
