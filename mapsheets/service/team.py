"""The Team tab: list, add and rename people, and fill a template's roles after `new`.

Every change is one read and one write, worked out under the plan's lock: the Team row, the Owners
and plan-owner cells that name the person, and the cells every write keeps true (filled-in IDs,
each signature's Status).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mapsheets.core.edits import Edit
from mapsheets.core.layout import TEAM_TAB
from mapsheets.core.model import ROLES, Plan, Stakeholder
from mapsheets.core.parse import ParsedPlan
from mapsheets.core.people import find_person, owner_key, owner_label, split_person
from mapsheets.core.text_gate import admit
from mapsheets.core.upkeep import changed_only, parsed_upkeep
from mapsheets.core.vocabulary import PERSON_SIDES
from mapsheets.errors import MapsheetsError, NotFound, PlanFileError, UsageError
from mapsheets.service.calendars import looks
from mapsheets.service.signoff import check_email
from mapsheets.service.workbooks import open_workbook, parse_grid, read_parsed

_LEADS = ("seller_lead", "buyer_lead")


@dataclass
class TeamChange:
    """A person added to or renamed on the Team tab, and how many steps' Owners now name them."""

    person: Stakeholder
    steps: int = 0  # steps whose Owners now name the person
    role_filled: str = ""  # the template role key filled, if any
    was: str = ""  # the name before a rename, or the placeholder a role fill replaced


def team(ref: str) -> list[Stakeholder]:
    """The people on the plan's Team tab, in sheet order."""
    _grid, parsed = read_parsed(open_workbook(ref))
    return parsed.plan.stakeholders


def add_person(ref: str, person: str, *, side: str = "", role: str = "",
               template_dirs: Sequence[Path] = (), today: date | None = None,
               on_warning: Callable[[str], None] | None = None) -> TeamChange:
    """Add ``person`` ("Name <email>", an email, or a name) to the team.

    ``role`` is a role key of the plan's template (``templates --json`` lists them) or a Team role
    such as Champion. A template role still holding its placeholder ("Acme Corp Champion") is filled:
    that Team row, and every Owners cell and plan owner naming the placeholder, become the person.
    ``today`` judges what the write redraws (overdue bands, the Timeline); default the real date.
    Text a cell cannot hold goes as the text gate says (core/text_gate.py), warnings to ``on_warning``.
    """
    name, email = split_person(admit(person, "person", on_warning))
    if not name:
        raise UsageError("person needs a name, an email, or \"Name <email>\"", field="person")
    if email:
        email = check_email(email, "person")
    if side and side not in PERSON_SIDES:
        raise UsageError(f"side {side!r} is not buyer or seller", field="side")
    book = open_workbook(ref)

    def compute(grid):  # on the plan as read under its lock (again if another program saved meanwhile)
        parsed = parse_grid(book, grid)
        plan = parsed.plan
        if email and find_person(plan.stakeholders, email):
            raise UsageError(f"{email} is already on the team of {book.ref}")
        placeholder, label = _role(plan, role, template_dirs)
        at = next((i for i, p in enumerate(plan.stakeholders)
                   if placeholder and owner_key(p.name) == owner_key(placeholder)), None)
        if at is None:
            if not side:
                raise UsageError("side buyer or seller is needed for someone new on the team", field="side")
            new = Stakeholder(name=name, email=email, side=side, role=label)
            plan.stakeholders.append(new)
            return _edit(book, parsed, grid, new, None, ([], []), today), TeamChange(new)
        slot = plan.stakeholders[at]
        new = Stakeholder(name=name, email=email, side=side or slot.side, role=slot.role or label)
        admit(owner_label(new), "person")  # as the Owners and plan-owner cells will name them: never cut
        plan.stakeholders[at] = new
        renamed = _rename_owners(plan, placeholder, owner_label(new))
        edit = _edit(book, parsed, grid, new, parsed.team.rows[at] if parsed.team else None, renamed, today)
        return edit, TeamChange(new, steps=len(renamed[0]), role_filled=role, was=slot.name)

    return book.modify(compute)


def rename_person(ref: str, who: str, *, to: str, today: date | None = None,
                  on_warning: Callable[[str], None] | None = None) -> TeamChange:
    """Rename a Team member (found by email or name) everywhere the plan names them (``today`` and
    ``on_warning`` as in ``add_person``)."""
    name, email = split_person(admit(to, "to", on_warning))
    if not name:
        raise UsageError("to must not be empty", field="to")
    book = open_workbook(ref)

    def compute(grid):  # on the plan as read under its lock (again if another program saved meanwhile)
        parsed = parse_grid(book, grid)
        plan = parsed.plan
        person, placeholder = find_person(plan.stakeholders, who), ""
        if person is None:  # a template placeholder whose Team row someone renamed by hand
            from mapsheets.core.people import placeholder_renames
            from mapsheets.service.roles import placeholders

            now = placeholder_renames(plan, placeholders(plan)).get(owner_key(who))
            person, placeholder = (find_person(plan.stakeholders, now), who) if now else (None, "")
        if person is None:
            names = ", ".join(p.email or p.name for p in plan.stakeholders) or "nobody yet"
            raise NotFound(f"{book.ref}: no one on the {TEAM_TAB} tab is {who!r} (team: {names})")
        new = Stakeholder(name=name, email=check_email(email, "to") if email else person.email,
                          side=person.side, role=person.role)
        admit(owner_label(new), "to")  # as the Owners and plan-owner cells will name them: never cut
        at = plan.stakeholders.index(person)
        plan.stakeholders[at] = new
        renamed = _rename_owners(plan, person.email or person.name, owner_label(new), also=person.name,
                                 placeholder=placeholder)
        edit = _edit(book, parsed, grid, new, parsed.team.rows[at] if parsed.team else None, renamed, today)
        return edit, TeamChange(new, steps=len(renamed[0]), was=person.name)

    return book.modify(compute)


def _role(plan: Plan, role: str, template_dirs: Sequence[Path]) -> tuple[str, str]:
    """(placeholder the plan's template gave this role, Team role label) for ``role``."""
    if not role:
        return "", ""
    from mapsheets.core import templates as tpl
    from mapsheets.service.plans import get_template

    template = None
    if plan.template:
        try:
            template = get_template(plan.template, template_dirs)
        except MapsheetsError:  # a template this machine does not have: Team role labels still work
            template = None
    label = next((r for r in ROLES if r.casefold() == role.replace("_", " ").casefold()), "")
    if template is not None:
        values = {"buyer": plan.buyer, "seller": plan.seller, "start_date": plan.start_date,
                  "close_date": plan.target_close}
        context = tpl.render_context(template, values)
        wanted = role.strip().replace(" ", "_").casefold()
        key = next((k for k in template.roles if k.casefold() == wanted), None)
        if key is None and label:  # a Team role ("Champion", "Legal") whose member a template role names
            key = next((k for k in template.roles for m in template.team
                        if m.get("role", "").casefold() == label.casefold()
                        and tpl.render_text(m["name"], context, template.source, "team") == context["roles"][k]), None)
        if key is not None:
            placeholder = context["roles"][key]
            for member in template.team:
                if tpl.render_text(member["name"], context, template.source, "team") == placeholder:
                    label = member.get("role", label)
            return placeholder, label or key
    if label:
        return "", label
    keys = ", ".join(template.roles) if template is not None else "none (template unknown)"
    raise UsageError(f"role {role!r} is neither a role of template {plan.template or '(none)'} ({keys}) "
                     f"nor a team role ({', '.join(ROLES)})", field="role")


def _rename_owners(plan: Plan, who: str, label: str, also: str = "",
                   placeholder: str = "") -> tuple[list[str], list[str]]:
    """Owners entries and plan owners naming ``who`` (or, by name, ``also`` or ``placeholder``)
    become ``label``.

    Returns the IDs of the steps and the plan-owner fields changed: only their cells are written.
    """
    keys = {owner_key(w) for w in (who, also, placeholder) if w}
    steps = []
    for step in plan.steps:
        owners = [label if owner_key(o) in keys else o for o in step.owners]
        if owners != step.owners:
            step.owners = owners
            steps.append(step.id)
    leads = [attr for attr in _LEADS if getattr(plan, attr) and owner_key(getattr(plan, attr)) in keys]
    for attr in leads:
        setattr(plan, attr, label)
    return steps, leads


def _edit(book, parsed: ParsedPlan, grid, person: Stakeholder, row: int | None,
          renamed: tuple[list[str], list[str]], today: date | None = None) -> Edit:
    """One write: the Team row (``None``: a new one, appended after the table), the Plan cells
    naming the person, and the upkeep every write does."""
    table, plan, loc = parsed.team, parsed.plan, parsed.location
    if table is None:
        raise PlanFileError(f"{book.ref}: no '{TEAM_TAB}' tab with 'Name' and 'Email' columns")
    values = {col: getattr(person, field) or None for field, col in table.columns.items()
              if field in ("name", "email", "side", "role")}
    cells = parsed_upkeep(parsed, looks(parsed, today))
    plan_cells = cells.setdefault(loc.tab, {})
    steps, leads = renamed
    if "Owners" in loc.columns:
        for step_id in steps:
            step = plan.step(step_id)
            if step is not None:  # (always: the IDs are the plan's own)
                plan_cells[(loc.step_rows[step_id], loc.columns["Owners"])] = ", ".join(step.owners)
    for attr in leads:
        if attr in loc.overview_at:
            plan_cells[loc.overview_at[attr]] = getattr(plan, attr)
    cells = changed_only(cells, grid)
    team_cells = cells.pop(table.tab, {})
    if row is None:
        return Edit(table.tab, cells=team_cells, rows=[values], next_row=table.next_row,
                    header_row=table.header_row, also=cells)
    team_cells.update({(row, col): value for col, value in values.items()})
    return Edit(table.tab, cells=team_cells, also=cells)
