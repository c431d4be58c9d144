"""A HubSpot CRM v3 double over real HTTP on 127.0.0.1, for hubspot-api-client.

Covers: private-app bearer token (401 INVALID_AUTHENTICATION otherwise); deals list
``GET /crm/v3/objects/deals`` with ``properties`` and ``propertiesWithHistory`` (history newest
first; at most 50 deals a page with history, 100 without) paged by ``paging.next.after``; deals
search ``POST /crm/v3/objects/deals/search`` (filterGroups with EQ/GTE/LTE/GT/LT, paged; no
history, as HubSpot); batch read with ``propertiesWithHistory``; ``PATCH /crm/v3/objects/deals/ID``;
``POST …/deals/batch/update``; a property that does not exist (PROPERTY_DOESNT_EXIST) or is read-only
(READ_ONLY_VALUE) in HubSpot's VALIDATION_ERROR body; 429 RATE_LIMIT with Retry-After on demand.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from mapsheets.testing.http_double import HttpDouble, Reply, Request

DEALS = r"/crm/v3/objects/deals"
READ_ONLY = {"hs_object_id", "createdate", "hs_lastmodifieddate", "hs_is_closed_won", "hs_is_closed"}
DEFAULT_PROPERTIES = {"dealname", "dealstage", "pipeline", "amount", "closedate", "createdate", "dealtype",
                      "hs_object_id", "hs_lastmodifieddate", "hs_next_step", "hs_is_closed_won", "hs_is_closed",
                      "hubspot_owner_id", "description"}


def rate_limited(retry_after: int = 1) -> Reply:
    return Reply(429, {"status": "error", "message": "You have reached your secondly limit.",
                       "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()), "policyName": "SECONDLY"},
                 headers={"Retry-After": str(retry_after)})


class HubSpotDouble(HttpDouble):
    def __init__(self, token: str = "pat-na1-test", history_page: int = 50) -> None:
        super().__init__()
        self.token = token
        self.history_page = history_page
        self.deals: dict[str, dict[str, Any]] = {}  # id → {"properties": {...}, "history": {name: [...]}}
        self.properties = set(DEFAULT_PROPERTIES)
        self.route("GET", DEALS, "deals.list", self._list)
        self.route("POST", DEALS + "/search", "deals.search", self._search)
        self.route("POST", DEALS + "/batch/read", "deals.batch.read", self._batch_read)
        self.route("POST", DEALS + "/batch/update", "deals.batch.update", self._batch_update)
        self.route("PATCH", DEALS + r"/(?P<id>\d+)", "deals.update", self._update_one)

    def add_deal(self, deal_id: str, stages: list[tuple[str, str]], **properties: str) -> None:
        """A deal that went through ``stages``: (dealstage, ISO timestamp), oldest first."""
        history = [{"value": s, "timestamp": at, "sourceType": "CRM_UI", "sourceId": "userId:1",
                    "updatedByUserId": 1} for s, at in reversed(stages)]
        props = {"dealstage": stages[-1][0] if stages else "", "hs_object_id": deal_id,
                 "createdate": stages[0][1] if stages else "", **properties}
        self.properties.update(props)
        self.deals[deal_id] = {"properties": props, "history": {"dealstage": history}}

    def dispatch(self, req: Request, full_path: str) -> Reply:
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            with self.lock:
                self.counts["unauthorized"] += 1
            return Reply(401, {"status": "error", "message": "Authentication credentials not found. This API "
                               "supports OAuth 2.0 authentication and you can find more details at "
                               "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                               "correlationId": str(uuid.uuid4()), "category": "INVALID_AUTHENTICATION"})
        return super().dispatch(req, full_path)

    def _object(self, deal_id: str, props: list[str], with_history: list[str]) -> dict[str, Any]:
        deal = self.deals[deal_id]
        shown = {"hs_object_id": deal_id, **{p: deal["properties"].get(p) for p in props}}
        out: dict[str, Any] = {"id": deal_id, "properties": shown, "createdAt": deal["properties"].get("createdate"),
                               "updatedAt": deal["properties"].get("createdate"), "archived": False}
        if with_history:
            out["propertiesWithHistory"] = {p: list(deal["history"].get(p, [])) for p in with_history}
        return out

    def _paged(self, ids: list[str], after: str, limit: int) -> tuple[list[str], dict[str, Any] | None]:
        start = int(after or 0)
        page = ids[start:start + limit]
        if start + limit >= len(ids):
            return page, None
        return page, {"next": {"after": str(start + limit)}}

    def _list(self, req: Request, m: re.Match[str]) -> Reply:
        props = _csv(req.query.get("properties"))
        history = _csv(req.query.get("propertiesWithHistory"))
        limit = min(int((req.query.get("limit") or ["10"])[0]), self.history_page if history else 100)
        ids, paging = self._paged(sorted(self.deals, key=int), (req.query.get("after") or [""])[0], limit)
        body: dict[str, Any] = {"results": [self._object(i, props, history) for i in ids]}
        if paging:
            body["paging"] = paging
        return Reply(200, body)

    def _search(self, req: Request, m: re.Match[str]) -> Reply:
        body = req.json() or {}
        groups = body.get("filterGroups") or []
        ids = [i for i in sorted(self.deals, key=int)
               if not groups or any(all(_match(self.deals[i]["properties"].get(f["propertyName"]), f)
                                        for f in g.get("filters", [])) for g in groups)]
        page, paging = self._paged(ids, str(body.get("after") or ""), min(int(body.get("limit") or 10), 200))
        out: dict[str, Any] = {"total": len(ids), "results": [self._object(i, body.get("properties") or [], [])
                                                               for i in page]}
        if paging:
            out["paging"] = paging
        return Reply(200, out)

    def _batch_read(self, req: Request, m: re.Match[str]) -> Reply:
        body = req.json() or {}
        ids = [str(x.get("id")) for x in body.get("inputs", []) if str(x.get("id")) in self.deals]
        results = [self._object(i, body.get("properties") or [], body.get("propertiesWithHistory") or [])
                   for i in ids]
        return Reply(200, {"status": "COMPLETE", "results": results})

    def _invalid(self, values: dict[str, Any]) -> Reply | None:
        for name in values:
            error = ("PROPERTY_DOESNT_EXIST" if name not in self.properties
                     else "READ_ONLY_VALUE" if name in READ_ONLY else None)
            if error:
                why = "does not exist" if error == "PROPERTY_DOESNT_EXIST" else "is a read only property"
                detail = (f'[{{"isValid":false,"message":"Property \\"{name}\\" {why}","error":"{error}",'
                          f'"name":"{name}","localizedErrorMessage":"Property \\"{name}\\" {why}"}}]')
                return Reply(400, {"status": "error", "message": f"Property values were not valid: {detail}",
                                   "correlationId": str(uuid.uuid4()), "category": "VALIDATION_ERROR"})
        return None

    def _batch_update(self, req: Request, m: re.Match[str]) -> Reply:
        inputs = (req.json() or {}).get("inputs") or []
        for item in inputs:
            bad = self._invalid(item.get("properties") or {})
            if bad is not None:
                return bad
            if str(item.get("id")) not in self.deals:
                return Reply(404, {"status": "error", "message": f"Object {item.get('id')} not found",
                                   "category": "OBJECT_NOT_FOUND", "correlationId": str(uuid.uuid4())})
        for item in inputs:
            self.deals[str(item["id"])]["properties"].update(item.get("properties") or {})
        results = [self._object(str(i["id"]), list(i.get("properties") or {}), []) for i in inputs]
        return Reply(200, {"status": "COMPLETE", "results": results, "startedAt": "2026-12-07T00:00:00.000Z",
                           "completedAt": "2026-12-07T00:00:00.100Z"})

    def _update_one(self, req: Request, m: re.Match[str]) -> Reply:
        values = (req.json() or {}).get("properties") or {}
        bad = self._invalid(values)
        if bad is not None:
            return bad
        if m["id"] not in self.deals:
            return Reply(404, {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"})
        self.deals[m["id"]]["properties"].update(values)
        return Reply(200, self._object(m["id"], list(values), []))


def _csv(values: list[str] | None) -> list[str]:
    return [p for v in values or [] for p in v.split(",") if p]


def _match(have: Any, f: dict[str, Any]) -> bool:
    op, want = f.get("operator", "EQ"), f.get("value")
    if op == "EQ":
        return str(have) == str(want)
    if op == "NEQ":
        return str(have) != str(want)
    if have is None:
        return False
    a, b = str(have), str(want)
    if a.isdigit() and b.isdigit():
        a, b = a.zfill(20), b.zfill(20)
    return {"GTE": a >= b, "LTE": a <= b, "GT": a > b, "LT": a < b}.get(op, False)
