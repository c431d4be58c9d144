"""Stage durations learned from a CRM's stage history: how many business days deals spend in each stage.

Pure computation over rows already read (the service reads the file); pandas does the work so
100,000 stage changes take well under a second.

Rules, in the words of the README:
- a deal's rows are taken in time order; repeated rows of the same stage (OpportunityHistory writes
  one per amount or close-date change too) are one visit;
- time in a stage runs from entering it to entering the next stage, in business days counted over
  (entered, left] on UTC dates: Friday→Monday is 1, the same day 0; a stage visited twice adds up;
- the stage a deal is in now (an open deal) has no end: that deal is left out of the stage's
  durations and counted as open in it; the stage before a field-history export's first change has
  no known start and is left out the same way (it still counts as entered);
- "Closed Won" / "Closed Lost" (any case, spaces or none: HubSpot's closedwon, closedlost) end a deal
  and are not stages; a deal that reached Closed Won is won;
- a deal skipped a stage when it never entered it but went past it (entered a later stage, or won);
  ``skipped_share`` is skipped / (entered + skipped).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

import numpy as np
import pandas as pd

from mapsheets.analysis.crm_formats import Columns, norm

MAX_DAYS = 365  # what a durations table may say (adapters.files.read_durations)
NO_SEGMENT = "(blank)"


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class Changes:
    """Usable stage changes of one export, and what could not be used."""

    frame: pd.DataFrame  # line, deal, raw, at (UTC; NaT: start unknown), segment
    bad: list[BadRow]
    rows: int  # data rows in the file
    ignored: int = 0  # field-history rows about other fields
    notes: list[str] = field(default_factory=list)  # how dates were read, when the file had to tell

    def years(self) -> range:
        at = self.frame["at"].dropna()
        return range(at.min().year - 1, at.max().year + 2) if len(at) else range(0)


@dataclass(frozen=True)
class StageStats:
    stage: str  # as the durations table names it: the template's stage name, or the CRM's
    mean_days: float | None
    median_days: float | None
    deals: int  # deals whose time in the stage is known
    open: int  # deals in the stage now
    skipped_share: float | None

    @property
    def days(self) -> int | None:
        """The median rounded up to whole business days: what `new --durations` schedules with."""
        return None if self.median_days is None else min(math.ceil(self.median_days), MAX_DAYS)


@dataclass
class StageReport:
    stages: list[StageStats]
    deals: int
    won: int
    lost: int
    open: int
    changes: int
    segments: dict[str, list[StageStats]] = field(default_factory=dict)
    segment_deals: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)  # CRM stage → deals, not in the template


def read_changes(table: dict[str, list[str]], lines: Sequence[int], columns: Columns,
                 date_order: str = "") -> Changes:
    """The stage changes in ``table`` (column → values, as read), each bad row kept with its line.

    Times are ISO 8601, or day and month with the year last as report exports write them, read in
    ``date_order`` (MDY or DMY); without one, in the order the file's unambiguous dates show.
    """
    df = pd.DataFrame({"line": np.asarray(lines, dtype=np.int64),
                       "deal": _text(table[columns.id]), "raw": _text(table[columns.stage]),
                       "at_text": _text(table[columns.at])})
    if columns.segment:
        df["segment"] = _text(table[columns.segment])
    if columns.target:
        df["target_text"] = _text(table[columns.target])
    ignored = 0
    if columns.field:
        fields = _text(table[columns.field])
        keep = _folded(fields).isin(columns.stage_fields).to_numpy()
        ignored = int((~keep).sum())
        if columns.old:
            df["old"] = _text(table[columns.old])
        df = df[keep]
    at = pd.to_datetime(df["at_text"], utc=True, format="ISO8601", errors="coerce")
    problems = pd.Series("", index=df.index)
    unread = at.isna()
    notes: list[str] = []
    if unread.any():  # report exports: 4/10/2026 8:05 AM, 10/04/2026 20:05
        local, why, note = slashed_times(df.loc[unread, "at_text"], date_order)
        at[unread] = local
        problems[unread] = why
        notes += [note] if note else []
        unread = at.isna() & (problems == "")
    problems[unread] = ("changed-at " + df.loc[unread, "at_text"].map(repr)
                        + " is not a timestamp (ISO 8601, or a report's 4/10/2026 8:05 AM)")
    problems[df["raw"] == ""] = "no stage"
    problems[df["deal"] == ""] = "no opportunity id"
    bad_mask = problems != ""
    bad = [BadRow(int(line), why) for line, why in zip(df["line"][bad_mask], problems[bad_mask], strict=True)]
    good = df[~bad_mask].assign(at=at[~bad_mask]).drop(columns="at_text")
    if "target_text" in good:
        good = good.assign(target=_dates(good.pop("target_text"), date_order))
    if "old" in good:
        good = _with_stage_before_first_change(good)
    return Changes(good.reset_index(drop=True), bad, len(lines), ignored, notes)


_SLASHED_AT = (r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})"
               r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?)?\s*$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def slashed_times(texts: pd.Series, order: str = "") -> tuple[pd.Series, pd.Series, str]:
    """Report-export timestamps (``4/10/2026 8:05 AM``, ``10.04.26 20:05``) as UTC times, the reason
    for each that cannot be read ("" where none), and a note when the file decided the date order.

    Numbers with the year last read in ``order`` (MDY or DMY). Without one, the file's unambiguous
    dates (a first number over 12, or a second) decide; where they do not, a date that reads two ways
    is refused with both readings, as a plan's dates are.
    """
    m = texts.str.extract(_SLASHED_AT)
    a, b, year = (pd.to_numeric(m[i], errors="coerce") for i in (0, 1, 2))
    year = year.where(year >= 100, year + 2000)
    hour, minute = pd.to_numeric(m[3], errors="coerce").fillna(0), pd.to_numeric(m[4], errors="coerce").fillna(0)
    second = pd.to_numeric(m[5], errors="coerce").fillna(0)
    half = m[6].str.upper()
    bad_clock = (hour > 23) | (minute > 59) | (second > 59) | (half.notna() & ((hour < 1) | (hour > 12)))
    hour = hour.where(half.isna(), hour % 12 + (half == "P") * 12)
    clock = pd.to_timedelta(hour * 3600 + minute * 60 + second, unit="s")

    def day(month: pd.Series, dom: pd.Series) -> pd.Series:
        frame = pd.DataFrame({"year": year, "month": month, "day": dom})
        return pd.to_datetime(frame.where(m[0].notna()), errors="coerce").where(~bad_clock)

    month_first, day_first = day(a, b), day(b, a)
    only_m, only_d = month_first.notna() & day_first.isna(), day_first.notna() & month_first.isna()
    note = ""
    if not order and only_m.any() != only_d.any():
        order = "MDY" if only_m.any() else "DMY"
        first = texts[only_m if order == "MDY" else only_d].iloc[0]
        note = (f"dates read {order} ({'month' if order == 'MDY' else 'day'} first): {first!r} can only be read "
                "that way (--date-order to choose)")
    chosen = month_first if order == "MDY" else day_first if order == "DMY" else month_first.fillna(day_first)
    why = pd.Series("", index=texts.index, dtype=object)
    slashed = m[0].notna()
    why[slashed & bad_clock] = "changed-at " + texts[slashed & bad_clock].map(repr) + " has no such time of day"
    if order:
        other = day_first if order == "MDY" else month_first
        wrong = slashed & ~bad_clock & chosen.isna() & other.notna()
        why[wrong] = ("changed-at " + texts[wrong].map(repr) + f" is not a date in --date-order {order}")
    else:
        both = month_first.notna() & day_first.notna() & (month_first != day_first)
        if both.any():
            why[both] = ("changed-at " + texts[both].map(repr) + " could be "
                         + month_first[both].astype(object).map(_spoken) + " or "
                         + day_first[both].astype(object).map(_spoken) + ": give --date-order MDY or DMY")
        chosen = chosen.where(~both)
    at = (chosen + clock).dt.tz_localize("UTC").where(why == "")
    return at, why, note


def _dates(texts: pd.Series, order: str) -> pd.Series:
    """Dates (ISO or a report's 4/10/2026) as UTC times; NaT where a cell is empty or unreadable."""
    at = pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce")
    unread = at.isna() & (texts != "")
    if unread.any():
        at[unread] = slashed_times(texts[unread], order)[0]
    return at


def _spoken(day: pd.Timestamp) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _folded(values: pd.Series) -> pd.Series:
    """``norm`` of each value, worked out once per distinct value."""
    codes, uniques = pd.factorize(values)
    return pd.Series(np.array([norm(u) for u in uniques], dtype=object)[codes], index=values.index)


def _text(values: Sequence[str]) -> pd.Series:
    return pd.Series(values, dtype=object).fillna("").str.strip()


def _with_stage_before_first_change(df: pd.DataFrame) -> pd.DataFrame:
    """Field history: a deal's first change names the stage it was in before, from an unknown time."""
    first = df.sort_values(["at", "line"]).drop_duplicates("deal")
    first = first[first["old"] != ""]
    before = first.assign(raw=first["old"], at=pd.Series(pd.NaT, index=first.index, dtype=df["at"].dtype))
    return pd.concat([before, df], ignore_index=True).drop(columns="old")


def stage_durations(changes: Changes, *, holidays: Collection[date] = (), won_only: bool = False,
                    since: date | None = None, template_stages: Sequence[tuple[str, str]] | None = None,
                    mapping: Mapping[str, str | None] | None = None, by_segment: bool = False) -> StageReport:
    """Per stage: mean and median business days, deals measured, open, share skipped.

    ``template_stages`` (key, name) pairs order the stages and name them; CRM stages match a key or
    name ignoring case and punctuation, or the phase name ``mapping`` gives them (CRM stage → phase
    name, or None: deliberately no phase), and the rest are reported in ``unmatched``. Several CRM
    stages may feed one phase: a deal's business days in them add up. Without ``template_stages``,
    stages come in the order deals go through them (mean position of first entry).
    """
    df, dropped = labelled(changes, template_stages, mapping)
    deal_won = df.assign(w=df["key"] == "\x00won").groupby("deal", sort=False)["w"].any()
    if since is not None:
        start = pd.Timestamp(datetime.combine(since, time(), tzinfo=timezone.utc))
        first_at = df.groupby("deal", sort=False)["at"].min()
        keep = first_at[first_at >= start].index
        df, deal_won = df[df["deal"].isin(keep)], deal_won[deal_won.index.isin(keep)]
    if won_only:
        df, deal_won = df[df["deal"].isin(deal_won[deal_won].index)], deal_won[deal_won]
    unmatched = {}
    if template_stages is not None:
        raw_unmatched = df[df["key"].str.startswith("\x01") & ~df["folded"].isin(dropped)]
        unmatched = raw_unmatched.drop_duplicates(["deal", "key"]).groupby("raw", sort=False).size().to_dict()
    visits = stage_visits(df, holidays)
    last = visits.drop_duplicates("deal", keep="last")
    won = int(deal_won.sum())
    lost = int(((last["key"] == "\x00lost") & ~last["deal"].map(deal_won).astype(bool)).sum())
    order = _order(visits, template_stages)
    report = StageReport(_stats(visits, deal_won, order), deals=len(deal_won), won=won, lost=lost,
                         open=int((~last["key"].str.startswith("\x00")).sum()), changes=len(df),
                         unmatched=dict(sorted(unmatched.items(), key=lambda kv: -kv[1])))
    if by_segment and "segment" in df:
        segment = df.groupby("deal", sort=False)["segment"].agg(last_given)
        for value in sorted(segment.unique(), key=lambda v: (v == NO_SEGMENT, v.lower())):
            deals = segment.index[segment == value]
            report.segments[value] = _stats(visits[visits["deal"].isin(deals)], deal_won[deals], order)
            report.segment_deals[value] = len(deals)
    return report


def labelled(changes: Changes, template_stages: Sequence[tuple[str, str]] | None = None,
             mapping: Mapping[str, str | None] | None = None) -> tuple[pd.DataFrame, set[str]]:
    """The changes with ``key``: the phase (or CRM stage) each row enters, "\x00won"/"\x00lost" for
    the end of a deal, "\x01…" for a CRM stage that feeds no phase; sorted by deal and time. Also
    the folded CRM stages ``mapping`` deliberately sends nowhere."""
    df = changes.frame
    df = df.assign(deal=pd.factorize(df["deal"])[0])  # numbers sort and group faster than IDs
    folded = _folded(df["raw"])
    names = pd.Series(folded.unique())
    won_names = set(names[names.str.contains("closedwon")])
    lost_names = set(names[names.str.contains("closedlost")])
    dropped: set[str] = set()
    if template_stages is not None:
        lookup: dict[str, str] = {}
        for key, name in template_stages:
            lookup.setdefault(norm(name), name)
            lookup.setdefault(norm(key), name)
        for crm_stage, phase in (mapping or {}).items():
            lookup.pop(norm(crm_stage), None)
            if phase is None:
                dropped.add(norm(crm_stage))
            else:
                lookup[norm(crm_stage)] = phase
        label = folded.map(lookup)
    else:
        # One spelling per stage ("Appointment Scheduled" and appointmentscheduled are one stage).
        first_spelling = df.assign(f=folded).drop_duplicates("f")
        label = folded.map(dict(zip(first_spelling["f"], first_spelling["raw"], strict=True)))
    closed = folded.isin(won_names | lost_names)
    df = df.assign(key=np.where(closed, np.where(folded.isin(won_names), "\x00won", "\x00lost"), label.fillna("")),
                   folded=folded)
    unmatched_mask = (df["key"] == "") & ~closed
    df.loc[unmatched_mask, "key"] = "\x01" + df.loc[unmatched_mask, "folded"]  # a stage of its own, not reported

    df = df.sort_values(["deal", "at", "line"], na_position="first", kind="stable").reset_index(drop=True)
    return df, dropped


def last_given(values: pd.Series) -> str:
    given = values[values != ""]
    return given.iloc[-1] if len(given) else NO_SEGMENT


def stage_visits(df: pd.DataFrame, holidays: Collection[date]) -> pd.DataFrame:
    """One row per stage visit with its business days (NaN when the start or the end is unknown)."""
    deal, key = df["deal"].to_numpy(), df["key"].to_numpy()
    repeat = np.zeros(len(df), dtype=bool)
    repeat[1:] = (deal[1:] == deal[:-1]) & (key[1:] == key[:-1])
    v = df[~repeat].reset_index(drop=True)
    deal = v["deal"].to_numpy()
    at = v["at"].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    end = np.full(len(v), np.datetime64("NaT"), dtype="datetime64[D]")
    same_next = np.zeros(len(v), dtype=bool)
    same_next[:-1] = deal[1:] == deal[:-1]
    end[:-1][same_next[:-1]] = at[1:][same_next[:-1]]
    known = ~np.isnat(at) & ~np.isnat(end)
    days = np.full(len(v), np.nan)
    one = np.timedelta64(1, "D")
    off = np.array(sorted(holidays), dtype="datetime64[D]")
    # busday_count counts [begin, end); shifting both by a day counts (entered, left].
    days[known] = np.busday_count(at[known] + one, end[known] + one, holidays=off)
    return v.assign(days=days, pos=v.groupby("deal", sort=False).cumcount())


def _order(visits: pd.DataFrame, template_stages: Sequence[tuple[str, str]] | None) -> list[str]:
    if template_stages is not None:
        return [name for _key, name in template_stages]
    staged = visits[~visits["key"].str.startswith(("\x00", "\x01"))]
    first = staged.drop_duplicates(["deal", "key"])
    by_key = first.groupby("key", sort=False).agg(pos=("pos", "mean"), line=("line", "min"))
    return list(by_key.sort_values(["pos", "line"]).index)


def _stats(visits: pd.DataFrame, deal_won: pd.Series, order: list[str]) -> list[StageStats]:
    staged = visits[visits["key"].isin(order)]
    per = staged.assign(unknown=staged["days"].isna()).groupby(["key", "deal"], sort=False).agg(
        days=("days", "sum"), unknown=("unknown", "any"))
    measured = per[~per["unknown"]].groupby(level="key")["days"]
    mean, median, count = measured.mean(), measured.median(), measured.size()
    last = visits.drop_duplicates("deal", keep="last")
    open_now = last.groupby("key").size()
    # Skips: how far each deal went (won: past every stage), against whether it entered each stage.
    index = {key: i for i, key in enumerate(order)}
    entered = per.reset_index()[["key", "deal"]]
    entered = entered.assign(i=entered["key"].map(index))
    reach = entered.groupby("deal")["i"].max().reindex(deal_won.index, fill_value=-1)
    reach[deal_won.to_numpy()] = len(order)
    reach = reach.to_numpy()
    sorted_reach = np.sort(reach)
    entered = entered.assign(reach=entered["deal"].map(dict(zip(deal_won.index, reach, strict=True))))
    went_past_entered = entered[entered["reach"] > entered["i"]].groupby("key").size()
    entered_count = entered.groupby("key").size()
    out = []
    for key in order:
        i = index[key]
        past = len(sorted_reach) - int(np.searchsorted(sorted_reach, i, side="right"))
        skipped = past - int(went_past_entered.get(key, 0))
        base = skipped + int(entered_count.get(key, 0))
        # A stage no deal entered says nothing about skipping: the CRM may not record it at all.
        share = round(skipped / base, 4) if base and entered_count.get(key, 0) else None
        out.append(StageStats(
            key, _round(mean.get(key)), _round(median.get(key)), int(count.get(key, 0)),
            int(open_now.get(key, 0)), share))
    return out


def _round(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 1)
