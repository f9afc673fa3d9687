"""Exhaustive checks of placement and of the standard pathway over all 5**6 profiles.

The assessment space is finite (15,625 profiles), so these tests check every
profile (and every profile x level pair) rather than sampling.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Final

import attrs
import pytest

from carepath import (
    Assessment,
    Dimension,
    Event,
    Level,
    Outcome,
    Pathway,
    Placement,
    Risk,
    Setting,
    place,
    standard_pathway,
)
from carepath.levels import STANDARD_LEVELS
from support import T0

pytestmark = pytest.mark.slow

PROFILES: Final[tuple[Assessment, ...]] = tuple(Assessment.all_profiles())


@pytest.fixture(scope="module")
def pathway() -> Pathway:
    return standard_pathway()


@pytest.fixture(scope="module")
def placements(pathway: Pathway) -> dict[int, Placement]:
    return {a.index: pathway.place(a) for a in PROFILES}


def test_profile_space_is_complete() -> None:
    """all_profiles() yields 15,625 distinct profiles, indexed 0..15,624 in order."""
    assert len(PROFILES) == 5**6
    assert [a.index for a in PROFILES] == list(range(5**6))
    assert len(set(PROFILES)) == 5**6


def test_placement_is_total(pathway: Pathway, placements: dict[int, Placement]) -> None:
    """Every profile is placed in a level of the pathway whose criteria accept it."""
    levels = set(pathway.levels)
    for a in PROFILES:
        p = placements[a.index]
        assert p.assessment == a
        assert p.level in levels, a
        assert pathway.criteria_for(p.level).fits(a), a
        assert place(a).level is p.level  # the module-level function agrees


def test_placement_is_least_intensive_fitting_level(
    pathway: Pathway, placements: dict[int, Placement]
) -> None:
    """No less intensive level than the placement fits the profile."""
    for a in PROFILES:
        p = placements[a.index]
        for lv in pathway.levels:
            if lv.intensity < p.level.intensity:
                assert not pathway.criteria_for(lv).fits(a), (a, lv.code)


def test_placement_is_admissible_from_intake(
    pathway: Pathway, placements: dict[int, Placement]
) -> None:
    """Admitting a profile from intake to its placement is allowed, without an override."""
    ep = pathway.start("patient-x", at=T0, episode_id="exhaustive")
    at = T0 + timedelta(hours=1)
    for a in PROFILES:
        level = placements[a.index].level
        d = ep.check(Event.ADMIT, level, at=at, assessment=a)
        assert d.allowed, (a, d.explain())
        assert d.reasons == ()
    assert ep.version == 0  # check() changed nothing


def _neighbours() -> Iterator[tuple[Assessment, Assessment, Dimension]]:
    for a in PROFILES:
        for d in Dimension:
            if a[d] < Risk.SEVERE:
                yield a, attrs.evolve(a, **{d.value: Risk(a[d] + 1)}), d


def test_placement_is_monotone_over_all_neighbouring_pairs(
    placements: dict[int, Placement],
) -> None:
    """Raising any one rating by one never lowers the placement's intensity."""
    pairs = 0
    for lower, higher, d in _neighbours():
        lo, hi = placements[lower.index].level, placements[higher.index].level
        assert hi.intensity >= lo.intensity, (lower, d, lo.code, hi.code)
        pairs += 1
    assert pairs == 6 * 4 * 5**5  # every pair was visited


def test_significant_withdrawal_places_in_detox(placements: dict[int, Placement]) -> None:
    """Withdrawal risk 3 or 4 always places in detox (withdrawal management)."""
    seen = 0
    for a in PROFILES:
        if a.withdrawal >= Risk.SIGNIFICANT:
            assert placements[a.index].level.code == "detox", a
            seen += 1
    assert seen == 2 * 5**5


def test_unsafe_home_with_strong_cravings_places_in_24_hour_care(
    placements: dict[int, Placement],
) -> None:
    """Recovery environment >= 3 with relapse potential >= 3 places in residential care."""
    seen = 0
    for a in PROFILES:
        if a.environment >= Risk.SIGNIFICANT and a.relapse >= Risk.SIGNIFICANT:
            lv = placements[a.index].level
            assert lv.setting is Setting.RESIDENTIAL, (a, lv.code)
            assert lv.is_24_hour, (a, lv.code)
            seen += 1
    assert seen == 4 * 5**4


def test_stable_home_with_mild_risks_places_in_outpatient_or_iop(
    placements: dict[int, Placement],
) -> None:
    """Every rating at most 1 (mild) places in outpatient care or IOP."""
    seen = 0
    for a in PROFILES:
        if max(a.as_tuple()) <= Risk.MILD:
            assert placements[a.index].level.code in {"outpatient", "iop"}, a
            seen += 1
    assert seen == 2**6


def test_no_non_residential_level_accepts_significant_withdrawal(pathway: Pathway) -> None:
    """No level outside 24-hour residential care fits a profile with withdrawal >= 3."""
    non_residential = [lv for lv in pathway.levels if lv.setting is not Setting.RESIDENTIAL]
    assert {lv.code for lv in non_residential} == {"outpatient", "sober_living", "iop", "php"}
    for a in PROFILES:
        if a.withdrawal >= Risk.SIGNIFICANT:
            for lv in non_residential:
                assert not pathway.criteria_for(lv).fits(a), (a, lv.code)


def test_explain_names_the_level_and_the_reasons(
    pathway: Pathway, placements: dict[int, Placement]
) -> None:
    """explain() names the placed level, every ruled-out level's reasons, and the drivers."""
    for a in PROFILES:
        p = placements[a.index]
        text = p.explain()
        assert text.startswith(f"Placement: {p.level.name}."), a
        for ruling in p.ruled_out:
            for reason in ruling.reasons():
                assert reason in text, (a, reason)
        for d in p.deciding:
            assert f"{d.label} {a[d].describe()}" in text, (a, d)
        assert set(p.reasons) == set(Dimension)


def test_alternatives_never_include_the_placed_level(
    placements: dict[int, Placement],
) -> None:
    """A placement's alternatives never repeat the placed level, nor each other."""
    for a in PROFILES:
        p = placements[a.index]
        assert p.level not in p.alternatives, a
        assert len(set(p.alternatives)) == len(p.alternatives), a


def test_deciding_dimensions_are_exceeded_at_the_next_less_intensive_level(
    pathway: Pathway, placements: dict[int, Placement]
) -> None:
    """`deciding` is exactly the set of ratings the next less intensive level cannot manage."""
    levels = pathway.levels
    for a in PROFILES:
        p = placements[a.index]
        i = levels.index(p.level)
        if i == 0:
            assert p.deciding == (), a
            assert p.ruled_out == (), a
            continue
        below = levels[i - 1]
        exceeded = {d for d, _, _ in pathway.criteria_for(below).exceeded(a)}
        assert exceeded, (a, below.code)
        assert set(p.deciding) == exceeded, (a, below.code)
        assert [ru.level for ru in p.ruled_out] == list(levels[:i]), a


def _entry_profile(pathway: Pathway, level: Level) -> Assessment:
    """A profile whose placement is ``level``: the most risk ``level`` can manage."""
    b = pathway.criteria_for(level).maximum
    assert pathway.place(b).level is level, level.code
    return b


def test_no_patient_is_trapped(pathway: Pathway, placements: dict[int, Placement]) -> None:
    """From every level a profile fits, an override-free event sequence completes the episode.

    For every (profile, fitting level) pair an episode is actually run: admit to
    the level (on a profile placed there) and reassess to the profile. Dropping
    out and transferring out are allowed there. When withdrawal risk is above
    mild, completion waits for it to settle: a reassessment with withdrawal at
    most mild follows. Then the patient steps down to that assessment's placement
    after the minimum stay when it is less intensive, and completes after the
    minimum stay.
    """
    entry = {lv.code: _entry_profile(pathway, lv) for lv in pathway.levels}
    runs = 0
    for a in PROFILES:
        settled = attrs.evolve(a, withdrawal=min(a.withdrawal, Risk.MILD))
        target = placements[settled.index].level
        for lv in pathway.levels:
            if not pathway.criteria_for(lv).fits(a):
                continue
            ep = pathway.start("patient-x", at=T0, episode_id=f"trap-{a.index}-{lv.code}")
            t = T0 + timedelta(hours=1)
            ep.admit(lv, at=t, assessment=entry[lv.code])
            t += timedelta(hours=1)
            ep.reassess(a, at=t)
            assert ep.level is lv
            assert ep.assessment == a
            for out in (Event.DROP_OUT, Event.TRANSFER_OUT):
                assert ep.check(out, at=t).allowed
            if settled != a:
                late = t + timedelta(days=lv.stay.minimum_days)
                assert not ep.check(Event.COMPLETE, at=late).allowed, (a, lv.code)
                t += timedelta(hours=1)
                ep.reassess(settled, at=t)
            if target is not lv:
                assert target.intensity < lv.intensity
                t += timedelta(days=lv.stay.minimum_days)
                ep.step_down(target, at=t)
                t += timedelta(days=target.stay.minimum_days)
            else:
                t += timedelta(days=lv.stay.minimum_days)
            ep.complete(at=t)
            assert ep.outcome is Outcome.COMPLETED
            assert all(r.override is None and r.reasons == () for r in ep.history)
            runs += 1
    fitting = sum(1 for a in PROFILES for lv in pathway.levels if pathway.criteria_for(lv).fits(a))
    assert runs == fitting
    assert runs > 5**6  # detox alone fits every profile


def test_standard_catalog_is_ordered_least_intensive_first(pathway: Pathway) -> None:
    """The pathway's levels are the standard catalog, ordered by strictly rising intensity."""
    assert pathway.levels == STANDARD_LEVELS
    intensities = [lv.intensity for lv in pathway.levels]
    assert intensities == sorted(set(intensities))
