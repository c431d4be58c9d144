"""The service layer: the only API the CLI and the add-on backend call."""

from mapsheets.service.plans import (
    NewPlanResult,
    PlanView,
    TemplateInfo,
    build_plan,
    fix_ids,
    get_template,
    list_templates,
    load_templates,
    new_plan,
    read_plan,
    timeline_picture,
)
from mapsheets.service.steps import add_step

__all__ = [
    "NewPlanResult", "PlanView", "TemplateInfo", "add_step", "build_plan", "fix_ids", "get_template",
    "list_templates", "load_templates", "new_plan", "read_plan", "timeline_picture",
]
