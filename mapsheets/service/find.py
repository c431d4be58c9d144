"""Finding the plans' Google Sheets this account can see (a Drive query)."""

from __future__ import annotations

from typing import Any


def find_plans(name_contains: str = "", modified_after: str | None = None) -> list[dict[str, Any]]:
    """Google Sheets this account can see through mapsheets (Drive query), newest first."""
    from mapsheets.adapters.gsheets import GoogleWorkbook
    from mapsheets.adapters.gsheets import find_plans as drive_find

    return drive_find(GoogleWorkbook.from_env(None).client, name_contains, modified_after)
