"""The plan model: Plan, Step, Stakeholder, Signature. Pure data, no I/O."""

from __future__ import annotations

import hashlib
import json
import random as _random
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from mapsheets.core.people import owner_key
from mapsheets.core.qualify import QUALIFICATION_KEYS
from mapsheets.core.text import iso
from mapsheets.core.text import jsonable as jsonable  # its old home
from mapsheets.core.vocabulary import OPEN_STATUSES as OPEN_STATUSES  # their old home
from mapsheets.core.vocabulary import PLAN_KINDS
from mapsheets.core.vocabulary import SIDES as SIDES
from mapsheets.core.vocabulary import STATUSES as STATUSES

KINDS = PLAN_KINDS  # the old name, kept for callers
ROLES = (
    "Champion", "Economic buyer", "Decision maker", "Legal", "Security", "Procurement",
    "IT", "Finance", "User", "AE", "SE", "CSM", "Sales manager", "Executive sponsor", "Other",
)

# Crockford base32 without I, L, O, U: IDs people can read aloud and retype.
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PREFIX = "S-"
ID_LENGTH = 4


def new_step_id(taken: set[str] | frozenset[str] = frozenset(), rng: _random.Random | None = None) -> str:
    """A short random ID such as ``S-4K2P``: stable, and no need to read the sheet to avoid clashes."""
    pick = (rng or _random.SystemRandom()).choice
    while True:
        candidate = ID_PREFIX + "".join(pick(ID_ALPHABET) for _ in range(ID_LENGTH))
        if candidate not in taken:
            return candidate


@dataclass
class Step:
    """One row of the steps table: what is to be done, by whom, by when, and how far it is."""

    id: str
    title: str
    phase: str = ""
    side: str = "joint"
    owners: list[str] = field(default_factory=list)
    due: date | None = None
    status: str = "not started"
    done_on: date | None = None
    depends_on: list[str] = field(default_factory=list)
    notes: str = ""
    # Columns people added by hand, header -> value; kept and written back untouched.
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    # Cells we could not understand, header -> original value; written back as they were.
    unparsed: dict[str, Any] = field(default_factory=dict, compare=False)
    # Cells holding a formula read without its computed result, header -> the formula's text: no
    # value is known there, so only the text is compared (see diff.keep_formula_values).
    formulas: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "phase": self.phase,
            "title": self.title,
            "side": self.side,
            "owners": list(self.owners),
            "due": iso(self.due),
            "status": self.status,
            "done_on": iso(self.done_on),
            "depends_on": list(self.depends_on),
            "notes": self.notes,
            # Hand-added columns and cells that did not parse: part of what people agreed on.
            "extra": {k: jsonable(v) for k, v in self.extra.items() if jsonable(v) is not None},
            "unparsed": {k: jsonable(v) for k, v in self.unparsed.items()},
        }
        if self.formulas:  # only then: the content (and legacy fingerprint) of other plans unchanged
            out["formulas"] = dict(self.formulas)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(
            id=data["id"], title=data.get("title", ""), phase=data.get("phase", ""),
            side=data.get("side", "joint"), owners=list(data.get("owners", [])),
            due=_date(data.get("due")), status=data.get("status", "not started"),
            done_on=_date(data.get("done_on")), depends_on=list(data.get("depends_on", [])),
            notes=data.get("notes", ""), extra=dict(data.get("extra") or {}),
            unparsed=dict(data.get("unparsed") or {}), formulas=dict(data.get("formulas") or {}),
        )


@dataclass
class Stakeholder:
    """One row of the Team tab: a person on the plan, their side and role."""

    name: str
    email: str = ""
    side: str = "buyer"
    role: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "side": self.side, "role": self.role}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stakeholder:
        return cls(**{f.name: data.get(f.name, "") for f in fields(cls)})


class UncachedFormula(str):
    """A formula cell read without its computed result (last saved by a program that does not
    calculate, openpyxl included): its text, so it reads as a warning, never as an empty cell."""


# How the signer's identity was known (the Sign-off tab's Method column).
GOOGLE, EMAIL_LINK, ON_BEHALF, COMMAND_LINE = "Google sign-in", "email link", "recorded on behalf", "command line"
METHODS = (GOOGLE, EMAIL_LINK, ON_BEHALF, COMMAND_LINE)


@dataclass
class Signature:
    """One row of the Sign-off tab: who signed the plan for which side, when, at which fingerprint."""

    name: str
    email: str
    side: str
    signed_at: datetime | None
    fingerprint: str
    method: str = ""
    recorded_by: str = ""  # who typed in a signature given elsewhere (method ON_BEHALF)
    seal: str = ""  # the deployment key's seal (adapters/seal.py); empty on rows typed by hand
    # The seal's verdict, passed in by the service (the core does no crypto): True or False once
    # checked; None for a signature built in memory, judged by its fingerprint alone.
    verified: bool | None = field(default=None, compare=False)

    @property
    def own(self) -> bool:
        """Given by the signer themselves, not recorded for them by someone else."""
        return self.method != ON_BEHALF

    def by_line(self) -> str:
        """"recorded by sam@globex.example on behalf of jane@acme.example", or the method."""
        if not self.own:
            return f"recorded by {self.recorded_by or 'someone'} on behalf of {self.email}"
        return self.method or "method not recorded"

    def to_dict(self, status: str | None = None) -> dict[str, Any]:
        out = {
            "name": self.name, "email": self.email, "side": self.side,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "fingerprint": self.fingerprint, "method": self.method, "recorded_by": self.recorded_by,
            "own": self.own, "by": self.by_line(), "seal": self.seal, "verified": self.verified,
        }
        if status is not None:
            out["status"] = status
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        at = data.get("signed_at")
        return cls(
            name=data.get("name", ""), email=data.get("email", ""), side=data.get("side", ""),
            signed_at=datetime.fromisoformat(at) if at else None, fingerprint=data.get("fingerprint", ""),
            method=data.get("method") or "", recorded_by=data.get("recorded_by") or "", seal=data.get("seal") or "",
            # A revision stored before seals were checked held no verdict: unverified, never valid.
            verified=data.get("verified", False),
        )


# Overview fields, in sheet order: attribute, label shown in the sheet, type.
OVERVIEW_FIELDS: tuple[tuple[str, str, type], ...] = (
    ("title", "Plan", str),
    ("kind", "Kind", str),
    ("buyer", "Buyer", str),
    ("seller", "Seller", str),
    ("problem", "Problem we are solving", str),
    ("solution", "Proposed solution", str),
    ("start_date", "Start date", date),
    ("target_close", "Target close", date),
    ("go_live", "Go-live", date),
    ("calendar", "Holidays", str),  # a holiday calendar such as US, GB or DE-BY; empty: weekends only
    ("date_order", "Date order", str),  # MDY, DMY or YMD: how dates typed as text are read; empty: month first
    ("buying_process", "Buying process", str),
    ("seller_lead", "Seller lead", str),
    ("buyer_lead", "Buyer lead", str),
    ("close_step", "Close step", str),
    ("template", "Template", str),
    ("closing_plan", "Closing plan", str),  # a MAP's seller-side closing plan (`convert` links them)
    ("mutual_plan", "Mutual plan", str),  # a closing plan's MAP
    ("outcome", "Outcome", str),  # won or lost, set by `mapsheets close`; empty: the deal is open
    ("closed_on", "Closed on", date),
    ("outcome_reason", "Outcome reason", str),
)
OUTCOMES = ("won", "lost")
# An overview field's key where it is not its attribute: in JSON (`show --json`, stored revisions,
# fingerprints) and in a diff's changes the calendar keeps the name it had, "holidays".
_KEYS = {"calendar": "holidays"}
_ATTRS = {key: attr for attr, key in _KEYS.items()}


def overview_key(attr: str) -> str:
    """The name an overview field has outside the Plan object (JSON, diffs): ``calendar`` is "holidays"."""
    return _KEYS.get(attr, attr)

# How the sheet is read, not what anyone agreed to: outside the fingerprint, so plans signed before
# the field existed stay signed (the dates it yields are inside).
_READING_ONLY = ("date_order",)
# Where the other plan of the deal lives: a link, nothing anyone agreed to (outside every fingerprint).
_LINKS = ("closing_plan", "mutual_plan")
# What happened after the plan, not what anyone agreed to: outside every fingerprint (signatures made
# before these rows existed stay valid under the first rule too).
_LIFECYCLE = ("outcome", "closed_on", "outcome_reason")


FINGERPRINT_V2 = "v2:"
# What a signature covers (see Plan.commitments).
SIGNED_OVERVIEW = ("problem", "solution", "target_close", "go_live", "buying_process", "seller_lead", "buyer_lead")
SIGNED_STEP_FIELDS = ("id", "phase", "title", "side", "owners", "due", "depends_on")


@dataclass
class Plan:
    """A mutual action plan or a closing plan: its overview, steps, team and signatures."""

    kind: str
    title: str
    buyer: str
    seller: str
    problem: str = ""
    solution: str = ""
    start_date: date | None = None
    target_close: date | None = None
    go_live: date | None = None
    calendar: str = ""  # a holiday calendar code (US, GB, DE-BY); the dates themselves are calendars.py's
    date_order: str = ""
    buying_process: str = ""
    seller_lead: str = ""
    buyer_lead: str = ""
    close_step: str = ""  # ID of the step that closes the deal (signature)
    template: str = ""
    closing_plan: str = ""
    mutual_plan: str = ""
    outcome: str = ""  # won | lost once closed (see OUTCOMES); "" while the deal is open
    closed_on: date | None = None
    outcome_reason: str = ""
    steps: list[Step] = field(default_factory=list)
    stakeholders: list[Stakeholder] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    # Steps-table column order as found in the sheet (incl. extra columns); empty = default order.
    step_columns: list[str] = field(default_factory=list, compare=False)
    # MEDDPICC rows found in the sheet, key -> text (see core/qualify.py); the seller's own notes, not
    # a commitment.
    qualification: dict[str, str] = field(default_factory=dict)
    # Overview fields holding a formula read without its computed result: field -> the formula's text.
    formulas: dict[str, str] = field(default_factory=dict, compare=False)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def holidays(self) -> str:
        """The old name of ``calendar`` (read only): elsewhere "holidays" is a set of dates."""
        return self.calendar

    @property
    def step_ids(self) -> set[str]:
        return {s.id for s in self.steps}

    def content_dict(self) -> dict[str, Any]:
        """Everything people agree on when they sign: overview, steps, team; not the signatures."""
        out: dict[str, Any] = {}
        for attr, _label, typ in OVERVIEW_FIELDS:
            if attr in _READING_ONLY or attr in _LINKS or attr in _LIFECYCLE:
                continue
            value = getattr(self, attr)
            out[overview_key(attr)] = iso(value) if typ is date else value
        out["steps"] = [s.to_dict() for s in self.steps]
        out["stakeholders"] = [s.to_dict() for s in self.stakeholders]
        if self.formulas:
            out["formulas"] = {overview_key(attr): text for attr, text in self.formulas.items()}
        return out

    def commitments(self) -> dict[str, Any]:
        """What a signature covers: the overview's promises, each step's who/what/when, the team.

        Status, done on, notes and extra columns are progress: they change without breaking a signature.
        """
        out: dict[str, Any] = {attr: iso(getattr(self, attr)) if isinstance(getattr(self, attr), date)
                               else getattr(self, attr) for attr in SIGNED_OVERVIEW}
        # Who owns a step and who is on the team, not in which order they were typed.
        out["steps"] = [{k: sorted(map(owner_key, v)) if k == "owners" else v
                         for k, v in s.to_dict().items() if k in SIGNED_STEP_FIELDS} for s in self.steps]
        out["stakeholders"] = sorted((s.to_dict() for s in self.stakeholders), key=lambda p: sorted(p.items()))
        return out

    def fingerprint(self) -> str:
        """A short hash of the commitments, versioned: a signature is stale once the plan no longer has it."""
        return FINGERPRINT_V2 + _hash(self.commitments())

    def legacy_fingerprint(self) -> str:
        """The first rule (any change to overview, steps or team): judges signatures made under it."""
        return _hash(self.content_dict())

    def identity(self) -> str:
        """What a seal binds a signature to, so a row copied into another plan does not verify: the
        plan's kind, title, buyer and seller (a plan renamed is a plan to sign again)."""
        return "plan:" + _hash({"kind": self.kind, "title": self.title, "buyer": self.buyer, "seller": self.seller})

    def signature_status(self, signature: Signature) -> str:
        """"unverified" when its seal does not hold, else "valid" or "stale" by the rule the signature
        was made under (so upgrades flip nothing)."""
        if signature.verified is False:
            return "unverified"
        current = (self.fingerprint() if signature.fingerprint.startswith(FINGERPRINT_V2)
                   else self.legacy_fingerprint())
        return "valid" if signature.fingerprint == current else "stale"

    def to_dict(self) -> dict[str, Any]:
        out = self.content_dict()
        out.update({attr: getattr(self, attr) for attr in _READING_ONLY + _LINKS})
        out.update({attr: iso(v) if isinstance(v := getattr(self, attr), date) else v for attr in _LIFECYCLE})
        out["qualification"] = {k: self.qualification.get(k, "") for k in QUALIFICATION_KEYS}
        out["fingerprint"] = self.fingerprint()
        out["signatures"] = [s.to_dict(self.signature_status(s)) for s in self.signatures]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        kwargs: dict[str, Any] = {}
        for attr, _label, typ in OVERVIEW_FIELDS:
            value = data.get(overview_key(attr))
            kwargs[attr] = _date(value) if typ is date else (value or "")
        return cls(
            **kwargs,
            steps=[Step.from_dict(s) for s in data.get("steps", [])],
            stakeholders=[Stakeholder.from_dict(s) for s in data.get("stakeholders", [])],
            signatures=[Signature.from_dict(s) for s in data.get("signatures", [])],
            qualification={k: v for k, v in (data.get("qualification") or {}).items() if v},
            formulas={_ATTRS.get(key, key): text for key, text in (data.get("formulas") or {}).items()},
        )


def seal_payload(signature: Signature, identity: str) -> bytes:
    """The bytes a seal signs: plan identity, fingerprint, signer, side, time (to the second) and method."""
    at = signature.signed_at
    if at is not None:
        at = (at + timedelta(microseconds=500_000)).replace(microsecond=0, tzinfo=None)  # sheets round
    content = {"v": 1, "plan": identity, "fingerprint": signature.fingerprint, "name": signature.name.strip(),
               "email": signature.email.strip().lower(), "side": signature.side, "signed_at": iso(at),
               "method": signature.method, "recorded_by": signature.recorded_by.strip().lower()}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)
