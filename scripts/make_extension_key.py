#!/usr/bin/env python3
"""Make (once) the signing key that fixes the Chrome extension ID, and print the public manifest `key` and the ID.

The private key is written OUTSIDE the repository (default ~/.config/secondline/extension-key.pem, mode 0600):
only the public `key` string goes into extension/manifest.json. Chrome derives the extension ID from that
public key (sha256 of the DER SubjectPublicKeyInfo, first 32 hex digits mapped 0-f -> a-p), so every unpacked
install and the packed build get the same ID, which the tray's `allowed_origins` can name.

    .venv/bin/python scripts/make_extension_key.py [--key PATH] [--write-manifest]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "extension" / "manifest.json"
DEFAULT_KEY = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "secondline" / "extension-key.pem"


def extension_id(public_der: bytes) -> str:
    """Chrome's ID for a public key: the first 128 bits of its sha256, written with the letters a-p."""
    return "".join(chr(ord("a") + int(c, 16)) for c in hashlib.sha256(public_der).hexdigest()[:32])


def id_from_manifest_key(key_b64: str) -> str:
    return extension_id(base64.b64decode(key_b64))


def load_or_create(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), None)
    if REPO in path.resolve().parents:
        sys.exit(f"refusing to write a private key inside the repository: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", type=Path, default=DEFAULT_KEY, help="private key file (kept outside the repo)")
    ap.add_argument("--write-manifest", action="store_true", help="put the public key into extension/manifest.json")
    args = ap.parse_args()
    key = load_or_create(args.key)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    public = base64.b64encode(der).decode()
    if args.write_manifest:
        manifest = json.loads(MANIFEST.read_text())
        manifest["key"] = public
        MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"private key: {args.key}")
    print(f"manifest key: {public}")
    print(f"extension id: {extension_id(der)}")


if __name__ == "__main__":
    main()
