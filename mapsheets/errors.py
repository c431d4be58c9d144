"""One exception hierarchy: surfaces turn MapsheetsError into a one-line message or an HTTP status."""

from __future__ import annotations

from pathlib import Path


class MapsheetsError(Exception):
    """Base of every error mapsheets raises on purpose; its str() is the one line a user sees."""

    http_status = 400

    def __init__(self, *args: object, field: str | None = None, also: tuple[str, ...] = ()) -> None:
        super().__init__(*args)
        self.field = field  # the input it is about (e.g. "title"), for surfaces that show errors by field
        self.also = also  # other inputs the message names ("new phase"), worded as each surface names them


class UsageError(MapsheetsError):
    """The caller asked for something that cannot be done as asked (bad option, bad value)."""


class TemplateError(MapsheetsError):
    """A template is missing, unreadable or invalid."""


class ScheduleError(MapsheetsError):
    """Dates or dependencies cannot be scheduled (cycle, close before start)."""


class PlanFileError(MapsheetsError):
    """A plan file or sheet cannot be read or written as a plan."""


class NoPlan(PlanFileError):
    """A workbook that reads fine but holds no plan (no steps table): one may be generated into it."""


class PlanBusy(PlanFileError):
    """A plan file another writer holds, or that kept changing while we wrote: try again."""

    http_status = 409


class PlanOpen(PlanBusy):
    """A plan file is open in Excel or LibreOffice, whose next save would drop what we write."""

    def __init__(self, path: str, program: str, person: str = "") -> None:
        self.path, self.program, self.person = path, program, person
        super().__init__(f"{path}: is open in {self.where}: close it first, or pass --force")

    @property
    def where(self) -> str:
        return f"{self.program} ({self.person})" if self.person else self.program

    # Rebuilt from its parts when it crosses a process boundary (digest run's writers).
    def __reduce__(self) -> tuple[type[PlanOpen], tuple[str, str, str]]:
        return (type(self), (self.path, self.program, self.person))


class NotFound(MapsheetsError):
    """A plan, revision, step or spreadsheet does not exist."""

    http_status = 404


class AlreadyExists(MapsheetsError):
    """Refusing to overwrite something a user made."""

    http_status = 409


class PermissionDenied(MapsheetsError):
    """The caller may not read or change this resource."""

    http_status = 403


class QuotaExceeded(MapsheetsError):
    """A remote service kept refusing for quota or load after all retries."""

    http_status = 429


class StoreError(MapsheetsError):
    """The state store cannot be reached or used."""

    http_status = 503


class RemoteError(MapsheetsError):
    """A remote service (Google, SMTP) failed in a way the caller cannot fix."""

    http_status = 502


class Refused(RemoteError):
    """A mail server refused for good (5xx): sending the same again cannot help.

    ``addresses`` maps each recipient refused to the server's reply; empty when the message itself
    was refused.
    """

    def __init__(self, message: str, addresses: dict[str, str] | None = None):
        super().__init__(message)
        self.addresses = dict(addresses or {})


class Deferred(RemoteError):
    """A mail server answered "try again later" (4xx) about this message or its recipient: worth a
    few more tries, not endless ones. ``reply`` is the server's answer, one line."""

    def __init__(self, message: str, reply: str):
        super().__init__(message)
        self.reply = reply


def os_reason(exc: OSError) -> str:
    """What the system said went wrong ("No space left on device"), else the error's own words or name."""
    return exc.strerror or str(exc) or exc.__class__.__name__


def file_error(path: object, exc: OSError, what: str = "a file", *, writing: bool = False,
               error: type[MapsheetsError] | None = None, shown: str = "") -> MapsheetsError:
    """The one line for a file that cannot be read or written: missing (or its folder), a folder, not
    ours, a full disk. ``error``: the class to raise instead of NotFound / PlanFileError (UsageError
    for a file a person named on the command line); ``shown``: how the file is named, e.g. "-o out.csv"."""
    name = shown or str(path)
    if isinstance(exc, FileNotFoundError):
        if writing:
            return (error or PlanFileError)(f"{name}: folder {Path(str(path)).parent} does not exist")
        return (error or NotFound)(f"{name}: no such file")
    if isinstance(exc, IsADirectoryError):
        return (error or PlanFileError)(f"{name}: is a folder, not {what}")
    if isinstance(exc, PermissionError) and not writing:
        return (error or PlanFileError)(f"{name}: permission denied")
    return (error or PlanFileError)(f"{name}: cannot {'write' if writing else 'read'} ({os_reason(exc)})")
