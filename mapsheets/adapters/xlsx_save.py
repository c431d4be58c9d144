"""Saving a workbook as mapsheets does: beside the plan, then renamed over it, only if the file is
still the version read; openpyxl's temporaries beside it too; formula results kept; a failed save
(a full disk) one error line, never a half-written file or a traceback at exit."""

from __future__ import annotations

import contextvars
import errno
import os
import stat
import zipfile
from pathlib import Path

from mapsheets.adapters import plan_lock
from mapsheets.adapters.xlsx_results import Results, ResultsZip
from mapsheets.errors import file_error

# The workbook being saved: openpyxl's per-sheet temporary files go beside it, not to /tmp.
_SAVING: contextvars.ContextVar[Path | None] = contextvars.ContextVar("mapsheets_saving", default=None)


def keep_temporaries_beside_target() -> None:
    """openpyxl writes each sheet's XML to a NamedTemporaryFile in the system temp folder, where a
    kill leaves plan data behind: while we save, it goes to a 0600 ``.NAME.<hex>.tmp`` beside the plan."""
    from openpyxl.worksheet import _writer

    if getattr(_writer.create_temporary_file, "mapsheets", False):
        return
    original = _writer.create_temporary_file

    def create_temporary_file(suffix: str = "") -> str:
        target = _SAVING.get()
        if target is None:
            return original(suffix)
        name = str(plan_lock.create_temp(target))
        _writer.ALL_TEMP_FILES.append(name)
        return name

    create_temporary_file.mapsheets = True  # type: ignore[attr-defined]
    _writer.create_temporary_file = create_temporary_file


class ChangedMeanwhile(Exception):
    """The file is no longer the version read: the write was not made."""


def save_atomic(workbook, path: Path, *, expect: tuple[int, int, str] | None = None,
                results: dict[str, Results] | None = None) -> None:
    """Write beside the target, then rename: a crash never leaves half a workbook.

    The temporary (and openpyxl's own, per sheet) is 0600 beside the target while it holds plan
    data; the file then keeps the mode it had (a new one gets the umask's). With ``expect`` (what
    ``plan_lock.read_with_identity`` said), the rename only happens if the file is still that
    version. ``results`` (tab title -> formula results the file had, from ``formula_results``)
    are written back beside their formulas. A folder that is missing or not writable is one
    PlanFileError, not a traceback. A symbolic link is never replaced: the file it points to is.
    """
    path = plan_lock.target(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = plan_lock.new_file_mode()
    try:
        tmp = plan_lock.create_temp(path)
    except OSError as exc:
        raise file_error(path, exc, "a workbook", writing=True) from None
    # openpyxl keeps formulas but drops their results: Excel and LibreOffice recompute on open.
    workbook.calculation.fullCalcOnLoad = True
    token = _SAVING.set(path)
    try:
        _save_zip(workbook, tmp, results)
        os.chmod(tmp, mode)
        if expect is not None and not plan_lock.unchanged_since(path, expect):
            raise ChangedMeanwhile()
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        failed = _os_error(exc)
        if failed is not None:
            raise file_error(path, failed, "a workbook", writing=True) from None
        raise
    finally:
        _SAVING.reset(token)


def _os_error(exc: BaseException) -> OSError | None:
    """The OS error behind a failed save. With lxml installed, openpyxl writes through it, and lxml
    reports a full disk as ``SerialisationError: IO_ENOSPC`` rather than an OSError."""
    if isinstance(exc, OSError):
        return exc
    if type(exc).__name__ == "SerialisationError" and type(exc).__module__.startswith("lxml"):
        code = str(exc).strip()
        if code == "IO_ENOSPC":
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return OSError(errno.EIO, f"{os.strerror(errno.EIO)}: {code}")
    return None


def _save_zip(workbook, tmp: Path, results: dict[str, Results] | None = None) -> None:
    """openpyxl's save, but the zip is closed even when a write fails (a full disk): left open,
    its __del__ would retry the write at exit and print a traceback after our one-line error.
    Formulas keep the ``results`` they had (openpyxl alone would write them empty)."""
    from openpyxl.writer.excel import ExcelWriter

    archive: zipfile.ZipFile
    if results:
        archive = ResultsZip(tmp, workbook, results)
    else:
        archive = zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    try:
        ExcelWriter(workbook, archive).save()
    except BaseException as exc:
        _close_sheet_writers(exc)
        try:
            archive.close()  # sets its file to None even when it fails, so __del__ has nothing left to do
        except (OSError, ValueError):
            pass
        raise


def _close_sheet_writers(exc: BaseException) -> None:
    """Finish the sheet writer a failed save left half way (a full disk): openpyxl's WorksheetWriter
    streams through a suspended generator, and one left open writes its closing tags when it is
    collected, printing "Exception ignored in: <generator object WorksheetWriter.get_stream>" and
    a traceback after our one-line error. Closed here, its own error is dropped with the save's."""
    from openpyxl.worksheet._writer import WorksheetWriter

    tb = exc.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if isinstance(value, WorksheetWriter) and value.xf is not None:
                try:
                    value.xf.close()
                except (OSError, ValueError):
                    pass
                Path(value.out).unlink(missing_ok=True)  # its temporary beside the plan
        tb = tb.tb_next
