"""Risk ratings, dimensions and the frozen Assessment record."""

from __future__ import annotations

import attrs
import pytest

from carepath import Assessment, CarepathError, Dimension, InvalidAssessment, Risk

FIELDS = [d.value for d in Dimension]


def test_risk_is_an_int_enum_from_none_to_severe() -> None:
    assert [int(r) for r in Risk] == [0, 1, 2, 3, 4]
    assert [r.label for r in Risk] == ["none", "mild", "moderate", "significant", "severe"]
    assert Risk.SIGNIFICANT.describe() == "3 (significant)"
    assert Risk.MILD < Risk.SEVERE


def test_dimensions_are_the_six_in_the_standard_order() -> None:
    assert FIELDS == [
        "withdrawal",
        "biomedical",
        "emotional",
        "readiness",
        "relapse",
        "environment",
    ]
    assert Dimension.WITHDRAWAL.label == "withdrawal risk"
    assert Dimension.ENVIRONMENT.label == "recovery-environment risk"
    assert all(d.label for d in Dimension)


def test_missing_ratings_default_to_none() -> None:
    a = Assessment()
    assert all(r is Risk.NONE for _, r in a.items())
    assert a.as_tuple() == (0, 0, 0, 0, 0, 0)


def test_ratings_are_converted_to_risk() -> None:
    a = Assessment(withdrawal=3, relapse=Risk.MODERATE)
    assert a.withdrawal is Risk.SIGNIFICANT
    assert a.relapse is Risk.MODERATE
    assert a[Dimension.WITHDRAWAL] is Risk.SIGNIFICANT
    assert a.as_dict() == {
        "withdrawal": 3,
        "biomedical": 0,
        "emotional": 0,
        "readiness": 0,
        "relapse": 2,
        "environment": 0,
    }


def test_assessment_is_frozen_and_compares_by_value() -> None:
    a = Assessment(emotional=2)
    assert a == Assessment(emotional=Risk.MODERATE)
    assert hash(a) == hash(Assessment(emotional=2))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.emotional = Risk.NONE  # type: ignore[misc]  # deliberately mutating a frozen record


def test_highest_is_the_first_maximum_in_standard_order() -> None:
    assert Assessment(relapse=3, biomedical=3, emotional=1).highest == (
        Dimension.BIOMEDICAL,
        Risk.SIGNIFICANT,
    )
    assert Assessment().highest == (Dimension.WITHDRAWAL, Risk.NONE)


def test_repr_lists_every_rating() -> None:
    assert repr(Assessment(withdrawal=3, environment=1)) == (
        "Assessment(withdrawal=3, biomedical=0, emotional=0, readiness=0, relapse=0, environment=1)"
    )


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", [-1, 5, 100])
def test_out_of_range_rating_names_the_field(field: str, value: int) -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment(**{field: value})
    assert info.value.field == field
    assert f"{field!r}" in str(info.value)
    assert "out of range" in str(info.value)
    assert "0-4" in str(info.value)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(
    ("value", "type_name"),
    [(True, "bool"), (False, "bool"), (2.0, "float"), ("3", "str"), (None, "NoneType")],
)
def test_wrong_type_rating_names_the_field_and_the_type(
    field: str, value: object, type_name: str
) -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment(**{field: value})  # type: ignore[arg-type]  # deliberately wrong type
    err = info.value
    assert err.field == field
    assert f"{field!r}" in str(err)
    assert type_name in str(err)


def test_invalid_assessment_is_a_value_error_and_a_carepath_error() -> None:
    with pytest.raises(ValueError, match="withdrawal"):
        Assessment(withdrawal=7)
    with pytest.raises(CarepathError):
        Assessment(readiness=-2)


def test_first_bad_field_is_reported() -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment(biomedical=9, environment=9)
    assert info.value.field == "biomedical"


def test_index_and_from_index_are_inverse_over_every_profile() -> None:
    """Exhaustive: from_index(a.index) == a and index(from_index(i)) == i for all 5**6."""
    seen = set()
    for i, a in enumerate(Assessment.all_profiles()):
        assert a.index == i
        assert Assessment.from_index(i) == a
        seen.add(a.as_tuple())
    assert len(seen) == 5**6 == 15_625


def test_index_uses_withdrawal_as_the_lowest_digit() -> None:
    assert Assessment(withdrawal=1).index == 1
    assert Assessment(biomedical=1).index == 5
    assert Assessment(environment=4).index == 4 * 5**5
    assert Assessment.from_index(5**6 - 1) == Assessment(
        withdrawal=4, biomedical=4, emotional=4, readiness=4, relapse=4, environment=4
    )


@pytest.mark.parametrize("index", [-1, 15_625, 10**9])
def test_from_index_out_of_range(index: int) -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment.from_index(index)
    assert info.value.field == "index"
    assert "out of range" in str(info.value)


@pytest.mark.parametrize("index", [True, 1.0, "3", None])
def test_from_index_wrong_type(index: object) -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment.from_index(index)  # type: ignore[arg-type]  # deliberately wrong type
    assert info.value.field == "index"


def test_from_mapping_round_trips_as_dict() -> None:
    a = Assessment(withdrawal=1, biomedical=2, emotional=3, readiness=4, relapse=0, environment=2)
    assert Assessment.from_mapping(a.as_dict()) == a
    assert Assessment.from_mapping({"relapse": 2}) == Assessment(relapse=2)
    assert Assessment.from_mapping({}) == Assessment()


def test_from_mapping_unknown_key_names_it_and_lists_the_allowed() -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment.from_mapping({"withdrawl": 2})
    assert info.value.field == "withdrawl"
    assert "unknown dimension" in str(info.value)
    for name in FIELDS:
        assert name in info.value.problem


def test_from_mapping_checks_values() -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment.from_mapping({"relapse": "2"})
    assert info.value.field == "relapse"


def test_from_mapping_refuses_a_non_mapping() -> None:
    with pytest.raises(InvalidAssessment) as info:
        Assessment.from_mapping([("relapse", 2)])  # type: ignore[arg-type]  # not a mapping
    assert info.value.field == "assessment"
    assert "list" in str(info.value)


def test_getitem_accepts_the_dimension_value() -> None:
    a = Assessment(readiness=3)
    assert a[Dimension("readiness")] is Risk.SIGNIFICANT
    assert a["readiness"] is Risk.SIGNIFICANT  # type: ignore[index]  # StrEnum lookup by value
