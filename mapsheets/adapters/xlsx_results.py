"""Formula results across an openpyxl save.

openpyxl keeps a formula but writes it without its last result (it cannot calculate), so until
Excel or LibreOffice opens and saves the file again, every reader, mapsheets included, sees a
formula with no value: a due date typed as ``=F20+7`` would read as "not a date" right after
mapsheets appended a step, and a signature made a second earlier would look stale. These helpers
read the results the file had before our write and put them back beside the same formulas in the
file we write (the workbook is still marked for full recalculation on open, so a program that
calculates refreshes them). Only the standard library: the XML was checked by ``xlsx_limits``.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# A result: the cell's type attribute (None for a number) and the text of its <v>.
Results = dict[str, tuple[str | None, str]]

# A formula cell as openpyxl writes it: no type attribute, the formula, an empty value.
_WRITTEN = re.compile(rb'<c r="(?P<ref>[A-Z]{1,3}[0-9]{1,7})"(?P<attrs>[^>]*)>(?P<f><f(?: [^>]*)?>[^<]*</f>)'
                      rb'(?:<v ?/>|<v></v>)(?=</c>)')  # openpyxl's own writer, or lxml's


def formula_results(data: bytes) -> dict[str, Results]:
    """Tab title -> {cell reference: (type, value)} for every formula cell that has a result."""
    out: dict[str, Results] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for title, member in _sheet_members(archive).items():
            found = _results(archive.read(member))
            if found:
                out[title] = found
    return out


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Tab title -> the zip member holding its XML."""
    from xml.etree import ElementTree
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG}Relationship")}
    members = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        if target:
            path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            members[sheet.get("name", "")] = path
    return {title: member for title, member in members.items() if member in archive.namelist()}


def _results(xml: bytes) -> Results:
    if b"<f" not in xml:
        return {}
    from xml.etree import ElementTree
    found: Results = {}
    for _event, cell in ElementTree.iterparse(io.BytesIO(xml)):
        if cell.tag != f"{_MAIN}c":
            continue
        value = cell.find(f"{_MAIN}v")
        if cell.find(f"{_MAIN}f") is not None and value is not None and value.text:
            found[cell.get("r", "")] = (cell.get("t"), value.text)
        cell.clear()
    return found


def fill_results(xml: bytes, results: Results) -> bytes:
    """The sheet XML openpyxl wrote, with each formula's earlier result back in its <v>."""

    from xml.sax.saxutils import escape

    def fill(m: re.Match[bytes]) -> bytes:
        known = results.get(m["ref"].decode("ascii"))
        if known is None:
            return m[0]
        kind, value = known
        typed = f' t="{kind}"'.encode() if kind and kind != "n" else b""
        return (b'<c r="' + m["ref"] + b'"' + m["attrs"] + typed + b">" + m["f"]
                + b"<v>" + escape(value).encode("utf-8") + b"</v>")

    return _WRITTEN.sub(fill, xml)


class ResultsZip(zipfile.ZipFile):
    """The zip openpyxl saves ``workbook`` into: each sheet's XML gets its formulas' results (by
    tab title) on the way in. Sheets are matched when written, once openpyxl has named their parts."""

    def __init__(self, file, workbook, results_by_title: dict[str, Results]):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._workbook, self._results = workbook, results_by_title

    def write(self, filename, arcname=None, *args, **kwargs):
        title = next((ws.title for ws in self._workbook.worksheets if ws.path.lstrip("/") == str(arcname)), None)
        results = self._results.get(title) if title is not None else None
        if not results:
            return super().write(filename, arcname, *args, **kwargs)
        with open(filename, "rb") as fh:
            xml = fh.read()
        return self.writestr(str(arcname), fill_results(xml, results), compress_type=zipfile.ZIP_DEFLATED)
