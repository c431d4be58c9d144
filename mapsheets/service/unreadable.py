"""A plan whose Google Sheet the digest run cannot open, told where people look, not only in a log.

The cron run reads with the deployment's own credentials, which open only sheets shared with them.
A sheet it cannot open while no add-on trigger reads it as its subscriber (``TRIGGER_RUN`` within
``TRIGGER_FRESH``) starts an episode: one ``UNREADABLE`` event, and with it one email to the plan's
seller owner (the Seller lead of the last stored revision). Later runs add nothing while the episode
lasts; the sidebar shows ``notice`` to whoever opens the plan next. A run that reads the plan again
(cron or trigger) ends the episode (``READABLE``), so a new failure is told anew.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mapsheets.errors import MapsheetsError, NotFound, PermissionDenied

UNREADABLE = "digest-unreadable"  # detail: {"error": what Google said, "told": the address emailed or ""}
READABLE = "digest-readable"
TRIGGER_RUN = "digest-trigger-run"  # an add-on trigger read the plan as its subscriber (actor)
TRIGGER_FRESH = timedelta(hours=36)  # triggers run hourly: a day and a half of silence means they stopped
TRIGGER_LOG_EVERY = timedelta(hours=12)  # one audit entry per half day, not one per hourly run
# Drive's files.list shows the run only files it can open, so a plan missing from it reads as
# "unchanged" whether or not it can: the listing is trusted only for plans the run's own
# credentials read lately (DEPLOYMENT_READ within TRUST_FOR); others are opened, and fail loudly.
DEPLOYMENT_READ = "read-by-deployment"
TRUST_FOR = timedelta(days=7)


def _latest(events: list[Any], kinds: tuple[str, ...]) -> Any | None:
    found = [e for e in events if e.kind in kinds]
    return found[-1] if found else None


def open_episode(events: list[Any]) -> Any | None:
    """The UNREADABLE event of the episode still going on, else None."""
    last = _latest(events, (UNREADABLE, READABLE))
    return last if last is not None and last.kind == UNREADABLE else None


def served_by_trigger(events: list[Any], now: datetime) -> bool:
    last = _latest(events, (TRIGGER_RUN,))
    return last is not None and now - last.at < TRIGGER_FRESH


def handled(store: Any, ref: str, exc: MapsheetsError, *, now: datetime, mailer: Any, sender: str,
            notes: list[str]) -> bool:
    """The run could not read Google plan ``ref``: True when that is no failure (an add-on trigger
    reads it as its subscriber); else the failure is told (once per episode) and False."""
    if not isinstance(exc, (PermissionDenied, NotFound)):
        return False
    events = store.audit.events(ref)
    if served_by_trigger(events, now):
        notes.append(f"{ref}: not readable with this run's credentials; the add-on's hourly trigger reads it")
        return True
    if open_episode(events) is not None:
        return False  # told when it began
    plan = _last_plan(store, ref)
    owner, told = _seller_owner(plan), ""
    if owner is None or plan is None:
        notes.append(f"{ref}: cannot be read, and its plan names no seller lead to tell")
    else:
        try:  # sent before it is remembered: a run killed in between tells again, never nobody
            _tell(mailer, sender, owner, plan.title or ref, str(exc), now)
            told = owner[1]
            notes.append(f"{ref}: cannot be read; told {told} (once)")
        except MapsheetsError as err:
            notes.append(f"{ref}: cannot be read; emailing {owner[1]} failed ({err})")
    store.audit.log(UNREADABLE, ref=ref, actor="mapsheets digest", at=now,
                    detail={"error": str(exc)[:300], "told": told})
    return False


def read_again(store: Any, ref: str, events: list[Any] | None, now: datetime, *, own: bool = False) -> None:
    """A run read the plan (``own``: with the deployment's credentials): an episode going on is over."""
    events = store.audit.events(ref) if events is None else events
    if open_episode(events) is not None:
        store.audit.log(READABLE, ref=ref, actor="mapsheets digest", at=now, detail={})
    if own and not _trusted(events, now):
        store.audit.log(DEPLOYMENT_READ, ref=ref, actor="mapsheets digest", at=now, detail={})


def listable(store: Any, seen: dict[str, Any], refs: list[str], now: datetime) -> dict[str, Any]:
    """``seen`` without the Google plans of ``refs`` the deployment's credentials did not read lately:
    those are opened by the run, not taken as unchanged when Drive's listing leaves them out."""
    if not refs:
        return seen
    events = store.audit.events_of(refs)
    doubtful = {ref for ref in refs if not _trusted(events.get(ref, []), now)}
    return {ref: source for ref, source in seen.items() if ref not in doubtful}


def _trusted(events: list[Any], now: datetime) -> bool:
    last = _latest(events, (DEPLOYMENT_READ,))
    return last is not None and now - last.at < TRUST_FOR


def trigger_ran(store: Any, ref: str, email: str, now: datetime) -> None:
    """An add-on trigger read the plan as ``email``: remembered (twice a day at most), episode over."""
    events = store.audit.events(ref, since=now - TRIGGER_LOG_EVERY)
    if _latest(events, (TRIGGER_RUN,)) is None:
        store.audit.log(TRIGGER_RUN, ref=ref, actor=email, at=now, detail={})
    read_again(store, ref, None, now)


def notice(store: Any, ref: str) -> str | None:
    """What the sidebar says while an episode lasts, else None."""
    episode = open_episode(store.audit.events(ref))
    if episode is None:
        return None
    told = episode.detail.get("told") or ""
    return (f"Digests of this plan are not going out: on {episode.at:%Y-%m-%d} the scheduled run could not open "
            "this sheet. Saving \u201cEmail me changes\u201d in the Sheets add-on lets mapsheets read it as you, "
            "hourly, for every subscriber." + (f" ({told} was emailed about it.)" if told else ""))


def _last_plan(store: Any, ref: str) -> Any | None:
    from mapsheets.core.model import Plan

    try:
        return Plan.from_dict(store.revisions.get(ref, "latest").content["plan"])
    except (MapsheetsError, KeyError):  # never stored (or not as a plan)
        return None


def _seller_owner(plan: Any | None) -> tuple[str, str] | None:
    """(name, email) of the plan's Seller lead (by their Team row when the lead is a name), or None."""
    from mapsheets.core.addresses import find_email
    from mapsheets.core.people import find_person, owner_name

    if plan is None or not plan.seller_lead:
        return None
    person = find_person(plan.stakeholders, plan.seller_lead)
    email = find_email(plan.seller_lead) or (person.email if person else None)
    if not email:
        return None
    name = owner_name(plan.seller_lead, plan.stakeholders)
    return (name if name != email else "", email)


def _tell(mailer: Any, sender: str, owner: tuple[str, str], title: str, error: str, now: datetime) -> None:
    from html import escape

    from mapsheets.adapters.mail import build_message, format_address, make_msgid, sender_domain

    name, email = owner
    lines = [f"The scheduled digest run could not open the Google Sheet of \u201c{title}\u201d, so nobody "
             "subscribed to it gets a digest.",
             f"Google said: {error}",
             "To fix it, open the sheet, open mapsheets from the Extensions menu and choose \u201cEmail me "
             "changes\u201d: the add-on then reads the sheet as you, once an hour, and sends every "
             "subscriber's digest. You get this email once; the sidebar says it until the sheet reads again."]
    message = build_message(sender=sender, to=[format_address(name, email)],
                            subject=f"Digests stopped: mapsheets cannot open \u201c{title}\u201d",
                            html="".join(f"<p>{escape(x)}</p>" for x in lines), text="\n\n".join(lines) + "\n",
                            message_id=make_msgid(sender_domain(sender)), date=now)
    mailer.send(message, [email])


__all__ = ["DEPLOYMENT_READ", "READABLE", "TRIGGER_RUN", "UNREADABLE", "handled", "listable", "notice", "read_again",
           "trigger_ran"]
