"""Checks on an untrusted .xlsx before openpyxl parses it: size limits, encryption, DTDs.

openpyxl believes what a file says: one cell at XFD1048576 makes it build a grid of 17 billion
cells, and a 1 MB zip can inflate to gigabytes of shared strings. Here only the zip directory is
read, and each worksheet's XML is streamed through regular expressions that stop at the first
limit passed, so a hostile file is refused in well under a second and a few MB. The used range is
taken from the cells themselves, never from ``<dimension>``, which a file may omit or fake.
"""

from __future__ import annotations

import html
import io
import os
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from mapsheets.errors import PlanFileError, UsageError

# Every .xlsx encrypted with a password is an OLE2 compound file holding the real zip encrypted.
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
LIMITS = {  # environment variable -> default; see README "Limits"
    "MAPSHEETS_MAX_UNCOMPRESSED_MB": 100,
    "MAPSHEETS_MAX_ROWS": 20_000,
    "MAPSHEETS_MAX_COLUMNS": 200,
    # Writes: a local write loads and saves the whole workbook, so its time grows with the rows
    # (issue 17: add-step stays near 3 s up to about this many rows, some 2,400 steps with their
    # Timeline rows, on 2 cores; README "Big plans").
    "MAPSHEETS_MAX_WRITE_ROWS": 5_000,
    "MAPSHEETS_MAX_WRITE_MB": 20,  # unpacked: long texts make a slow save with few rows
}
# Deflate tops out near 1000:1 and a real sheet stays far below 100:1; a large part past this is a bomb.
MAX_RATIO, RATIO_FROM = 200, 1 << 20
MAX_MEMBERS = 10_000
CHUNK = 1 << 20

_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)\b([^>]*)>")
_REF = re.compile(rb"""\br\s*=\s*["']\$?([A-Za-z]{0,3})\$?([0-9]*)["']""")
# The fast path, for the usual writing (Excel, LibreOffice, openpyxl): unprefixed tags, the cell's r first.
_ROW_REF = re.compile(rb'<row\b[^>]*?\br="([0-9]+)"')
_CELL_REF = re.compile(rb'<c r="\$?([A-Z]{1,3})\$?([0-9]+)"')
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")


def _attr(attrs: bytes, name: str) -> str | None:
    m = re.search(rb"(?:^|\s)" + re.escape(name.encode()) + rb"""\s*=\s*(["'])(.*?)\1""", attrs, re.S)
    return html.unescape(m.group(2).decode("utf-8", "replace")) if m else None


def limits() -> dict[str, int]:
    """The limits in force: defaults, or whole numbers from the environment."""
    found = {}
    for name, default in LIMITS.items():
        raw = os.environ.get(name, "").strip()
        if not raw:
            found[name] = default
            continue
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise UsageError(f"{name} must be a whole number above 0, not {raw!r}")
        found[name] = value
    return found


@dataclass
class Checked:
    has_formulas: bool = False
    rows: int = 0  # used rows, all tabs together
    unpacked: int = 0  # bytes, all parts together


def check_writable_size(path: Path, checked: Checked) -> None:
    """Refuse, before anything is loaded, a write to a workbook too big to rewrite quickly."""
    limit = limits()
    most, megabytes = limit["MAPSHEETS_MAX_WRITE_ROWS"], limit["MAPSHEETS_MAX_WRITE_MB"]
    if checked.unpacked > megabytes * 1_000_000:
        raise PlanFileError(f"{path}: unpacks to {checked.unpacked / 1e6:.0f} MB: mapsheets writes local plans of up "
                            f"to {megabytes} MB (each write saves the whole workbook); nothing written. Move old "
                            "rows or long notes to another file, keep the plan in Google Sheets, or raise "
                            "MAPSHEETS_MAX_WRITE_MB")
    if checked.rows > most:
        raise PlanFileError(f"{path}: {checked.rows:,} rows in all: mapsheets writes local plans of up to {most:,} "
                            "rows (each write saves the whole workbook); nothing written. Move old rows to another "
                            "file, keep the plan in Google Sheets, or raise MAPSHEETS_MAX_WRITE_ROWS")


def check_workbook(path: Path, data: bytes | None = None) -> Checked:
    """Refuse, with one PlanFileError line, a workbook that is encrypted or past the size limits.

    ``data``: the file's bytes when the caller already read them (checked instead of the file).
    Files that are simply not workbooks pass through: openpyxl's own error says so.
    """
    if data is not None:
        head = data[:len(CFB_MAGIC)]
    else:
        try:
            with open(path, "rb") as fh:
                head = fh.read(len(CFB_MAGIC))
        except OSError:
            return Checked()  # missing, a folder, unreadable: load() words these
    if head == CFB_MAGIC:
        raise PlanFileError(f"{path}: is password-protected: save it without a password "
                            "(or it is an old .xls: save it as .xlsx)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return Checked()
    with archive:
        return _check_archive(path, archive, limits())


def _check_archive(path: Path, archive: zipfile.ZipFile, limit: dict[str, int]) -> Checked:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise PlanFileError(f"{path}: holds {len(members):,} parts, more than a workbook has ({MAX_MEMBERS:,})")
    max_bytes = limit["MAPSHEETS_MAX_UNCOMPRESSED_MB"] * 1_000_000
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise PlanFileError(f"{path}: is password-protected: save it without a password")
        # zipfile stops at the declared size (and then fails its CRC), so declared sizes bound the work.
        total += info.file_size
        if total > max_bytes:
            raise PlanFileError(f"{path}: unpacks to more than {limit['MAPSHEETS_MAX_UNCOMPRESSED_MB']} MB "
                                "(limit MAPSHEETS_MAX_UNCOMPRESSED_MB)")
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise PlanFileError(f"{path}: part {info.filename} inflates {ratio:,} "
                                f"times (more than {MAX_RATIO}): refusing a zip bomb")
    checked = Checked(unpacked=total)
    try:
        for info in members:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                with archive.open(info) as fh:
                    if _DTD.search(fh.read(64 * 1024)):
                        raise PlanFileError(f"{path}: part {info.filename} declares a DTD or entities, "
                                            "which no workbook needs: refusing it")
        for tab, name in sheet_members(archive):
            formulas, rows = _scan_sheet(path, archive, name, tab, limit)
            checked.has_formulas |= formulas
            checked.rows += rows
    except (zlib.error, zipfile.BadZipFile, EOFError) as exc:
        raise PlanFileError(f"{path}: is damaged: a compressed part cannot be unpacked ({exc})") from None
    except (RuntimeError, NotImplementedError) as exc:  # zipfile: encrypted entry, unknown compression
        raise PlanFileError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    return checked


def sheet_members(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(tab name, zip member) of every worksheet the workbook lists, then any other sheet part."""
    names = set(archive.namelist())
    found: list[tuple[str, str]] = []

    def small(name: str) -> bytes:
        info = archive.getinfo(name)
        return archive.read(name) if info.file_size <= 16 * CHUNK else b""

    if "xl/workbook.xml" in names and "xl/_rels/workbook.xml.rels" in names:
        targets = {}
        for m in _REL.finditer(small("xl/_rels/workbook.xml.rels")):
            rid, target = _attr(m.group(1), "Id"), _attr(m.group(1), "Target")
            if rid and target:
                member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                targets[rid] = member
        for m in _SHEET.finditer(small("xl/workbook.xml")):
            rid_at = re.search(rb"""\s[\w.-]+:id\s*=\s*["']([^"']*)["']""", m.group(1))
            sheet = targets.get(rid_at.group(1).decode("utf-8", "replace") if rid_at else "")
            if sheet is not None and sheet in names:
                found.append((_attr(m.group(1), "name") or sheet, sheet))
    seen = {member for _tab, member in found}
    found += [(n, n) for n in sorted(names) if n.startswith("xl/worksheets/") and n.endswith(".xml") and n not in seen]
    return found


def _scan_sheet(path: Path, archive: zipfile.ZipFile, member: str, tab: str,
                limit: dict[str, int]) -> tuple[bool, int]:
    """Stream one worksheet: refuse past the row or column limit; say whether it holds a formula,
    and how many rows it uses."""
    max_rows, max_cols = limit["MAPSHEETS_MAX_ROWS"], limit["MAPSHEETS_MAX_COLUMNS"]
    row = col = 0
    formulas = False
    tail = b""
    with archive.open(member) as fh:
        while True:
            chunk = fh.read(CHUNK)
            buf = tail + chunk
            cut = buf.rfind(b"<") if chunk else -1
            if cut != -1 and buf.find(b">", cut) == -1 and len(buf) - cut < CHUNK:
                buf, tail = buf[:cut], buf[cut:]  # keep a tag cut in two for the next chunk
            else:
                tail = b""
            if not formulas:  # plain substring tests first: a regex without a literal start is slow
                formulas = any(map(buf.__contains__, (b"<f>", b"<f ", b":f>", b":f "))) and bool(_FORMULA.search(buf))
            rows = _ROW_REF.findall(buf)
            cells = _CELL_REF.findall(buf)
            if (len(rows) == sum(map(buf.count, (b"<row ", b"<row>", b"<row/")))
                    and len(cells) == sum(map(buf.count, (b"<c ", b"<c>", b"<c/")))
                    and not any(map(buf.__contains__, (b":row", b":c ", b":c>", b":c/")))):
                # Every tag says where it is (Excel, LibreOffice, openpyxl): the largest references are the
                # used range, found at C speed without a Python step per cell.
                letters, numbers = zip(*cells, strict=True) if cells else ((), ())
                row = max([row, *map(int, rows), *map(int, numbers)])
                col = max((column_number(c) for c in set(letters)), default=0)
                _refuse(path, tab, row, col, max_rows, max_cols)
            else:
                for m in _TAG.finditer(buf):  # some tags rely on their position: follow them one by one
                    ref = _REF.search(m.group(2))
                    if m.group(1) == b"row":
                        row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                        col = 0
                    else:
                        col = column_number(ref.group(1)) if ref and ref.group(1) else col + 1
                        if ref and ref.group(2):
                            row = max(row, int(ref.group(2)))
                    _refuse(path, tab, row, col, max_rows, max_cols)
            if not chunk:
                return formulas, row


def _refuse(path: Path, tab: str, row: int, col: int, max_rows: int, max_cols: int) -> None:
    if row > max_rows:
        raise PlanFileError(f"{path}: tab {tab!r} uses more than {max_rows:,} rows "
                            f"(row {row:,}; limit MAPSHEETS_MAX_ROWS)")
    if col > max_cols:
        raise PlanFileError(f"{path}: tab {tab!r} uses more than {max_cols:,} columns "
                            f"(column {col:,}; limit MAPSHEETS_MAX_COLUMNS)")


def column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n
