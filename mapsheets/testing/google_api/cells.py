"""Cell values: USER_ENTERED parsing, formulas (arithmetic only), and value rendering."""
from __future__ import annotations

import ast
import datetime as dt
import operator
import re

EPOCH = dt.datetime(1899, 12, 30)
_NUM = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_GROUPED = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PCT = re.compile(r"^([-+]?(\d+\.?\d*|\.\d+))%$")
_DATE_FORMS = [  # (regex, strptime format, sheets pattern)
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "%Y-%m-%d", "yyyy-mm-dd"),
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}:\d{2}$"), "%Y-%m-%d %H:%M:%S", "yyyy-mm-dd hh:mm:ss"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"), "%Y/%m/%d", "yyyy/mm/dd"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$"), "%m/%d/%Y", "M/d/yyyy"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}$"), "%m/%d/%Y %H:%M:%S", "M/d/yyyy H:mm:ss"),
]
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow}


def to_serial(when: dt.datetime) -> float:
    delta = when - EPOCH
    return delta.days + delta.seconds / 86400


def from_serial(serial: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=serial)


def num(x: float):
    """JSON-friendly number: integral floats become ints (Google prints 2, not 2.0)."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


def eval_formula(formula: str):
    """Evaluate plain arithmetic formulas (=4/2, = 1 / 1024); None for anything else."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        raise ValueError(node)

    try:
        return ev(ast.parse(formula[1:].strip().replace("^", "**"), mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError, OverflowError):
        return None


def _number_format(kind: str, pattern: str) -> dict:
    return {"userEnteredFormat": {"numberFormat": {"type": kind, "pattern": pattern}}}


def parse_input(value, user_entered: bool) -> dict | None:
    """Turn one input value into CellData fields; None means 'leave the cell alone'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, (int, float)):
        return {"userEnteredValue": {"numberValue": float(value)}}
    text = str(value)
    if text == "":
        return {}
    if not user_entered:
        return {"userEnteredValue": {"stringValue": text}}
    if text.startswith("'"):
        return {"userEnteredValue": {"stringValue": text[1:]}}
    if text.startswith("="):
        return {"userEnteredValue": {"formulaValue": text}}
    s = text.strip()
    if s.upper() in ("TRUE", "FALSE"):
        return {"userEnteredValue": {"boolValue": s.upper() == "TRUE"}}
    if _NUM.match(s):
        return {"userEnteredValue": {"numberValue": float(s)}}
    if _GROUPED.match(s):
        decimals = len(s.split(".")[1]) if "." in s else 0
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return {"userEnteredValue": {"numberValue": float(s.replace(",", ""))},
                **_number_format("NUMBER", pattern)}
    m = _PCT.match(s)
    if m:
        return {"userEnteredValue": {"numberValue": float(m.group(1)) / 100}, **_number_format("PERCENT", "0%")}
    for rx, fmt, pattern in _DATE_FORMS:
        if rx.match(s):
            try:
                when = dt.datetime.strptime(s, fmt)
            except ValueError:
                break
            kind = "DATE_TIME" if "h" in pattern.lower() else "DATE"
            return {"userEnteredValue": {"numberValue": to_serial(when)}, **_number_format(kind, pattern)}
    return {"userEnteredValue": {"stringValue": text}}


def effective(cell: dict) -> dict | None:
    """The cell's computed value, as an ExtendedValue dict."""
    uev = cell.get("userEnteredValue")
    if not uev:
        return None
    if "formulaValue" in uev:
        return cell.get("effectiveValue") or (
            {"numberValue": v} if (v := eval_formula(uev["formulaValue"])) is not None else None)
    return uev


def number_format(cell: dict) -> dict | None:
    return (cell.get("userEnteredFormat") or {}).get("numberFormat")


def format_general(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return format(round(x, 10), ".15g").upper().replace("E+", "E+")


def format_serial(serial: float, pattern: str) -> str:
    when = from_serial(serial)
    out, i, after_hour = [], 0, False
    while i < len(pattern):
        j = i
        while j < len(pattern) and pattern[j].lower() == pattern[i].lower() and pattern[i].isalpha():
            j += 1
        tok = pattern[i:j] if j > i else pattern[i]
        low = tok.lower()
        if low.startswith("y"):
            out.append(f"{when.year:04d}" if len(tok) > 2 else f"{when.year % 100:02d}")
        elif low.startswith("m") and after_hour:
            out.append(f"{when.minute:02d}" if len(tok) > 1 else str(when.minute))
        elif low.startswith("m"):
            out.append(f"{when.month:02d}" if len(tok) > 1 else str(when.month))
        elif low.startswith("d"):
            out.append(f"{when.day:02d}" if len(tok) > 1 else str(when.day))
        elif low.startswith("h"):
            out.append(f"{when.hour:02d}" if len(tok) > 1 else str(when.hour))
            after_hour = True
        elif low.startswith("s"):
            out.append(f"{when.second:02d}")
        else:
            out.append(tok)
        i = max(j, i + 1)
    return "".join(out)


def format_number(x: float, fmt: dict | None) -> str:
    if fmt:
        kind, pattern = fmt.get("type"), fmt.get("pattern", "")
        if kind in ("DATE", "DATE_TIME", "TIME"):
            return format_serial(x, pattern or ("yyyy-mm-dd" if kind == "DATE" else "yyyy-mm-dd hh:mm:ss"))
        if kind == "PERCENT":
            return format_general(x * 100) + "%"
        if pattern.startswith("#,##0"):
            decimals = len(pattern.split(".")[1]) if "." in pattern else 0
            return f"{x:,.{decimals}f}"
    return format_general(x)


def formatted(cell: dict) -> str | None:
    ev = effective(cell)
    if ev is None:
        return None
    if "stringValue" in ev:
        return ev["stringValue"]
    if "boolValue" in ev:
        return "TRUE" if ev["boolValue"] else "FALSE"
    if "numberValue" in ev:
        return format_number(ev["numberValue"], number_format(cell))
    if "errorValue" in ev:
        return ev["errorValue"].get("type", "#ERROR!")
    return None


def render(cell: dict | None, value_render: str, date_render: str):
    """Render one cell for values.get; None means empty."""
    if not cell:
        return None
    if value_render == "FORMATTED_VALUE":
        return formatted(cell)
    uev = cell.get("userEnteredValue") or {}
    if value_render == "FORMULA" and "formulaValue" in uev:
        return uev["formulaValue"]
    ev = effective(cell)
    if ev is None:
        return None
    if "numberValue" in ev:
        fmt = number_format(cell)
        if date_render == "FORMATTED_STRING" and fmt and fmt.get("type") in ("DATE", "DATE_TIME", "TIME"):
            return format_number(ev["numberValue"], fmt)
        return num(ev["numberValue"])
    if "boolValue" in ev:
        return ev["boolValue"]
    if "stringValue" in ev:
        return ev["stringValue"]
    return formatted(cell)


def has_content(cell: dict | None) -> bool:
    return cell is not None and any(v not in (None, {}, []) for v in cell.values())


def has_value(cell: dict | None) -> bool:
    return cell is not None and bool(cell.get("userEnteredValue"))
