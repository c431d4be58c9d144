"""How a SheetSpec looks in an .xlsx: cells, widths, fonts, fills, validations, conditional formats,
print setup. The layout (core/layout.py) says what; this says it in openpyxl's terms."""

from __future__ import annotations

import re
from typing import Any

from mapsheets.core.layout import (
    ALERT_BACKGROUND,
    ALERT_TEXT,
    HEADER_BACKGROUND,
    HEADER_TEXT,
    MUTED_TEXT,
    PROTECTED_TAB,
    STYLES,
    PrintSetup,
    SheetSpec,
    cell_format,
)
from mapsheets.core.text_gate import problem
from mapsheets.errors import PlanFileError


def set_cell(cell, value: Any) -> None:
    """One value into a cell: text stays text, dates get the layout's number format. Text the file
    could not carry, or carry back unchanged, is refused naming the cell (the text gate's last check)."""
    if type(value).__module__ == "numpy":  # a pandas result: openpyxl may have been loaded without numpy
        value = value.item()
    if value == "":
        value = None
    if isinstance(value, str):
        value = escape_text(value, f"{cell.parent.title}!{cell.coordinate}")
    cell.value = value
    if isinstance(value, str):
        # Text people typed ("=IMPORTXML(...)", "+cmd") stays text, never a formula.
        cell.data_type = "s"
    fmt = cell_format(value)
    if fmt:
        cell.number_format = fmt


# "_x0041_" in a cell's XML means "A" to Excel and to our reader: a literal "_x" before four hex
# digits and "_" is written as "_x005F_x", as Excel writes it; a carriage return, which an XML
# reader would turn into a newline, as "_x000D_".
_OOXML_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|\r")


def escape_text(text: str, where: str) -> str:
    """``text`` as an .xlsx cell stores it; refused (PlanFileError naming ``where``) when no cell can."""
    if said := problem(text):
        raise PlanFileError(f"{where}: text to write {said}: nothing written")
    if text.isspace():  # openpyxl marks no such text xml:space="preserve", so readers would trim it
        return "".join(f"_x{ord(c):04X}_" if c in " \t\n\r" else c for c in text)
    if "_x" in text or "\r" in text:
        return _OOXML_ESCAPE.sub(lambda m: "_x000D_" if m.group() == "\r" else "_x005F_", text)
    return text


def _lines(value: Any, width: float) -> int:
    """Lines a wrapped cell needs at a column width (in characters), roughly."""
    if not isinstance(value, str) or not value:
        return 1
    return sum(max(1, int(-(-len(part) // max(width - 1, 1)))) for part in value.split("\n"))


def write_sheet(ws: Any, sheet: SheetSpec) -> None:
    """Values, widths and formats of one sheet onto an openpyxl worksheet."""
    from openpyxl.utils import get_column_letter

    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if value is not None:
                set_cell(ws.cell(row=r + 1, column=c + 1), value)
    for c, width in enumerate(sheet.widths):
        ws.column_dimensions[get_column_letter(c + 1)].width = width
    _bold_labels(ws, sheet)
    if sheet.header_row is not None:
        _format_table(ws, sheet, sheet.header_row)
    if sheet.label_column is not None:
        from openpyxl.styles import Alignment

        left = Alignment(horizontal="left", vertical="top", wrap_text=False)
        for r in _label_rows(sheet):
            ws.cell(row=r + 1, column=sheet.label_column + 2).alignment = left
    if sheet.frozen_rows:
        ws.freeze_panes = ws.cell(row=sheet.frozen_rows + 1, column=1)
    _add_validations(ws, sheet)
    _write_looks(ws, sheet)
    _add_conditional_formats(ws, sheet)
    if sheet.protected:
        ws.protection.sheet = True
        ws.sheet_properties.tabColor = PROTECTED_TAB
    if sheet.print_setup:
        _print_setup(ws, sheet.print_setup)
    if sheet.hidden:
        ws.sheet_state = "hidden"


def _label_rows(sheet: SheetSpec) -> range:
    """The rows above the table (all of them without one): where the overview's labels are."""
    return range(len(sheet.rows) if sheet.header_row is None else min(sheet.header_row, len(sheet.rows)))


def _bold_labels(ws: Any, sheet: SheetSpec) -> None:
    """Headings large and bold, the label column bold above the table."""
    from openpyxl.styles import Font

    for r in sheet.heading_rows:
        ws.cell(row=r + 1, column=1).font = Font(bold=True, size=16)
    if sheet.label_column is not None:
        for r in _label_rows(sheet):
            ws.cell(row=r + 1, column=sheet.label_column + 1).font = Font(bold=True)


def _format_table(ws: Any, sheet: SheetSpec, header_row: int) -> None:
    """The header row white on the header fill; below it the column formats, and body rows wrapped
    and tall enough for their text (bands and unwrapped sheets aside)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    header = sheet.rows[header_row]
    for c in range(len(header)):
        cell = ws.cell(row=header_row + 1, column=c + 1)
        cell.font = Font(bold=True, color=HEADER_TEXT)
        cell.fill = PatternFill("solid", fgColor=HEADER_BACKGROUND)
    first_body = header_row + 2
    for c, fmt in sheet.column_formats.items():
        for r in range(first_body, max(first_body, len(sheet.rows) + 1) + 1):
            ws.cell(row=r, column=c + 1).number_format = fmt
    wrap = Alignment(wrap_text=True, vertical="top")
    for r in range(first_body, len(sheet.rows) + 1):
        if r - 1 in sheet.band_rows or not sheet.wrap_body:
            continue
        for c in range(len(header)):
            ws.cell(row=r, column=c + 1).alignment = wrap
        # LibreOffice does not grow rows for wrapped text on open: give them their height.
        lines = max((_lines(ws.cell(row=r, column=c + 1).value, sheet.widths[c] if c < len(sheet.widths) else 16)
                     for c in range(len(header))), default=1)
        if lines > 1:
            ws.row_dimensions[r].height = 15 * lines


def _add_validations(ws: Any, sheet: SheetSpec) -> None:
    """Drop-down lists (Status, Side)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for v in sheet.validations:
        dv = DataValidation(type="list", formula1='"' + ",".join(v.options) + '"', allow_blank=True,
                            showErrorMessage=v.strict, showDropDown=False)
        col = get_column_letter(v.column + 1)
        dv.add(f"{col}{v.first_row + 1}:{col}{v.last_row + 1}")
        ws.add_data_validation(dv)


def _add_conditional_formats(ws: Any, sheet: SheetSpec) -> None:
    """Each conditional format as a formula rule: a palette style, muted grey, or the red alert."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    for cf in sheet.conditional:
        area = (f"{get_column_letter(cf.first_column + 1)}{cf.first_row + 1}:"
                f"{get_column_letter(cf.columns)}{cf.last_row + 1}")
        if cf.style in STYLES:
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], stopIfTrue=True, **_style(cf.style, differential=True))
        elif cf.style == "muted":
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], font=Font(color=MUTED_TEXT), stopIfTrue=True)
        else:
            rule = FormulaRule(formula=[cf.formula.lstrip("=")], fill=PatternFill("solid", bgColor=ALERT_BACKGROUND),
                               font=Font(color=ALERT_TEXT))
        ws.conditional_formatting.add(area, rule)


def _style(name: str, *, differential: bool = False) -> dict[str, Any]:
    """Font and fill of a palette style; a conditional format's fill takes the colour as bgColor."""
    from openpyxl.styles import Font, PatternFill

    background, colour, bold = STYLES[name]
    out: dict[str, Any] = {"font": Font(color=colour, bold=bold)}
    if background:
        out["fill"] = (PatternFill("solid", bgColor=background) if differential
                       else PatternFill("solid", fgColor=background))
    return out


def _write_looks(ws, sheet: SheetSpec) -> None:
    """Phase bands across the table, upright week dates."""
    from openpyxl.styles import Alignment

    width = max(len(sheet.rows[sheet.header_row]) if sheet.header_row is not None else 1, 1)
    for r in sheet.band_rows:  # coloured by a conditional format (layout.band_format)
        for c in range(width):
            ws.cell(row=r + 1, column=c + 1).alignment = Alignment(wrap_text=False, vertical="center")
    for r in sheet.rotated_rows:
        for c, value in enumerate(sheet.rows[r]):
            if value is not None and not isinstance(value, str):
                ws.cell(row=r + 1, column=c + 1).alignment = Alignment(text_rotation=90, horizontal="center")
        ws.row_dimensions[r + 1].height = 80


def _print_setup(ws, setup: PrintSetup) -> None:
    """Landscape, one page wide, the header row on every page, title and page numbers."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape" if setup.landscape else "portrait"
    if setup.fit_width:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages tall as it takes
    if setup.title_rows:
        first, last = setup.title_rows
        ws.print_title_rows = f"{first + 1}:{last + 1}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    if setup.header:
        ws.oddHeader.center.text = setup.header.replace("&", "&&")
        ws.oddHeader.center.size = 11
    if setup.footer:
        ws.oddFooter.center.text = setup.footer
