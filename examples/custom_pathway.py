"""A programme that defines its own levels, criteria and rules in code.

An adolescent service runs three levels: outpatient counselling (under 6 hours
a week), an adolescent IOP from 6 hours a week (adolescent programmes start
lower than the adult 9 hours), and residential care. It keeps the standard
rules but adds one of its own: a step down happens on a school day, so the teen
starts the new timetable with school. The custom guard is a small class that
implements carepath's ``Guard`` protocol and explains itself in plain words.

Finally, a broken definition shows that validation reports every problem at once.

Run with ``python examples/custom_pathway.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, final

import attrs

from carepath import (
    Assessment,
    Criteria,
    Event,
    FitsCriteria,
    GuardContext,
    Level,
    Override,
    Pathway,
    PathwayError,
    Rule,
    Setting,
    StayRule,
    TransitionRejected,
    default_rules,
)

TEEN_OUTPATIENT = Level(
    code="teen_outpatient",
    name="Adolescent outpatient",
    intensity=0,
    setting=Setting.AMBULATORY,
    hours_per_week=(1.0, 6.0),
    stay=StayRule(minimum_days=28, typical_days=84),
    asam3=("1",),
    description="Weekly counselling and family sessions, under 6 hours a week.",
)
TEEN_IOP = Level(
    code="teen_iop",
    name="Adolescent IOP",
    intensity=1,
    setting=Setting.AMBULATORY,
    hours_per_week=(6.0, 19.0),
    stay=StayRule(minimum_days=28, typical_days=56, maximum_days=84),
    asam3=("2.1",),
    description="After-school groups three or four afternoons a week, from 6 hours a week.",
)
TEEN_RESIDENTIAL = Level(
    code="teen_residential",
    name="Adolescent residential",
    intensity=2,
    setting=Setting.RESIDENTIAL,
    medically_monitored=True,
    hours_per_week=(168.0, 168.0),
    stay=StayRule(minimum_days=14, typical_days=30, maximum_days=90),
    asam3=("3.5", "3.7"),
    description="24-hour care with on-site schooling.",
)
LEVELS = (TEEN_OUTPATIENT, TEEN_IOP, TEEN_RESIDENTIAL)

CRITERIA = {
    # Any withdrawal risk at all is beyond outpatient care for a teenager.
    "teen_outpatient": Criteria(
        withdrawal=0, biomedical=1, emotional=1, readiness=2, relapse=1, environment=1
    ),
    "teen_iop": Criteria(
        withdrawal=1, biomedical=2, emotional=2, readiness=3, relapse=2, environment=2
    ),
    # The most intensive level accepts every profile, so placement is total.
    "teen_residential": Criteria(),
}


@final
@attrs.frozen
class OnSchoolDay:
    """A step down happens Monday to Friday, so the new timetable starts with school."""

    kind: ClassVar[str] = "school_day"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        if ctx.at.weekday() < 5:
            return ()
        return (f"step-downs happen on a school day; {ctx.at:%A %d %B} is a weekend day",)


def teen_rules() -> list[Rule]:
    """The standard rules over the adolescent levels, with the school-day rule on step-downs."""
    return [
        attrs.evolve(rule, guards=(*rule.guards, OnSchoolDay()))
        if rule.event is Event.STEP_DOWN
        else rule
        for rule in default_rules(LEVELS)
    ]


def build() -> Pathway:
    return Pathway(
        id="adolescent",
        version="2026.1",
        name="Adolescent programme",
        levels=LEVELS,
        criteria=CRITERIA,
        rules=teen_rules(),
    )


def walk(pathway: Pathway) -> None:
    print(f"{pathway!r}")
    for lv in pathway.levels:
        low, high = lv.hours_per_week
        if lv.is_24_hour:
            hours = "24-hour care"
        else:
            hours = f"{low:g}+ h/week" if high is None else f"{low:g}-{high:g} h/week"
        print(f"  {lv.intensity}. {lv.name} ({hours}; stay {lv.stay.describe()})")

    start = datetime(2026, 9, 7, 15, 30, tzinfo=UTC)  # a Monday, after school
    intake = Assessment(withdrawal=1, emotional=2, readiness=2, relapse=2, environment=1)
    print()
    print(pathway.place(intake).explain())

    episode = pathway.start("teen-017", at=start)
    episode.admit("teen_iop", at=start, assessment=intake)
    print(f"\nAdmitted to {episode.level}.")

    better = Assessment(emotional=1, readiness=1, relapse=1)
    saturday = start + timedelta(days=33)
    try:
        episode.step_down("teen_outpatient", at=saturday, assessment=better)
    except TransitionRejected as rejected:
        print(f"\nStep down on {saturday:%A %d %B} refused:")
        for reason in rejected.reasons:
            print(f"  - {reason.message} [{reason.kind}]")

    # The team records why it steps down on a weekend anyway.
    override = Override(reason="family moves house on Monday; team agreed", by="clin-07")
    record = episode.step_down("teen_outpatient", at=saturday, assessment=better, override=override)
    by = record.override.by if record.override is not None else "nobody"
    print(f"\nStepped down to {episode.level} under an override recorded by {by!r};")
    print("the history keeps the reasons it set aside:")
    for reason in record.reasons:
        print(f"  set aside: {reason.message}")


def broken() -> None:
    print("\nA definition with mistakes is refused, with every problem listed:")
    day_programme = Level(
        code="teen_day",
        name="Adolescent day programme",
        intensity=1,  # the same intensity as the IOP
        setting=Setting.DAY,
        stay=StayRule(minimum_days=20, typical_days=10, maximum_days=15),  # inconsistent
    )
    try:
        Pathway(
            id="broken",
            version="0",
            levels=(*LEVELS, day_programme),
            criteria={**CRITERIA, "teen_php": Criteria()},  # no teen_day, an unknown code
            rules=[
                *default_rules(LEVELS),
                Rule(
                    event=Event.STEP_UP,
                    source="teen_iop",
                    target="teen_php",
                    guards=(FitsCriteria(),),
                ),
            ],
        )
    except PathwayError as error:
        for problem in error.problems:
            print(f"  - {problem}")


def main() -> None:
    walk(build())
    broken()


if __name__ == "__main__":
    main()
