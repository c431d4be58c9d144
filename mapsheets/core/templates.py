"""Plan templates: validate YAML data, render its text with a sandboxed Jinja2.

A template is data (see sheet_templates/*.yaml). Loading files is the caller's job; this module
takes the text and the name to blame in errors.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from mapsheets.core.schedule import Task, topological
from mapsheets.core.text_gate import problem
from mapsheets.core.vocabulary import PERSON_SIDES, PLAN_KINDS, SIDES
from mapsheets.errors import ScheduleError, TemplateError, UsageError

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@functools.cache
def _env() -> Any:  # a jinja2 SandboxedEnvironment (jinja2 is imported lazily, unchecked)
    """The sandboxed Jinja2 environment, built on first use: commands that render nothing (show,
    digest) do not import Jinja2 or YAML at all."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    days: int
    # CRM stages whose time counts for this phase in `mapsheets stages` (labels or internal names,
    # of any CRM: matched ignoring case and punctuation).
    crm: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateStep:
    key: str
    stage: str
    title: str
    side: str
    owners: tuple[str, ...]
    days: int
    depends_on: tuple[str, ...] = ()
    notes: str = ""
    closes: bool = False  # the step that closes the deal: projected close follows it
    visibility: str = ""  # "internal" (never reaches the buyer's MAP) or "shared"; "": the kind's default

    def shown_to_buyer(self, kind: str) -> bool:
        """Closing-plan steps are the seller's own unless marked shared; MAP steps unless marked internal."""
        return (self.visibility or ("internal" if kind == "closing" else "shared")) == "shared"


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    description: str
    title: str
    stages: tuple[Stage, ...]
    steps: tuple[TemplateStep, ...]
    roles: dict[str, str] = field(default_factory=dict)
    overview: dict[str, str] = field(default_factory=dict)
    leads: dict[str, str] = field(default_factory=dict)
    team: tuple[dict[str, str], ...] = ()
    go_live_days: int | None = None  # business days from close to go-live
    source: str = ""

    def stage(self, key: str) -> Stage:
        return next(s for s in self.stages if s.key == key)

    def stage_key(self, name_or_key: str) -> str | None:
        """A stage by its key or its name as the sheet shows it, any case."""
        wanted = name_or_key.strip().lower()
        return next((s.key for s in self.stages if wanted in (s.key, s.name.lower())), None)


# --- validation --------------------------------------------------------------------------


class _Checker:
    """Walks template data and raises one TemplateError naming the file and key path."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, message: str) -> NoReturn:
        raise TemplateError(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}")

    def mapping(self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_kind(value)}")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "is required")
        unknown = sorted(set(value) - set(required) - set(optional))
        if unknown:
            self.fail(_join(path, str(unknown[0])), f"unknown key (allowed: {', '.join(required + optional)})")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected non-empty text, got {_kind(value)}")
        if said := problem(value.replace("\r", "\n")):  # the text gate: a template's text goes into cells
            self.fail(path, f"the text {said}")
        return value

    def days(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
            self.fail(path, f"expected a whole number of business days from 0 to 365, got {value!r}")
        return value

    def key(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not _KEY.match(value):
            self.fail(path, f"expected a key of lowercase letters, digits, '-' or '_', got {value!r}")
        return value

    def choice(self, value: Any, path: str, allowed: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in allowed:
            self.fail(path, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def text_map(self, value: Any, path: str) -> dict[str, str]:
        if value is None:
            return {}
        self.mapping(value, path, (), tuple(value) if isinstance(value, dict) else ())
        return {self.key(k, _join(path, str(k))): self.text(v, _join(path, str(k))) for k, v in value.items()}


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    kinds = {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}
    return kinds.get(type(value), type(value).__name__)


def parse_template(text: str, name: str, source: str = "") -> Template:
    """Validate template YAML; errors name ``source`` (the file) and the key path."""
    source = source or f"{name}.yaml"
    import yaml

    check = _Checker(source)
    try:
        # libyaml's safe loader where it is built in: same documents, a third of `new`'s parse time
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise TemplateError(f"{source}: {where}: {getattr(exc, 'problem', None) or exc}") from None
    check.mapping(data, "", ("kind", "title", "stages", "steps"),
                  ("name", "description", "roles", "overview", "leads", "team", "go_live_days"))
    kind = check.choice(data["kind"], "kind", PLAN_KINDS)
    stages = _stages(check, data["stages"])
    steps = _steps(check, data["steps"], {s.key for s in stages}, kind)
    overview = check.text_map(data.get("overview"), "overview")
    check.mapping(overview, "overview", (), ("problem", "solution", "buying_process"))
    leads = check.text_map(data.get("leads"), "leads")
    check.mapping(leads, "leads", (), ("seller", "buyer"))
    team = []
    for i, member in enumerate(data.get("team") or []):
        path = f"team[{i}]"
        check.mapping(member, path, ("name", "side", "role"), ("email",))
        check.choice(member["side"], path + ".side", PERSON_SIDES)
        team.append({k: check.text(v, f"{path}.{k}") for k, v in member.items()})
    return Template(
        name=data.get("name") or name, kind=kind, description=str(data.get("description") or ""),
        title=check.text(data["title"], "title"), stages=stages, steps=steps,
        roles=check.text_map(data.get("roles"), "roles"), overview=overview, leads=leads,
        team=tuple(team), source=source,
        go_live_days=check.days(data["go_live_days"], "go_live_days") if "go_live_days" in data else None,
    )


def _stages(check: _Checker, raw: Any) -> tuple[Stage, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("stages", "expected a non-empty list of stages")
    stages, seen = [], set()
    for i, item in enumerate(raw):
        path = f"stages[{i}]"
        check.mapping(item, path, ("key", "name", "days"), ("crm",))
        key = check.key(item["key"], path + ".key")
        if key in seen:
            check.fail(path + ".key", f"duplicate stage {key!r}")
        seen.add(key)
        stages.append(Stage(key, check.text(item["name"], path + ".name"), check.days(item["days"], path + ".days"),
                            _crm_stages(check, item.get("crm"), path + ".crm")))
    return tuple(stages)


def _crm_stages(check: _Checker, raw: Any, path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.fail(path, f"expected a list of CRM stage names, got {_kind(raw)}")
    return tuple(check.text(name, f"{path}[{i}]") for i, name in enumerate(raw))


def _steps(check: _Checker, raw: Any, stage_keys: set[str], kind: str) -> tuple[TemplateStep, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("steps", "expected a non-empty list of steps")
    steps: list[TemplateStep] = []
    keys: set[str] = set()
    for i, item in enumerate(raw):
        path = f"steps[{i}]"
        check.mapping(item, path, ("key", "stage", "title", "side", "owner", "days"),
                      ("depends_on", "notes", "closes", "visibility"))
        key = check.key(item["key"], path + ".key")
        if key in keys:
            check.fail(path + ".key", f"duplicate step {key!r}")
        keys.add(key)
        if item["stage"] not in stage_keys:
            check.fail(path + ".stage", f"unknown stage {item['stage']!r}")
        side = check.choice(item["side"], path + ".side", SIDES)
        if kind == "closing" and side != "seller":
            check.fail(path + ".side", "a closing plan has seller steps only")
        owners = item["owner"] if isinstance(item["owner"], list) else [item["owner"]]
        deps = item.get("depends_on") or []
        if not isinstance(deps, list):
            check.fail(path + ".depends_on", "expected a list of step keys")
        steps.append(TemplateStep(
            key=key, stage=item["stage"], title=check.text(item["title"], path + ".title"), side=side,
            owners=tuple(check.text(o, f"{path}.owner") for o in owners),
            days=check.days(item["days"], path + ".days"),
            depends_on=tuple(check.key(d, f"{path}.depends_on") for d in deps),
            notes=str(item.get("notes") or ""), closes=item.get("closes") is True,
            visibility=check.choice(item["visibility"], path + ".visibility", ("internal", "shared"))
            if "visibility" in item else "",
        ))
    if sum(s.closes for s in steps) > 1:
        check.fail("steps", "only one step may have 'closes: true'")
    for i, step in enumerate(steps):
        for dep in step.depends_on:
            if dep not in keys:
                check.fail(f"steps[{i}].depends_on", f"unknown step {dep!r}")
    try:
        topological([s.key for s in steps], {s.key: s.depends_on for s in steps})
    except ScheduleError as exc:
        check.fail("steps", str(exc))
    return tuple(steps)


# --- rendering ---------------------------------------------------------------------------


def render_text(text: str, context: dict[str, Any], source: str, path: str) -> str:
    if "{" not in text:  # no Jinja2 delimiter: the text as it would render, without compiling it
        return text.strip()
    import jinja2

    try:
        rendered: str = _env().from_string(text).render(**context)
        return rendered.strip()
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{source}: {path}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{source}: {path}: {exc}") from None


def render_context(template: Template, values: dict[str, Any], roles: dict[str, str] | None = None) -> dict[str, Any]:
    """The Jinja2 context: caller values, then the template's roles rendered, caller roles winning."""
    context = dict(values)
    rendered = {k: render_text(v, context, template.source, f"roles.{k}") for k, v in template.roles.items()}
    unknown = sorted(set(roles or {}) - set(rendered))
    if unknown:
        known = ", ".join(sorted(rendered)) or "none"
        raise UsageError(f"role {unknown[0]}: template {template.name} has no such role (known: {known})",
                         field="roles")
    rendered.update(roles or {})
    context["roles"] = rendered
    return context


def tasks(template: Template, stage_days: dict[str, int] | None = None) -> list[Task]:
    """Scheduling tasks: each stage's steps stretched or shrunk so the stage lasts its days.

    The template's stage days are the defaults; ``stage_days`` (the durations table) wins.
    Step ``days`` are weights within their stage, along its longest chain.
    """
    wanted = {s.key: s.days for s in template.stages}
    wanted.update(stage_days or {})
    ends, chain = _stage_chains(template)
    by_key = {s.key: s for s in template.steps}
    out = []
    for step in template.steps:
        length = chain[step.stage]
        scale = wanted[step.stage] / length if length else 0
        # Round where the step ends along its stage, not its length, so the longest chain of a
        # stage adds up to exactly the stage's days (rounding each step alone can lose days).
        begin = max((ends[d] for d in step.depends_on if by_key[d].stage == step.stage), default=0)
        days = round(ends[step.key] * scale) - round(begin * scale)
        out.append(Task(step.key, max(days, 1 if step.days and wanted[step.stage] else 0), step.depends_on, step.stage))
    return out


def _stage_chains(template: Template) -> tuple[dict[str, int], dict[str, int]]:
    """Per step, where it ends along its stage's dependencies; per stage, its longest run of days."""
    by_key = {s.key: s for s in template.steps}
    best: dict[str, int] = {}
    for key in topological(by_key, {k: s.depends_on for k, s in by_key.items()}):
        step = by_key[key]
        inside = [best[d] for d in step.depends_on if by_key[d].stage == step.stage]
        best[key] = step.days + max(inside, default=0)
    chains = {s.key: 0 for s in template.stages}
    for key, total in best.items():
        stage = by_key[key].stage
        chains[stage] = max(chains[stage], total)
    return best, chains
