"""`verify`: whether each signature of a plan holds, its seal and its fingerprint."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mapsheets.service.seals import check, trusting
from mapsheets.service.workbooks import open_workbook, read_parsed


@dataclass
class Verified:
    lines: list[str]
    ok: bool


def verify_plan(ref: str, trust: list[str] | None = None) -> Verified:
    """Each signature of the plan: who, side, when, how, and whether its seal and fingerprint hold.
    With ``trust``, seals are checked with those public keys only."""
    book = open_workbook(ref)
    plan = read_parsed(book)[1].plan
    if trust is not None:
        check(plan, trusting(trust))
    if not plan.signatures:
        return Verified([f"{book.ref}: no signatures"], True)
    lines, ok = [], True
    for s in plan.signatures:
        sealed = bool(s.verified)
        current = plan.signature_status(replace(s, verified=None)) == "valid"
        ok = ok and sealed and current
        when = f"{s.signed_at:%Y-%m-%d %H:%M} UTC" if s.signed_at else "no time"
        lines.append(f"{s.name or '?'} <{s.email}> ({s.side or 'no side'}) signed {when}, {s.by_line()}: "
                     f"seal {'holds' if sealed else 'does not hold (unverified)'}, "
                     f"fingerprint {'holds' if current else 'does not hold (the plan changed since)'}")
    return Verified(lines, ok)
