"""Shipped templates, template validation errors, the Jinja sandbox and stage durations."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml

from mapsheets.core import templates as tpl
from mapsheets.core.schedule import topological
from mapsheets.errors import TemplateError, UsageError
from mapsheets.service import build_plan, get_template, list_templates, load_templates

SHIPPED = ("closing-plan", "enterprise-map", "midmarket-map")

VALID = {
    "kind": "mutual",
    "title": "MAP: {{ buyer }} x {{ seller }}",
    "roles": {"ae": "{{ seller }} AE", "champion": "{{ buyer }} Champion"},
    "stages": [{"key": "discover", "name": "Discovery", "days": 4}, {"key": "close", "name": "Close", "days": 2}],
    "steps": [
        {"key": "call", "stage": "discover", "title": "Call {{ buyer }}", "side": "joint", "owner": "{{ roles.ae }}",
         "days": 1},
        {"key": "agree", "stage": "discover", "title": "Agree plan", "side": "buyer", "owner": "{{ roles.champion }}",
         "days": 1, "depends_on": ["call"]},
        {"key": "sign", "stage": "close", "title": "Sign", "side": "seller", "owner": ["{{ roles.ae }}"], "days": 2,
         "depends_on": ["agree"], "closes": True},
    ],
}


def _data(**changes):
    data = copy.deepcopy(VALID)
    data.update(changes)
    return data


def _parse(data) -> tpl.Template:
    return tpl.parse_template(yaml.safe_dump(data, allow_unicode=True), "custom", "my/custom.yaml")


def _error(data) -> str:
    with pytest.raises(TemplateError) as err:
        _parse(data)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("my/custom.yaml: ")
    return message


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_templates_load_with_6_to_20_steps(name):
    template = get_template(name)
    assert 6 <= len(template.steps) <= 20
    assert template.source == f"sheet_templates/{name}.yaml"
    assert sum(s.closes for s in template.steps) == 1
    for step in template.steps:
        assert step.owners and step.days > 0


def test_list_templates_shows_kind_and_counts():
    infos = {i.name: i for i in list_templates()}
    assert set(SHIPPED) <= set(infos)
    assert infos["closing-plan"].kind == "closing"
    assert infos["enterprise-map"].steps == len(get_template("enterprise-map").steps)


def test_closing_plan_is_seller_only():
    template = get_template("closing-plan")
    assert template.kind == "closing"
    assert {s.side for s in template.steps} == {"seller"}


@pytest.mark.parametrize("name", ["enterprise-map", "midmarket-map"])
def test_mutual_templates_have_buyer_and_seller_steps(name):
    template = get_template(name)
    assert template.kind == "mutual"
    sides = {s.side for s in template.steps}
    assert {"buyer", "seller"} <= sides


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_templates_render_every_text(name):
    plan, _fit = build_plan(get_template(name), buyer="Acme", seller="Globex", start=date(2027, 1, 4))
    texts = [plan.title, plan.seller_lead, plan.problem] + [s.title for s in plan.steps]
    texts += [o for s in plan.steps for o in s.owners] + [p.name for p in plan.stakeholders]
    assert all(t and "{{" not in t and "}}" not in t for t in texts)
    assert any("Globex" in o for s in plan.steps for o in s.owners)


def test_valid_template_parses():
    template = _parse(VALID)
    assert [s.key for s in template.steps] == ["call", "agree", "sign"]
    assert template.steps[2].closes and template.steps[2].owners == ("{{ roles.ae }}",)
    assert template.source == "my/custom.yaml"


@pytest.mark.parametrize(("data", "expected"), [
    (_data(colour="blue"), "my/custom.yaml: colour: unknown key"),
    (_data(kind="partnership"), "my/custom.yaml: kind: 'partnership' is not one of closing, mutual"),
    ({k: v for k, v in VALID.items() if k != "steps"}, "my/custom.yaml: steps: is required"),
    (_data(stages=[]), "my/custom.yaml: stages: expected a non-empty list"),
])
def test_bad_top_level(data, expected):
    assert _error(data).startswith(expected)


def _bad_step(index: int, **changes):
    data = _data()
    data["steps"][index].update(changes)
    return data


def test_unknown_step_key():
    assert _error(_bad_step(1, colour="red")).startswith("my/custom.yaml: steps[1].colour: unknown key")


def test_bad_side():
    message = _error(_bad_step(2, side="vendor"))
    assert message == "my/custom.yaml: steps[2].side: 'vendor' is not one of buyer, seller, joint"


def test_unknown_dependency():
    message = _error(_bad_step(1, depends_on=["call", "ghost"]))
    assert message == "my/custom.yaml: steps[1].depends_on: unknown step 'ghost'"


def test_unknown_stage_and_bad_days():
    assert _error(_bad_step(0, stage="nope")).startswith("my/custom.yaml: steps[0].stage: unknown stage 'nope'")
    assert _error(_bad_step(0, days=-1)).startswith("my/custom.yaml: steps[0].days: expected a whole number")
    assert _error(_bad_step(0, days="3")).startswith("my/custom.yaml: steps[0].days:")


def test_duplicate_step_key():
    assert _error(_bad_step(2, key="call")) == "my/custom.yaml: steps[2].key: duplicate step 'call'"


def test_cycle_names_the_steps():
    message = _error(_bad_step(0, depends_on=["sign"]))
    assert message.startswith("my/custom.yaml: steps: dependency cycle: ")
    assert all(k in message for k in ("call", "agree", "sign"))


def test_closing_template_rejects_buyer_steps():
    message = _error(_data(kind="closing"))
    assert message.startswith("my/custom.yaml: steps[0].side: a closing plan has seller steps only")


def test_yaml_syntax_error_names_file_and_line():
    with pytest.raises(TemplateError) as err:
        tpl.parse_template("kind: mutual\nsteps: [\n  - {key: a\n", "custom", "my/custom.yaml")
    assert str(err.value).startswith("my/custom.yaml: line ")
    assert "\n" not in str(err.value)


def test_undefined_variable_in_title_names_the_step_at_build_time():
    template = _parse(_bad_step(2, title="Sign with {{ legal_contact }}"))
    with pytest.raises(TemplateError) as err:
        build_plan(template, buyer="Acme", seller="Globex", start=date(2027, 1, 4))
    assert str(err.value).startswith("my/custom.yaml: steps[2].title: ")
    assert "legal_contact" in str(err.value)


def test_undefined_role_is_an_error():
    template = _parse(_bad_step(0, owner="{{ roles.cfo }}"))
    with pytest.raises(TemplateError) as err:
        build_plan(template, buyer="Acme", seller="Globex", start=date(2027, 1, 4))
    assert str(err.value).startswith("my/custom.yaml: steps[0].owner: ")
    assert "cfo" in str(err.value)


@pytest.mark.parametrize("evil", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ buyer.__class__ }}",
    "{{ roles.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
])
def test_sandbox_blocks_attribute_escapes(evil):
    template = _parse(_bad_step(1, title=evil))
    with pytest.raises(TemplateError) as err:
        build_plan(template, buyer="Acme", seller="Globex", start=date(2027, 1, 4))
    message = str(err.value)
    assert message.startswith("my/custom.yaml: steps[1].title: access to attribute '__")
    assert message.endswith("is unsafe.")
    assert "<class" not in message


def test_roles_given_by_the_caller_win_and_unknown_ones_fail():
    template = _parse(VALID)
    plan, _fit = build_plan(template, buyer="Acme", seller="Globex", start=date(2027, 1, 4),
                            roles={"champion": "jane@acme.example"})
    assert plan.steps[1].owners == ["jane@acme.example"]
    assert plan.steps[0].owners == ["Globex AE"]
    # The caller's typo, so the error names the option, not the template file.
    with pytest.raises(UsageError, match=r"^role cfo: template .* has no such role \(known: .*champion") as bad:
        build_plan(template, buyer="Acme", seller="Globex", start=date(2027, 1, 4), roles={"cfo": "x"})
    assert bad.value.field == "roles"  # the CLI shows it as --role


def test_user_template_folder_overrides_and_errors_name_the_file(tmp_path: Path):
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(VALID), "utf-8")
    names = {i.name: i for i in list_templates([tmp_path])}
    assert names["mine"].source == str(tmp_path / "mine.yaml") and names["mine"].steps == 3
    assert "enterprise-map" in names
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(_bad_step(2, side="vendor")), "utf-8")
    with pytest.raises(TemplateError) as err:
        load_templates([tmp_path])
    assert str(err.value).startswith(f"{tmp_path / 'broken.yaml'}: steps[2].side: ")


# --- durations ------------------------------------------------------------------------------

def _longest_in_stage(tasks):
    by_key = {t.key: t for t in tasks}
    ends: dict[str, int] = {}
    for key in topological(by_key, {k: t.depends_on for k, t in by_key.items()}):
        t = by_key[key]
        ends[key] = t.days + max((ends[d] for d in t.depends_on if by_key[d].stage == t.stage), default=0)
    out: dict[str, int] = {}
    for key, end in ends.items():
        out[by_key[key].stage] = max(out.get(by_key[key].stage, 0), end)
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_each_stage_lasts_its_days(name):
    template = get_template(name)
    assert _longest_in_stage(tpl.tasks(template)) == {s.key: s.days for s in template.stages}


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("factor", [2, 3, 7])
def test_durations_table_scales_stages(name, factor):
    template = get_template(name)
    wanted = {s.key: s.days * factor + 1 for s in template.stages}
    assert _longest_in_stage(tpl.tasks(template, wanted)) == wanted


def test_durations_table_overrides_one_stage_and_keeps_proportions():
    template = _parse(VALID)
    default = {t.key: t.days for t in tpl.tasks(template)}
    assert default == {"call": 2, "agree": 2, "sign": 2}
    stretched = {t.key: t.days for t in tpl.tasks(template, {"discover": 10})}
    assert stretched == {"call": 5, "agree": 5, "sign": 2}


def test_zero_day_stage_gives_zero_day_steps():
    template = _parse(VALID)
    assert {t.key: t.days for t in tpl.tasks(template, {"close": 0})}["sign"] == 0


def test_longer_durations_move_the_close_later():
    template = get_template("enterprise-map")
    start = date(2027, 1, 4)
    _plan, quick = build_plan(template, buyer="A", seller="B", start=start)
    _plan, slow = build_plan(template, buyer="A", seller="B", start=start, durations={"legal": 30})
    assert slow.finish > quick.finish
