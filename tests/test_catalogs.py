"""The shipped catalogs: valid, schema-conformant, and every patient has a valid path.

The assessment space is finite (15,625 profiles), so the checks run over every
profile and every level a profile fits. They ask the episode's own ``check``
(the real guards) rather than re-implementing them, but reuse one episode per
level so that a catalog of 14 levels still checks in seconds.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Final

import jsonschema  # type: ignore[import-untyped]  # no stubs shipped or installed
import pytest

import carepath
from carepath import (
    Assessment,
    Episode,
    Event,
    Level,
    Pathway,
    Risk,
    Setting,
    definition_schema,
    definitions,
    load_catalog,
    standard_pathway,
)

pytestmark = pytest.mark.slow

T0: Final = datetime(2026, 1, 5, 9, tzinfo=UTC)
PROFILES: Final = tuple(Assessment.all_profiles())
NAMES: Final = tuple(carepath.catalogs())


@pytest.fixture(scope="module", params=NAMES)
def catalog(request: pytest.FixtureRequest) -> Pathway:
    name: str = request.param
    return load_catalog(name)


def _text(name: str) -> str:
    return resources.files("carepath").joinpath("catalogs", f"{name}.toml").read_text("utf-8")


def test_the_four_catalogs_ship() -> None:
    assert NAMES == ("standard", "asam3", "asam4", "adolescent")
    for name, about in carepath.catalogs().items():
        assert "carepath's own heuristics" in about, name
        assert "not the proprietary ASAM decision rules" in about, name
        assert load_catalog(name) is load_catalog(name)
        assert load_catalog(name).id == name


def test_standard_catalog_is_the_standard_pathway() -> None:
    """catalogs/standard.toml and standard_pathway() are equal, with the same content hash."""
    p = load_catalog("standard")
    assert p == standard_pathway()
    assert p.content_hash == standard_pathway().content_hash
    assert p.levels == standard_pathway().levels
    assert definitions.to_dict(p) == definitions.to_dict(standard_pathway())


@pytest.mark.parametrize("name", NAMES)
def test_catalog_files_satisfy_the_schema(name: str) -> None:
    jsonschema.Draft202012Validator(definition_schema()).validate(tomllib.loads(_text(name)))


@pytest.mark.parametrize("name", NAMES)
def test_catalogs_round_trip(name: str) -> None:
    p = load_catalog(name)
    assert definitions.loads(definitions.dumps(p)) == p
    assert definitions.loads(definitions.dumps(p, "json", compact=True), "json") == p


def test_asam_level_numbers() -> None:
    asam3 = [n for lv in load_catalog("asam3").levels for n in lv.asam3]
    assert sorted(asam3) == sorted(
        [
            "0.5",
            "1",
            "2.1",
            "2.5",
            "3.1",
            "3.3",
            "3.5",
            "3.7",
            "4",
            "1-WM",
            "2-WM",
            "3.2-WM",
            "3.7-WM",
            "4-WM",
        ]
    )
    asam4 = [n for lv in load_catalog("asam4").levels for n in lv.asam4]
    assert asam4 == ["1.0", "1.5", "1.7", "2.1", "2.5", "2.7", "3.1", "3.5", "3.7", "4.0"]
    iop = load_catalog("adolescent").level("iop")
    assert iop.hours_per_week[0] == 6.0


def test_placement_is_total_least_intensive_and_monotone(catalog: Pathway) -> None:
    """Every profile is placed in the least intensive level that fits; raising a rating
    never lowers the placement (checked over every neighbouring pair)."""
    levels = catalog.levels
    rank = {lv.code: i for i, lv in enumerate(levels)}
    placed = [rank[catalog.place(a).level.code] for a in PROFILES]
    for a, i in zip(PROFILES, placed, strict=True):
        assert catalog.criteria_for(levels[i]).fits(a)
        assert i == 0 or not catalog.criteria_for(levels[i - 1]).fits(a)
    pairs = 0
    for index, i in enumerate(placed):
        step = 1
        for digit in range(6):
            if (index // step) % 5 < 4:
                assert placed[index + step] >= i, (PROFILES[index], digit)
                pairs += 1
            step *= 5
    assert pairs == 6 * 4 * 5**5


def test_every_level_is_someones_placement(catalog: Pathway) -> None:
    """Each level's own limits place there: every level can be admitted to from intake."""
    for lv in catalog.levels:
        assert catalog.place(catalog.criteria_for(lv).maximum).level is lv, lv.code


def test_clinical_sense(catalog: Pathway) -> None:
    """Significant withdrawal only in medically monitored 24-hour care; strong cravings with
    an unsafe home only in 24-hour care; mild risks in an ambulatory level."""
    for a in PROFILES:
        lv = catalog.place(a).level
        if a.withdrawal >= Risk.SIGNIFICANT:
            assert lv.setting is Setting.RESIDENTIAL, (a, lv.code)
            assert lv.medically_monitored, (a, lv.code)
        if a.relapse >= Risk.SIGNIFICANT and a.environment >= Risk.SIGNIFICANT:
            assert lv.setting is Setting.RESIDENTIAL, (a, lv.code)
        if max(a.as_tuple()) <= Risk.MILD:
            assert lv.setting is Setting.AMBULATORY, (a, lv.code)
    for lv in catalog.levels:
        if catalog.criteria_for(lv).maximum.withdrawal >= Risk.SIGNIFICANT:
            assert lv.setting is Setting.RESIDENTIAL, lv.code
            assert lv.medically_monitored, lv.code


def _at_level(catalog: Pathway, lv: Level) -> tuple[Episode, datetime]:
    """An episode admitted to ``lv`` (on its own limits) and past its minimum stay."""
    ep = catalog.start("patient-x", at=T0, episode_id=f"catalog-{lv.code}")
    ep.admit(lv, at=T0, assessment=catalog.criteria_for(lv).maximum)
    return ep, T0 + timedelta(days=lv.stay.minimum_days, hours=1)


def test_every_placement_is_admissible_from_intake(catalog: Pathway) -> None:
    ep = catalog.start("patient-x", at=T0, episode_id="intake")
    for a in PROFILES:
        d = ep.check(Event.ADMIT, catalog.place(a).level, at=T0, assessment=a)
        assert d.allowed, (a, d.explain())
        assert d.reasons == (), a


def test_no_patient_is_trapped(catalog: Pathway) -> None:
    """From every level a profile fits, override-free moves lead on: down to the profile's
    placement after the minimum stay, and from there to an outcome. Completion needs the
    profile to be one the pathway lets complete; otherwise it becomes possible once the
    ratings settle (a reassessment with no risks), and leaving is always possible."""
    at_level = {lv.code: _at_level(catalog, lv) for lv in catalog.levels}
    checked = completable = 0
    for a in PROFILES:
        target = catalog.place(a).level
        for lv in catalog.levels:
            if not catalog.criteria_for(lv).fits(a):
                continue
            ep, t = at_level[lv.code]
            if lv is not target:
                d = ep.check(Event.STEP_DOWN, target, at=t, assessment=a)
                assert d.allowed, (a, lv.code, d.explain())
            for leave in (Event.DROP_OUT, Event.TRANSFER_OUT):
                assert ep.check(leave, at=t, assessment=a).allowed
            checked += 1
        ep, t = at_level[target.code]
        if ep.check(Event.COMPLETE, at=t, assessment=a).allowed:
            completable += 1
    assert checked > len(PROFILES)
    assert completable > 0
    for lv in catalog.levels:
        ep, t = _at_level(catalog, lv)
        ep.reassess(Assessment(), at=t)
        ep.complete(at=t)
        assert ep.outcome is not None
        assert ep.outcome.value == "completed"
        assert all(r.override is None for r in ep.history)
