"""A signing record a buyer's procurement can file (issue 20 part 5): the commitments at the signed
fingerprint, each signature with its method, time, status and seal, the public keys to check the
seals with, and the audit trail of the signing (requested, opened, signed). HTML, or PDF through
WeasyPrint (the optional extra ``certificate``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapsheets.core.model import Plan
from mapsheets.errors import UsageError
from mapsheets.service import seals

if TYPE_CHECKING:
    from mapsheets.adapters.store import Store

_WHAT = {
    "signature_requested": lambda d: f"link to sign sent to {d.get('to', '?')} ({d.get('side', '?')} side)",
    "signature_link_opened": lambda d: f"link opened{_from(d)}",
    "signed_by_link": lambda d: f"signed through the link{_from(d)}",
    "signed": lambda d: (f"signature recorded for {d.get('signer') or 'the signer'}, "
                         f"{d.get('method') or 'command line'}"),
}


def _from(detail: dict[str, Any]) -> str:
    return f" from {detail['client']}" if detail.get("client") else ""


def certificate(ref: str, output: Path, *, now: datetime, store_url: str | None = None) -> Path:
    """Write the signing record of ``ref`` to ``output`` (.html or .pdf)."""
    from mapsheets.adapters.files import write_text_atomic
    from mapsheets.adapters.store import open_store
    from mapsheets.emails.render import render_certificate
    from mapsheets.service.workbooks import open_workbook, read_parsed

    output = Path(output)
    if output.suffix.lower() not in (".html", ".pdf"):
        raise UsageError(f"{output}: write the certificate as .html or .pdf", field="output")
    plan = read_parsed(open_workbook(ref))[1].plan
    store = open_store(store_url)
    signed, fingerprint = _signed_version(plan, store, ref)
    html = render_certificate({
        "plan": signed, "fingerprint": fingerprint, "current": fingerprint == plan.fingerprint(),
        "plan_now": plan.fingerprint(), "made": f"{now.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "signatures": [{"name": s.name, "email": s.email, "side": s.side, "by": s.by_line(), "seal": s.seal,
                        "status": plan.signature_status(s),
                        "at": f"{s.signed_at:%Y-%m-%d %H:%M:%S}" if s.signed_at else "—"} for s in plan.signatures],
        "keys": seals.keyring().public_keys(), "events": _trail(store, ref),
    })
    if output.suffix.lower() == ".html":
        write_text_atomic(output, html)
    else:
        from mapsheets.adapters.pdf import write_pdf

        write_pdf(html, output)
    return output



def _signed_version(plan: Plan, store: Store, ref: str) -> tuple[Plan, str]:
    """The plan as its newest sealed signature covers it: the plan now when that still holds, else
    the stored revision with that fingerprint (the plan now, marked changed, if none is stored)."""
    from mapsheets.service.revisions import canonical_ref

    sealed = sorted((s for s in plan.signatures if s.verified), key=lambda s: s.signed_at or datetime.min)
    if not sealed or plan.signature_status(sealed[-1]) == "valid":
        return plan, plan.fingerprint()
    wanted, key = sealed[-1].fingerprint, canonical_ref(ref)
    if store.plans.get(key) is not None:
        for revision in reversed(store.revisions.of(key)):
            if revision.fingerprint == wanted:
                return Plan.from_dict(revision.content["plan"]), wanted
    return plan, wanted


def _trail(store: Store, ref: str) -> list[dict[str, str]]:
    from mapsheets.service.revisions import canonical_ref

    key = canonical_ref(ref)
    if store.plans.get(key) is None:
        return []
    return [{"at": f"{e.at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}", "actor": e.actor,
             "what": _WHAT[e.kind](e.detail)}
            for e in store.audit.events(key) if e.kind in _WHAT]
