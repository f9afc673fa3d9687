"""A simulation summary as text people can read: titles, units, plain column names.

Counts of stays are called stays and counts of patients patients; shares print as
percentages; day counts print without false decimals (a median of whole days is a whole
or half day). The tables themselves (``Summary.outcomes`` and the rest) keep their
machine-friendly column names; only this rendering renames them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._summary import Summary

__all__ = ["summary_text", "table_text"]


def _count(x: Any) -> str:
    return "" if _missing(x) else f"{round(float(x)):,}"


def _share(x: Any) -> str:
    return "" if _missing(x) else f"{100 * float(x):.1f}%"


def _days(x: Any) -> str:
    """Whole days; a half day only where the value is one (a median of two middle stays)."""
    if _missing(x):
        return ""
    value = float(x)
    if value * 2 == round(value * 2) and value != round(value):
        return f"{value:,.1f}"
    return f"{round(value):,}"


def _number(x: Any) -> str:
    return "" if _missing(x) else f"{float(x):,.2f}"


def _money(x: Any) -> str:
    return "" if _missing(x) else f"{float(x):,.0f}"


def _missing(x: Any) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


_FORMATS: Final[Mapping[str, Callable[[Any], str]]] = {
    "count": _count,
    "share": _share,
    "days": _days,
    "number": _number,
    "money": _money,
}

# table attribute -> (title, index heading, {column: (heading, format)})
_TABLES: Final[dict[str, tuple[str, str, dict[str, tuple[str, str]]]]] = {
    "length_of_stay": (
        "Length of stay, in days, of the stays that ended before the horizon",
        "level",
        {
            "stays": ("stays ended", "count"),
            "median": ("median days", "days"),
            "q1": ("25% ended by day", "days"),
            "q3": ("75% ended by day", "days"),
        },
    ),
    "outcomes": (
        "How stays ended, per level (share of the level's ended stays)",
        "level",
        {
            "ended": ("stays ended", "count"),
            "completed": ("completed or stepped down", "share"),
            "dropped_out": ("dropped out", "share"),
            "transferred": ("transferred or stepped up", "share"),
        },
    ),
    "continuation": (
        "Follow-up after a detox or inpatient discharge\n"
        "(a less intensive level entered within the window)",
        "within days",
        {
            "discharges": ("discharges", "count"),
            "followed_up": ("followed up", "count"),
            "share": ("share followed up", "share"),
        },
    ),
    "readmissions": (
        "Readmissions: a new episode within the window after an episode ended",
        "within days",
        {
            "episodes": ("episodes ended", "count"),
            "readmitted": ("readmitted", "count"),
            "share": ("share readmitted", "share"),
        },
    ),
    "care": (
        "Days of care and cost, per level (open stays counted up to the horizon)",
        "level",
        {
            "days": ("days of care", "count"),
            "days_per_patient": ("days per patient", "number"),
            "cost": ("cost", "money"),
        },
    ),
}


def table_text(name: str, frame: Any) -> str:
    """One of the summary's tables (by attribute name) with its title and plain headings."""
    title, index_heading, columns = _TABLES[name]
    shown = frame.copy()
    if "cost" in shown.columns and shown["cost"].isna().all():
        shown = shown.drop(columns="cost")  # no cost_per_day was given
    formatters: dict[str, Callable[[Any], str]] = {}
    renames: dict[str, str] = {}
    for column in shown.columns:
        heading, kind = columns.get(str(column), (str(column), "number"))
        renames[str(column)] = heading
        formatters[heading] = _FORMATS[kind]
    shown = shown.rename(columns=renames)
    shown.index.name = index_heading
    body = shown.to_string(formatters=formatters, na_rep="")
    return f"{title}\n{body}"


def summary_text(summary: Summary) -> str:
    """Every table of ``summary`` with a title, units and plain headings."""
    parts = [
        f"Summary of {summary.patients:,} simulated patients.\nTables count stays (a patient "
        "can have several) or episodes, as their headings say; shares are percentages."
    ]
    for name in ("length_of_stay", "outcomes", "continuation", "readmissions"):
        parts.append(table_text(name, getattr(summary, name)))
    parts.append(f"Relapses per patient: {summary.relapses_per_patient:.2f}")
    parts.append(table_text("care", summary.care))
    if summary.across_samples is not None:
        parts.append(
            "Across parameter samples (mean and 95% interval of each statistic)\n"
            + summary.across_samples.to_string(float_format=lambda x: f"{x:,.3f}")
        )
    return "\n\n".join(parts)
