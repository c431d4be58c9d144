"""Where things are in a plan workbook, for tests that edit it like a person would."""

from pathlib import Path


def step_cell(path, index: int, header: str) -> str:
    """The A1 cell (e.g. ``G18``) of step number ``index``'s column ``header`` in a plan workbook."""
    from mapsheets.adapters.xlsx import read_grid
    from mapsheets.core.layout import column_letter
    from mapsheets.core.parse import parse_plan

    parsed = parse_plan(read_grid(Path(path)))
    row = parsed.location.step_rows[parsed.plan.steps[index].id]
    return f"{column_letter(parsed.location.columns[header])}{row + 1}"


def edit_steps(path, cells: dict) -> None:
    """A person typing into the steps table: (step index, column header) -> value."""
    import openpyxl

    where = {key: step_cell(path, *key) for key in cells}
    book = openpyxl.load_workbook(path)
    for key, value in cells.items():
        book["Plan"][where[key]] = value
    book.save(path)


def add_to_team(path, *people) -> None:
    """Rows typed into the Team tab: (name, email, side, role) each; only people on a plan may sign."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    for person in people:
        book["Team"].append(list(person))
    book.save(path)
