"""mapsheets: build and keep Mutual Action Plans as shared spreadsheets.

The public API is the service layer plus the plan model, listed in ``__all__``; README's "Use it
from Python" shows it at work. Every function takes a plan reference (a local .xlsx path, a Google
Sheets URL or ID) and, where time matters, ``today`` / ``now`` as arguments; bad input raises
``MapsheetsError`` naming the file, cell or field.

Names load on first use so that ``mapsheets --help`` does not pay for Jinja2, openpyxl or pandas
(importing them all costs 60-90 ms). Type checkers read the ``TYPE_CHECKING`` block below, so
``mapsheets.new_plan`` has its real signature, and ``dir(mapsheets)`` lists every name.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the same names as _EXPORTS; tests/test_public_api.py keeps the two equal
    from mapsheets.core.model import Plan, Signature, Stakeholder, Step
    from mapsheets.errors import MapsheetsError
    from mapsheets.service.convert import ConvertResult
    from mapsheets.service.convert import convert as convert_plan
    from mapsheets.service.delivery import RunReport, make_mailer
    from mapsheets.service.digest import run as run_digest
    from mapsheets.service.digest import unwatch, watch
    from mapsheets.service.handoff import HandoffResult
    from mapsheets.service.handoff import handoff as write_handoff
    from mapsheets.service.lifecycle_close import CloseResult, close_plan, reopen_plan
    from mapsheets.service.plans import (
        NewPlanResult,
        PlanView,
        build_plan,
        get_template,
        list_templates,
        new_plan,
        read_plan,
    )
    from mapsheets.service.plans import timeline_picture as draw_timeline
    from mapsheets.service.revisions import DiffResult, SnapshotResult, diff_plans, snapshot
    from mapsheets.service.sharing import share
    from mapsheets.service.signoff import sign
    from mapsheets.service.stages import StagesResult, learn_stages
    from mapsheets.service.steps import add_step
    from mapsheets.service.team import TeamChange, add_person, rename_person
    from mapsheets.service.team import team as team_members
    from mapsheets.service.winloss import WinLossReport
    from mapsheets.service.winloss import winloss as winloss_report

# Public name -> "module" (same name there) or "module:name" (a clearer name here than in its module).
_EXPORTS = {
    "MapsheetsError": "mapsheets.errors",
    # The plan model
    "Plan": "mapsheets.core.model",
    "Step": "mapsheets.core.model",
    "Stakeholder": "mapsheets.core.model",
    "Signature": "mapsheets.core.model",
    # Templates, new plans, reading, writing
    "PlanView": "mapsheets.service.plans",
    "NewPlanResult": "mapsheets.service.plans",
    "build_plan": "mapsheets.service.plans",
    "get_template": "mapsheets.service.plans",
    "list_templates": "mapsheets.service.plans",
    "new_plan": "mapsheets.service.plans",
    "read_plan": "mapsheets.service.plans",
    "draw_timeline": "mapsheets.service.plans:timeline_picture",
    "add_step": "mapsheets.service.steps",
    "team_members": "mapsheets.service.team:team",
    "add_person": "mapsheets.service.team",
    "rename_person": "mapsheets.service.team",
    "TeamChange": "mapsheets.service.team",
    "sign": "mapsheets.service.signoff",
    "share": "mapsheets.service.sharing",
    # Revisions and diffs
    "snapshot": "mapsheets.service.revisions",
    "SnapshotResult": "mapsheets.service.revisions",
    "diff_plans": "mapsheets.service.revisions",
    "DiffResult": "mapsheets.service.revisions",
    # Digests
    "watch": "mapsheets.service.digest",
    "unwatch": "mapsheets.service.digest",
    "run_digest": "mapsheets.service.digest:run",
    "RunReport": "mapsheets.service.delivery",
    "make_mailer": "mapsheets.service.delivery",
    # The deal's life: stage durations, convert, close, hand-off, win/loss
    "learn_stages": "mapsheets.service.stages",
    "StagesResult": "mapsheets.service.stages",
    "convert_plan": "mapsheets.service.convert:convert",
    "ConvertResult": "mapsheets.service.convert",
    "close_plan": "mapsheets.service.lifecycle_close",
    "reopen_plan": "mapsheets.service.lifecycle_close",
    "CloseResult": "mapsheets.service.lifecycle_close",
    "write_handoff": "mapsheets.service.handoff:handoff",
    "HandoffResult": "mapsheets.service.handoff",
    "winloss_report": "mapsheets.service.winloss:winloss",
    "WinLossReport": "mapsheets.service.winloss",
}

__all__ = [
    "CloseResult", "ConvertResult", "DiffResult", "HandoffResult", "MapsheetsError", "NewPlanResult", "Plan",
    "PlanView", "RunReport", "Signature", "SnapshotResult", "Stakeholder", "StagesResult", "Step", "TeamChange",
    "WinLossReport", "add_person", "add_step", "build_plan", "close_plan", "convert_plan", "diff_plans",
    "draw_timeline", "get_template", "learn_stages", "list_templates", "make_mailer", "new_plan", "read_plan",
    "rename_person", "reopen_plan", "run_digest", "share", "sign", "snapshot", "team_members", "unwatch", "watch",
    "winloss_report", "write_handoff",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here (later lookups are plain)."""
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'mapsheets' has no attribute {name!r}")
    module, _sep, attr = target.partition(":")
    value = getattr(import_module(module), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
