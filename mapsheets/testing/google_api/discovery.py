"""Validate requests against Google's official discovery documents (shipped by googleapiclient)."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from .errors import ApiError, bad_request

DOCS = {"sheets": "sheets.v4.json", "drive": "drive.v3.json"}
# Proto name of the field holding the HTTP body, where Google prefixes paths with it.
BODY_FIELD = {"sheets.spreadsheets.values.update": "data",
              "sheets.spreadsheets.values.append": "data",
              "sheets.spreadsheets.create": "spreadsheet"}
_PROTO_PKG = {"sheets": "google.apps.sheets.v4", "drive": "google.apps.drive.v3"}


@lru_cache(maxsize=None)
def document(api: str) -> dict:
    path = resources.files("googleapiclient") / "discovery_cache" / "documents" / DOCS[api]
    return json.loads(path.read_text(encoding="utf-8"))


INSTALL_HINT = "pip install 'mapsheets[testing]'"


def missing_documents() -> str | None:
    """Why the discovery documents cannot be loaded (None when they can): the double needs them
    for every request, so a server without them would only drop connections."""
    try:
        for api in DOCS:
            document(api)
    except (ImportError, OSError, ValueError) as exc:
        return f"cannot load Google's discovery documents ({exc.__class__.__name__}: {exc})"
    return None


@lru_cache(maxsize=None)
def methods(api: str) -> dict:
    """Map method id (e.g. 'sheets.spreadsheets.values.get') to its discovery entry."""
    out: dict = {}

    def walk(node: dict) -> None:
        for m in node.get("methods", {}).values():
            out[m["id"]] = m
        for r in node.get("resources", {}).values():
            walk(r)

    walk(document(api))
    return out


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _join(path: str, name: str) -> str:
    return f"{path}.{snake(name)}" if path else snake(name)


def _unknown(name: str, path: str, why: str = "Cannot find field.") -> ApiError:
    where = f" at '{path}'" if path else ""
    return bad_request(f'Invalid JSON payload received. Unknown name "{name}"{where}: {why}', path or None)


def _invalid(path: str, typename: str, value) -> ApiError:
    shown = json.dumps(value, ensure_ascii=False)
    return bad_request(f"Invalid value at '{path}' ({typename}), {shown}", path)


def _typename(api: str, spec: dict, owner: str, field: str) -> str:
    pkg = _PROTO_PKG[api]
    if "$ref" in spec:
        return f"type.googleapis.com/{pkg}.{spec['$ref']}"
    t = spec.get("type")
    if t == "any":
        return "type.googleapis.com/google.protobuf.Value"
    if t == "array":
        return "type.googleapis.com/google.protobuf.ListValue"
    if "enum" in spec:
        return f"type.googleapis.com/{pkg}.{owner}.{field[:1].upper()}{field[1:]}"
    fmt = spec.get("format", "")
    return {"int32": "TYPE_INT32", "uint32": "TYPE_UINT32", "int64": "TYPE_INT64",
            "uint64": "TYPE_UINT64", "double": "TYPE_DOUBLE", "float": "TYPE_FLOAT"}.get(
        fmt, {"boolean": "TYPE_BOOL", "integer": "TYPE_INT32", "number": "TYPE_DOUBLE"}.get(t or "", "TYPE_STRING"))


def _is_int(v, fmt: str) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, float):
        return v.is_integer()
    if isinstance(v, str):
        if not re.fullmatch(r"-?\d+", v.strip()):
            return False
        return not (fmt.startswith("u") and v.strip().startswith("-"))
    return False


def _check_scalar(api: str, spec: dict, value, path: str, owner: str, field: str) -> None:
    t = spec.get("type")
    fmt = spec.get("format", "")
    ok = True
    if t == "boolean":
        ok = isinstance(value, bool)
    elif t == "integer":
        ok = _is_int(value, fmt)
        if ok and fmt in ("int32", "uint32") and not -(2**31) <= int(float(value)) < 2**32:
            ok = False
    elif t == "number":
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or bool(
            isinstance(value, str) and re.fullmatch(r"-?(\d+\.?\d*([eE][-+]?\d+)?|NaN|Infinity)", value))
    elif t == "string":
        if fmt in ("int64", "uint64"):
            ok = _is_int(value, fmt)
        elif "enum" in spec:
            ok = (isinstance(value, str) and value in spec["enum"]) or (
                isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(spec["enum"]))
        else:
            ok = isinstance(value, str)
    if not ok:
        raise _invalid(path, _typename(api, spec, owner, field), value)


def _check(api: str, spec: dict, value, path: str, owner: str, field: str) -> None:
    """Validate one value against a property spec; path names the value itself."""
    if value is None:
        return  # proto JSON treats null as "unset"
    if "$ref" in spec:
        if isinstance(value, list):
            raise _unknown(field, path.rsplit(".", 1)[0] if "." in path else "",
                           "Proto field is not repeating, cannot start list.")
        if not isinstance(value, dict):
            raise _invalid(path, _typename(api, spec, owner, field), value)
        validate_object(api, spec["$ref"], value, path)
        return
    t = spec.get("type")
    if t == "any":
        return
    if t == "array":
        if not isinstance(value, list):
            raise _invalid(path, _typename(api, spec.get("items", {}), owner, field), value)
        for i, item in enumerate(value):
            _check(api, spec.get("items", {}), item, f"{path}[{i}]", owner, field)
        return
    if t == "object":
        if not isinstance(value, dict):
            raise _invalid(path, "type.googleapis.com/google.protobuf.Struct", value)
        inner = spec.get("additionalProperties")
        if inner:
            for k, v in value.items():
                _check(api, inner, v, f"{path}[{k}]", owner, field)
        elif "properties" in spec:
            _check_props(api, spec["properties"], value, path, owner)
        return
    if isinstance(value, (dict, list)):
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        why = ("Proto field is not repeating, cannot start list." if isinstance(value, list)
               else "Cannot find field.")
        raise _unknown(field, parent, why)
    _check_scalar(api, spec, value, path, owner, field)


def _check_props(api: str, props: dict, obj: dict, path: str, owner: str) -> None:
    for key, val in obj.items():
        if key not in props:
            raise _unknown(key, path)
        _check(api, props[key], val, _join(path, key), owner, key)


def validate_object(api: str, schema_name: str, obj, path: str = "") -> None:
    schema = document(api)["schemas"][schema_name]
    if not isinstance(obj, dict):
        raise bad_request(f"Invalid JSON payload received. Expected an object for '{path or 'body'}'.")
    _check_props(api, schema.get("properties", {}), obj, path, schema_name)


def validate_body(api: str, method_id: str, body) -> None:
    """Raise ApiError(400) when the body does not fit the method's request schema."""
    req = methods(api)[method_id].get("request")
    if req is None:
        return
    if body is None:
        return
    validate_object(api, req["$ref"], body, BODY_FIELD.get(method_id, ""))


def _coerce_param(api: str, name: str, spec: dict, raw: str):
    t = spec.get("type")
    path = snake(name)
    if t == "boolean":
        low = raw.lower()
        if low not in ("true", "false", "1", "0"):
            raise _invalid(path, "TYPE_BOOL", raw)
        return low in ("true", "1")
    if t == "integer":
        if not _is_int(raw, spec.get("format", "")):
            raise _invalid(path, _typename(api, spec, "", name), raw)
        return int(raw)
    if "enum" in spec and raw not in spec["enum"]:
        tn = f"type.googleapis.com/{_PROTO_PKG[api]}.{name[:1].upper()}{name[1:]}"
        raise _invalid(path, tn, raw)
    return raw


def validate_params(api: str, method_id: str, query: dict[str, list[str]],
                    path_params: tuple[str, ...] = ()) -> dict:
    """Type-check query parameters; returns {name: value or [values] when repeated}."""
    specs = dict(document(api).get("parameters", {}))
    specs.update(methods(api)[method_id].get("parameters", {}))
    out: dict = {}
    for name, raws in query.items():
        spec = specs.get(name)
        if spec is None and api == "drive":
            continue  # Drive's front end ignores unknown query parameters (cassettes show it)
        if spec is None or spec.get("location") == "path" or name in path_params:
            raise bad_request(f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                              f"parameter. Field '{name}' could not be found in request message.")
        vals = [_coerce_param(api, name, spec, r) for r in raws]
        out[name] = vals if spec.get("repeated") else vals[-1]
    return out
