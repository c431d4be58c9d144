"""Semantic plan diff: what changed between two revisions, in the plan's own words. Pure.

Steps are matched by ID; steps whose ID cell was deleted or retyped are matched to their old selves
by content (exact title first, then a phase+title+owners similarity), only among leftovers, so the
common case is O(n) dict look-ups. Row order is reported only as ``step_moved``, using a longest
increasing subsequence so moving one row reports one move.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any

from mapsheets.core.change_text import describe
from mapsheets.core.dates import business_days_between
from mapsheets.core.formulas import keep_formula_values, unknown_labels  # noqa: F401  (keep_formula_values: for callers)
from mapsheets.core.labels import STEP_FIELDS, STEP_LABEL
from mapsheets.core.model import OVERVIEW_FIELDS, Plan, Signature, Stakeholder, Step, overview_key
from mapsheets.core.people import owner_keys
from mapsheets.core.text import fold, jsonable, to_json

CHANGE_KINDS = (
    "step_added", "step_removed", "step_changed", "step_moved", "overview_changed",
    "stakeholder_added", "stakeholder_removed", "stakeholder_changed",
    "signature_added", "signature_stale", "signature_removed",
)
KINDS = CHANGE_KINDS  # the old name, kept for callers
_FIELD_ORDER = {f: i for i, (f, _label) in enumerate(STEP_FIELDS)}
_OVERVIEW_ORDER = {attr: i for i, (attr, _l, _t) in enumerate(OVERVIEW_FIELDS)}
# Content matching: weights of title / phase / owners similarity, and the bar a pair must clear.
_W_TITLE, _W_PHASE, _W_OWNERS = 0.6, 0.2, 0.2
MATCH_THRESHOLD = 0.7
MIN_TITLE_RATIO = 0.5
# Titles are compared on their first characters only: SequenceMatcher takes time quadratic in the
# length, and a title pasted 32,767 characters long must not stall a diff (issue 17).
TITLE_COMPARED = 500
BIG_SLIP = 5  # business days later at which a due-date change is high severity


@dataclass(frozen=True)
class Change:
    kind: str
    step_id: str | None = None
    field: str | None = None
    old: Any = None
    new: Any = None
    slip_days: int | None = None  # due changes only: business days, positive = later
    severity: str = "normal"  # "low" | "normal" | "high"
    title: str = ""  # step title, stakeholder or signer name, for wording
    side: str = ""  # stakeholder's or signer's side
    how: str = ""  # signatures added: how the signer was known ("recorded by … on behalf of …")

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "step_id": self.step_id, "field": self.field,
               "old": to_json(self.old), "new": to_json(self.new)}
        if self.slip_days is not None:
            out["slip_days"] = self.slip_days
        out.update(severity=self.severity, title=self.title, side=self.side or None, text=self.describe())
        return out

    def describe(self) -> str:
        """The change in the plan's own words (see change_text.py)."""

        return describe(self)


def diff(old: Plan, new: Plan, holidays: Collection[date] = ()) -> list[Change]:
    """Every change from ``old`` to ``new``, steps in new-plan order, then overview, team, sign-off."""
    out: list[tuple[tuple[int, ...], Change]] = []
    pairs, removed, added = match_steps(old.steps, new.steps)
    id_map = {old.steps[i].id: new.steps[j].id for i, j in pairs}
    for i, j in pairs:
        for n, change in enumerate(_step_changes(old.steps[i], new.steps[j], id_map, holidays, old.close_step)):
            out.append(((0, j, 0, 1 + _FIELD_ORDER.get(change.field or "", len(_FIELD_ORDER)), n), change))
    for j in added:
        s = new.steps[j]
        out.append(((0, j, 0, 0, 0), Change("step_added", s.id, None, None, s.to_dict(),
                                            severity=_sev_presence(s, new), title=s.title)))
    anchor, last, matched_old = {}, -1, dict(pairs)  # removed step -> new index of the matched one before it
    for i in range(len(old.steps)):
        anchor[i] = last = matched_old.get(i, last)
    for i in removed:
        s = old.steps[i]
        out.append(((0, anchor[i], 1, i, 0), Change("step_removed", s.id, None, s.to_dict(), None,
                                                    severity=_sev_presence(s, old), title=s.title)))
    for i, j in moved_pairs(pairs):
        s = new.steps[j]
        out.append(((0, j, 0, 99, 0), Change("step_moved", s.id, "position", i + 1, j + 1,
                                             severity="low", title=s.title)))
    rest = (_overview_changes(old, new, id_map), _stakeholder_changes(old.stakeholders, new.stakeholders),
            _signature_changes(old, new))
    out += [((part, n), change) for part, changes in enumerate(rest, 1) for n, change in enumerate(changes)]
    out.sort(key=lambda kc: kc[0])
    return [c for _k, c in out]


def summary(changes: Iterable[Change]) -> dict[str, int]:
    """Counts by kind (every kind present, zeros too), total, high-severity count, days slipped later."""
    out = {kind: 0 for kind in CHANGE_KINDS}
    total = high = slipped = 0
    for c in changes:
        out[c.kind] = out.get(c.kind, 0) + 1
        total += 1
        high += c.severity == "high"
        slipped += max(c.slip_days or 0, 0)
    out.update(total=total, high_severity=high, slipped_days_total=slipped)
    return out


# --- matching ------------------------------------------------------------------------------------

def match_steps(old: list[Step], new: list[Step]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(old index, new index) pairs, unmatched old indices, unmatched new indices."""
    new_by_id: dict[str, list[int]] = {}
    for j, s in enumerate(new):
        new_by_id.setdefault(s.id, []).append(j)
    pairs: list[tuple[int, int]] = []
    used_new: set[int] = set()
    for i, s in enumerate(old):  # a duplicated ID pairs its n-th use in old with its n-th use in new
        js = new_by_id.get(s.id)
        if js:
            j = js.pop(0)
            pairs.append((i, j))
            used_new.add(j)
    used_old = {i for i, _j in pairs}
    left_old = [i for i in range(len(old)) if i not in used_old]
    left_new = [j for j in range(len(new)) if j not in used_new]
    if left_old and left_new:
        pairs.extend(_match_by_content(old, new, left_old, left_new))
        used_old = {i for i, _j in pairs}
        used_new = {j for _i, j in pairs}
        left_old = [i for i in left_old if i not in used_old]
        left_new = [j for j in left_new if j not in used_new]
    return sorted(pairs, key=lambda p: p[1]), left_old, left_new


def _match_by_content(old: list[Step], new: list[Step], left_old: list[int],
                      left_new: list[int]) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    by_title: dict[str, list[int]] = {}
    for i in left_old:
        by_title.setdefault(fold(old[i].title), []).append(i)
    rest_new = []
    for j in left_new:  # exact title first, in order
        candidates = by_title.get(fold(new[j].title))
        if candidates and new[j].title.strip():
            pairs.append((candidates.pop(0), j))
        else:
            rest_new.append(j)
    taken = {i for i, _j in pairs}
    rest_old = [i for i in left_old if i not in taken]
    scored = []
    matcher = SequenceMatcher(autojunk=False)
    for j in rest_new:
        matcher.set_seq2(fold(new[j].title)[:TITLE_COMPARED])
        for i in rest_old:
            rest = (_W_PHASE * (fold(old[i].phase) == fold(new[j].phase))
                    + _W_OWNERS * _jaccard(old[i].owners, new[j].owners))
            if rest + _W_TITLE < MATCH_THRESHOLD:
                continue
            matcher.set_seq1(fold(old[i].title)[:TITLE_COMPARED])
            if matcher.real_quick_ratio() < MIN_TITLE_RATIO or matcher.quick_ratio() < MIN_TITLE_RATIO:
                continue
            ratio = matcher.ratio()
            score = _W_TITLE * ratio + rest
            if ratio >= MIN_TITLE_RATIO and score >= MATCH_THRESHOLD:
                scored.append((-score, i, j))
    scored.sort()
    used_o, used_n = set(), set()
    for _neg, i, j in scored:  # greedy, best first
        if i not in used_o and j not in used_n:
            used_o.add(i)
            used_n.add(j)
            pairs.append((i, j))
    return pairs


def moved_pairs(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pairs (sorted by new index) outside a longest increasing run of old indices: the moved rows."""
    seq = [i for i, _j in pairs]
    tails: list[int] = []  # tails[k] = smallest old index ending a run of length k+1
    tail_at: list[int] = []  # position in seq of that tail
    back = [-1] * len(seq)
    for pos, value in enumerate(seq):
        k = bisect.bisect_left(tails, value)
        back[pos] = tail_at[k - 1] if k else -1
        if k == len(tails):
            tails.append(value)
            tail_at.append(pos)
        else:
            tails[k], tail_at[k] = value, pos
    keep, pos = set(), tail_at[-1] if tail_at else -1
    while pos >= 0:
        keep.add(pos)
        pos = back[pos]
    return [p for n, p in enumerate(pairs) if n not in keep]


# --- field comparison ----------------------------------------------------------------------------

def _step_changes(a: Step, b: Step, id_map: dict[str, str], holidays: Collection[date],
                  close_step: str) -> list[Change]:
    if a == b and a.extra == b.extra and a.unparsed == b.unparsed:
        return []  # the common case, one tuple comparison
    out: list[Change] = []
    unknown = unknown_labels(a, b)

    def add(name: str, old: Any, new: Any, severity: str = "normal", slip: int | None = None) -> None:
        if STEP_LABEL.get(name, name.removeprefix("extra:")) in unknown:
            return  # a formula without a result on one side: neither a change nor a commitment change
        out.append(Change("step_changed", b.id, name, old, new, slip, severity, b.title))

    if a.id != b.id:
        add("id", a.id, b.id, "low")
    for name in ("phase", "title", "side", "notes"):
        old, new = _value(a, name), _value(b, name)
        if old != new:
            add(name, old, new, "low" if name == "notes" else "normal")
    if a.owners != b.owners and owner_keys(a.owners) != owner_keys(b.owners):
        add("owners", tuple(a.owners), tuple(b.owners))
    old_due, new_due = _value(a, "due"), _value(b, "due")
    if old_due != new_due:
        slip = None
        if isinstance(old_due, date) and isinstance(new_due, date):
            slip = business_days_between(old_due, new_due, holidays)
        late = slip is not None and (slip >= BIG_SLIP or (slip > 0 and a.id == close_step))
        add("due", old_due, new_due, "high" if late else "normal", slip)
    old_status, new_status = _value(a, "status"), _value(b, "status")
    if old_status != new_status:
        add("status", old_status, new_status, "high" if new_status == "blocked" else "normal")
    old_done, new_done = _value(a, "done_on"), _value(b, "done_on")
    if old_done != new_done:
        add("done_on", old_done, new_done, "low")
    deps_new = set(b.depends_on)
    if deps_new != set(a.depends_on) and deps_new != {id_map.get(d, d) for d in a.depends_on}:
        add("depends_on", tuple(a.depends_on), tuple(b.depends_on))
    for header in list(b.extra) + [h for h in a.extra if h not in b.extra]:
        old, new = jsonable(a.extra.get(header)), jsonable(b.extra.get(header))
        if old != new:
            add(f"extra:{header}", old, new, "low")
    return out


def _value(step: Step, name: str) -> Any:
    """The field as the sheet shows it: a cell we could not parse counts as its raw text."""
    label = STEP_LABEL[name]
    if label in step.unparsed:
        return jsonable(step.unparsed[label])
    return getattr(step, name)


def _overview_changes(old: Plan, new: Plan, id_map: dict[str, str]) -> list[Change]:
    out = []
    unknown = set(old.formulas) ^ set(new.formulas)  # no value known on one side: no change to tell
    for attr, _label, _typ in OVERVIEW_FIELDS:
        a, b = getattr(old, attr), getattr(new, attr)
        if a == b or attr in unknown or (attr == "close_step" and id_map.get(a) == b):
            continue
        later = isinstance(a, date) and isinstance(b, date) and b > a
        severity = "high" if attr in ("target_close", "go_live") and later else "normal"
        out.append(Change("overview_changed", None, overview_key(attr), a, b, severity=severity, title=new.title))
    return out


def _stakeholder_changes(old: list[Stakeholder], new: list[Stakeholder]) -> list[Change]:
    pairs: list[tuple[int, int]] = []
    keys: tuple[Callable[[Stakeholder], str], ...] = (lambda p: fold(p.email), lambda p: fold(p.name))
    for key in keys:  # email first, then name
        used_o, used_n = {i for i, _ in pairs}, {j for _, j in pairs}
        index: dict[str, list[int]] = {}
        for i, p in enumerate(old):
            if i not in used_o and key(p):
                index.setdefault(key(p), []).append(i)
        for j, p in enumerate(new):
            if j not in used_n and index.get(key(p)):
                pairs.append((index[key(p)].pop(0), j))
    matched = dict((j, i) for i, j in pairs)
    out = []
    for j, p in enumerate(new):
        if j not in matched:
            out.append(Change("stakeholder_added", None, None, None, p.to_dict(), title=p.name, side=p.side))
            continue
        q = old[matched[j]]
        for attr in ("name", "email", "side", "role"):
            if getattr(q, attr) != getattr(p, attr):
                out.append(Change("stakeholder_changed", None, attr, getattr(q, attr), getattr(p, attr),
                                  title=p.name, side=p.side))
    gone = set(range(len(old))) - {i for i, _ in pairs}
    out += [Change("stakeholder_removed", None, None, old[i].to_dict(), None, title=old[i].name, side=old[i].side)
            for i in sorted(gone)]
    return out


def _signature_changes(old: Plan, new: Plan) -> list[Change]:
    if not old.signatures and not new.signatures:
        return []
    before: dict[tuple[str, str], list[Signature]] = {}
    for s in old.signatures:
        before.setdefault(_signer(s), []).append(s)
    out = []
    for s in new.signatures:
        prior = before.get(_signer(s))
        was = prior.pop(0) if prior else None
        fresh = was is None or (was.fingerprint, was.signed_at) != (s.fingerprint, s.signed_at)
        if fresh:
            out.append(Change("signature_added", None, "fingerprint", was.fingerprint if was else None,
                              s.fingerprint, title=s.name, side=s.side, how=s.by_line() if s.method else ""))
        # Each judged by the rule it was signed under (see Plan.signature_status).
        if new.signature_status(s) == "stale" and (fresh or (was is not None and old.signature_status(was) == "valid")):
            out.append(Change("signature_stale", None, "fingerprint", s.fingerprint, new.fingerprint(),
                              severity="high", title=s.name, side=s.side))
    for rest in before.values():
        out += [Change("signature_removed", None, None, s.to_dict(), None, title=s.name, side=s.side)
                for s in rest]
    return out


def _signer(s: Signature) -> tuple[str, str]:
    return (fold(s.email) or fold(s.name), fold(s.side))


def _sev_presence(step: Step, plan: Plan) -> str:
    return "high" if step.id and step.id == plan.close_step else "normal"




def _jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = owner_keys(a), owner_keys(b)
    return 1.0 if not sa and not sb else len(sa & sb) / len(sa | sb)


def restore_ids(old: Plan, new: Plan, given: set[str]) -> dict[str, str]:
    """Give steps whose ID cell was emptied (``given``: IDs made up on read) their old IDs back.

    A step is matched to its old self by content, as ``diff`` does; its old ID is taken back only
    if no other step uses it now. Returns made-up ID -> restored ID; ``new`` is changed in place.
    """
    pairs, _gone, _added = match_steps(old.steps, new.steps)
    taken = {s.id for s in new.steps}
    restored: dict[str, str] = {}
    for i, j in pairs:
        step, before = new.steps[j], old.steps[i]
        if step.id in given and before.id not in taken:
            restored[step.id] = before.id
            taken.add(before.id)
            step.id = before.id
    for step in new.steps:
        step.depends_on = [restored.get(d, d) for d in step.depends_on]
    if new.close_step in restored:
        new.close_step = restored[new.close_step]
    return restored
