"""Salesforce through simple-salesforce (the ``mapsheets[salesforce]`` extra): the stage history as
the same column table a CSV export gives, and the plan's fields written to opportunities.

Settings (environment): MAPSHEETS_SALESFORCE_USERNAME with _PASSWORD and _SECURITY_TOKEN, or with
_CONSUMER_KEY and _PRIVATE_KEY_FILE (JWT bearer); or _SESSION_ID with _INSTANCE_URL. _DOMAIN is
"login" (default) or "test" for a sandbox; _API_ROOT sends every request to another root (a proxy
or the test double).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import requests

from mapsheets.adapters.crm_history import CsvTable, table_from_rows
from mapsheets.errors import PermissionDenied, QuotaExceeded, RemoteError, UsageError

PREFIX = "MAPSHEETS_SALESFORCE_"
INSTALL = "pip install 'mapsheets[salesforce]'"
HISTORY_FIELDS = ["OpportunityId", "StageName", "CreatedDate", "CloseDate"]
FIELD_HISTORY_FIELDS = ["OpportunityId", "Field", "OldValue", "NewValue", "CreatedDate"]
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
COMPOSITE_MAX = 200  # records per sObject Collections request
BULK_ABOVE = 50_000  # rows from which a Bulk API 2.0 job beats paging 2,000 at a time
BULK_PAGE = 100_000  # rows per results request
BULK_WAIT = 0.2  # seconds before the first look at the job


class _Rebasing(requests.Session):
    """Sends every request to ``root`` (simple-salesforce builds https:// URLs from the instance)."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(str(url))
        rest = parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, self.root + rest, *args, **kwargs)


def connect(env: Mapping[str, str]) -> Any:
    """A logged-in simple_salesforce.Salesforce from the MAPSHEETS_SALESFORCE_* settings."""
    try:
        from simple_salesforce.api import Salesforce
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed
    except ImportError:
        raise UsageError(f"Salesforce needs the salesforce extra: {INSTALL}") from None

    def get(name: str) -> str | None:
        return (env.get(PREFIX + name) or "").strip() or None

    root = get("API_ROOT")
    kwargs: dict[str, Any] = {"version": get("API_VERSION") or "59.0"}
    if root:
        kwargs["session"] = _Rebasing(root)
    if get("SESSION_ID"):
        instance = get("INSTANCE_URL") or root
        if not instance:
            raise UsageError(f"{PREFIX}SESSION_ID needs {PREFIX}INSTANCE_URL (e.g. https://acme.my.salesforce.com)")
        kwargs.update(session_id=get("SESSION_ID"), instance_url=instance)
    elif get("USERNAME") and get("CONSUMER_KEY"):
        key_file, key = get("PRIVATE_KEY_FILE"), get("PRIVATE_KEY")
        if not key_file and not key:
            raise UsageError(f"{PREFIX}CONSUMER_KEY (JWT bearer) needs {PREFIX}PRIVATE_KEY_FILE")
        kwargs.update(username=get("USERNAME"), consumer_key=get("CONSUMER_KEY"), domain=get("DOMAIN"))
        kwargs.update(privatekey_file=key_file) if key_file else kwargs.update(privatekey=key)
    elif get("USERNAME") and get("PASSWORD"):
        kwargs.update(username=get("USERNAME"), password=get("PASSWORD"),
                      security_token=get("SECURITY_TOKEN") or "", domain=get("DOMAIN"))
    else:
        raise UsageError(f"Salesforce: set {PREFIX}USERNAME with _PASSWORD and _SECURITY_TOKEN, or with "
                         f"_CONSUMER_KEY and _PRIVATE_KEY_FILE (JWT), or {PREFIX}SESSION_ID with _INSTANCE_URL")
    try:
        return Salesforce(**{k: v for k, v in kwargs.items() if v is not None})
    except SalesforceAuthenticationFailed as exc:
        raise PermissionDenied(f"Salesforce login failed: {exc.code}: {exc.message}") from None


def history_soql(sobject: str, *, since: date | None = None, won_only: bool = False,
                 segment: str | None = None) -> str:
    """The SOQL reading stage changes, filtered in the query: deals created on or after ``since``,
    deals won; with ``segment``, the opportunity's field of that name beside each row."""
    fields = list(HISTORY_FIELDS if sobject == "OpportunityHistory" else FIELD_HISTORY_FIELDS)
    if segment:
        if not API_NAME.match(segment):
            raise UsageError(f"--segment {segment!r}: expected an Opportunity field's API name, e.g. Type")
        fields.append(f"Opportunity.{segment}")
    where = ["Field = 'StageName'"] if sobject == "OpportunityFieldHistory" else []
    if since:
        where.append(f"Opportunity.CreatedDate >= {since.isoformat()}T00:00:00Z")
    if won_only:
        where.append("Opportunity.IsWon = true")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {', '.join(fields)} FROM {sobject}{clause} ORDER BY OpportunityId, CreatedDate"


def read_stage_history(env: Mapping[str, str], *, since: date | None = None, won_only: bool = False,
                       segment: str | None = None) -> tuple[CsvTable, str]:
    """OpportunityHistory (or, where an org has none, OpportunityFieldHistory's StageName changes) as
    the column table the export of the same rows gives; and which object it came from. Above
    MAPSHEETS_SALESFORCE_BULK_ABOVE rows (50,000) through a Bulk API 2.0 query job, else the REST
    query API paged by nextRecordsUrl."""
    sf = connect(env)
    bulk_above = int((env.get(PREFIX + "BULK_ABOVE") or "").strip() or BULK_ABOVE)
    for sobject in ("OpportunityHistory", "OpportunityFieldHistory"):
        soql = history_soql(sobject, since=since, won_only=won_only, segment=segment)
        header = (HISTORY_FIELDS if sobject == "OpportunityHistory" else FIELD_HISTORY_FIELDS) + (
            [segment] if segment else [])
        count_soql = "SELECT COUNT()" + soql[soql.index(" FROM "):soql.index(" ORDER BY ")]
        count = int(_guard(lambda q=count_soql: sf.query(q), sobject)["totalSize"])
        if not count:
            rows = []
        elif count > bulk_above:
            rows = _bulk_rows(sf, soql, sobject)
        else:
            rows = [_row(rec, header, segment) for rec in _guard(lambda q=soql: list(sf.query_all_iter(q)), sobject)]
        if rows:
            break
    return table_from_rows(header, rows), sobject


def _bulk_rows(sf: Any, soql: str, sobject: str) -> list[list[str]]:
    """A Bulk API 2.0 query job's CSV pages, in the SELECT's column order (the header row skipped)."""
    rows: list[list[str]] = []
    pages = _guard(lambda: list(getattr(sf.bulk2, sobject).query(soql, max_records=BULK_PAGE, wait=BULK_WAIT)),
                   f"{sobject} bulk query")
    for page in pages:
        rows.extend(list(csv.reader(io.StringIO(page)))[1:])
    return rows


def _row(record: Mapping[str, Any], header: list[str], segment: str | None) -> list[str]:
    values = [record.get(name) for name in header[:len(header) - (1 if segment else 0)]]
    if segment:
        values.append((record.get("Opportunity") or {}).get(segment))
    return ["" if v is None else str(v) for v in values]


def update_opportunities(env: Mapping[str, str], changes: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
    """Write ``changes`` (opportunity ID → field → value): one PATCH for one record, sObject
    Collections (200 a request) for more. Per record that failed, the one-line reason."""
    sf = connect(env)
    failed: dict[str, str] = {}
    items = list(changes.items())
    if len(items) == 1:
        record_id, values = items[0]
        _guard(lambda: sf.Opportunity.update(record_id, dict(values)), f"opportunity {record_id}")
        return failed
    for start in range(0, len(items), COMPOSITE_MAX):
        chunk = items[start:start + COMPOSITE_MAX]
        body = {"allOrNone": False, "records": [{"attributes": {"type": "Opportunity"}, "id": rid, **values}
                                                for rid, values in chunk]}
        results = _guard(lambda b=body: sf.restful("composite/sobjects", method="PATCH", json=b), "composite")
        for (rid, _values), result in zip(chunk, results or [], strict=False):  # in request order
            if not result.get("success"):
                failed[rid] = _reason(result.get("errors") or [])
    return failed


def _reason(errors: list[dict[str, Any]]) -> str:
    """Salesforce's [{"errorCode", "message", "fields"}] in one line naming the field."""
    if not errors:
        return "Salesforce refused it"
    first = errors[0]  # a SaveResult's errors say statusCode, a failed request's errorCode
    code, message = first.get("errorCode") or first.get("statusCode", ""), first.get("message", "")
    named = re.search(r"No such column '([^']+)'", message)
    if code == "INVALID_FIELD" and named:
        return f"field {named.group(1)} does not exist on Opportunity (check MAPSHEETS_SALESFORCE_FIELDS)"
    if code == "INVALID_FIELD_FOR_INSERT_UPDATE":
        return f"field {', '.join(first.get('fields') or [])} is not writable for this user"
    return f"{code}: {message}"


def _guard(call: Any, what: str) -> Any:
    """Run a simple-salesforce call; its exceptions become one-line MapsheetsErrors."""
    from simple_salesforce.exceptions import (
        SalesforceError,
        SalesforceExpiredSession,
        SalesforceMalformedRequest,
        SalesforceRefusedRequest,
    )

    try:
        return call()
    except SalesforceExpiredSession:
        raise PermissionDenied("Salesforce: session expired or invalid (INVALID_SESSION_ID); log in again") from None
    except SalesforceMalformedRequest as exc:
        raise UsageError(f"Salesforce {what}: {_reason(_errors(exc))}") from None
    except SalesforceRefusedRequest as exc:
        errors = _errors(exc)
        if errors and errors[0].get("errorCode") == "REQUEST_LIMIT_EXCEEDED":
            raise QuotaExceeded("Salesforce: the org's daily API request limit is used up "
                                "(REQUEST_LIMIT_EXCEEDED); try again tomorrow") from None
        raise PermissionDenied(f"Salesforce {what}: {_reason(errors)}") from None
    except SalesforceError as exc:
        raise RemoteError(f"Salesforce {what}: {_reason(_errors(exc))}") from None
    except requests.RequestException as exc:
        raise RemoteError(f"Salesforce unreachable: {type(exc).__name__}") from None


def _errors(exc: Any) -> list[dict[str, Any]]:
    content = getattr(exc, "content", None)
    return [e for e in content if isinstance(e, dict)] if isinstance(content, list) else []

