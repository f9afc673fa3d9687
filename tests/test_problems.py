"""Problems are records: stable codes, where they are, JSON out; messages rendered from them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import carepath
from carepath import (
    Criteria,
    Episode,
    EpisodeLoadError,
    PathwayDefinitionError,
    PathwayError,
    Problem,
    definitions,
    standard_pathway,
)

DOCS = Path(__file__).parent.parent / "docs" / "errors.md"


def documented_codes() -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Problem records") : text.index("## Optional extras")]
    return {
        code
        for row in section.splitlines()
        if row.startswith("| `")
        for code in re.findall(r"`([a-z0-9_]+)`", row.split("|")[1])
    }


def test_a_problem_renders_its_words_from_its_fields_and_serialises_to_json() -> None:
    p = Problem(
        code="unknown_target",
        where=("rules", 3, "target"),
        message="admit intake -> x: unknown target level 'x'",
        level="x",
    )
    assert str(p) == "rules[3].target: admit intake -> x: unknown target level 'x'"
    assert json.loads(json.dumps(p.to_dict())) == {
        "code": "unknown_target",
        "message": "admit intake -> x: unknown target level 'x'",
        "where": "rules[3].target",
        "level": "x",
    }


def test_where_must_be_a_tuple_of_keys_and_indexes() -> None:
    with pytest.raises(TypeError):
        Problem(code="x", message="m", where="levels[2]")  # a string
    with pytest.raises(TypeError):
        Problem(code="x", message="m", where=("levels", 2.5))  # a float


def test_pathway_errors_carry_records_whose_codes_are_documented() -> None:
    levels = standard_pathway().levels
    with pytest.raises(PathwayError) as info:
        carepath.Pathway(
            id="",
            version="1",
            levels=levels,
            criteria={"ghost": Criteria()},
            rules=carepath.default_rules(levels),
        )
    problems = info.value.problems
    assert all(isinstance(p, Problem) for p in problems)
    codes = {p.code for p in problems}
    assert {"id_empty", "level_without_criteria", "criteria_for_unknown_level"} <= codes
    assert codes <= documented_codes()
    for p in problems:  # the message is rendered from the records
        assert f"  - {p}" in str(info.value)


def test_definition_problems_are_records_with_codes_and_lines() -> None:
    text = definitions.dumps(standard_pathway()).replace("maximum_days = 84", "maximum_days = 2")
    text = text.replace('id = "standard"', 'id = "standard"\ncolour = "red"', 1)
    with pytest.raises(PathwayDefinitionError) as info:
        definitions.loads(text, file="p.toml")
    err = info.value
    assert err.problems == err.details
    by_code = {p.code: p for p in err.problems}
    assert set(by_code) <= documented_codes()
    assert by_code["unknown_key"].where == ("colour",)
    stay = by_code["stay_inconsistent"]
    assert stay.where[0] == "levels"
    assert stay.where[2:] == ("stay", "maximum_days")
    data = json.loads(json.dumps([p.to_dict() for p in err.problems]))
    assert all(d["file"] == "p.toml" and "line" in d for d in data)


def test_a_bad_stored_event_is_located_by_index_not_by_words() -> None:
    ep = standard_pathway().start("p-1", at=datetime(2026, 1, 5, tzinfo=UTC))
    ep.admit(
        "detox",
        at=datetime(2026, 1, 5, 1, tzinfo=UTC),
        assessment=carepath.Assessment(withdrawal=3),
    )
    data = ep.to_dict()
    data["events"][0]["note"] = 7
    with pytest.raises(EpisodeLoadError) as info:
        Episode.from_dict(data, standard_pathway())
    err = info.value
    assert err.event_index == 0
    assert err.event_field == "note"
    (problem,) = err.problems
    assert problem.where == ("events", 0, "note")
    assert problem.event_index == 0
    assert problem.code in documented_codes()


def test_every_code_the_library_uses_is_documented() -> None:
    src = Path(carepath.__file__).parent
    used: set[str] = set()
    for path in src.rglob("*.py"):
        if path.name == "levels.py":  # Level(code="detox", ...): level codes, not problem codes
            continue
        used |= set(re.findall(r'\bcode="([a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    assert used, "the scan found the codes"
    assert used <= documented_codes(), used - documented_codes()


def test_an_unknown_level_is_a_lookup_error_naming_it_and_the_known_levels() -> None:
    with pytest.raises(LookupError) as info:
        standard_pathway().level("inpatint")
    err = info.value
    assert isinstance(err, carepath.UnknownLevel)
    assert isinstance(err, carepath.InvalidEvent)  # what callers caught before
    assert err.level == "'inpatint'"
    assert err.known == tuple(lv.code for lv in standard_pathway().levels)
    assert str(err) == (
        "'inpatint' is not a level of pathway 'standard'; did you mean 'inpatient'? known: "
        "outpatient, sober_living, iop, php, inpatient, detox"
    )
