"""Ed25519 seals over signatures, by the deployment's key (the only importer of ``cryptography``).

A seal is ``ed25519:<key id>:<signature>`` (URL-safe base64, no padding); the key id is the first
16 hex digits of the SHA-256 of the raw public key, so a verifier holding several public keys (the
current one and those rotated out) knows which one to try. A public key is written
``ed25519:<raw public key>``. The key file is JSON, mode 0600: ``{"private": ..., "previous": [...]}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mapsheets.adapters.files import write_text_atomic
from mapsheets.errors import UsageError

PREFIX = "ed25519"
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(*_RAW)


def _key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def _public(text: str, where: str) -> Ed25519PublicKey:
    body = text.strip().removeprefix(PREFIX + ":")
    try:
        return Ed25519PublicKey.from_public_bytes(_unb64(body))
    except ValueError:
        raise UsageError(f"{where}: {text.strip()[:60]!r} is not an Ed25519 public key") from None


def _private(text: str, where: str) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(_unb64(text.strip().removeprefix(PREFIX + ":")))
    except ValueError:
        raise UsageError(f"{where} is not an Ed25519 private key (32 bytes, URL-safe base64)") from None


@dataclass
class Keyring:
    """The key that seals (None: verify only) and every public key that may have sealed."""

    private: Ed25519PrivateKey | None = None
    publics: dict[str, Ed25519PublicKey] = field(default_factory=dict)  # key id -> key; current first

    def seal(self, payload: bytes) -> str:
        if self.private is None:
            raise UsageError("no signing key to seal with")
        kid = _key_id(self.private.public_key())
        return f"{PREFIX}:{kid}:{_b64(self.private.sign(payload))}"

    def verify(self, payload: bytes, seal: str) -> bool:
        """True when ``seal`` is a signature over ``payload`` by one of these public keys."""
        prefix, _, rest = (seal or "").strip().partition(":")
        kid, _, signature = rest.partition(":")
        key = self.publics.get(kid)
        if prefix != PREFIX or key is None:
            return False
        try:
            key.verify(_unb64(signature), payload)
        except (InvalidSignature, ValueError):
            return False
        return True

    def secret(self, purpose: bytes) -> bytes:
        """A secret for ``purpose`` (e.g. signing links) derived from the private key: one key to keep."""
        if self.private is None:
            raise UsageError("no signing key to derive a secret from")
        raw = self.private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                         serialization.NoEncryption())
        return hmac.new(raw, b"mapsheets:" + purpose, hashlib.sha256).digest()

    def public_keys(self) -> list[str]:
        return [f"{PREFIX}:{_b64(_raw_public(k))}" for k in self.publics.values()]


def from_public_keys(texts: Iterable[str], where: str = "public key") -> Keyring:
    """A keyring that only verifies, from published public keys (what a buyer holds)."""
    keys = [_public(t, where) for t in texts if t.strip()]
    return Keyring(None, {_key_id(k): k for k in keys})


def _ring(private: Ed25519PrivateKey | None, previous: Iterable[Ed25519PublicKey]) -> Keyring:
    keys = ([private.public_key()] if private else []) + list(previous)
    return Keyring(private, {_key_id(k): k for k in keys})


def from_text(private: str, previous: Iterable[str] = (), where: str = "MAPSHEETS_SIGNING_KEY") -> Keyring:
    """The server's keyring from its environment: the private key and the public keys rotated out."""
    return _ring(_private(private, where), [_public(p, where) for p in previous if p.strip()])


def load(path: Path, *, create: bool) -> Keyring:
    """The keyring kept in ``path``; made there (mode 0600) when missing and ``create``; empty if not."""
    path = Path(path)
    if not path.exists():
        if not create:
            return Keyring()
        _create(path, Ed25519PrivateKey.generate())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _ring(_private(data["private"], str(path)), [_public(p, str(path)) for p in data.get("previous", [])])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a mapsheets signing key file ({exc})") from None


def rotate(path: Path) -> Keyring:
    """A new private key in ``path``; the old public keys stay, so old seals still verify."""
    old = load(path, create=True)
    _write(Path(path), Ed25519PrivateKey.generate(), old.publics.values())
    return load(path, create=False)


def _key_text(private: Ed25519PrivateKey, previous: Iterable[Ed25519PublicKey]) -> str:
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return json.dumps({"private": _b64(raw), "previous": [_b64(_raw_public(k)) for k in previous]}, indent=1) + "\n"


def _write(path: Path, private: Ed25519PrivateKey, previous: Iterable[Ed25519PublicKey]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text_atomic(path, _key_text(private, previous))  # a temporary file made 0600, renamed into place
    path.chmod(0o600)


def _create(path: Path, private: Ed25519PrivateKey) -> None:
    """The first key: linked into place, never replacing one another process made meanwhile (their
    seals would not verify under ours); the caller then reads whichever key is there."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_key_text(private, []))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
