"""Hostile .xlsx files, as a buyer could send them, for the tests and benchmarks.

Built with zipfile alone and streamed, so a file that unpacks to gigabytes costs little to make.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _parts(sheet: bytes, shared_strings: bytes | None = None) -> dict[str, bytes]:
    ss_type = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
               b'officedocument.spreadsheetml.sharedStrings+xml"/>') if shared_strings is not None else b""
    ss_rel = (b'<Relationship Id="rId2" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
              b'officeDocument/2006/relationships/sharedStrings"/>') if shared_strings is not None else b""
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            b'"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            b'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' + ss_type + b"</Types>"),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'),
        "xl/workbook.xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><workbook ' + NS + b" " + _REL_NS +
            b'><sheets><sheet name="Plan" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://'
            b'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>' + ss_rel +
            b"</Relationships>"),
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    return parts


def _sheet(rows: bytes, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + NS + b">" + dim + b"<sheetData>" + rows + \
        b"</sheetData></worksheet>"


def _text_cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def write(path: Path, parts: Mapping[str, bytes | Iterable[bytes]]) -> Path:
    """A zip of ``parts``; a part given as an iterable of chunks is streamed into the archive."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in parts.items():
            if isinstance(data, bytes):
                archive.writestr(name, data)
            else:
                with archive.open(name, "w", force_zip64=True) as fh:
                    for chunk in data:
                        fh.write(chunk)
    return path


def small(path: Path) -> Path:
    """A harmless workbook: one tab 'Plan' with a few cells."""
    return write(path, _parts(_sheet(b'<row r="1">' + _text_cell("A1", "Title") + b"</row>")))


def far_cell(path: Path, ref: str = "XFD1048576", dimension: str | None = None) -> Path:
    """One cell at the very end of the sheet (Excel's last cell by default)."""
    row = "".join(ch for ch in ref if ch.isdigit())
    return write(path, _parts(_sheet(f'<row r="{row}">'.encode() + _text_cell(ref, "far") + b"</row>", dimension)))


def many_rows(path: Path, rows: int, columns: int = 10, *, dimension: str | None = None) -> Path:
    """``rows`` real rows of ``columns`` numbers each, streamed."""
    letters = [chr(65 + c) for c in range(columns)]

    def chunks() -> Iterator[bytes]:
        yield _sheet(b"", dimension).split(b"</sheetData>")[0]
        batch = []
        for r in range(1, rows + 1):
            cells = "".join(f'<c r="{col}{r}"><v>{r}</v></c>' for col in letters)
            batch.append(f'<row r="{r}">{cells}</row>')
            if len(batch) == 1000:
                yield "".join(batch).encode()
                batch = []
        yield "".join(batch).encode() + b"</sheetData></worksheet>"

    return write(path, {**_parts(b""), "xl/worksheets/sheet1.xml": chunks()})


def shared_strings_bomb(path: Path, megabytes: int) -> Path:
    """A small file whose shared strings unpack to ``megabytes`` MB of the same string."""
    item = b"<si><t>" + b"x" * 1000 + b"</t></si>"
    block = item * (1_000_000 // len(item))
    head = b'<?xml version="1.0" encoding="UTF-8"?><sst ' + NS + b">"
    strings = iter([head, *(block for _ in range(megabytes)), b"</sst>"])
    sheet = _sheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    return write(path, {**_parts(sheet, b""), "xl/sharedStrings.xml": strings})


def entity_expansion(path: Path, *, padding: int = 0) -> Path:
    """'Billion laughs' in the shared strings; ``padding`` bytes of comment push the DTD further in."""
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doc = ('<?xml version="1.0" encoding="UTF-8"?><!--' + " " * padding + '--><!DOCTYPE sst [' + "".join(lol) +
           ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>')
    sheet = _sheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    return write(path, _parts(sheet, doc.encode()))


def malformed_xml(path: Path) -> Path:
    """A sheet whose XML stops in the middle of a tag."""
    return write(path, _parts(b'<?xml version="1.0"?><worksheet ' + NS + b'><sheetData><row r="1"><c r="A1" t='))


def corrupt_deflate(path: Path) -> Path:
    """A workbook whose sheet's compressed bytes are not a deflate stream (zlib: invalid block type)."""
    small(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    offset = info.header_offset
    name_len = int.from_bytes(data[offset + 26:offset + 28], "little")
    extra_len = int.from_bytes(data[offset + 28:offset + 30], "little")
    start = offset + 30 + name_len + extra_len
    data[start:start + info.compress_size] = b"\xff" * info.compress_size
    path.write_bytes(bytes(data))
    assert _inflate_fails(bytes(data[start:start + info.compress_size]))
    return path


def _inflate_fails(data: bytes) -> bool:
    try:
        zlib.decompressobj(-15).decompress(data)
    except zlib.error:
        return True
    return False


def encrypted(path: Path) -> Path:
    """What Excel writes for a workbook with a password: an OLE2 compound file, not a zip."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    path.write_bytes(header + b"\0" * (512 - len(header)) + "EncryptionInfo".encode("utf-16-le") + b"\0" * 4096)
    return path
