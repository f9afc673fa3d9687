"""Place a few illustrative profiles on the standard pathway and explain each.

Each profile is six ratings 0-4 (withdrawal, biomedical, emotional/behavioural,
readiness to change, relapse potential, recovery environment). Placement picks
the least intensive level whose criteria accept every rating; the explanation
says which ratings decide it, what else could serve, and whether a safer place
to live (sober housing) would allow a less intensive level.

These criteria are carepath's own documented heuristics, not the proprietary
ASAM decision rules.

Run with ``python examples/placement_table.py``.
"""

from __future__ import annotations

import textwrap
from typing import Final

from carepath import Assessment, Placement, place

PROFILES: Final[tuple[tuple[str, Assessment], ...]] = (
    ("Stable, mild cravings, supportive home", Assessment(readiness=1, relapse=1, environment=1)),
    ("Low clinical risk, chaotic home", Assessment(readiness=1, relapse=1, environment=3)),
    (
        "Moderate cravings and mood, home is so-so",
        Assessment(emotional=2, readiness=2, relapse=2, environment=2),
    ),
    (
        "Significant depression, no withdrawal",
        Assessment(emotional=3, readiness=2, relapse=2, environment=1),
    ),
    (
        "Strong cravings, unsafe home",
        Assessment(withdrawal=1, emotional=2, readiness=2, relapse=3, environment=4),
    ),
    (
        "Severe alcohol withdrawal risk",
        Assessment(withdrawal=4, biomedical=2, emotional=1, relapse=2, environment=2),
    ),
)


def row(name: str, p: Placement) -> str:
    ratings = " ".join(str(v) for v in p.assessment.as_tuple())
    alternatives = ", ".join(lv.code for lv in p.alternatives) or "-"
    return f"{name:<42} {ratings:<12} {p.level.code:<12} {alternatives}"


def main() -> None:
    placements = [(name, place(a)) for name, a in PROFILES]
    print(f"{'profile':<42} {'W B E R R E':<12} {'placed in':<12} also could serve")
    print("-" * 86)
    for name, p in placements:
        print(row(name, p))
    for name, p in placements:
        print()
        print(f"{name}:")
        for line in p.explain().splitlines():
            print(textwrap.fill(line, 88, initial_indent="  ", subsequent_indent="      "))


if __name__ == "__main__":
    main()
