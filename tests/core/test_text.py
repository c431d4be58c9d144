"""One way to say a count of business days, everywhere a person reads one."""

from datetime import date

from mapsheets.core import handoff
from mapsheets.core.model import Plan, Step
from mapsheets.core.text import business_days, fold, iso, to_json


def test_business_days_agree_in_number():
    assert business_days(1) == "1 business day"
    assert business_days(3) == "3 business days"
    assert business_days(2.5) == "2.5 business days"
    assert business_days(4.0) == "4 business days"


def test_a_hand_off_says_one_business_day_overdue_in_the_singular():
    plan = Plan(kind="mutual", title="Acme", buyer="Acme", seller="Globex",
                steps=[Step(id="S-0001", title="Security review", due=date(2027, 3, 1))])  # a Monday
    text = handoff.markdown(handoff.build(plan, date(2027, 3, 2)))
    assert "overdue 1 business day" in text and "overdue 1 business days" not in text


def test_fold_iso_and_json_values():
    assert fold("  Security\tReview ") == "security review" and fold(None) == ""
    assert iso(date(2027, 3, 1)) == "2027-03-01" and iso(None) is None
    assert to_json({"due": date(2027, 3, 1), "ids": ("S-1",), 2: object}) == {
        "due": "2027-03-01", "ids": ["S-1"], "2": str(object)}
