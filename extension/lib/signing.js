// Signed requests to the tray (the tray's side: tray/outputs/http/signing.py; the two must agree byte for byte, which
// test/signing.test.js checks on the same vectors as tests/outputs/http/test_signing.py).
//
// The extension never sends its key. Each action carries
//   Authorization: Secondline client=ID, ts=MILLISECONDS, nonce=RANDOM, sig=HMAC-SHA256(key, canonical request)
// over the method, path, client, time, nonce and the SHA-256 of the body, and the tray answers with
//   X-Secondline-Signature: HMAC-SHA256(key, canonical response)
// over that signature, the status and the body, so that an answer from anything else on the port (an impostor
// bound to it while the tray is down) is recognised and not believed. Web Crypto only (pages, workers, Node).

export const VERSION = "secondline-v1";
export const RESPONSE_HEADER = "X-Secondline-Signature";

const encoder = new TextEncoder();

function bytes(data) {
  return typeof data === "string" ? encoder.encode(data) : new Uint8Array(data ?? []);
}

export function b64url(data) {
  let s = "";
  for (const b of bytes(data)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function mac(key, text) {
  const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return b64url(await crypto.subtle.sign("HMAC", k, encoder.encode(text)));
}

export async function bodyHash(body) {
  return b64url(await crypto.subtle.digest("SHA-256", bytes(body)));
}

export function newNonce() {
  return b64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** The Authorization header value for one request, and its signature (to check the answer against). */
export async function signRequest({ client, key }, method, path, body, { ts = Date.now(), nonce = newNonce() } = {}) {
  const canonical = [VERSION, method.toUpperCase(), path, client, String(ts), nonce, await bodyHash(body)].join("\n");
  const sig = await mac(key, canonical);
  return { authorization: `Secondline client=${client}, ts=${ts}, nonce=${nonce}, sig=${sig}`, sig };
}

/** The tray's signature of an answer (what genuineAnswer expects; the fake trays of the tests sign with it). */
export async function signAnswer(key, requestSig, status, body) {
  return mac(key, [`${VERSION} response`, requestSig, String(status), await bodyHash(body)].join("\n"));
}

/** Whether an answer was signed by the tray for this request. */
export async function genuineAnswer(key, requestSig, status, body, header) {
  if (typeof header !== "string" || !header) return false;
  const want = await signAnswer(key, requestSig, status, body);
  if (want.length !== header.length) return false;
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff |= want.charCodeAt(i) ^ header.charCodeAt(i);
  return diff === 0;
}
