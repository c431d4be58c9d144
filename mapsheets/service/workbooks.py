"""Plan references: a local .xlsx path, a Google Sheets URL or a spreadsheet ID."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapsheets.core.vocabulary import SHEETS_URL, looks_like_google_id
from mapsheets.errors import UsageError

if TYPE_CHECKING:
    from mapsheets.adapters.workbook import Grid, Workbook



def canonical_ref(ref: str) -> str:
    """One spelling per plan in the store: absolute paths, bare spreadsheet IDs."""
    sheet_id = google_id(ref)
    return sheet_id if sheet_id else str(Path(ref).expanduser().resolve())


def google_id(ref: str) -> str | None:
    """The spreadsheet ID if ``ref`` names a Google Sheet, else None."""
    if m := SHEETS_URL.match(ref.strip()):
        return m[1]
    if looks_like_google_id(ref.strip()) and not Path(ref).exists():
        return ref.strip()
    return None


@dataclass
class _Scope:
    credentials: Any = None  # a GoogleCredentials, or None: from the environment
    books: dict[str, Any] = field(default_factory=dict)


_SCOPE: ContextVar[_Scope | None] = ContextVar("mapsheets_request_scope", default=None)


@contextmanager
def request_scope(credentials=None) -> Iterator[None]:
    """One request of a server: Google ``credentials`` for every workbook opened inside (None: from
    the environment), and each plan read from its backend at most once until something is written,
    so a check before a write costs no extra request. Per thread/task (a ContextVar)."""
    token = _SCOPE.set(_Scope(credentials))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def deployment_credentials() -> bool:
    """Whether a workbook opened now reads with the environment's Google credentials (the
    deployment's, as the cron run's), not a caller's given to the request scope."""
    scope = _SCOPE.get()
    return scope is None or scope.credentials is None


class _ReadOnce:
    """A workbook whose grid is read once and reused until the next write through it."""

    def __init__(self, book: Workbook) -> None:
        self._book: Workbook = book
        self._grid: Grid | None = None

    def __getattr__(self, name: str):
        return getattr(self._book, name)

    def read_grid(self):
        if self._grid is None:
            self._grid = self._book.read_grid()
        return copy.deepcopy(self._grid)  # parsers may change what they are given

    def _written(self, method: str, *args, **kwargs):
        self._grid = None
        return getattr(self._book, method)(*args, **kwargs)

    def update_cells(self, *args, **kwargs):
        return self._written("update_cells", *args, **kwargs)

    def modify(self, compute, **kwargs):
        # The read that checked the request is the one the edit is computed on (no second request);
        # a file backend reads again under its lock anyway.
        grid, self._grid = self._grid, None
        return self._book.modify(compute, grid=grid, **kwargs)

    def append_rows(self, *args, **kwargs):
        return self._written("append_rows", *args, **kwargs)

    def create(self, *args, **kwargs):
        return self._written("create", *args, **kwargs)


def open_workbook(ref: str, credentials=None) -> Workbook:
    """The backend object for a plan reference (same operations whatever the backend).

    ``credentials`` (a ``GoogleCredentials``) default to the request scope's, else the environment's.
    """
    scope = _SCOPE.get()
    if scope is None:
        return _open(ref, credentials)
    key = ref.strip() if ref else ref
    if key not in scope.books:
        scope.books[key] = _ReadOnce(_open(ref, credentials or scope.credentials))
    return scope.books[key]


def _open(ref: str, credentials=None) -> Workbook:
    if not ref or not ref.strip():
        raise UsageError("no plan given: pass a .xlsx path, a Google Sheets URL or a spreadsheet ID")
    sheet_id = google_id(ref)
    if sheet_id is not None:
        from mapsheets.adapters.gsheets import GoogleWorkbook
        return GoogleWorkbook.from_env(sheet_id, credentials=credentials)
    path = Path(ref)
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".ods", ".xls"):  # .ods/.xls: read-only
        raise UsageError(f"{ref}: not a plan reference (expected a .xlsx file, a Google Sheets URL or ID)")
    from mapsheets.adapters.xlsx import XlsxWorkbook
    return XlsxWorkbook(path)


def new_workbook(output: str | None, *, google: bool = False) -> Workbook:
    """Where ``new`` writes: a new Google Sheet, an existing one (by URL or ID), or a .xlsx path."""
    if google and not output:
        from mapsheets.adapters.gsheets import GoogleWorkbook
        return GoogleWorkbook.from_env(None)
    if not output:
        raise UsageError("say where to create the plan: -o FILE.xlsx, -o SHEET-URL, or --google")
    return open_workbook(output)


def read_parsed(book: Workbook):
    """(grid, parsed plan) of a workbook; a sheet that is not a plan is an error naming it."""
    grid = book.read_grid()
    return grid, parse_grid(book, grid)


def parse_grid(book: Workbook, grid: Grid):
    """The parsed plan of a grid read from ``book``; a sheet that is not a plan is an error naming it."""
    from mapsheets.core.parse import parse_plan
    from mapsheets.errors import NoPlan, PlanFileError

    try:
        parsed = parse_plan(grid)
    except NoPlan as exc:
        raise NoPlan(f"{book.ref}: {exc}") from None
    except PlanFileError as exc:
        raise PlanFileError(f"{book.ref}: {exc}") from None
    if parsed.location.missing_ids:
        _restore_ids(book.ref, parsed)
    from mapsheets.core.formulas import has_uncached

    if has_uncached(parsed.plan):
        _keep_formula_values(book.ref, parsed)

    from mapsheets.service.seals import check

    check(parsed.plan)  # a signature reads "unverified" unless its seal holds
    return parsed


def _restore_ids(ref: str, parsed) -> None:
    """A row whose ID cell was emptied by hand gets back the ID the last stored revision knew for
    that step (matched by content), so "Depends on" cells naming it still hold and no write puts a
    made-up ID in its place. Best effort: no store yet, or one that cannot be read, changes nothing."""
    from mapsheets.core.diff import restore_ids

    previous = _latest_stored(ref)
    if previous is None:
        return
    loc = parsed.location
    restored = restore_ids(previous, parsed.plan, set(loc.missing_ids.values()))
    if restored:
        loc.missing_ids = {row: restored.get(sid, sid) for row, sid in loc.missing_ids.items()}
        loc.step_rows = {restored.get(sid, sid): row for sid, row in loc.step_rows.items()}
        back = set(restored.values())
        parsed.warnings = [w for w in parsed.warnings
                           if not (w.message.startswith("unknown step ") and w.message.split()[2] in back)]


def _keep_formula_values(ref: str, parsed) -> None:
    """Formula cells saved without their result (by a program that does not calculate) read as the
    value the last stored revision had there, so every surface, signature status included, sees no
    change nobody made. Best effort, as ``_restore_ids``: without a revision they read "not computed"."""
    from mapsheets.core.formulas import keep_formula_values

    previous = _latest_stored(ref)
    if previous is None:
        return
    kept = {f'"{text}" is not' for text in keep_formula_values(previous, parsed.plan)}
    parsed.warnings = [w for w in parsed.warnings if not any(w.message.startswith(k) for k in kept)]


def _latest_stored(ref: str):
    """The plan of the latest revision in the default state store, or None (none stored, no store)."""
    from mapsheets.adapters.store import open_store, store_exists
    from mapsheets.core.model import Plan
    from mapsheets.errors import MapsheetsError

    if not store_exists():
        return None  # never stored anything (and no store made by a read)
    try:
        return Plan.from_dict(open_store().revisions.get(canonical_ref(ref), "latest").content["plan"])
    except MapsheetsError:
        return None
