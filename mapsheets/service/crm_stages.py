"""Stage history read straight from a CRM's API (`stages --salesforce`, `--hubspot`): the adapter
gives the same column table the CRM's export of the same deals gives, and learn_stages does the rest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from typing import Any

from mapsheets.errors import UsageError
from mapsheets.service.stages import StagesResult, learn_stages

CRMS = ("salesforce", "hubspot")


def learn_stages_from_crm(crm: str, *, env: Mapping[str, str] | None = None, since: date | None = None,
                          won_only: bool = False, segment: str | None = None, **options: Any) -> StagesResult:
    """learn_stages over ``crm``'s stage history, filtered in the query where the API can
    (``since``, ``won_only``) and again by learn_stages as for a file. ``options``: learn_stages's."""
    env = os.environ if env is None else env
    if crm == "salesforce":
        from mapsheets.adapters import salesforce

        table, sobject = salesforce.read_stage_history(env, since=since, won_only=won_only, segment=segment)
        label = f"Salesforce {sobject}"
    elif crm == "hubspot":
        from mapsheets.adapters import hubspot

        table = hubspot.read_stage_history(env, since=since, won_only=won_only, segment=segment)
        label = "HubSpot deals"
    else:
        raise UsageError(f"unknown CRM {crm!r}: expected one of {', '.join(CRMS)}")
    if not table.lines:
        raise UsageError(f"{label}: no stage changes{' matching --since/--won-only' if since or won_only else ''}; "
                         "nothing written")
    return learn_stages(label, fmt=crm, table=table, since=since, won_only=won_only, segment=segment, **options)
