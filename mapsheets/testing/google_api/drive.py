"""Drive v3 subset: files create/get/list/copy/delete/update/export, permissions, comments."""
from __future__ import annotations

import base64
import copy
import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

from . import fieldmask
from .errors import ApiError
from .state import SPREADSHEET_MIME, State, rfc3339, user_record

FILE_DEFAULT = "kind,id,name,mimeType"
PERMISSION_DEFAULT = "kind,id,type,role"
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")|(?P<op>!=|<=|>=|=|<|>|\(|\))|"""
                    r"""(?P<word>[A-Za-z_][\w.]*)|(?P<num>-?\d+(?:\.\d+)?))""")


def invalid_query(q: str) -> ApiError:
    return ApiError(400, "Invalid Value", errors=[{"message": "Invalid Value", "domain": "global",
                                                   "reason": "invalid", "location": "q",
                                                   "locationType": "parameter"}])


def _tokens(q: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        m = _TOKEN.match(q, pos)
        if not m or m.lastgroup is None:
            raise invalid_query(q)
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        out.append((kind, val))
    return out


Predicate = Callable[[dict[str, Any]], bool]


def compile_query(q: str) -> Predicate:
    """Parse a Drive `q` into a predicate over file records."""
    return _Query(q).parse()


class _Query:
    """A recursive descent over the tokens of `q`: or of ands of clauses, `not` and parentheses."""

    def __init__(self, q: str) -> None:
        self.q, self.toks, self.pos = q, _tokens(q), 0

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.pos != len(self.toks):
            raise invalid_query(self.q)
        return pred

    def peek(self, word: str | None = None) -> tuple[str, str] | None:
        if self.pos < len(self.toks) and (word is None or self.toks[self.pos][1].lower() == word):
            return self.toks[self.pos]
        return None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.toks):
            raise invalid_query(self.q)
        self.pos += 1
        return self.toks[self.pos - 1]

    def value(self) -> str | float | bool:
        kind, val = self.take()
        if kind == "str":
            return val
        if kind == "num":
            return float(val)
        if kind == "word" and val.lower() in ("true", "false"):
            return val.lower() == "true"
        raise invalid_query(self.q)

    def clause(self) -> Predicate:
        if self.peek("not"):
            self.take()
            inner = self.clause()
            return lambda f: not inner(f)
        if self.peek("("):
            self.take()
            inner = self.expr()
            if self.take()[1] != ")":
                raise invalid_query(self.q)
            return inner
        kind, first = self.take()
        if kind == "str":  # 'x' in parents / owners / writers / readers
            if self.take()[1].lower() != "in":
                raise invalid_query(self.q)
            field = self.take()[1]
            return lambda f: first in _list_field(f, field)
        field = first
        if field == "sharedWithMe":
            return lambda f: False
        op = self.take()[1].lower()
        val = self.value()
        return _compare(field, op, val, self.q)

    def term(self) -> Predicate:
        left = self.clause()
        while self.peek("and"):
            self.take()
            right, prev = self.clause(), left
            left = (lambda a, b: lambda f: a(f) and b(f))(prev, right)
        return left

    def expr(self) -> Predicate:
        left = self.term()
        while self.peek("or"):
            self.take()
            right, prev = self.term(), left
            left = (lambda a, b: lambda f: a(f) or b(f))(prev, right)
        return left


def _list_field(f: dict, field: str) -> list[str]:
    if field == "parents":
        return f["parents"]
    roles = {"owners": ("owner",), "writers": ("owner", "writer"),
             "readers": ("owner", "writer", "commenter", "reader")}
    if field not in roles:
        raise invalid_query(field)
    return [p.get("emailAddress") for p in f["permissions"] if p["role"] in roles[field]]


def _parse_time(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _compare(field: str, op: str, val, q: str):
    ops = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
           "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
    if field in ("name", "mimeType", "fullText", "description"):
        if op == "contains":
            return lambda f: str(val).lower() in _text(f, field).lower()
        if op in ("=", "!="):
            return lambda f: ops[op](_text(f, field), val)
    elif field in ("modifiedTime", "createdTime", "viewedByMeTime") and op in ops:
        try:
            when = _parse_time(str(val))
        except ValueError:
            raise invalid_query(q) from None
        return lambda f: ops[op](f[field], when)
    elif field in ("trashed", "starred") and op in ("=", "!=") and isinstance(val, bool):
        return lambda f: ops[op](bool(f[field]), val)
    raise invalid_query(q)


def _text(f: dict, field: str) -> str:
    if field == "fullText":
        return f"{f['name']} {f.get('description') or ''}"
    return f.get(field) or ""


def render_file(state: State, rec: dict, fields: str | None) -> dict:
    out = {k: v for k, v in rec.items()
           if k not in ("content", "permissions") and not k.startswith("_") and v is not None}
    for k in ("createdTime", "modifiedTime", "viewedByMeTime"):
        out[k] = rfc3339(rec[k])
    out["permissions"] = copy.deepcopy(rec["permissions"])
    return fieldmask.apply(out, fieldmask.parse(fields or FILE_DEFAULT))


def create(state: State, body: dict, params: dict, user: str, content: bytes = b"") -> dict:
    mime = body.get("mimeType") or "application/octet-stream"
    name = body.get("name") or ("Untitled spreadsheet" if mime == SPREADSHEET_MIME else "Untitled")
    if mime == SPREADSHEET_MIME:
        ss = state.create_spreadsheet(name, user, parents=body.get("parents"))
        ss.add_sheet({"title": "Sheet1"})
        rec = state.files[ss.id]
    else:
        rec = state.new_file(name, mime, user, body.get("parents"))
        rec["content"] = content
    for key in ("description", "starred"):
        if body.get(key) is not None:
            rec[key] = body[key]
    return render_file(state, rec, params.get("fields"))


def get(state: State, fid: str, params: dict) -> dict:
    return render_file(state, state.file(fid), params.get("fields"))


def _sort_key(spec: str):
    parts = spec.strip().split()
    field, desc = parts[0], len(parts) > 1 and parts[1].lower() == "desc"
    key = {"name": lambda f: f["name"].lower(), "name_natural": lambda f: f["name"].lower(),
           "createdTime": lambda f: f["createdTime"], "modifiedTime": lambda f: f["modifiedTime"],
           "recency": lambda f: f["modifiedTime"], "starred": lambda f: f["starred"],
           "folder": lambda f: f["mimeType"] != "application/vnd.google-apps.folder",
           "viewedByMeTime": lambda f: f["viewedByMeTime"]}.get(field)
    if key is None:
        raise ApiError(400, "Invalid Value", errors=[{"message": "Invalid Value", "domain": "global",
                                                      "reason": "invalid", "location": "orderBy",
                                                      "locationType": "parameter"}])
    return key, desc


def list_files(state: State, params: dict) -> dict:
    pred = compile_query(params["q"]) if params.get("q") else (lambda f: True)
    files = [f for fid, f in state.files.items()
             if not (fid in state.spreadsheets and state.spreadsheets[fid].private)
             and state.may_open(f) and pred(f)]
    files.sort(key=lambda f: f["modifiedTime"], reverse=True)
    for spec in reversed((params.get("orderBy") or "").split(",") if params.get("orderBy") else []):
        key, desc = _sort_key(spec)
        files.sort(key=key, reverse=desc)
    size = params.get("pageSize") or 100
    if not 1 <= size <= 1000:
        raise ApiError(400, "Invalid Value", errors=[{"message": "Invalid Value", "domain": "global",
                                                      "reason": "invalid", "location": "pageSize",
                                                      "locationType": "parameter"}])
    start = 0
    if params.get("pageToken"):
        try:
            start = int(base64.urlsafe_b64decode(params["pageToken"].encode()).decode())
        except ValueError:
            raise ApiError(400, "Invalid Value") from None
    page = files[start:start + size]
    out: dict = {"kind": "drive#fileList", "incompleteSearch": False}
    if start + size < len(files):
        out["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    out["files"] = [render_file(state, f, "*") for f in page]
    mask = params.get("fields") or "kind,incompleteSearch,nextPageToken,files(" + FILE_DEFAULT + ")"
    if mask == "*":
        return out
    result = fieldmask.apply(out, fieldmask.parse(mask))
    if "files" in fieldmask.parse(mask) and "files" not in result:
        result["files"] = []
    return result


def copy_file(state: State, fid: str, body: dict, params: dict, user: str) -> dict:
    src = state.file(fid)
    name = body.get("name") or f"Copy of {src['name']}"
    if src["mimeType"] == SPREADSHEET_MIME:
        ss = state.create_spreadsheet(name, user, parents=body.get("parents") or src["parents"])
        orig = state.spreadsheets[fid]
        ss.props = copy.deepcopy(orig.props)
        ss.props["title"] = name
        ss.sheets = copy.deepcopy(orig.sheets)
        ss.named_ranges = copy.deepcopy(orig.named_ranges)
        ss.developer_metadata = copy.deepcopy(orig.developer_metadata)
        rec = state.files[ss.id]
    else:
        rec = state.new_file(name, src["mimeType"], user, body.get("parents") or src["parents"])
        rec["content"] = src["content"]
    return render_file(state, rec, params.get("fields"))


def delete(state: State, fid: str) -> None:
    state.file(fid)
    state.files.pop(fid)
    state.spreadsheets.pop(fid, None)


def update(state: State, fid: str, body: dict, params: dict, user: str) -> dict:
    rec = state.file(fid)
    for key in ("name", "description", "starred", "trashed"):
        if body.get(key) is not None:
            rec[key] = body[key]
    if body.get("name") and fid in state.spreadsheets:
        state.spreadsheets[fid].props["title"] = body["name"]
    if params.get("addParents"):
        rec["parents"] = rec["parents"] + [p for p in params["addParents"].split(",") if p not in rec["parents"]]
    if params.get("removeParents"):
        rec["parents"] = [p for p in rec["parents"] if p not in params["removeParents"].split(",")]
    state.touch(fid, user)
    return render_file(state, rec, params.get("fields"))


def export(state: State, fid: str, params: dict) -> tuple[bytes, str]:
    state.file(fid)
    mime = params.get("mimeType")
    ss = state.spreadsheets.get(fid)
    if ss is None or mime not in ("text/csv", "text/tab-separated-values"):
        raise ApiError(400, f"Export only supports Docs Editors files. mimeType {mime} not supported.",
                       errors=[{"message": "Export only supports Docs Editors files.", "domain": "global",
                                "reason": "fileNotExportable"}])
    from .values import value_range
    sheet = ss.sheets[0]
    rows = value_range(ss, f"'{sheet.title}'" if "'" not in sheet.title else sheet.title).get("values", [])
    buf = io.StringIO()
    csv.writer(buf, delimiter="," if mime == "text/csv" else "\t", lineterminator="\r\n").writerows(rows)
    return buf.getvalue().rstrip("\r\n").encode(), mime


def create_permission(state: State, fid: str, body: dict, params: dict) -> dict:
    rec = state.file(fid)
    role, kind = body.get("role"), body.get("type")
    if role not in ("reader", "commenter", "writer", "fileOrganizer", "organizer", "owner") or \
            kind not in ("user", "group", "domain", "anyone"):
        raise ApiError(400, "Invalid permission type or role.", errors=[
            {"message": "Invalid permission type or role.", "domain": "global", "reason": "invalid"}])
    if kind in ("user", "group") and not body.get("emailAddress"):
        raise ApiError(400, "The permission type field is required.", errors=[
            {"message": "Missing emailAddress.", "domain": "global", "reason": "required"}])
    perm = {"kind": "drive#permission", "id": str(state.rng.randrange(10**19, 10**20)), "type": kind,
            "role": role}
    if body.get("emailAddress"):
        perm["emailAddress"] = body["emailAddress"]
        perm["displayName"] = user_record(body["emailAddress"], me=False)["displayName"]
    if body.get("domain"):
        perm["domain"] = body["domain"]
    if kind in ("anyone", "domain"):
        perm["allowFileDiscovery"] = bool(body.get("allowFileDiscovery"))
    perm["_notified"] = {"send": params.get("sendNotificationEmail", True),
                         "message": params.get("emailMessage")}
    rec["permissions"].append(perm)
    rec["shared"] = True
    return _render_perm(perm, params.get("fields"))


def _render_perm(perm: dict, fields: str | None) -> dict:
    clean = {k: v for k, v in perm.items() if not k.startswith("_")}
    return fieldmask.apply(clean, fieldmask.parse(fields or PERMISSION_DEFAULT))


def list_permissions(state: State, fid: str, params: dict) -> dict:
    rec = state.file(fid)
    out = {"kind": "drive#permissionList", "permissions": [_render_perm(p, "*") for p in rec["permissions"]]}
    mask = params.get("fields") or f"kind,permissions({PERMISSION_DEFAULT})"
    return fieldmask.apply(out, fieldmask.parse(mask))


REVISION_DEFAULT = "kind,id,mimeType,modifiedTime"


def list_revisions(state: State, fid: str, params: dict) -> dict:
    """revisions.list: the file's revisions oldest first, paged by pageSize (1-1000, default 200)."""
    rec = state.file(fid)
    revisions = rec["_revisions"]
    size = int(params.get("pageSize", 200))
    if not 1 <= size <= 1000:
        raise ApiError(400, "Invalid Value", errors=[{"message": "Invalid Value", "domain": "global",
                                                      "reason": "invalid", "location": "pageSize",
                                                      "locationType": "parameter"}])
    start = int(params.get("pageToken") or 0)
    page = [{**r, "modifiedTime": rfc3339(r["modifiedTime"])} for r in revisions[start:start + size]]
    out = {"kind": "drive#revisionList", "revisions": page}
    if start + size < len(revisions):
        out["nextPageToken"] = str(start + size)
    mask = params.get("fields") or f"kind,nextPageToken,revisions({REVISION_DEFAULT})"
    return fieldmask.apply(out, fieldmask.parse(mask))
