"""One line for a file that cannot be read or written, the same words wherever it happens."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from mapsheets.adapters.crm_history import read_csv_table
from mapsheets.adapters.files import read_durations
from mapsheets.errors import NotFound, PlanFileError, UsageError, file_error


def test_a_folder_given_as_a_table_is_named_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as durations:
        read_durations(tmp_path)
    assert str(durations.value) == f"{tmp_path}: is a folder, not a durations table"
    with pytest.raises(UsageError) as export:
        read_csv_table(tmp_path)
    assert str(export.value) == f"{tmp_path}: is a folder, not a CSV export"


def test_a_read_that_fails_for_another_reason_says_that_reason() -> None:
    """A disk error reading a plan is not "permission denied"."""
    err = file_error("plan.xlsx", OSError(errno.EIO, "Input/output error"), "a workbook")
    assert isinstance(err, PlanFileError) and str(err) == "plan.xlsx: cannot read (Input/output error)"
    assert str(file_error("plan.xlsx", PermissionError(errno.EACCES, "Permission denied"))) == (
        "plan.xlsx: permission denied")
    assert isinstance(file_error("plan.xlsx", FileNotFoundError()), NotFound)


def test_a_write_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    where = tmp_path / "no" / "out.csv"
    err = file_error(where, FileNotFoundError(errno.ENOENT, "No such file or directory"), writing=True,
                     error=UsageError, shown=f"-o {where}")
    assert isinstance(err, UsageError) and str(err) == f"-o {where}: folder {where.parent} does not exist"
    full = file_error(where, OSError(errno.ENOSPC, "No space left on device"), writing=True)
    assert str(full) == f"{where}: cannot write (No space left on device)"
