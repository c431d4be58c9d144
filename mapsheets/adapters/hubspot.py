"""HubSpot through hubspot-api-client (the ``mapsheets[hubspot]`` extra): deals' stage history as
the same column table a deal-history export gives, and the plan's fields written to deals.

Settings: MAPSHEETS_HUBSPOT_TOKEN (a private app's access token, scopes crm.objects.deals.read and
.write); MAPSHEETS_HUBSPOT_API_ROOT sends every request to another root (a proxy or the test double).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from mapsheets.adapters.crm_history import CsvTable, table_from_rows
from mapsheets.errors import PermissionDenied, QuotaExceeded, RemoteError, UsageError

INSTALL = "pip install 'mapsheets[hubspot]'"
HEADER = ["Deal ID", "Deal Stage", "Timestamp"]
PAGE_WITH_HISTORY = 50  # HubSpot's most deals a page when history is asked for
BATCH_MAX = 100
RETRIES = 5  # 429s waited out (Retry-After) before giving up


def connect(env: Mapping[str, str]) -> Any:
    """A hubspot.HubSpot client that waits out 429s as their Retry-After says."""
    try:
        from hubspot import HubSpot
        from urllib3.util.retry import Retry
    except ImportError:
        raise UsageError(f"HubSpot needs the hubspot extra: {INSTALL}") from None
    token = (env.get("MAPSHEETS_HUBSPOT_TOKEN") or "").strip()
    if not token:
        raise UsageError("HubSpot: set MAPSHEETS_HUBSPOT_TOKEN to a private app's access token "
                         "(scopes crm.objects.deals.read, crm.objects.deals.write)")
    retry = Retry(total=RETRIES, status_forcelist=(429,), allowed_methods=None, respect_retry_after_header=True,
                  raise_on_status=False, backoff_factor=0.5)
    root = (env.get("MAPSHEETS_HUBSPOT_API_ROOT") or "").strip().rstrip("/")
    return HubSpot(access_token=token, retry=retry, host=root or None)


def read_stage_history(env: Mapping[str, str], *, since: date | None = None, won_only: bool = False,
                       segment: str | None = None) -> CsvTable:
    """Every deal's dealstage history (oldest change first) as rows Deal ID, Deal Stage, Timestamp
    (and the ``segment`` property). With ``since``/``won_only`` the deals are found by search
    (created on or after, hs_is_closed_won) and read in batches, since the list cannot filter."""
    client = connect(env)
    props = ["dealstage"] + ([segment] if segment else [])
    deals = (_searched(client, props, since, won_only) if since or won_only else _listed(client, props))
    rows: list[list[str]] = []
    for deal in deals:
        history = (deal.properties_with_history or {}).get("dealstage") or []
        extra = [(deal.properties or {}).get(segment) or ""] if segment else []
        for change in sorted(history, key=lambda h: _at(h.timestamp)):
            rows.append([str(deal.id), change.value or "", _iso(change.timestamp)] + extra)
    return table_from_rows(HEADER + ([segment] if segment else []), rows)


def _listed(client: Any, props: list[str]) -> list[Any]:
    deals, after = [], None
    while True:
        page = _guard(partial(client.crm.deals.basic_api.get_page, limit=PAGE_WITH_HISTORY, after=after,
                              properties=props, properties_with_history=["dealstage"], archived=False), "deals")
        deals += page.results
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return deals


def _searched(client: Any, props: list[str], since: date | None, won_only: bool) -> list[Any]:
    from hubspot.crm.deals import BatchReadInputSimplePublicObjectId, PublicObjectSearchRequest

    filters = []
    if since:
        millis = int(datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp() * 1000)
        filters.append({"propertyName": "createdate", "operator": "GTE", "value": str(millis)})
    if won_only:
        filters.append({"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"})
    ids: list[str] = []
    after: str | None = None
    while True:
        request = PublicObjectSearchRequest(filter_groups=[{"filters": filters}], properties=["hs_object_id"],
                                            limit=200, after=after, sorts=[])
        page = _guard(partial(client.crm.deals.search_api.do_search, public_object_search_request=request),
                      "deals search")
        ids += [str(d.id) for d in page.results]
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            break
    deals = []
    for start in range(0, len(ids), PAGE_WITH_HISTORY):
        batch = BatchReadInputSimplePublicObjectId(inputs=[{"id": i} for i in ids[start:start + PAGE_WITH_HISTORY]],
                                                   properties=props, properties_with_history=["dealstage"])
        done = _guard(partial(client.crm.deals.batch_api.read, batch_read_input_simple_public_object_id=batch,
                              archived=False), "deals batch read")
        deals += done.results
    return deals


def update_deals(env: Mapping[str, str], changes: Mapping[str, Mapping[str, object]]) -> None:
    """Write ``changes`` (deal ID → property → value): one PATCH for one deal, batch update (100 a
    request) for more. A property that does not exist or is read-only is a one-line error naming it."""
    from hubspot.crm.deals import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectInput

    client = connect(env)
    items = [(rid, {k: "" if v is None else str(v) for k, v in values.items()}) for rid, values in changes.items()]
    if len(items) == 1:
        rid, values = items[0]
        _guard(lambda: client.crm.deals.basic_api.update(rid, SimplePublicObjectInput(properties=values)),
               f"deal {rid}")
        return
    for start in range(0, len(items), BATCH_MAX):
        batch = BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": rid, "properties": values} for rid, values in items[start:start + BATCH_MAX]])
        _guard(partial(client.crm.deals.batch_api.update, batch_input_simple_public_object_batch_input=batch),
               "deals batch update")


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _iso(value: Any) -> str:
    return _at(value).isoformat()


def _guard(call: Callable[[], Any], what: str) -> Any:
    """Run a client call; an ApiException becomes a one-line MapsheetsError naming the property."""
    from hubspot.crm.deals.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return call()
    except ApiException as exc:
        status, body = exc.status, _body(exc.body)
        message = str(body.get("message") or exc.reason or "")
        if status == 401:
            raise PermissionDenied("HubSpot: MAPSHEETS_HUBSPOT_TOKEN was refused (INVALID_AUTHENTICATION)") from None
        if status == 403:
            raise PermissionDenied(f"HubSpot {what}: the private app lacks a scope ({message})") from None
        if status == 429:
            raise QuotaExceeded(f"HubSpot {what}: still rate limited after {RETRIES} waits; try again later") from None
        named = re.search(r'Property \\?"([^"\\]+)\\?" (does not exist|is a read only property)', message)
        if named:
            why = "does not exist" if named.group(2) == "does not exist" else "is read-only"
            raise UsageError(f"HubSpot deal property {named.group(1)} {why} "
                             "(check MAPSHEETS_HUBSPOT_PROPERTIES)") from None
        if status == 404:
            raise UsageError(f"HubSpot {what}: not found") from None
        raise RemoteError(f"HubSpot {what}: {status} {message[:200]}") from None
    except HTTPError as exc:
        raise RemoteError(f"HubSpot unreachable: {type(exc).__name__}") from None


def _body(raw: Any) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
