"""The standard level catalog, stay rules and level validation."""

from __future__ import annotations

import itertools

import attrs
import pytest

from carepath import (
    INTAKE,
    CarepathError,
    Criteria,
    InvalidArgument,
    Level,
    Outcome,
    Override,
    Setting,
    StayRule,
    place,
)
from carepath.levels import (
    DETOX,
    INPATIENT,
    IOP,
    OUTPATIENT,
    PHP,
    SOBER_LIVING,
    STANDARD_CRITERIA,
    STANDARD_LEVELS,
)

ORDER = ["outpatient", "sober_living", "iop", "php", "inpatient", "detox"]


def _level(code: str, **kw: object) -> Level:
    base: dict[str, object] = {
        "code": code,
        "name": "Test level",
        "intensity": 0,
        "setting": Setting.AMBULATORY,
        "stay": StayRule(minimum_days=1, typical_days=2, maximum_days=3),
    }
    base.update(kw)
    return Level(**base)  # type: ignore[arg-type]  # built from a dict in tests


def test_the_catalog_has_six_levels_in_the_documented_order() -> None:
    assert [lv.code for lv in STANDARD_LEVELS] == ORDER
    assert STANDARD_LEVELS == (OUTPATIENT, SOBER_LIVING, IOP, PHP, INPATIENT, DETOX)


def test_intensities_are_distinct_and_increase_along_the_order() -> None:
    intensities = [lv.intensity for lv in STANDARD_LEVELS]
    assert len(set(intensities)) == 6
    assert intensities == sorted(intensities)
    assert (
        OUTPATIENT.intensity
        < SOBER_LIVING.intensity
        < IOP.intensity
        < PHP.intensity
        < INPATIENT.intensity
        < DETOX.intensity
    )


def test_codes_are_distinct_and_not_reserved() -> None:
    codes = {lv.code for lv in STANDARD_LEVELS}
    assert len(codes) == 6
    assert not codes & {INTAKE, *(o.value for o in Outcome)}


@pytest.mark.parametrize("level", STANDARD_LEVELS, ids=lambda lv: lv.code)
def test_stay_rules_are_consistent(level: Level) -> None:
    assert level.stay.problems() == []
    assert level.stay.minimum_days <= level.stay.typical_days
    if level.stay.maximum_days is not None:
        assert level.stay.typical_days <= level.stay.maximum_days


@pytest.mark.parametrize("level", STANDARD_LEVELS, ids=lambda lv: lv.code)
def test_every_level_is_documented(level: Level) -> None:
    assert level.name
    assert len(level.description) > 40
    assert level.code in STANDARD_CRITERIA


def test_documented_stay_rules() -> None:
    assert DETOX.stay == StayRule(minimum_days=3, typical_days=5, maximum_days=10)
    assert (INPATIENT.stay.minimum_days, INPATIENT.stay.maximum_days) == (7, 90)
    assert (IOP.stay.minimum_days, IOP.stay.maximum_days) == (42, 84)
    assert OUTPATIENT.stay.maximum_days is None
    assert SOBER_LIVING.stay.maximum_days is None


def test_settings_and_monitoring() -> None:
    assert DETOX.setting is Setting.RESIDENTIAL
    assert DETOX.medically_monitored
    assert INPATIENT.setting is Setting.RESIDENTIAL
    assert PHP.setting is Setting.DAY
    assert IOP.setting is Setting.AMBULATORY
    assert OUTPATIENT.setting is Setting.AMBULATORY
    assert SOBER_LIVING.setting is Setting.RECOVERY_RESIDENCE
    assert [lv.code for lv in STANDARD_LEVELS if lv.is_24_hour] == ["inpatient", "detox"]
    assert all(lv.is_ambulatory is not lv.is_24_hour for lv in STANDARD_LEVELS)
    assert not any(lv.medically_monitored for lv in (OUTPATIENT, SOBER_LIVING, IOP, PHP))


def test_hours_per_week_match_the_level_definitions() -> None:
    assert OUTPATIENT.hours_per_week[1] == 9.0
    assert IOP.hours_per_week == (9.0, 19.0)
    assert PHP.hours_per_week[0] == 20.0
    assert SOBER_LIVING.hours_per_week == (0.0, 0.0)


def test_asam_labels() -> None:
    assert IOP.asam3 == ("2.1",)
    assert PHP.asam3 == ("2.5",)
    assert "1" in OUTPATIENT.asam3
    assert SOBER_LIVING.asam3 == ()


def test_criteria_of_the_most_intensive_level_are_total() -> None:
    assert STANDARD_CRITERIA["detox"].is_total
    assert not any(STANDARD_CRITERIA[c].is_total for c in ORDER[:-1])
    assert isinstance(STANDARD_CRITERIA["iop"], Criteria)


def test_criteria_never_loosen_as_intensity_rises_except_sober_living_environment() -> None:
    """Each level can manage at least the clinical risk of every less intensive level."""
    clinical = ["outpatient", "iop", "php", "inpatient", "detox"]
    for lower, higher in itertools.pairwise(clinical):
        lo, hi = STANDARD_CRITERIA[lower].maximum, STANDARD_CRITERIA[higher].maximum
        assert all(hi[d] >= r for d, r in lo.items()), (lower, higher)


def test_level_str_is_its_name() -> None:
    assert str(IOP) == "Intensive outpatient (IOP)"


def test_level_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        IOP.intensity = 9  # type: ignore[misc]  # deliberately mutating a frozen record


# -- StayRule ------------------------------------------------------------------------------


def test_stay_rule_problems_lists_every_inconsistency() -> None:
    rule = StayRule(minimum_days=10, typical_days=5, maximum_days=3)
    assert rule.problems() == [
        "typical stay 5 days is below the minimum 10",
        "maximum stay 3 days is below the minimum 10",
        "maximum stay 3 days is below the typical 5",
    ]


def test_stay_rule_problems_maximum_below_typical_only() -> None:
    assert StayRule(minimum_days=1, typical_days=20, maximum_days=10).problems() == [
        "maximum stay 10 days is below the typical 20"
    ]


def test_open_ended_stay_rule_has_no_maximum_problems() -> None:
    assert StayRule(minimum_days=5, typical_days=5).problems() == []
    assert StayRule(minimum_days=5, typical_days=4).problems() == [
        "typical stay 4 days is below the minimum 5"
    ]


def test_stay_rule_describe() -> None:
    assert DETOX.stay.describe() == "3-10 days (typically 5)"
    assert OUTPATIENT.stay.describe() == "at least 28 days (typically 90)"


@pytest.mark.parametrize(
    "kw",
    [
        {"minimum_days": -1, "typical_days": 1},
        {"minimum_days": 1, "typical_days": -1},
        {"minimum_days": 1, "typical_days": 1, "maximum_days": 0},
    ],
)
def test_stay_rule_rejects_negative_days(kw: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="_days"):
        StayRule(**kw)


def test_stay_rule_rejects_non_integers() -> None:
    with pytest.raises(TypeError):
        StayRule(minimum_days=1.5, typical_days=2)  # type: ignore[arg-type]  # wrong type


# -- Level codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["a", "iop", "step_2", "x" * 40])
def test_valid_codes(code: str) -> None:
    assert _level(code).code == code


@pytest.mark.parametrize("code", ["", "IOP", "2iop", "_iop", "iop-2", "i op", "x" * 41, "détox"])
def test_invalid_codes_are_refused_with_the_rule(code: str) -> None:
    with pytest.raises(ValueError, match="lowercase letters, digits or underscores") as info:
        _level(code)
    assert repr(code) in str(info.value)


def test_non_string_code_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"^Level\.code: expected str, got int$") as info:
        _level(3)  # type: ignore[arg-type]  # deliberately wrong type
    assert (info.value.owner, info.value.field) == ("Level", "code")


@pytest.mark.parametrize("code", [INTAKE, "completed", "dropped_out", "transferred_out"])
def test_reserved_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="reserved") as info:
        _level(code)
    assert repr(code) in str(info.value)


def test_bad_fields_are_carepath_errors_naming_the_field() -> None:
    """Every constructor refusal is a CarepathError (also a TypeError / ValueError)."""
    with pytest.raises(InvalidArgument, match=r"^Level\.intensity: expected int, got str$"):
        _level("x", intensity="2")
    with pytest.raises(InvalidArgument, match=r"^StayRule\.minimum_days: must be at least 0"):
        StayRule(minimum_days=-1, typical_days=1)
    with pytest.raises(InvalidArgument, match=r"^StayRule\.maximum_days: expected int, got bool"):
        StayRule(minimum_days=1, typical_days=1, maximum_days=True)
    with pytest.raises(InvalidArgument, match=r"^Override\.reason: must be a non-empty string"):
        Override(reason=" ", by="dr-1")
    with pytest.raises(InvalidArgument, match=r"^Level\.hours_per_week: must satisfy"):
        _level("x", hours_per_week=(9.0, 1.0))
    with pytest.raises(CarepathError):
        place({"withdrawal": 3})  # type: ignore[arg-type]  # deliberately wrong type


def test_level_field_types_are_validated() -> None:
    with pytest.raises(TypeError):
        _level("x", setting="ambulatory")
    with pytest.raises(TypeError):
        _level("x", stay=(1, 2, 3))
    with pytest.raises(TypeError):
        _level("x", medically_monitored=1)
    with pytest.raises(TypeError):
        _level("x", intensity="2")
