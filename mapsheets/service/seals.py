"""Sealing signatures and checking seals: the core judges a signature "unverified" unless this
module has found its seal good (Signature.verified), the crypto staying in adapters/seal.py.

The deployment's key: ``MAPSHEETS_SIGNING_KEY`` (a server's private key, URL-safe base64) with
``MAPSHEETS_SIGNING_PUBLIC_KEYS`` (comma-separated public keys rotated out); else the file
``signing-key.json`` (mode 0600) beside the state store, made the first time a signature is sealed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mapsheets.core.model import Plan, Signature, seal_payload

KEY_ENV, PUBLIC_ENV, KEY_FILE = "MAPSHEETS_SIGNING_KEY", "MAPSHEETS_SIGNING_PUBLIC_KEYS", "signing-key.json"


def key_path(env: Mapping[str, str] | None = None) -> Path:
    """Beside the SQLite state store (MAPSHEETS_DB or the per-user one); the data folder otherwise."""
    from mapsheets.adapters.store.connect import ENV_VAR, data_dir

    env = os.environ if env is None else env
    url = env.get(ENV_VAR, "").strip()
    if url.startswith("sqlite") and ":///" in url:
        return Path(url.partition(":///")[2]).expanduser().parent / KEY_FILE
    return data_dir(env) / KEY_FILE


def keyring(env: Mapping[str, str] | None = None, *, create: bool = False):
    """The deployment's keyring; ``create`` makes the key file on first use (when sealing)."""
    from mapsheets.adapters import seal

    env = os.environ if env is None else env
    if env.get(KEY_ENV, "").strip():
        return seal.from_text(env[KEY_ENV], env.get(PUBLIC_ENV, "").split(","))
    return seal.load(key_path(env), create=create)


def rotate(env: Mapping[str, str] | None = None):
    """A new key in the key file; old public keys kept. A server rotates its own environment."""
    from mapsheets.adapters import seal
    from mapsheets.errors import UsageError

    env = os.environ if env is None else env
    if env.get(KEY_ENV, "").strip():
        raise UsageError(f"the key comes from {KEY_ENV}: set a new one there and add the old public key "
                         f"to {PUBLIC_ENV}")
    return seal.rotate(key_path(env))


def seal(signature: Signature, plan: Plan, ring) -> Signature:
    """``signature`` with its seal over ``plan``'s identity (and marked verified)."""
    signature.seal = ring.seal(seal_payload(signature, plan.identity()))
    signature.verified = True
    return signature


def check(plan: Plan, ring=None) -> Plan:
    """Each signature's verdict: its seal good for this plan, by one of ``ring``'s public keys
    (default: the deployment's). A plan without signatures loads no crypto."""
    if not plan.signatures:
        return plan
    if not any(s.seal for s in plan.signatures):
        for s in plan.signatures:
            s.verified = False
        return plan
    ring = keyring() if ring is None else ring
    identity = plan.identity()
    for s in plan.signatures:
        s.verified = bool(s.seal) and ring.verify(seal_payload(s, identity), s.seal)
    return plan


def public_keys(env: Mapping[str, str] | None = None) -> list[str]:
    return keyring(env, create=True).public_keys()


def trusting(keys: list[str]):
    """A keyring that trusts only the given public keys (what a buyer checks with)."""
    from mapsheets.adapters import seal as adapter

    return adapter.from_public_keys(keys)
