"""Point requests-based Google clients (gspread) at another root, e.g. the double: a test helper,
so the double itself depends on nothing of the code it stands in for."""

from __future__ import annotations

from typing import Any

from requests import Session

from mapsheets.adapters.gsheets_client import rebase_url


class _Rebasing:
    """Mixin: rewrite Google API hosts to `self.api_root` before sending."""

    api_root: str = ""

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().request(  # type: ignore[misc]
            method, rebase_url(str(url), self.api_root), *args, **kwargs)


class RebasingSession(_Rebasing, Session):
    """A plain requests.Session that sends a bearer token of your choice."""

    def __init__(self, root: str, token: str = "test-token") -> None:
        super().__init__()
        self.api_root = root
        self.headers["Authorization"] = f"Bearer {token}"


def rebasing_session(root: str, credentials: Any = None, token: str = "test-token") -> Session:
    """A session for `gspread.Client(None, session=...)`.

    Without credentials: a plain Session with a fixed bearer token (enough for the double).
    With google-auth credentials: an AuthorizedSession that refreshes tokens as usual.
    """
    if credentials is None:
        return RebasingSession(root, token)
    from google.auth.transport.requests import AuthorizedSession

    class RebasingAuthorizedSession(_Rebasing, AuthorizedSession):
        pass

    session = RebasingAuthorizedSession(credentials)
    session.api_root = root
    return session
