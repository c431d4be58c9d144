"""Who is calling: a Google ID token (``ScriptApp.getIdentityToken()``) verified with google-auth, or
in dev mode on loopback a header naming the user.

Checked: the signature against Google's certificates (fetched from CERTS_URL, cached as long as its
Cache-Control allows), ``iss``, ``aud`` == the configured client ID, expiry, and a verified email.
The Workspace add-on (workspace.py) uses the same checks with its own audiences.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from addon_server.config import LOOPBACK
from mapsheets.errors import MapsheetsError, RemoteError, UsageError
from mapsheets.service.addon import Caller
from mapsheets.service.signoff import check_email

if TYPE_CHECKING:
    from flask import Request

ISSUERS = ("accounts.google.com", "https://accounts.google.com")
DEV_HEADER = "X-Mapsheets-Dev-User"
ACCESS_TOKEN_HEADER = "X-Mapsheets-Access-Token"
_MAX_AGE = re.compile(r"max-age=(\d+)")


class Unauthenticated(MapsheetsError):
    """No identity, or one that does not verify."""

    http_status = 401


@dataclass
class _Response:
    """What google-auth's transport Request returns: status, headers, data."""

    status: int
    headers: dict[str, str]
    data: bytes


class CertsCache:
    """A google-auth transport Request for the certificates URL, answered from memory while fresh."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url, self.timeout = url, timeout
        self._lock = threading.Lock()
        self._body: bytes | None = None
        self._expires = 0.0
        self.fetches = 0  # for tests: how often the network was asked

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None, timeout: Any = None,
                 **kwargs: Any) -> _Response:
        with self._lock:
            if self._body is not None and time.monotonic() < self._expires and url == self.url:
                return _Response(200, {}, self._body)
            import requests

            try:
                answer = requests.get(url, timeout=timeout or self.timeout)
            except requests.RequestException as exc:
                raise RemoteError(f"cannot fetch Google's sign-in certificates ({exc.__class__.__name__})") from None
            self.fetches += 1
            if answer.status_code == 200 and url == self.url:
                found = _MAX_AGE.search(answer.headers.get("Cache-Control", ""))
                self._body = answer.content
                self._expires = time.monotonic() + (int(found[1]) if found else 0)
            return _Response(answer.status_code, dict(answer.headers), answer.content)


class Verifier:
    def __init__(self, client_id: str, certs_url: str) -> None:
        self.client_id = client_id
        self.certs = CertsCache(certs_url)

    def claims(self, token: str, audience: str) -> dict[str, Any]:
        """The token's claims once its signature, ``aud`` == ``audience`` (exactly), expiry and
        Google issuer check out; else Unauthenticated."""
        from google.auth import exceptions
        from google.oauth2 import id_token

        if not audience:
            raise Unauthenticated("this server has no audience configured: ID tokens cannot be checked")
        try:
            claims: dict[str, Any] = dict(id_token.verify_token(token, self.certs, audience=audience,
                                                                certs_url=self.certs.url,
                                                                clock_skew_in_seconds=10))
        except exceptions.TransportError:
            raise RemoteError("cannot fetch Google's sign-in certificates") from None
        except (ValueError, exceptions.GoogleAuthError) as exc:
            raise Unauthenticated(f"invalid identity token ({_first_line(exc)})") from None
        if claims.get("iss") not in ISSUERS:
            raise Unauthenticated("invalid identity token (not issued by Google)")
        return claims

    def verify(self, token: str, audience: str | None = None) -> Caller:
        """A user's ID token for ``audience`` (default the configured client ID)."""
        if not (audience or self.client_id):
            raise Unauthenticated("this server has no OAuth client ID configured: ID tokens cannot be checked")
        claims = self.claims(token, audience or self.client_id)
        email = str(claims.get("email") or "")
        if not email or not email_verified(claims):
            raise Unauthenticated("the identity token has no verified email")
        return Caller(email=email.lower(), name=str(claims.get("name") or ""))

    def verify_service(self, token: str, audience: str, service_account: str) -> None:
        """A Google-signed token for a service account (a Workspace add-on's system ID token): its
        ``aud`` is the URL Google called, its ``email`` the deployment's service account, verified.
        (Google's ID tokens for a service account carry ``email_verified: true`` with the email:
        one without it is not the token Google sends.)"""
        claims = self.claims(token, audience)
        email = str(claims.get("email") or "").lower()
        if not service_account or email != service_account.strip().lower() or not email_verified(claims):
            raise Unauthenticated("the request is not from this add-on's Google service account")


def email_verified(claims: dict[str, Any]) -> bool:
    """Google says the email is verified: JSON true (older tokens: the text "true"). Missing, null,
    false, "false", 0 and 1 are not."""
    value = claims.get("email_verified")
    return value is True or value == "true"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else exc.__class__.__name__)[:200]


def identify(request: Request, config: dict[str, Any], verifier: Verifier) -> Caller:
    """The caller of ``request``, or Unauthenticated."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return verifier.verify(header[7:].strip())
    dev = request.headers.get(DEV_HEADER, "").strip()
    if dev and dev_identity_allowed(request, config):
        try:
            dev = check_email(dev, DEV_HEADER)
        except UsageError:
            raise Unauthenticated(f"{DEV_HEADER}: not an email address") from None
        return Caller(email=dev.lower(), name=dev.partition("@")[0])
    raise Unauthenticated("sign in: no identity token (Authorization: Bearer ...)")


def dev_identity_allowed(request: Request, config: dict[str, Any]) -> bool:
    """Dev mode, a server bound to loopback, and the request coming from loopback."""
    return bool(config["DEV"]) and config["HOST"] in LOOPBACK and (request.remote_addr or "") in LOOPBACK


def access_token(request: Request) -> str | None:
    """The caller's Google OAuth access token (``ScriptApp.getOAuthToken()``): this request only."""
    token = request.headers.get(ACCESS_TOKEN_HEADER, "").strip()
    return token or None


__all__ = ["CertsCache", "Unauthenticated", "Verifier", "access_token", "identify"]
