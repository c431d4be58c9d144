"""A Salesforce REST API double over real HTTP on 127.0.0.1, for simple-salesforce.

Covers: SOAP login (username, password + security token) and the OAuth 2.0 token endpoint (JWT
bearer, password grant); SOQL ``query`` paged by ``nextRecordsUrl`` (``query/01g…-2000``) with
SELECT, relationship fields (``Opportunity.Type``), WHERE … AND …, ORDER BY; ``sobjects/Opportunity/ID``
PATCH (204); sObject Collections ``composite/sobjects`` PATCH; error bodies as Salesforce sends them:
``[{"message", "errorCode", "fields"}]`` with INVALID_FIELD, INVALID_FIELD_FOR_INSERT_UPDATE,
INVALID_SESSION_ID (401), REQUEST_LIMIT_EXCEEDED (403, on demand), MALFORMED_QUERY.

    with SalesforceDouble(page_size=2000) as sf:
        sf.add_record("OpportunityHistory", {...})
        env = {"MAPSHEETS_SALESFORCE_API_ROOT": sf.root, **sf.password_env()}
"""

from __future__ import annotations

import base64
import functools
import json
import re
import uuid
from datetime import datetime
from typing import Any

from mapsheets.testing.http_double import HttpDouble, Reply, Request

VERSION = r"/services/data/v(?P<v>\d+\.\d)"
READ_ONLY = {"Id", "IsWon", "IsClosed", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
OPPORTUNITY_FIELDS = {"Id", "Name", "StageName", "CloseDate", "NextStep", "Type", "Amount", "IsWon", "IsClosed",
                      "CreatedDate", "LastModifiedDate", "Description", "LeadSource"}


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None) -> Reply:
    return Reply(status, [{"message": message, "errorCode": code, "fields": fields or []}])


def request_limit_exceeded() -> Reply:
    return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


class SalesforceDouble(HttpDouble):
    def __init__(self, page_size: int = 2000, username: str = "revops@example.com", password: str = "pw",
                 security_token: str = "tok", consumer_key: str = "3MVG9-key") -> None:
        super().__init__()
        self.page_size = page_size
        self.username, self.password, self.security_token = username, password, security_token
        self.consumer_key = consumer_key
        self.sessions: set[str] = {"00Dtest!session"}
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.fields: dict[str, set[str]] = {"Opportunity": set(OPPORTUNITY_FIELDS)}
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self.route("POST", r"/services/Soap/u/(?P<v>[\d.]+)", "login", self._soap_login)
        self.route("POST", r"/services/oauth2/token", "oauth2.token", self._token)
        self.route("GET", VERSION + r"/query/?", "query", self._query)
        self.route("GET", VERSION + r"/query/(?P<loc>[\w]+)-(?P<at>\d+)", "queryMore", self._query_more)
        self.route("PATCH", VERSION + r"/sobjects/(?P<type>\w+)/(?P<id>\w+)", "sobject.update", self._patch)
        self.route("PATCH", VERSION + r"/composite/sobjects", "composite.update", self._composite)
        self.route("POST", VERSION + r"/jobs/query", "bulk2.create", self._bulk_create)
        self.route("GET", VERSION + r"/jobs/query/(?P<job>\w+)", "bulk2.job", self._bulk_job)
        self.route("GET", VERSION + r"/jobs/query/(?P<job>\w+)/results", "bulk2.results", self._bulk_results)
        self._jobs: dict[str, tuple[dict[str, Any], list[list[str]]]] = {}

    # --- data -------------------------------------------------------------------------------
    def add_record(self, sobject: str, fields: dict[str, Any]) -> str:
        record = dict(fields)
        record.setdefault("Id", f"{sobject[:3]}{uuid.uuid4().hex[:15]}")
        self.records.setdefault(sobject, {})[record["Id"]] = record
        self.fields.setdefault(sobject, set()).update(record)
        return str(record["Id"])

    def add_field(self, sobject: str, name: str) -> None:
        self.fields.setdefault(sobject, set()).add(name)

    def password_env(self) -> dict[str, str]:
        return {"MAPSHEETS_SALESFORCE_USERNAME": self.username, "MAPSHEETS_SALESFORCE_PASSWORD": self.password,
                "MAPSHEETS_SALESFORCE_SECURITY_TOKEN": self.security_token}

    # --- auth -------------------------------------------------------------------------------
    def _new_session(self) -> str:
        session = f"00D{uuid.uuid4().hex[:12]}!{uuid.uuid4().hex}"
        self.sessions.add(session)
        return session

    def _soap_login(self, req: Request, m: re.Match[str]) -> Reply:
        body = req.raw.decode()
        user = _xml_value(body, "username")
        password = _xml_value(body, "password")
        if user != self.username or password != self.password + self.security_token:
            fault = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
                     '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com">'
                     '<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>'
                     'INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring>'
                     '<detail><sf:LoginFault><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>'
                     '<sf:exceptionMessage>Invalid username, password, security token; or user locked out.'
                     '</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>'
                     '</soapenv:Envelope>')
            return Reply(500, fault, content_type="text/xml")
        server = f"{self.root}/services/Soap/u/{m['v']}/00D000000000001"
        ok = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
              '"http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body>'
              f'<loginResponse><result><metadataServerUrl>{server}</metadataServerUrl>'
              f'<passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>{server}</serverUrl>'
              f'<sessionId>{self._new_session()}</sessionId><userId>005000000000001AAA</userId></result>'
              '</loginResponse></soapenv:Body></soapenv:Envelope>')
        return Reply(200, ok, content_type="text/xml")

    def _token(self, req: Request, m: re.Match[str]) -> Reply:
        form = req.form()
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = _jwt_claims(form.get("assertion", ""))
            if claims.get("iss") != self.consumer_key:
                return Reply(400, {"error": "invalid_client_id", "error_description": "client identifier invalid"})
            if claims.get("sub") != self.username:
                return Reply(400, {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"})
        elif grant == "password":
            if form.get("username") != self.username or form.get("password") != self.password + self.security_token:
                return Reply(400, {"error": "invalid_grant", "error_description": "authentication failure"})
        else:
            return Reply(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        return Reply(200, {"access_token": self._new_session(), "instance_url": self.root,
                           "id": f"{self.root}/id/00D000000000001/005000000000001", "token_type": "Bearer",
                           "issued_at": str(int(datetime.now().timestamp() * 1000)), "signature": "c2lnbmF0dXJl"})

    def _authorized(self, req: Request) -> bool:
        header = req.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.sessions

    def dispatch(self, req: Request, full_path: str) -> Reply:
        if req.path.startswith("/services/data/") and not self._authorized(req):
            with self.lock:
                self.counts["unauthorized"] += 1
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return super().dispatch(req, full_path)

    # --- query --------------------------------------------------------------------------------
    def _query(self, req: Request, m: re.Match[str]) -> Reply:
        soql = (req.query.get("q") or [""])[0]
        try:
            rows = self.run_soql(soql)
        except ValueError as exc:
            return sf_error(400, "MALFORMED_QUERY", str(exc)) if "No such column" not in str(exc) else \
                sf_error(400, "INVALID_FIELD", str(exc))
        if re.match(r"\s*SELECT\s+COUNT\(\s*\)\s", soql, re.I):
            return Reply(200, {"totalSize": len(rows), "done": True, "records": []})
        size = _batch_size(req.headers.get("Sforce-Query-Options", ""), self.page_size)
        locator = f"01g{uuid.uuid4().hex[:15]}"
        self._cursors[locator] = rows
        return Reply(200, self._page(m["v"], locator, 0, size))

    def _query_more(self, req: Request, m: re.Match[str]) -> Reply:
        rows = self._cursors.get(m["loc"])
        if rows is None:
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        at = int(m["at"])
        size = _batch_size(req.headers.get("Sforce-Query-Options", ""), self.page_size)
        return Reply(200, self._page(m["v"], m["loc"], at, size))

    def _page(self, version: str, locator: str, at: int, size: int) -> dict[str, Any]:
        rows = self._cursors[locator]
        page = rows[at:at + size]
        done = at + size >= len(rows)
        out: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": page}
        if not done:
            out["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{at + size}"
        return out

    def run_soql(self, soql: str) -> list[dict[str, Any]]:
        """The records ``soql`` selects, shaped as the REST API returns them."""
        sobject, fields, rows = self.select(soql)
        if fields == ["COUNT()"]:
            return [{} for _ in rows]
        return [self._shape(sobject, r, fields) for r in rows]

    def select(self, soql: str) -> tuple[str, list[str], list[dict[str, Any]]]:
        """SELECT f, Parent.f | COUNT() FROM Type [WHERE a op v AND …] [ORDER BY f, …] [LIMIT n]."""
        q = re.match(r"\s*SELECT\s+(?P<f>.+?)\s+FROM\s+(?P<t>\w+)(?:\s+WHERE\s+(?P<w>.+?))?"
                     r"(?:\s+ORDER\s+BY\s+(?P<o>.+?))?(?:\s+LIMIT\s+(?P<n>\d+))?\s*$", soql, re.I | re.S)
        if not q:
            raise ValueError(f"unexpected token in query: {soql[:60]}")
        sobject = q["t"]
        if sobject not in self.records and sobject not in self.fields:
            raise ValueError(f"sObject type '{sobject}' is not supported.")
        fields = [f.strip() for f in q["f"].split(",")]
        conditions = [_condition(c) for c in re.split(r"\s+AND\s+", q["w"], flags=re.I)] if q["w"] else []
        rows = []
        for record in self.records.get(sobject, {}).values():
            if all(_compare(self._value(sobject, record, f), op, v) for f, op, v in conditions):
                rows.append(record)
        for key in reversed([k.strip().split()[0] for k in q["o"].split(",")] if q["o"] else []):
            rows.sort(key=functools.partial(self._sort_key, sobject, key))
        if q["n"]:
            rows = rows[:int(q["n"])]
        return sobject, [f.replace(" ", "").upper() if f.upper().startswith("COUNT(") else f for f in fields], rows

    def _sort_key(self, sobject: str, name: str, record: dict[str, Any]) -> str:
        return str(self._value(sobject, record, name) or "")

    def _value(self, sobject: str, record: dict[str, Any], name: str) -> Any:
        if "." in name:
            parent, field = name.split(".", 1)
            target = self.records.get(parent, {}).get(record.get(f"{parent}Id") or "")
            if field not in self.fields.get(parent, set()):
                raise ValueError(f"No such column '{field}' on entity '{parent}'.")
            return None if target is None else target.get(field)
        if name not in self.fields.get(sobject, set()):
            raise ValueError(f"No such column '{name}' on entity '{sobject}'.")
        return record.get(name)

    def _shape(self, sobject: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": sobject,
                                              "url": f"/services/data/v59.0/sobjects/{sobject}/{record['Id']}"}}
        for name in fields:
            if "." in name:
                parent, field = name.split(".", 1)
                nested = out.setdefault(parent, {"attributes": {"type": parent}})
                nested[field] = self._value(sobject, record, name)
            else:
                out[name] = self._value(sobject, record, name)
        return out

    # --- writes -------------------------------------------------------------------------------
    def _update(self, sobject: str, record_id: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """The errors updating one record would give (none: it was updated)."""
        known = self.fields.get(sobject, set())
        for name in values:
            if name not in known:
                return [{"message": f"No such column '{name}' on sobject of type {sobject}",
                         "errorCode": "INVALID_FIELD", "fields": []}]
        locked = [n for n in values if n in READ_ONLY]
        if locked:
            return [{"message": f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                                "settings of this field and verify that it is read/write for your profile or "
                                "permission set.", "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "fields": locked}]
        record = self.records.get(sobject, {}).get(record_id)
        if record is None:
            return [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}]
        record.update(values)
        return []

    def _patch(self, req: Request, m: re.Match[str]) -> Reply:
        errors = self._update(m["type"], m["id"], req.json() or {})
        if not errors:
            return Reply(204)
        return Reply(404 if errors[0]["errorCode"] == "NOT_FOUND" else 400, errors)

    def _composite(self, req: Request, m: re.Match[str]) -> Reply:
        """sObject Collections update: a field no record type has fails the whole request (the body
        does not deserialize); per record, a SaveResult in request order, its errors keyed statusCode
        (not errorCode) and no id when it failed, as Salesforce's example shows."""
        body = req.json() or {}
        records = body.get("records") or []
        if len(records) > 200:
            return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records")
        for rec in records:
            sobject = rec.get("attributes", {}).get("type", "")
            unknown = [k for k in rec if k not in ("attributes", "id") and k not in self.fields.get(sobject, set())]
            if unknown:
                return sf_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}")
        out: list[dict[str, Any]] = []
        for rec in records:
            values = {k: v for k, v in rec.items() if k not in ("attributes", "id")}
            errors = self._update(rec.get("attributes", {}).get("type", ""), rec.get("id", ""), values)
            if errors:
                out.append({"success": False, "errors": [{"statusCode": e["errorCode"], "message": e["message"],
                                                          "fields": e["fields"]} for e in errors]})
            else:
                out.append({"id": rec.get("id"), "success": True, "errors": []})
        return Reply(200, out)


    # --- Bulk API 2.0 query jobs: done at once; results as CSV pages (Sforce-Locator) -------------
    def _bulk_create(self, req: Request, m: re.Match[str]) -> Reply:
        body = req.json() or {}
        try:
            sobject, fields, rows = self.select(str(body.get("query") or ""))
        except ValueError as exc:
            return sf_error(400, "INVALIDJOB", str(exc))
        job_id = f"750{uuid.uuid4().hex[:15]}"
        info = {"id": job_id, "operation": body.get("operation", "query"), "object": sobject,
                "createdById": "005000000000001AAA", "state": "UploadComplete", "concurrencyMode": "Parallel",
                "contentType": "CSV", "apiVersion": float(m["v"]), "lineEnding": body.get("lineEnding", "LF"),
                "columnDelimiter": body.get("columnDelimiter", "COMMA")}
        table = [fields] + [[_bulk_text(self._value(sobject, r, f)) for f in fields] for r in rows]
        self._jobs[job_id] = (info, table)
        return Reply(200, info)

    def _bulk_job(self, req: Request, m: re.Match[str]) -> Reply:
        if m["job"] not in self._jobs:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        info, table = self._jobs[m["job"]]
        return Reply(200, {**info, "state": "JobComplete", "numberRecordsProcessed": len(table) - 1, "retries": 0,
                           "totalProcessingTime": 1})

    def _bulk_results(self, req: Request, m: re.Match[str]) -> Reply:
        if m["job"] not in self._jobs:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        _info, table = self._jobs[m["job"]]
        start = int((req.query.get("locator") or ["0"])[0] or 0)
        size = int((req.query.get("maxRecords") or ["50000"])[0])
        page = table[1 + start:1 + start + size]
        nxt = str(start + size) if start + size < len(table) - 1 else "null"
        text = "".join(",".join('"' + v.replace('"', '""') + '"' for v in row) + "\n" for row in [table[0]] + page)
        return Reply(200, text, content_type="text/csv",
                     headers={"Sforce-Locator": nxt, "Sforce-NumberOfRecords": str(len(page))})


def _bulk_text(value: Any) -> str:
    """A value as Bulk 2.0 writes it in CSV: null empty, datetimes with Z, booleans lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace(".000+0000", ".000Z")


def _xml_value(body: str, tag: str) -> str | None:
    found = re.search(rf"<(?:\w+:)?{tag}>(.*?)</(?:\w+:)?{tag}>", body, re.S)
    if not found:
        return None
    return found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def _jwt_claims(assertion: str) -> dict[str, Any]:
    try:
        payload = assertion.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (IndexError, ValueError):
        return {}


def _batch_size(options: str, default: int) -> int:
    found = re.search(r"batchSize=(\d+)", options)
    return max(200, min(2000, int(found.group(1)))) if found else default


def _condition(text: str) -> tuple[str, str, Any]:
    found = re.match(r"\s*([\w.]+)\s*(=|!=|>=|<=|>|<)\s*(.+?)\s*$", text)
    if not found:
        raise ValueError(f"unexpected token in WHERE: {text[:60]}")
    raw = found.group(3)
    value: Any
    if raw.startswith("'") and raw.endswith("'"):
        value = raw[1:-1].replace("\\'", "'")
    elif raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    elif raw.lower() == "null":
        value = None
    else:
        value = raw  # a date or datetime literal: compared as ISO text
    return found.group(1), found.group(2), value


def _compare(have: Any, op: str, want: Any) -> bool:
    if op in ("=", "!="):
        return bool(have == want) == (op == "=")
    if have is None:
        return False
    a, b = _iso(have), _iso(want)
    return bool({">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op])


def _iso(value: Any) -> str:
    """Salesforce's 2026-01-05T09:30:00.000+0000 and a SOQL literal 2026-01-05T00:00:00Z compare as text."""
    return str(value).replace(".000+0000", "Z").replace("+0000", "Z")
