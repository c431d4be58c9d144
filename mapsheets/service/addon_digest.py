"""Digests run by the add-on's hourly trigger, as one of the plan's subscribers.

The cron run reads Google Sheets with the deployment's credentials, which open only sheets shared
with them; a sheet someone subscribed to from the sidebar usually is not. So ``Code.gs`` installs a
time-driven trigger for each subscriber and document, and each run calls the backend with a fresh
ID token (who) and OAuth token (the sheet, this request only). That call reads the plan as that
person, stores the revision, and sends every digest of the plan that is due (all its subscribers,
buyer contacts included): the digest run for this one plan, so missing and duplicate runs are
harmless (a digest is due once per period, and recorded before it is sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone, tzinfo
from typing import Any

from mapsheets.service.addon import Caller
from mapsheets.service.workbooks import request_scope


def run_as_subscriber(ref: str, caller: Caller, *, now: datetime, store: Any, mailer: Any, credentials: Any = None,
                      sender: str | None = None, seller_domains: Sequence[str] = (), tz: tzinfo = timezone.utc,
                      hour: int | None = None) -> dict[str, Any]:
    """One trigger run: ``{"subscribed": False}`` when ``caller`` no longer subscribes to the plan
    (its trigger should go), else what was sent. A plan the caller's token cannot read is its
    error (PermissionDenied / NotFound), as for any add-on request."""
    from mapsheets.errors import RemoteError
    from mapsheets.service import digest, unreadable
    from mapsheets.service.digest_run import DigestOptions
    from mapsheets.service.revisions import canonical_ref
    from mapsheets.service.workbooks import open_workbook, read_parsed

    key = canonical_ref(ref)
    if not any(sub.email.lower() == caller.email.lower() for sub in store.digests.subscriptions(key)):
        return {"subscribed": False, "sent": 0}
    options = DigestOptions(only=ref, tz=tz, write_workers=0, seller_domains=list(seller_domains) or None)
    if sender:
        options = replace(options, sender=sender)
    if hour is not None:
        options = replace(options, hour=hour)
    with request_scope(credentials):
        read_parsed(open_workbook(ref))  # the caller can read it (else their error): the trigger works
        unreadable.trigger_ran(store, key, caller.email, now)
        report = digest.run_in(store, options, now=now, mailer=mailer)
    if report.failed:
        raise RemoteError("; ".join(report.failed))
    return {"subscribed": True, "sent": len(report.sent), "waiting": report.waiting}


SHARED = "digest-shared"  # the sheet was shared with the digest run's account (detail: "with")


def share_for_digests(ref: str, caller: Caller, *, account: str, now: datetime, store: Any,
                      credentials: Any = None) -> bool:
    """The Workspace add-on has no trigger: its subscriber shares the sheet with the account the
    digest run reads as (writer: the run writes the Changes tab), under the add-on's ``drive.file``
    grant for this file, so the cron run can open it (again, if someone took the share away). False
    when there is nothing to do: no account configured, or not a Google Sheet."""
    from mapsheets.service.revisions import canonical_ref
    from mapsheets.service.workbooks import google_id, open_workbook

    key = canonical_ref(ref)
    if not account or not google_id(ref):
        return False
    with request_scope(credentials):
        open_workbook(ref).share(account, role="writer")
    store.audit.log(SHARED, ref=key, actor=caller.email, at=now, detail={"with": account})
    return True


__all__ = ["SHARED", "run_as_subscriber", "share_for_digests"]
