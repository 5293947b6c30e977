import "./webcrypto.js";
import test from "node:test";
import assert from "node:assert/strict";
import { signRequest, genuineAnswer, b64url, bodyHash } from "../lib/signing.js";

// The same vectors as tests/outputs/http/test_signing.py: the tray (Python) and the extension must agree byte for byte.
const PAIRING = { client: "client-1", key: "test-key-0123456789" };
const AUTH = "Secondline client=client-1, ts=1767225600000, nonce=nonce-0123456789abcdef, " +
  "sig=i3uNY6fZTyWLV-MQ5Y-uCJP49uRy34rmyzr1-t7lvOQ";
const RESPONSE_SIG = "71lpYsn2mQCyHihfPY8SIGXgZFat-Q6f3C4BCLiz2B8";

test("a request is signed exactly as the tray checks it", async () => {
  const { authorization, sig } = await signRequest(PAIRING, "POST", "/actions/snooze", '{"preset":"1h"}',
    { ts: 1767225600000, nonce: "nonce-0123456789abcdef" });
  assert.equal(authorization, AUTH);
  assert.equal(sig, "i3uNY6fZTyWLV-MQ5Y-uCJP49uRy34rmyzr1-t7lvOQ");
  assert.ok(!authorization.includes(PAIRING.key), "the key itself is never sent");
});

test("each request gets a fresh nonce and the current time", async () => {
  const a = await signRequest(PAIRING, "POST", "/actions/seen", "{}");
  const b = await signRequest(PAIRING, "POST", "/actions/seen", "{}");
  assert.notEqual(a.authorization, b.authorization);
  const ts = Number(/ts=(\d+)/.exec(a.authorization)[1]);
  assert.ok(Math.abs(ts - Date.now()) < 60_000);
});

test("only an answer signed by the tray for this request is genuine", async () => {
  const body = new TextEncoder().encode('{"ok": true}');
  const sig = "i3uNY6fZTyWLV-MQ5Y-uCJP49uRy34rmyzr1-t7lvOQ";
  assert.equal(await genuineAnswer(PAIRING.key, sig, 200, body, RESPONSE_SIG), true);
  assert.equal(await genuineAnswer(PAIRING.key, sig, 201, body, RESPONSE_SIG), false, "another status");
  assert.equal(await genuineAnswer(PAIRING.key, sig, 200, new TextEncoder().encode('{"ok":true}'), RESPONSE_SIG), false);
  assert.equal(await genuineAnswer("another-key", sig, 200, body, RESPONSE_SIG), false);
  assert.equal(await genuineAnswer(PAIRING.key, "x" + sig.slice(1), 200, body, RESPONSE_SIG), false, "another request");
  for (const missing of [null, undefined, "", "abc"]) assert.equal(await genuineAnswer(PAIRING.key, sig, 200, body, missing), false);
});

test("base64url and body hash", async () => {
  assert.equal(b64url(new Uint8Array([251, 255, 191])), "-_-_");
  assert.equal(await bodyHash(""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
});
