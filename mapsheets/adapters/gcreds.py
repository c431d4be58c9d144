"""Google credentials as a value: what a caller hands the Google backend instead of the environment.

The CLI finds credentials in the environment (``gsheets.credentials_from_env``); a server gets them
per request, e.g. the add-on's ``ScriptApp.getOAuthToken()``, used for that request only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CREDENTIAL_KINDS = ("access_token", "service_account", "user_file")
KINDS = CREDENTIAL_KINDS  # the old name


@dataclass(frozen=True)
class GoogleCredentials:
    """A service-account key file, a user's authorized-user token file, or a bare OAuth access token."""

    kind: str
    value: str = field(repr=False)  # a token is a password: never in a repr, a log line or a message

    def __post_init__(self) -> None:
        if self.kind not in CREDENTIAL_KINDS:
            raise ValueError(f"credentials kind {self.kind!r} is not one of {', '.join(CREDENTIAL_KINDS)}")

    @classmethod
    def access_token(cls, token: str) -> GoogleCredentials:
        return cls("access_token", token)

    @classmethod
    def service_account(cls, path: str) -> GoogleCredentials:
        return cls("service_account", path)

    @classmethod
    def user_file(cls, path: str) -> GoogleCredentials:
        return cls("user_file", path)

    def load(self, scopes: list[str]):
        """The google-auth credentials object."""
        if self.kind == "access_token":
            from google.oauth2.credentials import Credentials

            return Credentials(token=self.value)
        from mapsheets.errors import UsageError

        try:
            if self.kind == "user_file":
                from google.oauth2.credentials import Credentials

                return Credentials.from_authorized_user_file(self.value, scopes)
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_file(self.value, scopes=scopes)
        except (OSError, ValueError, AttributeError) as exc:
            raise UsageError(f"{self.value}: not a usable {self.kind.replace('_', ' ')} key "
                             f"({exc.__class__.__name__})") from None
