"""How a closing plan's shared steps join a MAP's template steps (``convert``). Pure.

A carried step and a template step of the same purpose ("Demo and technical validation" and
"Technical validation / proof of value") are one step: the carried one, as the seller typed it,
takes the template step's place (its phase, its position, what depends on it). A carried step with
no twin goes into the phase whose steps it is most like, else the phase its date falls in, after
that phase's steps. Phases keep the template's order, so each has one band.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from mapsheets.core.model import Step

# Two titles of one purpose share at least half their words (Dice: shared words over the mean length).
SAME_PURPOSE = 0.5
_STOP = frozenset("a an and or of the to for with on in at by from our their its vs via".split())
_WORD = re.compile(r"[^\W_]+")


def _words(title: str) -> set[str]:
    out = set()
    for word in _WORD.findall(title.lower()):
        if word in _STOP or len(word) < 2:
            continue
        for suffix in ("ing", "s"):  # "meeting" and "meet", "reviews" and "review"
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        out.add(word)
    return out


def purpose_overlap(a: str, b: str) -> float:
    """How many words two titles share, over their mean length (0 to 1); "the", "and" not counted."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return 2 * len(wa & wb) / (len(wa) + len(wb))


@dataclass
class Joined:
    steps: list[Step]  # in phase order, each phase's steps together
    merged: dict[str, str] = field(default_factory=dict)  # carried ID -> the template step title it replaced
    replaced: dict[str, str] = field(default_factory=dict)  # template step ID -> carried ID


def spans(phases: list[str]) -> dict[str, tuple[float, float]]:
    """Where each phase lies along its plan, 0 (first call) to 1 (close): how stages of two plans
    with different stage names line up."""
    n = len(phases) or 1
    return {p: (i / n, (i + 1) / n) for i, p in enumerate(phases)}


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] + 0.05 and b[0] < a[1] + 0.05


def join(template_steps: list[Step], carried: list[Step], stage: dict[str, tuple[float, float]]) -> Joined:
    """The MAP's steps: template steps in their order, carried ones merged or placed (see above).
    ``stage``: each carried step's span along the closing plan (see ``spans``); a step is merged or
    placed only in a phase at the same point of the deal ("Meet the economic buyer" while qualifying
    is not "Economic buyer meeting: approve business case")."""
    phases = list(dict.fromkeys(s.phase for s in template_steps))
    where = spans(phases)
    out = Joined(steps=[])
    twin: dict[str, Step] = {}  # template ID -> the carried step taking its place
    extra: dict[str, list[Step]] = {p: [] for p in phases}
    for step in carried:
        span = stage.get(step.id, (0.0, 1.0))
        free = [t for t in template_steps if t.id not in twin and _overlaps(where[t.phase], span)]
        best = max(free, key=lambda t: purpose_overlap(step.title, t.title), default=None)
        score = purpose_overlap(step.title, best.title) if best else 0.0
        if best is not None and score >= SAME_PURPOSE:
            twin[best.id] = step
            step.phase = best.phase
            out.merged[step.id], out.replaced[best.id] = best.title, step.id
        else:
            fits = [t for t in template_steps if _overlaps(where[t.phase], span)] or template_steps
            step.phase = best.phase if best is not None and score > 0 else _phase_by_date(step, fits)
            extra.setdefault(step.phase, []).append(step)
    for phase in list(extra):
        out.steps += [twin.get(t.id, t) for t in template_steps if t.phase == phase] + extra[phase]
    for step in out.steps:  # what depended on a replaced template step now waits for its twin
        step.depends_on = list(dict.fromkeys(out.replaced.get(d, d) for d in step.depends_on if d != step.id))
    for template_id in out.replaced:
        mine = twin[template_id]
        before = next(t for t in template_steps if t.id == template_id).depends_on
        mine.depends_on = list(dict.fromkeys([out.replaced.get(d, d) for d in before] + mine.depends_on))
    return out


def _phase_by_date(step: Step, template_steps: list[Step]) -> str:
    """The first phase whose last step is due on or after the carried step's date (else the last)."""
    when: date | None = step.done_on or step.due
    last_due: dict[str, date] = {}
    for t in template_steps:
        if t.due is not None:
            last_due[t.phase] = max(last_due.get(t.phase, t.due), t.due)
    phases = list(dict.fromkeys(t.phase for t in template_steps))
    if when is not None:
        for phase in phases:
            if phase in last_due and when <= last_due[phase]:
                return phase
    return phases[-1] if phases else step.phase
