// The extension signs with the Web Crypto global that browsers (and Node 20+) provide; Debian bookworm's
// Node 18 has it only as node:crypto's webcrypto. Imported first by the tests that sign, so lib/ stays
// browser code with no Node fallback in it.
import { webcrypto } from "node:crypto";

if (!globalThis.crypto) globalThis.crypto = webcrypto;
