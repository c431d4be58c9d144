"""A plan's template roles as its sheet first named them ("Acme Corp Security Lead"): what a Team
row renamed by hand stood for, so owners still naming the placeholder can follow the person."""

from __future__ import annotations

from mapsheets.adapters import files
from mapsheets.core import templates as tpl
from mapsheets.core.model import Plan
from mapsheets.errors import MapsheetsError


def placeholders(plan: Plan) -> dict[str, str]:
    """Team role label -> the name the plan's template gave it ({} when the template is unknown here)."""
    if not plan.template:
        return {}
    try:
        source, text = files.template_sources([]).get(plan.template, (None, None))
        if text is None:
            return {}
        template = tpl.parse_template(text, plan.template, source)
        values = {"buyer": plan.buyer, "seller": plan.seller, "start_date": plan.start_date,
                  "close_date": plan.target_close}
        context = tpl.render_context(template, values)
        return {m["role"]: tpl.render_text(m["name"], context, template.source, "team")
                for m in template.team if m.get("role")}
    except MapsheetsError:  # a template edited since the plan was made: nothing to follow
        return {}
