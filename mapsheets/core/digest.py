"""What a change digest says about one plan: health, close outlook, changes by kind, what is due. Pure.

Rendering (HTML / text) lives in ``mapsheets.emails``; this module only decides the content, so
the CLI preview, the email and the JSON output all tell the same story.

Who made a change (``actors``) is looked up, first match wins, by:
  1. ``change_key(change)``, e.g. ``"step_changed:S-4K2P:due"`` or ``"overview_changed::target_close"``;
  2. the step ID, e.g. ``"S-4K2P"`` (the sidebar's audit log knows who touched a step);
  3. ``"*"``: one person for every change (Drive's ``lastModifyingUser`` when only one person edited).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from mapsheets.core.change_text import fold_done_on
from mapsheets.core.dates import NO_HOLIDAYS, business_days_between
from mapsheets.core.diff import Change
from mapsheets.core.health import STALLED_AFTER_DAYS, assess, overdue_days
from mapsheets.core.model import OUTCOMES, Plan, Step
from mapsheets.core.schedule import project
from mapsheets.core.text import iso, plural

if TYPE_CHECKING:  # numpy is imported only where a forecast is made
    from mapsheets.analysis.forecast import Forecast

DUE_SOON_DAYS = 7
# Groups in the order a reader cares about them: (key, heading).
GROUPS: tuple[tuple[str, str], ...] = (
    ("steps", "Steps added or removed"),
    ("status", "Status changes"),
    ("due", "Due dates moved"),
    ("owners", "Owners changed"),
    ("signoff", "Sign-off"),
    ("overview", "Plan overview"),
    ("team", "Stakeholders"),
    ("other", "Other edits"),
)
_HEADING = dict(GROUPS)
_KIND_PREFIXES = ("mutual action plan", "closing plan", "map")  # template titles start so
SUBJECT_LIMIT = 140  # long titles from the sheet must not make a subject nobody can read


def change_key(change: Change) -> str:
    """A stable key for one change, for ``actors``: ``kind:step_id-or-name:field``."""
    who = change.step_id if change.step_id is not None else ("" if change.kind == "overview_changed" else change.title)
    return f"{change.kind}:{who}:{change.field or ''}"


def group_of(change: Change) -> str:
    if change.kind in ("step_added", "step_removed"):
        return "steps"
    if change.kind == "step_changed" and change.field in ("status", "due", "owners"):
        return change.field
    if change.kind.startswith("signature_"):
        return "signoff"
    if change.kind == "overview_changed":
        return "overview"
    if change.kind.startswith("stakeholder_"):
        return "team"
    return "other"


@dataclass(frozen=True)
class ChangeItem:
    text: str  # the change in the plan's words (Change.describe())
    kind: str
    severity: str  # low | normal | high
    step_id: str | None = None
    slip_days: int | None = None
    who: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "severity": self.severity, "step_id": self.step_id,
                "slip_days": self.slip_days, "who": self.who}


@dataclass(frozen=True)
class ChangeGroup:
    key: str
    heading: str
    items: tuple[ChangeItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "heading": self.heading, "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class StepLine:
    """An open step worth a look: overdue (``days_overdue`` > 0) or due soon."""

    id: str
    title: str
    owners: tuple[str, ...]
    due: date | None
    status: str
    side: str
    days_overdue: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "owners": list(self.owners),
                "due": iso(self.due), "status": self.status,
                "side": self.side, "days_overdue": self.days_overdue}


@dataclass(frozen=True)
class CloseOutlook:
    projected: date | None
    target: date | None
    slip_days: int | None  # projected vs target, business days; positive = late
    previous: date | None  # projected close in the last digest
    moved_days: int | None  # since ``previous``, business days; positive = later

    def to_dict(self) -> dict[str, Any]:
        return {"projected": iso(self.projected), "target": iso(self.target), "slip_days": self.slip_days,
                "previous": iso(self.previous), "moved_days": self.moved_days}


@dataclass(frozen=True)
class Unreadable:
    cell: str
    message: str

    @property
    def plain(self) -> str:
        """The same for someone who never opened the sheet's cell grid: "row 27 of the plan: …"."""
        tab, _bang, ref = self.cell.rpartition("!")
        row = ref.lstrip("$ABCDEFGHIJKLMNOPQRSTUVWXYZ").lstrip("$")
        where = ("the plan" if tab in ("", "Plan") else f"the {tab} tab") if tab or row else "the plan"
        if row.isdigit():
            return f"Row {row} of {where}: {self.message}"
        return f"{where[0].upper()}{where[1:]}: {self.message}"

    @property
    def kind(self) -> tuple[str, str]:
        """What could not be read, as (one, many): the words a buyer's heading counts in."""
        for needle, words in _UNREADABLE_KINDS:
            if needle in self.message:
                return words
        return "entry", "entries"


# Message text (core/parse.py) -> what it is about; the first that matches wins.
_UNREADABLE_KINDS = (("is not a date", ("date", "dates")), ("is not a status", ("status", "statuses")),
                     ("is not a side", ("side", "sides")), ("unknown step", ("dependency", "dependencies")),
                     ("not computed", ("formula", "formulas")))


def unreadable_groups(items: tuple[Unreadable, ...]) -> list[tuple[str, tuple[Unreadable, ...]]]:
    """The unreadable cells grouped by what they are, in first-seen order, each under a heading a
    buyer reads: "2 dates in the plan could not be read"."""
    groups: dict[tuple[str, str], list[Unreadable]] = {}
    for item in items:
        groups.setdefault(item.kind, []).append(item)
    out = []
    for (one, many), found in groups.items():
        n = len(found)
        out.append((f"{n} {one if n == 1 else many} in the plan could not be read", tuple(found)))
    return out


@dataclass(frozen=True)
class Digest:
    plan_title: str
    buyer: str
    seller: str
    plan_url: str
    today: date
    health: str  # on track | at risk | stalled
    health_reason: str
    close: CloseOutlook
    groups: tuple[ChangeGroup, ...]  # non-empty groups only, in GROUPS order
    overdue: tuple[StepLine, ...]  # most overdue first
    due_soon: tuple[StepLine, ...]  # soonest first
    done: int = 0
    total: int = 0
    change_count: int = 0
    high_severity: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    first: bool = False  # the recipient's first digest: "since you started watching"
    since_label: str = ""  # overrides "since your last digest" (previews: "since revision 3")
    unreadable: tuple[Unreadable, ...] = ()  # cells the plan's last read could not understand
    calendar: str = ""  # the plan's holiday calendar, if any
    kind: str = ""  # the plan's kind: "closing" plans are labelled as such, others as MAPs
    plan_location: str = ""  # where the plan lives when there is no link to give (a file name)
    editors: tuple[str, ...] = ()  # who saved the plan, when not every change could be credited
    closed_out: int | None = None  # business days past the target close: the last digest of a dead deal
    outcome: str = ""  # "won on 2027-03-31" in the last digest of a closed deal (`mapsheets close`)
    correction: str = ""  # what someone heard of the closing no longer holds: the sentence saying so
    message: str = ""  # the seller's own words with the closing (`close --message`)
    lost: tuple[str, ...] = ()  # mapsheets' own last write, gone from the sheet (core.own_writes): sellers only
    external: bool = False  # for someone outside the seller: plain words, no cell codes or commands
    chance: str = ""  # the chance to close (Forecast.sentence), for the seller side only
    chance_moved: str = ""  # "down from 71%: Security review is 6 business days over"

    @property
    def name(self) -> str:
        """How people call the deal: ``Acme Corp × Globex``, else the plan's title."""
        if self.buyer and self.seller:
            return f"{self.buyer} × {self.seller}"
        return self.plan_title or self.buyer or self.seller or "Untitled plan"

    @property
    def label(self) -> str:
        """The subject's tag: what kind of plan this is."""
        return "Closing plan" if self.kind == "closing" else "MAP"

    @property
    def display_name(self) -> str:
        """The deal and, where it tells two plans with one buyer apart, the plan's own title."""
        title = _one_line(self.plan_title)
        if not (self.buyer and self.seller):  # the name is the title already
            return _one_line(self.name)
        head, sep, rest = title.partition(": ")
        if sep and head.lower() in _KIND_PREFIXES:  # "Mutual Action Plan: Acme × Globex" says the tag again
            title = rest
        if not title or title == self.name:
            return _one_line(self.name)
        if self.buyer in title:
            return title
        return _one_line(f"{self.name} · {title}")

    @property
    def is_worth_sending(self) -> bool:
        """No change and nothing overdue: nothing to tell, so no email (a dead deal's notice always is)."""
        return bool(self.change_count or self.overdue or self.closed_out or self.outcome or self.correction
                    or self.lost)

    @property
    def outcome_label(self) -> str:
        """``Closed won`` / ``Closed lost``, or just ``Closed`` for a neutral closing note."""
        word = self.outcome.split(" ", 1)[0]
        return f"Closed {word}" if word in OUTCOMES else "Closed"

    @property
    def subject(self) -> str:
        parts = []
        if self.change_count:
            parts.append(plural(self.change_count, "change"))
        if self.overdue:
            parts.append(f"{len(self.overdue)} overdue")
        body = ", ".join(parts) or "no changes"
        if self.closed_out:
            body = f"target close passed {plural(self.closed_out, 'business day')} ago, buyer digests stopped"
        if self.outcome:
            body = f"deal closed {self.outcome}, last digest"
        elif self.correction:
            body = "plan open again, digests resume"
        if self.correction:
            body = f"correction: {body}"
        name = self.display_name
        tag = f"[{self.label}] "
        tail = f": {body}" if self.outcome else f": {body} · {self.health}"  # closed: an outcome, no health
        room = SUBJECT_LIMIT - len(tag) - len(tail)
        if len(name) > room:
            name = name[: max(room - 1, 1)] + "…"
        return f"{tag}{name}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": {"title": self.plan_title, "name": self.name, "buyer": self.buyer, "seller": self.seller,
                     "url": self.plan_url, "location": self.plan_location, "kind": self.kind},
            "editors": list(self.editors), "closed_out_days": self.closed_out,
            "outcome": self.outcome or None, "correction": self.correction or None, "message": self.message or None,
            "today": self.today.isoformat(), "subject": self.subject,
            "health": {"state": self.health, "reason": self.health_reason},
            "progress": {"done": self.done, "total": self.total},
            "close": self.close.to_dict(),
            "changes": {"count": self.change_count, "high_severity": self.high_severity,
                        "groups": [g.to_dict() for g in self.groups]},
            "overdue": [s.to_dict() for s in self.overdue],
            "due_soon": [s.to_dict() for s in self.due_soon],
            "worth_sending": self.is_worth_sending,
            "unreadable": [{"cell": u.cell, "message": u.message} for u in self.unreadable],
            "lost": list(self.lost),
            "forecast": {"text": self.chance, "moved": self.chance_moved or None} if self.chance else None,
        }


def nothing_to_tell(plan: Plan, changes: list[Change], today: date, *, closing_notice: bool = False,
                    lost: bool = False) -> bool:
    """What ``build_digest(...).is_worth_sending`` would say, negated, without building the digest:
    no change, no closing notice and no step overdue. (A digest run asks this of every watched plan;
    most have nothing to say, and building their digests was most of a quiet run's time.)"""
    return not changes and not closing_notice and not lost and not any(
        overdue_days(s, today) for s in plan.steps if s.status != "n/a")


def build_digest(*, plan: Plan, changes: list[Change], today: date, plan_url: str, previous_close: date | None,
                 actors: dict[str, str] | None = None, stalled_after_days: int = STALLED_AFTER_DAYS,
                 stale_update_days: int | None = None, last_update: date | None = None,
                 holidays: Collection[date] = NO_HOLIDAYS, first: bool = False, since_label: str = "",
                 warnings: Iterable[dict[str, str]] = (), plan_location: str = "",
                 editors: Iterable[str] = (), closed_out: int | None = None, outcome: str = "",
                 correction: str = "", message: str = "", lost: Iterable[str] = (),
                 external: bool = False, chance: tuple[str, str] = ("", "")) -> Digest:
    """The digest of ``plan`` as of ``today``, given the ``changes`` since the recipient's last one.

    ``changes`` is what ``core.diff.diff`` returned; a Done-on date set together with the step's
    change to done is folded into that status change (``change_count`` counts what is shown).
    Health is ``core.health.assess`` (one rule everywhere); ``stale_update_days``: calendar days
    without any update (``last_update``) after which the plan counts as stalled. ``chance``: the
    forecast's sentence and how it moved (``chance_words``), "" for a recipient who may not see it.
    """
    health = assess(plan, today, soon_days=DUE_SOON_DAYS, holidays=holidays, stalled_after_days=stalled_after_days,
                    stale_after_days=stale_update_days, last_update=last_update)
    projection = project(plan, today, holidays)
    moved = None
    if previous_close and projection.close:
        moved = business_days_between(previous_close, projection.close, holidays)
    close = CloseOutlook(projected=projection.close, target=plan.target_close, slip_days=projection.slip,
                         previous=previous_close, moved_days=moved)

    who = actors or {}
    changes = fold_done_on(changes)
    buckets: dict[str, list[ChangeItem]] = {key: [] for key, _h in GROUPS}
    for c in changes:
        person = who.get(change_key(c)) or (who.get(c.step_id) if c.step_id else None) or who.get("*")
        buckets[group_of(c)].append(ChangeItem(text=c.describe(), kind=c.kind, severity=c.severity,
                                               step_id=c.step_id, slip_days=c.slip_days, who=person or None))
    groups = tuple(ChangeGroup(key, _HEADING[key], tuple(items)) for key, items in buckets.items() if items)

    return Digest(
        plan_title=plan.title, buyer=plan.buyer, seller=plan.seller, plan_url=plan_url, today=today,
        health=health.state, health_reason=health.reason, close=close, groups=groups,
        overdue=tuple(_line(s, d) for s, d in health.overdue),
        due_soon=tuple(_line(s, 0) for s in health.due_soon),
        done=health.done, total=health.total, change_count=len(changes),
        high_severity=sum(c.severity == "high" for c in changes),
        stats={key: len(items) for key, items in buckets.items()},
        first=first, calendar=plan.calendar, since_label=since_label,
        unreadable=tuple(Unreadable(w["cell"], w["message"]) for w in warnings),
        kind=plan.kind, plan_location=plan_location, editors=tuple(editors), closed_out=closed_out,
        outcome=outcome, correction=correction, message=message, lost=tuple(lost), external=external,
        chance=chance[0], chance_moved=chance[1],
    )


def chance_words(forecast: Forecast, previous: float | None, plan: Plan, today: date,
                 holidays: Collection[date] = NO_HOLIDAYS) -> tuple[str, str]:
    """(the forecast's sentence, how it moved since the chance last told), e.g. "down from 71%:
    Security review is 6 business days over": the most overdue step of the riskiest phase (or of
    the plan), else the riskiest phase. "" when it did not move (in whole percents) or was not told."""
    if forecast.chance is None or previous is None or round(forecast.chance * 100) == round(previous * 100):
        return forecast.sentence(), ""
    way = "down" if forecast.chance < previous else "up"
    overdue = assess(plan, today, holidays=holidays).overdue
    in_phase = [(s, d) for s, d in overdue if forecast.risk_phase and s.phase == forecast.risk_phase]
    why = ""
    if in_phase or overdue:
        step, days = (in_phase or overdue)[0]
        why = f": {step.title} is {days} business day{'' if days == 1 else 's'} over"
    elif forecast.risk_phase:
        why = f": most risk in {forecast.risk_phase}"
    return forecast.sentence(), f"{way} from {previous:.0%}{why}"



def _line(step: Step, days: int) -> StepLine:
    return StepLine(id=step.id, title=step.title, owners=tuple(step.owners), due=step.due, status=step.status,
                    side=step.side, days_overdue=days)


def _one_line(text: str) -> str:
    # Subjects become mail headers: a newline typed into a sheet cell must not reach them.
    return " ".join(str(text).split())
