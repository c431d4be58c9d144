"""Signing a plan (both sides, not legally binding), and the email checks the service shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from mapsheets.core.addresses import parse_address
from mapsheets.core.edits import Edit
from mapsheets.core.layout import SIGNOFF_COLUMNS, SIGNOFF_TAB, check_cell_text, signature_cells
from mapsheets.core.model import COMMAND_LINE, ON_BEHALF, Signature
from mapsheets.core.upkeep import changed_only, parsed_upkeep
from mapsheets.errors import PlanFileError, UsageError
from mapsheets.service import seals
from mapsheets.service.calendars import looks
from mapsheets.service.signers import may_sign, require_member
from mapsheets.service.workbooks import open_workbook, parse_grid

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store


def check_email(email: str, field: str = "email") -> str:
    email = email.strip()
    parsed = parse_address(email)
    if parsed is None or parsed[0]:  # a bare address only: the name has its own option
        raise UsageError(f"{email!r} is not an email address", field=field)
    return parsed[1]


def check_address(text: str, field: str) -> tuple[str, str]:
    """(name, email) of "jane@acme.example" or "Jane Doe <jane@acme.example>"; else an error naming ``field``."""
    parsed = parse_address(text)
    if parsed is None:
        raise UsageError(f"{text.strip()!r} is not an email address", field=field)
    return parsed


@dataclass
class Signed(Signature):
    """What ``sign`` returns: the signature, and whether it was there already (nothing written)."""

    already: bool = False


def sign(ref: str, *, name: str, email: str, side: str, now: datetime, store_url: str | None = None,
         record: bool = False, force: bool = False, method: str = COMMAND_LINE,
         on_behalf_of: tuple[str, str] | None = None, seller_domains: Sequence[str] = (),
         on_warning: Callable[[str], None] | None = None) -> Signed:
    """Add a signature for the plan as it reads now: one read and one write.

    The same write refreshes every earlier signature's Status, so stale ones show as stale. With
    ``record``, the signature and an audit event also go to the state store, where a row deleted
    from the sheet by hand cannot take them away; the store is checked writable before the sheet is
    touched. Signing again with the same email and plan fingerprint adds nothing (``already``),
    except into the store when an earlier attempt wrote only the sheet. ``force`` writes a local
    plan even while Excel or LibreOffice has it open.

    Only someone the plan names may sign, for their own side (service/signers.py). With
    ``on_behalf_of`` (name, email), ``email`` records a signature that person gave elsewhere: it
    reads as recorded on their behalf, never as their own. The seal is made with the deployment's
    key (its file created on first use).
    """
    store = None
    if record:
        from mapsheets.adapters.store import open_store

        store = open_store(store_url)
    return sign_into(store, ref, name=name, email=email, side=side, now=now, force=force, method=method,
                     on_behalf_of=on_behalf_of, seller_domains=seller_domains, on_warning=on_warning)


def sign_into(store: Store | None, ref: str, *, name: str, email: str, side: str, now: datetime,
              force: bool = False, method: str = COMMAND_LINE, on_behalf_of: tuple[str, str] | None = None,
              seller_domains: Sequence[str] = (), on_warning: Callable[[str], None] | None = None) -> Signed:
    """``sign``, recorded into ``store`` (None: into the sheet only)."""
    name, email, recorder, method = _signer(name, email, side, method, on_behalf_of, on_warning)
    ring = seals.keyring(create=True)
    if store is not None:
        store.check_writable()  # a read-only store fails here, before the sheet holds a signature
    book = open_workbook(ref)
    if now.tzinfo is not None:  # sheets hold naive times: "Signed at" is UTC
        now = now.astimezone(timezone.utc).replace(tzinfo=None)

    def compute(grid):
        # Runs on the grid as read under the plan's lock: again if another program saved meanwhile.
        parsed = parse_grid(book, grid)
        table = parsed.signoff
        if table is None:
            raise PlanFileError(f"{book.ref}: no '{SIGNOFF_TAB}' tab with 'Name' and 'Fingerprint' columns to sign in")
        plan = parsed.plan
        if recorder:
            require_member(plan, recorder, seller_domains, "record a signature")
        may_sign(plan, email, side, seller_domains)
        for old in plan.signatures:  # this person signed this very plan already: nothing to add
            # (a signature recorded on their behalf does not stand in for their own)
            if (old.email.strip().lower() == email.lower() and plan.signature_status(old) == "valid"
                    and (old.own or recorder)):
                return None, (Signed(old.name, old.email, old.side, old.signed_at, old.fingerprint, old.method,
                                     old.recorded_by, old.seal, old.verified, already=True), parsed, grid)
        signature = seals.seal(Signed(name=name.strip(), email=email, side=side, signed_at=now.replace(microsecond=0),
                                      fingerprint=plan.fingerprint(), method=method, recorded_by=recorder), plan, ring)
        # Earlier signatures' Status and IDs of rows typed without one, where they differ from the sheet.
        # The summary line counts the signature this write adds.
        seen = looks(parsed, now.date(), signatures=[*plan.signatures, signature])
        upkeep = changed_only(parsed_upkeep(parsed, seen), grid)
        fields = [f for f, _label, _w in SIGNOFF_COLUMNS]
        cells = upkeep.pop(table.tab, {})
        columns = _with_new_columns(table, cells)
        row = {columns[f]: v for f, v in zip(fields, signature_cells(signature, plan), strict=False)
               if f in columns}
        edit = Edit(table.tab, cells=cells, rows=[row], next_row=table.next_row,
                    header_row=table.header_row, also=upkeep,
                    # one row however many sign
                    once=f"signed {email.lower()} {signature.fingerprint} {signature.method}")
        return edit, (signature, parsed, grid)

    signature, parsed, grid = book.modify(compute, force=force)
    if store is not None and signature.already:
        _record_missing(store, ref, signature, parsed, grid, now)
    elif store is not None:
        parsed.plan.signatures.append(signature)
        _record(store, ref, signature, parsed, grid, now)
    return signature


def _signer(name: str, email: str, side: str, method: str, on_behalf_of: tuple[str, str] | None,
            on_warning: Callable[[str], None] | None) -> tuple[str, str, str, str]:
    """(name, email, recorded by, method) of a signature, checked; with ``on_behalf_of``, the
    person it is recorded for, by ``email``."""
    if side not in ("buyer", "seller"):
        raise UsageError(f"side {side!r} is not buyer or seller", field="side")
    if not name.strip():
        raise UsageError("name must not be empty", field="name")
    name, email = check_cell_text({"name": name.strip(), "email": email.strip()}, on_warning=on_warning).values()
    email = check_email(email)
    recorder = ""
    if on_behalf_of is not None:
        recorder, method = email, ON_BEHALF
        name, email = on_behalf_of[0] or name, check_email(on_behalf_of[1], "on_behalf_of")
        check_cell_text({"name": name.strip()}, "on_behalf_of")
    return name, email, recorder, method


def _with_new_columns(table, cells: dict) -> dict[str, int]:
    """The Sign-off table's columns, with headers added (into ``cells``) for those a sheet made
    before them lacks (Method, Recorded by, Seal): a seal the sheet cannot hold would not verify."""
    columns = dict(table.columns)
    free = max(columns.values(), default=-1) + 1
    for f, label, _w in SIGNOFF_COLUMNS:
        if f not in columns:
            columns[f] = free
            cells[(table.header_row, free)] = label
            free += 1
    return columns


def _record_missing(store: Store, ref: str, signature: Signature, parsed, grid, now: datetime) -> None:
    """A signature already in the sheet, into the store unless it is there (an earlier sign wrote
    the sheet, then could not record)."""
    from mapsheets.service.revisions import canonical_ref

    key = canonical_ref(ref)
    if store.plans.get(key) is not None and any(
            s.email.lower() == signature.email.lower() and s.fingerprint == signature.fingerprint
            for s in store.signatures.of(key)):
        return
    _record(store, ref, signature, parsed, grid, now)


def _record(store: Store, ref: str, signature: Signature, parsed, grid, now: datetime) -> None:
    """The signed plan into the store, from what was just read and written: no more requests."""
    from mapsheets.service.audit_log import written_version
    from mapsheets.service.revisions import Snapshot, canonical_ref, other_tabs, snapshot_into

    plan = parsed.plan
    aware = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    snap = Snapshot(plan, other_tabs(grid, parsed), label=ref, warnings=[w.to_dict() for w in parsed.warnings])
    result = snapshot_into(store, ref, now=aware, snapshot=(snap, {}), origin="sign")
    key = canonical_ref(ref)
    # The time the sheet shows (UTC), also for a signature an earlier attempt left in the sheet.
    signed_at = signature.signed_at.replace(tzinfo=timezone.utc) if signature.signed_at else aware
    store.signatures.record(key, name=signature.name, email=signature.email, side=signature.side,
                            signed_at=signed_at, fingerprint=signature.fingerprint, revision_id=result.revision.id)
    store.audit.log("signed", ref=key, actor=signature.recorded_by or signature.email, at=aware,
                    detail={"side": signature.side, "fingerprint": signature.fingerprint, "title": plan.title,
                            "method": signature.method, "signer": signature.email, **written_version(ref)})
