"""MEDDPICC: the qualification block of a closing plan, its labels and what it says is missing."""

from __future__ import annotations

from collections.abc import Mapping

# Key in Plan.qualification -> label in the sheet, in sheet order.
MEDDPICC: tuple[tuple[str, str], ...] = (
    ("metrics", "Metrics"),
    ("economic_buyer", "Economic buyer"),
    ("decision_criteria", "Decision criteria"),
    ("decision_process", "Decision process"),
    ("paper_process", "Paper process"),
    ("identified_pain", "Identified pain"),
    ("champion", "Champion"),
    ("competition", "Competition"),
)
QUALIFICATION_KEYS = tuple(k for k, _label in MEDDPICC)
QUALIFICATION_HEADING = "Qualification (MEDDPICC)"
LABELS = dict(MEDDPICC)

# Labels people type instead (normalised: lower case, single spaces, no ':' or '*').
SYNONYMS: dict[str, str] = {
    **{label.lower(): key for key, label in MEDDPICC},
    **{key.replace("_", " "): key for key in QUALIFICATION_KEYS},
    "success metrics": "metrics", "kpis": "metrics", "metric": "metrics",
    "economic buyer (eb)": "economic_buyer", "eb": "economic_buyer", "budget holder": "economic_buyer",
    "decision criteria (dc)": "decision_criteria", "criteria": "decision_criteria", "dc": "decision_criteria",
    "decision process (dp)": "decision_process", "dp": "decision_process",
    "paper process (pp)": "paper_process", "pp": "paper_process", "procurement process": "paper_process",
    "pain": "identified_pain", "implicated pain": "identified_pain", "implicate pain": "identified_pain",
    "identify pain": "identified_pain",
    "champion (c)": "champion", "coach": "champion",
    "competitors": "competition", "competitor": "competition", "competitive landscape": "competition",
}


def missing(qualification: Mapping[str, str]) -> list[str]:
    """Keys not filled in (blank or no row at all), in MEDDPICC order."""
    return [k for k in QUALIFICATION_KEYS if not str(qualification.get(k) or "").strip()]


def summary(qualification: Mapping[str, str]) -> str:
    """``qualified 6/8: missing paper process, competition``."""
    gaps = missing(qualification)
    done = len(QUALIFICATION_KEYS) - len(gaps)
    text = f"qualified {done}/{len(QUALIFICATION_KEYS)}"
    return text + (": missing " + ", ".join(LABELS[k].lower() for k in gaps) if gaps else "")
