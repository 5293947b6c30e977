"""The CLI's channel where there are no Unix sockets (Windows): the TCP endpoint, with the tray proving
itself first.

1. POST /control/hello {"nonce": C}: the tray answers {"nonce": S, "proof": HMAC(K, C, S)}, K being the
   install's "local" key derived from the master in the keyring (the Credential Manager on Windows),
   which only this user can read. A wrong proof: the listener is not secondline, and the CLI stops.
2. POST /control {"command", "args", "challenge": S}, signed with K (tray.outputs.http.signing); S is single-use.
   The answer is signed too, and checked.

An impostor on the port learns a random C and a failed proof; nothing it can replay (S is the tray's, and
a request signed for one S is refused for any other). What it cannot give: the OS's word on who is at
the other end, which the Unix socket has.
"""
from __future__ import annotations

import http.client
import json
from typing import Any, Mapping

from tray.outputs.http import signing
from tray.core.errors import ControlError, CredentialError, NotRunning, NotSecondline


def _post(conn: http.client.HTTPConnection, port: int, path: str, body: bytes,
          headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    h = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json", **(headers or {})}
    conn.request("POST", path, body=body, headers=h)
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(16 * 1024 * 1024)


def call(port: int, command: str, args: Mapping[str, Any], timeout: float = 30) -> dict[str, Any]:
    from tray.outputs.http.pairing import stored_token
    try:
        key = signing.derive(stored_token(), "local")
    except CredentialError as exc:
        raise ControlError(f"cannot prove this is you to the tray without its key: {exc}") from None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        nonce = signing.new_nonce()
        try:
            status, _, body = _post(conn, port, "/control/hello", json.dumps({"nonce": nonce}).encode())
        except ConnectionRefusedError:
            raise NotRunning(f"secondline is not running on port {port}: start it with `secondline run`, "
                             "or give the port it runs on with --port") from None
        try:
            hello = json.loads(body)
            server_nonce, proof = str(hello["nonce"]), str(hello["proof"])
        except (ValueError, KeyError, TypeError):
            hello, server_nonce, proof = None, "", ""
        if status != 200 or not hello or not signing.equal(proof, signing.hello_proof(key, nonce, server_nonce)):
            raise NotSecondline(f"the program on 127.0.0.1:{port} is not secondline (it could not prove it knows "
                                "this install's key); nothing was sent to it")
        payload = json.dumps({"command": command, "args": dict(args), "challenge": server_nonce}).encode()
        auth = signing.sign_request(key, "POST", "/control", "local", payload)
        status, headers, body = _post(conn, port, "/control", payload, {"Authorization": auth})
        sig = signing.parse_authorization(auth).sig      # type: ignore[union-attr]
        got = headers.get(signing.RESPONSE_HEADER.lower(), "")
        if not signing.equal(got, signing.sign_response(key, sig, status, body)):
            raise NotSecondline(f"the answer from 127.0.0.1:{port} is not signed by the tray")
        reply = json.loads(body)
    except (OSError, http.client.HTTPException) as exc:
        raise ControlError(f"cannot talk to the tray on 127.0.0.1:{port}: {exc}") from None
    except ValueError:
        raise ControlError("the tray's answer was not JSON") from None
    finally:
        conn.close()
    if not isinstance(reply, dict):
        raise ControlError("the tray's answer was not understood")
    return {**reply, "status": status}
