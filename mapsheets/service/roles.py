"""A plan's template roles as its sheet first named them ("Acme Corp Security Lead"): what a Team
row renamed by hand stood for, so owners still naming the placeholder can follow the person."""

from __future__ import annotations

from functools import lru_cache

from mapsheets.adapters import files
from mapsheets.core import templates as tpl
from mapsheets.core.model import Plan
from mapsheets.errors import MapsheetsError


def placeholders(plan: Plan) -> dict[str, str]:
    """Team role label -> the name the plan's template gave it ({} when the template is unknown here)."""
    if not plan.template:
        return {}
    return dict(_placeholders(plan.template, plan.buyer, plan.seller, plan.start_date, plan.target_close))


@lru_cache(maxsize=256)  # every write asks; a digest run writes many plans of a few templates
def _placeholders(name: str, buyer: str, seller: str, start, close) -> tuple[tuple[str, str], ...]:
    try:
        found = files.template_sources([]).get(name)
        if found is None:
            return ()
        source, text = found
        template = tpl.parse_template(text, name, source)
        context = tpl.render_context(template, {"buyer": buyer, "seller": seller, "start_date": start,
                                                "close_date": close})
        return tuple((m["role"], tpl.render_text(m["name"], context, template.source, "team"))
                     for m in template.team if m.get("role"))
    except MapsheetsError:  # a template edited since the plan was made: nothing to follow
        return ()
