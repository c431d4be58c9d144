"""Which columns of a CRM stage-history export hold the deal, the stage and the time of the change.

Headers match loosely (case, spaces and punctuation ignored), so "Opportunity ID", "OpportunityId"
and "opportunity_id" are one name. Pure: no pandas here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mapsheets.errors import UsageError


def norm(text: str) -> str:
    """A header or stage name folded for matching: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Preset:
    ids: tuple[str, ...]
    stages: tuple[str, ...]
    ats: tuple[str, ...]
    # Field-history exports: one row per change of any field; keep the rows whose field is a stage.
    fields: tuple[str, ...] = ()
    stage_fields: tuple[str, ...] = ()
    olds: tuple[str, ...] = ()
    # The close date as planned when the row was written (OpportunityHistory's CloseDate): the
    # forecast's backtest measures against it.
    targets: tuple[str, ...] = ("closedate", "targetclose", "expectedclosedate")


# Salesforce: OpportunityHistory (OpportunityId, StageName, CreatedDate) and OpportunityFieldHistory
# (OpportunityId, Field, OldValue, NewValue, CreatedDate), by API name or report label.
# HubSpot: a deal export with stage history ("Record ID"/"Deal ID", "Deal Stage", "Date"/"Timestamp"),
# or a property-history export ("Property name", "Property value", "Timestamp").
PRESETS = {
    "generic": Preset(ids=("opportunityid", "dealid", "recordid", "opportunity", "deal", "id"),
                      stages=("stage", "stagename", "dealstage"),
                      ats=("changedat", "changed", "createddate", "timestamp", "date", "at")),
    # Report exports name their columns by label: "Opportunity ID", "Stage", "Edit Date", and for field
    # history "Field / Event", "Old Value", "New Value"; "Opportunity Name" when the ID is not exported.
    "salesforce": Preset(ids=("opportunityid", "opportunity", "opportunityname"),
                         stages=("newvalue", "stagename", "stage", "tostage"),
                         ats=("createddate", "editdate", "lastmodifieddate", "lastmodified", "date"),
                         fields=("field", "fieldevent", "changedfield"),
                         stage_fields=("stagename", "stage", "opportunitystage"), olds=("oldvalue",)),
    "hubspot": Preset(ids=("dealid", "recordid", "hsobjectid", "objectid"),
                      stages=("dealstage", "propertyvalue", "value", "stage"),
                      ats=("timestamp", "date", "updatedate", "changedat", "updatedat"),
                      fields=("propertyname", "property", "propertyinternalname"),
                      stage_fields=("dealstage", "hsdealstage")),
}
FORMATS = tuple(PRESETS)


@dataclass(frozen=True)
class Columns:
    """Header names (as the file spells them) of the columns to read; optional ones may be None."""

    id: str
    stage: str
    at: str
    segment: str | None = None
    field: str | None = None  # field-history exports: which field changed
    stage_fields: tuple[str, ...] = ()  # normalised field names that mean the stage
    old: str | None = None  # field-history exports: the stage before the change
    target: str | None = None  # the close date as planned at the time of the row, where exported


def resolve_columns(header: list[str], source: str, fmt: str = "generic", *, id_column: str | None = None,
                    stage_column: str | None = None, at_column: str | None = None,
                    segment: str | None = None) -> Columns:
    """The columns to read from a file with ``header``; a UsageError naming the file when one is missing."""
    if fmt not in PRESETS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    preset = PRESETS[fmt]
    by_norm: dict[str, str] = {}
    for name in header:
        by_norm.setdefault(norm(name), name)
    field = _first(by_norm, preset.fields) if stage_column is None else None
    stages = preset.stages if field else tuple(s for s in preset.stages if s not in ("newvalue",))

    def pick(given: str | None, candidates: tuple[str, ...], what: str, option: str) -> str:
        if given is not None:
            if norm(given) not in by_norm:
                raise UsageError(f"{source}: no column {given!r} ({option}; columns: {', '.join(header)})")
            return by_norm[norm(given)]
        found = _first(by_norm, candidates)
        if found is None:
            raise UsageError(f"{source}: no {what} column (looked for {', '.join(candidates)} as --format {fmt}; "
                             f"name it with {option}; columns: {', '.join(header)})")
        return found

    return Columns(
        id=pick(id_column, preset.ids, "opportunity id", "--id-column"),
        stage=pick(stage_column, stages, "stage", "--stage-column"),
        at=pick(at_column, preset.ats, "changed-at", "--at-column"),
        segment=pick(segment, (), "segment", "--segment") if segment is not None else None,
        field=field, stage_fields=preset.stage_fields if field else (),
        old=_first(by_norm, preset.olds) if field else None, target=_first(by_norm, preset.targets))


def _first(by_norm: dict[str, str], candidates: tuple[str, ...]) -> str | None:
    return next((by_norm[c] for c in candidates if c in by_norm), None)
