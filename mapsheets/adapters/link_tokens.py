"""Signed, expiring tokens for signing links (the only importer of ``itsdangerous``, Flask's own
signing library): a payload readable by anyone holding the link, changeable by nobody."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALT = "mapsheets-signing-link"


class LinkExpired(Exception):
    """The token is genuine but older than its lifetime; ``payload`` says whose it was."""

    def __init__(self, payload: Any) -> None:
        super().__init__("expired")
        self.payload = payload


class LinkTampered(Exception):
    """The token was not made with this secret (a flipped byte, a made-up link)."""


def _serializer(secret: bytes, now: float) -> URLSafeTimedSerializer:
    class At(TimestampSigner):  # the caller's clock, not the machine's: tests and replays are exact
        def get_timestamp(self) -> int:
            return int(now)

    return URLSafeTimedSerializer(secret, salt=SALT, signer=At)


def make(secret: bytes, payload: dict[str, Any], now: float) -> str:
    return _serializer(secret, now).dumps(payload)


def read(secret: bytes, token: str, *, max_age: int | None, now: float) -> dict[str, Any]:
    """The payload of a genuine, unexpired token; else LinkExpired or LinkTampered."""
    serializer = _serializer(secret, now)
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkExpired(exc.payload and serializer.load_payload(exc.payload)) from None
    except BadSignature:
        raise LinkTampered() from None
    if not isinstance(payload, dict):
        raise LinkTampered()
    return payload
