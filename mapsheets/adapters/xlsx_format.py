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
    BarChart,
    PrintSetup,
    SheetSpec,
    cell_format,
)
from mapsheets.core.text_gate import problem
from mapsheets.core.widths import ROOM, text_units, wrapped_lines
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


DEFAULT_COLUMN = 8.43  # a column nobody sized, in characters
BOLD = 1.15  # bold text is this much wider
LINE_POINTS = 15  # one line of 11-point text; LibreOffice does not grow rows for wrapped text on open


def body_rows(ws: Any, sheet: SheetSpec, first: int, last: int) -> None:
    """Rows ``first``..``last`` (1-based) of a table's body: wrapped, top-aligned, as tall as their
    wrapped text (words kept whole), dates centred, mapsheets' own columns small and grey."""
    from openpyxl.styles import Alignment, Font

    header = sheet.rows[sheet.header_row] if sheet.header_row is not None else []
    wrap = Alignment(wrap_text=True, vertical="top")
    centred = Alignment(wrap_text=True, vertical="top", horizontal="center")
    for r in range(first, last + 1):
        if r - 1 in sheet.band_rows:
            continue
        for c in range(len(header)):
            cell = ws.cell(row=r, column=c + 1)
            if sheet.wrap_body:
                cell.alignment = centred if c in sheet.centred_columns else wrap
            if c in sheet.muted_columns:
                cell.font = Font(color=MUTED_TEXT, size=8)
            if c in sheet.column_formats and cell.value is not None:
                cell.number_format = sheet.column_formats[c]
        if sheet.wrap_body:
            lines = max((wrapped_lines(ws.cell(row=r, column=c + 1).value,
                                       sheet.widths[c] if c < len(sheet.widths) else 16)
                         for c in range(len(header))), default=1)
            if lines > 1:
                ws.row_dimensions[r].height = LINE_POINTS * lines + 2


def refit_heights(ws: Any) -> None:
    """Every row holding wrapped text as tall as that text is now (a person's hand edit too): an
    explicit height never grows by itself, and a row too short clips the owners it holds."""
    from openpyxl.styles import Alignment

    widths = {letter: dim.width for letter, dim in ws.column_dimensions.items() if dim.width}
    for row in ws.iter_rows():
        lines, wrapped = 1, False
        for i, cell in enumerate(row):
            if cell.value is None or not hasattr(cell, "column_letter"):
                continue
            if not cell.alignment.wrap_text:
                beside = row[i + 1].value if i + 1 < len(row) else None
                if beside is None or not _overflows(cell.value, widths.get(cell.column_letter, DEFAULT_COLUMN)):
                    continue
                cell.alignment = Alignment(horizontal=cell.alignment.horizontal, vertical="top",
                                           wrap_text=True)  # typed by hand and cut off: wrapped
            wrapped = True
            lines = max(lines, wrapped_lines(cell.value, widths.get(cell.column_letter, DEFAULT_COLUMN)))
        dim = ws.row_dimensions[row[0].row]
        if wrapped and lines > 1 and (dim.height or 0) < LINE_POINTS * lines:  # grown, never shrunk:
            dim.height = LINE_POINTS * lines + 2  # a height someone chose stays


def _overflows(value: Any, width: float) -> bool:
    """Whether text runs past its column (and, with a cell beside it, is cut off there)."""
    return isinstance(value, str) and text_units(max(value.split("\n"), key=len)) > width * ROOM


def write_sheet(ws: Any, sheet: SheetSpec) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if value is not None:
                set_cell(ws.cell(row=r + 1, column=c + 1), value)
    for c, width in enumerate(sheet.widths):
        ws.column_dimensions[get_column_letter(c + 1)].width = width
    _labels(ws, sheet)
    if sheet.header_row is not None:
        header_row(ws, sheet)
        first_body = sheet.header_row + 2
        for c, fmt in sheet.column_formats.items():
            for r in range(first_body, max(first_body, len(sheet.rows) + sheet.typed_below) + 1):
                ws.cell(row=r, column=c + 1).number_format = fmt
        body_rows(ws, sheet, first_body, len(sheet.rows))
    if sheet.frozen_rows:
        ws.freeze_panes = ws.cell(row=sheet.frozen_rows + 1, column=1)
    for v in sheet.validations:
        dv = DataValidation(type="list", formula1='"' + ",".join(v.options) + '"', allow_blank=True,
                            showErrorMessage=v.strict, showDropDown=False)
        col = get_column_letter(v.column + 1)
        dv.add(f"{col}{v.first_row + 1}:{col}{v.last_row + 1}")
        ws.add_data_validation(dv)
    _write_looks(ws, sheet)
    _conditional(ws, sheet)
    if sheet.protected:
        ws.protection.sheet = True
        ws.sheet_properties.tabColor = PROTECTED_TAB
    if sheet.print_setup:
        print_setup(ws, sheet.print_setup)
    for chart in sheet.charts:
        _bar_chart(ws, chart)
    if sheet.hidden:
        ws.sheet_state = "hidden"


def _labels(ws: Any, sheet: SheetSpec) -> None:
    """The title in large bold; overview labels bold, their values left-aligned on one line."""
    from openpyxl.styles import Alignment, Font

    for r in sheet.heading_rows:
        ws.cell(row=r + 1, column=1).font = Font(bold=True, size=16)
    if sheet.label_column is None:
        return
    left = Alignment(horizontal="left", vertical="top", wrap_text=False)
    for r in range(len(sheet.rows)):
        if sheet.header_row is None or r < sheet.header_row:
            ws.cell(row=r + 1, column=sheet.label_column + 1).font = Font(bold=True)
            ws.cell(row=r + 1, column=sheet.label_column + 2).alignment = left


def header_row(ws: Any, sheet: SheetSpec) -> None:
    """The table's header: white bold on dark blue, wrapped (a long label takes two lines)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    assert sheet.header_row is not None
    labels = sheet.rows[sheet.header_row]
    for c in range(len(labels)):
        cell = ws.cell(row=sheet.header_row + 1, column=c + 1)
        cell.font = Font(bold=True, color=HEADER_TEXT, size=8 if c in sheet.muted_columns else 11)
        cell.fill = PatternFill("solid", fgColor=HEADER_BACKGROUND)
        cell.alignment = Alignment(vertical="center", wrap_text=sheet.header_row not in sheet.rotated_rows)
    if sheet.header_row not in sheet.rotated_rows:  # a long label wraps: its row grows to show it
        lines = max((wrapped_lines(v, (sheet.widths[c] if c < len(sheet.widths) else 16) / BOLD)
                     for c, v in enumerate(labels)), default=1)
        if lines > 1:
            ws.row_dimensions[sheet.header_row + 1].height = LINE_POINTS * lines + 2


def _conditional(ws: Any, sheet: SheetSpec) -> None:
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    for cf in sheet.conditional:
        first, last = get_column_letter(cf.first_column + 1), get_column_letter(cf.columns)
        area = f"{first}{cf.first_row + 1}:{last}{cf.last_row + 1}"
        formula = [cf.formula.lstrip("=")]
        if cf.style in STYLES:
            rule = FormulaRule(formula=formula, stopIfTrue=True, **_style(cf.style, differential=True))
        elif cf.style == "muted":
            rule = FormulaRule(formula=formula, font=Font(color=MUTED_TEXT), stopIfTrue=True)
        else:
            rule = FormulaRule(formula=formula, fill=PatternFill("solid", bgColor=ALERT_BACKGROUND),
                               font=Font(color=ALERT_TEXT))
        ws.conditional_formatting.add(area, rule)


def _bar_chart(ws: Any, spec: BarChart) -> None:
    """A native chart (Excel, LibreOffice and Sheets on import draw it from the cells, so it
    follows them): one coloured series per column."""
    from openpyxl.chart import BarChart as OpenpyxlBar
    from openpyxl.chart import Reference

    chart = OpenpyxlBar()
    chart.type, chart.title, chart.y_axis.title = "bar", spec.title, spec.y_title
    chart.height, chart.width = max(7.5, 1.2 * (spec.last - spec.first + 1)), 18
    for c in spec.series:
        chart.add_data(Reference(ws, min_col=c + 1, min_row=spec.header + 1, max_row=spec.last + 1),
                       titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=spec.categories + 1, min_row=spec.first + 1, max_row=spec.last + 1))
    chart.x_axis.scaling.orientation = "maxMin"  # the first phase at the top, as in the table
    chart.x_axis.delete = chart.y_axis.delete = False
    ws.add_chart(chart, spec.anchor)


def _style(name: str, *, differential: bool = False) -> dict[str, Any]:
    """Font and fill of a palette style; a conditional format's fill takes the colour as bgColor."""
    from openpyxl.styles import Font, PatternFill

    background, colour, bold = STYLES[name]
    out: dict[str, Any] = {"font": Font(color=colour, bold=bold)}
    if background:
        out["fill"] = (PatternFill("solid", bgColor=background) if differential
                       else PatternFill("solid", fgColor=background))
    return out


def _write_looks(ws: Any, sheet: SheetSpec) -> None:
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


def print_setup(ws: Any, setup: PrintSetup) -> None:
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
    if setup.title:
        ws.oddFooter.left.text = setup.title.replace("&", "&&")
