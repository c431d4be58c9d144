"""Formula cells read without their computed result: unknown values, never changes. Pure.

A program that does not calculate (openpyxl, many scripts) saves a formula without its last result,
so the plan reads the formula's text where a value was. That is neither a change nor a commitment
change: where the value is known on the other side (the last stored revision), it stands in; where
neither side has a value, the formula texts are compared.
"""

from __future__ import annotations

from copy import copy

from mapsheets.core.layout import STEP_COLUMNS
from mapsheets.core.model import Plan, Step

# Sheet label -> Step attribute; an ID that is a formula cannot match its step, so it is not kept.
_ATTR = {label: attr for attr, label, _w in STEP_COLUMNS if attr != "id"}


def keep_formula_values(old: Plan, new: Plan) -> list[str]:
    """Cells of ``new`` holding a formula without a result take the value ``old`` had there (steps
    matched by ID), unless ``old`` had no value there either. ``new`` is changed in place.

    Returns the formulas kept this way (their "is not computed" warnings no longer apply).
    """
    before = {s.id: s for s in old.steps}
    kept: list[str] = []
    for step in new.steps:
        prev = before.get(step.id)
        if prev is not None:
            kept += _keep_step(prev, step)
    for attr, text in list(new.formulas.items()):
        if attr not in old.formulas:
            setattr(new, attr, copy(getattr(old, attr)))
            del new.formulas[attr]
            kept.append(text)
    return kept


def _keep_step(prev: Step, step: Step) -> list[str]:
    kept = []
    for label, text in list(step.formulas.items()):
        if label in prev.formulas or label in prev.unparsed:
            continue  # no value on either side (revisions stored before `formulas`: in unparsed)
        attr = _ATTR.get(label)
        if attr is not None:
            setattr(step, attr, copy(getattr(prev, attr)))
        elif label in step.extra:
            step.extra[label] = prev.extra.get(label)
        else:
            continue
        step.unparsed.pop(label, None)
        del step.formulas[label]
        kept.append(text)
    return kept


def unknown_labels(a: Step, b: Step) -> set[str]:
    """Step cells whose value is known on one side only (a formula without a result on the
    other): no change can be told there."""
    return set(a.formulas) ^ set(b.formulas)


def has_uncached(plan: Plan) -> bool:
    """Whether any cell of the plan is a formula read without its result."""
    return bool(plan.formulas) or any(step.formulas for step in plan.steps)
