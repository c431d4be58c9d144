"""mapsheets: build and keep Mutual Action Plans as shared spreadsheets.

The public API is the service layer plus the plan model; see ``__all__``. Names load on first use
so that ``mapsheets --help`` does not pay for Jinja2, openpyxl or pandas.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "MapsheetsError": "mapsheets.errors",
    "Plan": "mapsheets.core.model",
    "Step": "mapsheets.core.model",
    "Stakeholder": "mapsheets.core.model",
    "Signature": "mapsheets.core.model",
    "PlanView": "mapsheets.service",
    "add_step": "mapsheets.service",
    "build_plan": "mapsheets.service",
    "get_template": "mapsheets.service",
    "list_templates": "mapsheets.service",
    "new_plan": "mapsheets.service",
    "read_plan": "mapsheets.service",
    "sign": "mapsheets.service.signoff",
    "share": "mapsheets.service.sharing",
    "snapshot": "mapsheets.service.revisions",
    "diff_plans": "mapsheets.service.revisions",
    "watch": "mapsheets.service.digest",
    "unwatch": "mapsheets.service.digest",
}

__all__ = [
    "MapsheetsError", "Plan", "PlanView", "Signature", "Stakeholder", "Step", "add_step", "build_plan",
    "diff_plans", "get_template", "list_templates", "new_plan", "read_plan", "share", "sign", "snapshot",
    "unwatch", "watch",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mapsheets' has no attribute {name!r}")
