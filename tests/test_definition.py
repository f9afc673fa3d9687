"""Pathway definitions as data: round trips, errors that point, guards as data, the schema."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from datetime import UTC, timedelta
from pathlib import Path
from typing import ClassVar, Final, final

import attrs
import jsonschema  # type: ignore[import-untyped]  # no stubs shipped or installed
import pytest
from hypothesis import given
from hypothesis import strategies as st

import carepath
from carepath import (
    Assessment,
    Criteria,
    Dimension,
    Episode,
    Event,
    GuardContext,
    Level,
    Pathway,
    PathwayDefinitionError,
    PathwayError,
    PathwayMismatch,
    RiskAtLeast,
    RiskAtMost,
    Rule,
    Setting,
    StayRule,
    default_rules,
    definition_schema,
    definitions,
    load_catalog,
    standard_pathway,
)
from carepath.definitions._build import BUILTIN_GUARDS
from support import T0

ROOT: Final = Path(__file__).resolve().parent.parent

MINIMAL: Final = """\
id = "clinic"
version = "2026.1"
name = "Riverside clinic"

[[levels]]
code = "counselling"
name = "Counselling"
setting = "ambulatory"
hours_per_week = [1.0, 6.0]
stay = { minimum_days = 14, typical_days = 60 }

[[levels]]
code = "residential"
name = "Residential"
setting = "residential"
medically_monitored = true
hours_per_week = [168.0, 168.0]
stay = { minimum_days = 5, typical_days = 21, maximum_days = 60 }

[criteria]
counselling = { withdrawal = 1, emotional = 2, relapse = 2, environment = 2 }
residential = {}
"""


def problems_of(exc: pytest.ExceptionInfo[PathwayDefinitionError]) -> list[tuple[str, str]]:
    return [(d.path, d.message) for d in exc.value.details]


def detail(
    exc: pytest.ExceptionInfo[PathwayDefinitionError], path: str
) -> carepath.DefinitionProblem:
    found = [d for d in exc.value.details if d.path == path]
    assert found, f"no problem at {path!r}; got {problems_of(exc)}"
    return found[0]


# -- round trips -------------------------------------------------------------------------------


def test_standard_pathway_round_trips_through_every_form() -> None:
    """to_dict / to_toml / to_json, compact or not, read back equal with the same hash."""
    p = standard_pathway()
    for compact in (False, True):
        for back in (
            definitions.from_dict(definitions.to_dict(p, compact=compact)),
            definitions.loads(definitions.dumps(p, compact=compact)),
            definitions.loads(definitions.dumps(p, "json", compact=compact), "json"),
        ):
            assert back == p
            assert back.content_hash == p.content_hash
            assert back.levels == p.levels
            assert dict(back.criteria) == dict(p.criteria)


def test_to_dict_is_the_canonical_form_the_hash_covers() -> None:
    """to_dict() equals to_canonical(), and the compact form names the default rules."""
    p = standard_pathway()
    assert definitions.to_dict(p) == p.to_canonical()
    assert json.loads(definitions.dumps(p, "json")) == p.to_canonical()
    compact = definitions.to_dict(p, compact=True)
    assert compact["rules"] == "default"
    assert compact["criteria"]["detox"] == {}


def test_minimal_file_gets_the_default_rules_and_intensity_by_position() -> None:
    """Leaving out rules means the default rules; intensity defaults to list position."""
    p = definitions.loads(MINIMAL)
    assert [lv.code for lv in p.levels] == ["counselling", "residential"]
    assert [lv.intensity for lv in p.levels] == [0, 1]
    assert p.levels[0].stay.maximum_days is None
    assert p.levels[0].hours_per_week == (1.0, 6.0)
    twin = Pathway(
        id="clinic",
        version="2026.1",
        name="Riverside clinic",
        levels=p.levels,
        criteria=p.criteria,
        rules=default_rules(p.levels),
    )
    assert p == twin


def test_open_ended_hours_are_one_number_in_toml_and_null_in_json() -> None:
    """``hours_per_week = [20.0]`` means 20 or more; JSON may say ``[20.0, null]``."""
    p = standard_pathway()
    assert "hours_per_week = [20.0]\n" in definitions.dumps(p)
    assert p.level("php").hours_per_week == (20.0, None)
    assert json.loads(definitions.dumps(p, "json"))["levels"][3]["hours_per_week"] == [20.0, None]


def test_rule_set_adds_replaces_and_removes_rules() -> None:
    """``[rules]`` with add / remove edits the default rules; a replaced rule keeps its key."""
    text = (
        MINIMAL
        + """
[rules]
base = "default"
remove = [
  { event = "step_up" },
  { event = "relapse", source = "counselling", target = "residential" },
]

[[rules.add]]
event = "step_down"
source = "residential"
target = "counselling"
guards = [
  "minimum_stay", "fits_criteria", { kind = "risk_at_most", dimension = "relapse", risk = 1 },
]
"""
    )
    p = definitions.loads(text)
    assert p.rule(Event.STEP_UP, "counselling", "residential") is None
    assert p.rule(Event.RELAPSE, "counselling", "residential") is None
    down = p.rule(Event.STEP_DOWN, "residential", "counselling")
    assert down is not None
    assert down.guards[-1] == RiskAtMost(dimension=Dimension.RELAPSE, risk=1)
    # The compact form writes the difference from the default rules, and reads back equal.
    compact = definitions.to_dict(p, compact=True)
    assert set(compact["rules"]) == {"base", "add", "remove"}
    assert definitions.from_dict(compact) == p
    assert definitions.loads(definitions.dumps(p, compact=True)) == p


def test_base_none_builds_only_the_added_rules() -> None:
    """``base = "none"`` starts from no rules at all."""
    text = (
        MINIMAL
        + """
[rules]
base = "none"
add = [
  { event = "admit", source = "intake", target = "counselling", guards = ["fits_criteria"] },
  { event = "admit", source = "intake", target = "residential" },
  { event = "step_down", source = "residential", target = "counselling", guards = [] },
  { event = "complete", source = "counselling", target = "completed" },
]
"""
    )
    p = definitions.loads(text)
    assert len(p.rules) == 4


levels_codes = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True).filter(
        lambda c: c not in {"intake", "completed", "dropped_out", "transferred_out"}
    ),
    min_size=1,
    max_size=5,
    unique=True,
)
texts = st.text(st.characters(codec="utf-8"), max_size=30)


@st.composite
def pathways(draw: st.DrawFn) -> Pathway:
    """Valid pathways with random levels, criteria, and guards on the default rules."""
    codes = draw(levels_codes)
    intensities = draw(
        st.lists(st.integers(-50, 50), min_size=len(codes), max_size=len(codes), unique=True)
    )
    levels = []
    for code, intensity in zip(codes, intensities, strict=True):
        minimum = draw(st.integers(0, 30))
        typical = draw(st.integers(minimum, 60))
        maximum = draw(st.none() | st.integers(max(typical, 1), 400))
        low = draw(st.floats(0, 200, allow_nan=False))
        high = draw(st.none() | st.floats(low, 400, allow_nan=False))
        labels = st.lists(texts, max_size=3).map(tuple)
        levels.append(
            Level(
                code=code,
                name=draw(texts),
                intensity=intensity,
                setting=draw(st.sampled_from(Setting)),
                medically_monitored=draw(st.booleans()),
                hours_per_week=(low, high),
                stay=StayRule(minimum_days=minimum, typical_days=typical, maximum_days=maximum),
                asam3=draw(labels),
                asam4=draw(labels),
                description=draw(texts),
            )
        )
    top = max(levels, key=lambda lv: lv.intensity)
    ratings = st.fixed_dictionaries({d.value: st.integers(0, 4) for d in Dimension})
    criteria = {lv.code: Criteria(**draw(ratings)) for lv in levels}
    criteria[top.code] = Criteria()
    rules = default_rules(levels)
    dims, risks = st.sampled_from(Dimension), st.integers(0, 4)
    extra: st.SearchStrategy[RiskAtMost | RiskAtLeast] = st.builds(
        RiskAtMost, dimension=dims, risk=risks
    ) | st.builds(RiskAtLeast, dimension=dims, risk=risks)
    for i in draw(st.lists(st.integers(0, len(rules) - 1), max_size=5, unique=True)):
        r = rules[i]
        rules[i] = Rule(
            event=r.event, source=r.source, target=r.target, guards=(*r.guards, draw(extra))
        )
    return Pathway(
        id=draw(texts.filter(str.strip)),
        version=draw(texts.filter(str.strip)),
        name=draw(texts),
        levels=levels,
        criteria=criteria,
        rules=rules,
    )


@given(pathways())
def test_generated_pathways_round_trip_through_dict_toml_and_json(p: Pathway) -> None:
    """For any valid pathway p: from_X(to_X(p)) == p with the same hash, compact or not."""
    for compact in (False, True):
        for back in (
            definitions.from_dict(definitions.to_dict(p, compact=compact)),
            definitions.loads(definitions.dumps(p, compact=compact)),
            definitions.loads(definitions.dumps(p, "json", compact=compact), "json"),
        ):
            assert back == p
            assert back.content_hash == p.content_hash
            assert back.levels == p.levels


VALIDATOR: Final = jsonschema.Draft202012Validator(definition_schema())


@given(pathways())
def test_generated_pathways_satisfy_the_schema(p: Pathway) -> None:
    """Whatever carepath writes, the JSON Schema accepts (TOML too, once parsed)."""
    VALIDATOR.validate(definitions.to_dict(p))
    VALIDATOR.validate(definitions.to_dict(p, compact=True))
    VALIDATOR.validate(tomllib.loads(definitions.dumps(p, compact=True)))


def test_pathway_mismatch_names_both_pathways() -> None:
    """An episode recorded on one catalog, loaded with another, names both pathways."""
    asam4 = load_catalog("asam4")
    ep = asam4.start("patient-9", at=T0, episode_id="ep-9")
    ep.admit("outpatient", at=T0, assessment=Assessment(readiness=2))
    with pytest.raises(PathwayMismatch) as exc:
        Episode.from_json(ep.to_json(), standard_pathway())
    message = str(exc.value)
    assert "'asam4' version '1'" in message
    assert asam4.content_hash[:12] in message
    assert "'standard' version '1'" in message
    assert standard_pathway().content_hash[:12] in message
    assert Episode.from_json(ep.to_json(), load_catalog("asam4")).version == 1


# -- errors that point -------------------------------------------------------------------------


def test_toml_syntax_error_has_line_and_column() -> None:
    """A TOML syntax error is a PathwayDefinitionError with the parser's line and column."""
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads('id = "x"\nversion = \n', file="p.toml")
    d = exc.value.details[0]
    assert (d.file, d.line, d.column) == ("p.toml", 2, 11)
    assert d.message.startswith("invalid TOML: ")
    assert str(d).startswith("p.toml:2:11: invalid TOML")
    assert exc.value.__cause__ is None
    assert exc.value.__suppress_context__


def test_json_syntax_error_has_line_and_column() -> None:
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads('{\n  "id": "x",\n  "version": }', "json", file="p.json")
    d = exc.value.details[0]
    assert (d.line, d.column) == (3, 14)
    assert d.message.startswith("invalid JSON: Expecting value")


def test_wrong_kinds_of_value_are_located() -> None:
    """Bad types name the key path, the line, what came and what was expected."""
    text = (
        MINIMAL.replace("minimum_days = 14", 'minimum_days = "14"')
        .replace('setting = "residential"', 'setting = "hospital"')
        .replace("medically_monitored = true", "medically_monitored = 1")
    )
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text, file="clinic.toml")
    d = detail(exc, "levels[0].stay.minimum_days")
    assert d.message == "expected an integer, got a string"
    assert d.line == 10
    d = detail(exc, "levels[1].setting")
    assert d.message == (
        "'hospital' is not one of 'residential', 'day', 'ambulatory', 'recovery_residence'"
    )
    assert d.line == 15
    assert detail(exc, "levels[1].medically_monitored").message == (
        "expected true or false, got an integer"
    )
    assert "clinic.toml:10: levels[0].stay.minimum_days: expected an integer" in str(exc.value)


def test_unknown_and_missing_keys_are_located() -> None:
    text = MINIMAL.replace('name = "Counselling"\n', 'colour = "teal"\n').replace(
        'version = "2026.1"\n', ""
    )
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text)
    assert detail(exc, "version").message == "required key is missing"
    d = detail(exc, "levels[0].colour")
    assert d.message.startswith("unknown key; allowed here: code, name, setting, stay")
    assert d.line == 6  # the version line was taken out above
    assert detail(exc, "levels[0].name").message == "required key is missing"


def test_stay_rule_minimum_above_maximum_is_located() -> None:
    text = MINIMAL.replace(
        "minimum_days = 5, typical_days = 21, maximum_days = 60",
        "minimum_days = 50, typical_days = 55, maximum_days = 30",
    )
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text, file="clinic.toml")
    d = detail(exc, "levels[1].stay.maximum_days")
    assert d.message == "maximum stay 30 days is below the minimum 50"
    assert d.line == 18


def test_unknown_level_in_a_rule_is_located() -> None:
    text = (
        MINIMAL
        + """
[rules]
add = [{ event = "step_down", source = "residential", target = "counseling" }]
"""
    )
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text)
    d = detail(exc, "rules.add[0].target")
    assert d.message == ("step_down residential -> counseling: unknown target level 'counseling'")
    assert d.line == 25


def test_unknown_guard_kind_lists_the_known_ones() -> None:
    text = (
        MINIMAL
        + """
[[rules]]
event = "admit"
source = "intake"
target = "counselling"
guards = ["fits_criteria", "fits_critera"]
"""
    )
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text)
    d = detail(exc, "rules[0].guards[1]")
    assert d.message == (
        "unknown guard kind 'fits_critera'; known kinds: fits_criteria, maximum_stay, "
        "minimum_stay, needs_more_care, no_higher_need, placement, relapse_placement, "
        "risk_at_least, risk_at_most"
    )
    assert d.line == 28


def test_guard_parameters_are_checked() -> None:
    text = (
        """\
rules = [
  { event = "admit", source = "intake", target = "counselling", guards = [
      { kind = "risk_at_most", dimension = "withdrawl", risk = 1 },
      { kind = "risk_at_least", dimension = "relapse" },
      { kind = "minimum_stay", days = 3 },
  ] },
]
"""
        + MINIMAL
    )
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text)
    assert detail(exc, "rules[0].guards[0]").message.startswith(
        "guard 'risk_at_most': dimension 'withdrawl' is not one of withdrawal, biomedical"
    )
    assert detail(exc, "rules[0].guards[1]").message == (
        "guard 'risk_at_least' needs the parameter 'risk'; it takes dimension, risk"
    )
    assert detail(exc, "rules[0].guards[2].days").message == (
        "guard 'minimum_stay' has no parameter 'days'; it takes no parameters"
    )


def test_level_that_cannot_reach_an_outcome_is_located() -> None:
    text = (
        MINIMAL
        + """
[rules]
remove = [
  { event = "complete", source = "residential" },
  { event = "drop_out", source = "residential" },
  { event = "transfer_out", source = "residential" },
  { event = "step_down", source = "residential" },
]
"""
    )
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text, file="clinic.toml")
    d = detail(exc, "levels[1]")
    assert d.message == "level 'residential' has no way to an outcome"
    assert d.line == 12
    assert isinstance(exc.value, PathwayError)  # callers catching PathwayError see it too


def test_criteria_problems_are_located() -> None:
    text = MINIMAL.replace("residential = {}", "residential = { withdrawal = 3, cravings = 5 }")
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text)
    assert detail(exc, "criteria.residential.cravings").message.startswith("unknown dimension")
    fixed = MINIMAL.replace("residential = {}", "residential = { withdrawal = 3 }")
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(fixed)
    assert detail(exc, "criteria.residential").message.startswith(
        "no level accepts every assessment"
    )
    out_of_range = MINIMAL.replace("residential = {}", "residential = { withdrawal = 7 }")
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(out_of_range)
    assert detail(exc, "criteria.residential.withdrawal").message == (
        "a maximum rating must be 0-4, got 7"
    )


def test_bad_level_codes_and_duplicates_are_located() -> None:
    text = MINIMAL.replace('code = "counselling"', 'code = "Counselling"')
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text)
    assert "is not a level code" in detail(exc, "levels[0].code").message
    twice = MINIMAL.replace('code = "residential"', 'code = "counselling"')
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(twice)
    d = detail(exc, "levels[1].code")
    assert d.message == "level code 'counselling' is used twice"
    assert d.line == 13


def test_every_problem_is_reported_at_once() -> None:
    """One bad level does not hide the problems of the others, or of the rules."""
    text = MINIMAL.replace('setting = "ambulatory"', "setting = 3").replace(
        "maximum_days = 60", "maximum_days = 2"
    )
    text = 'rules = "standard"\n' + text
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text)
    assert {d.path for d in exc.value.details} == {
        "levels[0].setting",
        "levels[1].stay.maximum_days",
        "rules",
    }
    assert str(exc.value).startswith("pathway 'clinic' has 4 problems:")  # max < min, typical


def test_json_problems_are_located_by_line() -> None:
    data = definitions.to_dict(standard_pathway())
    data["levels"][2]["stay"]["maximum_days"] = 1
    text = json.dumps(data, indent=2)
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(text, "json", file="std.json")
    d = detail(exc, "levels[2].stay.maximum_days")
    line = text.splitlines()[d.line - 1] if d.line else ""
    assert '"maximum_days": 1' in line


def test_from_dict_problems_have_paths_but_no_lines() -> None:
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.from_dict({"id": "x", "version": "1", "levels": "none", "criteria": {}})
    assert problems_of(exc) == [("levels", "expected an array of levels, got a string")]
    assert exc.value.details[0].line is None


def test_from_file_reads_toml_and_json_and_reports_missing_files(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(definitions.dumps(standard_pathway()), encoding="utf-8")
    (tmp_path / "p.json").write_text(
        definitions.dumps(standard_pathway(), "json"), encoding="utf-8"
    )
    assert definitions.load(tmp_path / "p.toml") == standard_pathway()
    assert definitions.load(str(tmp_path / "p.json")) == standard_pathway()
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.load(tmp_path / "missing.toml")
    assert exc.value.details[0].message.startswith("cannot read the file")
    (tmp_path / "bad.toml").write_bytes(b'id = "x"\nname = "\xff"\n')
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.load(tmp_path / "bad.toml")
    assert exc.value.details[0].line == 2


# -- custom guards -----------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class QuietHours:
    """Moves happen only between ``start`` and ``end`` o'clock (UTC)."""

    kind: ClassVar[str] = "quiet_hours"
    overridable: ClassVar[bool] = True
    start: int = 8
    end: int = 18

    def check(self, ctx: GuardContext) -> Sequence[str]:
        if self.start <= ctx.at.astimezone(UTC).hour < self.end:
            return ()
        return (f"moves happen between {self.start}:00 and {self.end}:00",)


CUSTOM: Final = (
    MINIMAL
    + """
[[rules.add]]
event = "step_down"
source = "residential"
target = "counselling"
guards = ["minimum_stay", "fits_criteria", { kind = "quiet_hours", start = 9, end = 17 }]
"""
)


def test_custom_guards_are_registered_by_name_and_round_trip() -> None:
    """A custom guard kind given to the loader is built from the file's parameters."""
    guards = {"quiet_hours": QuietHours}
    p = definitions.loads(CUSTOM, guards=guards)
    rule = p.rule(Event.STEP_DOWN, "residential", "counselling")
    assert rule is not None
    assert rule.guards[-1] == QuietHours(start=9, end=17)
    assert definitions.loads(definitions.dumps(p), guards=guards) == p
    assert definitions.loads(definitions.dumps(p, compact=True), guards=guards) == p
    ep = p.start("pt", at=T0)
    ep.admit("residential", at=T0, assessment=Assessment(withdrawal=2))
    late = (T0 + timedelta(days=6)).replace(hour=20)
    decision = ep.check(Event.STEP_DOWN, "counselling", at=late, assessment=Assessment())
    assert not decision.allowed
    assert [r.message for r in decision.reasons] == ["moves happen between 9:00 and 17:00"]


def test_unregistered_custom_guard_is_an_unknown_kind() -> None:
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(CUSTOM)
    d = detail(exc, "rules.add[0].guards[2].kind")
    assert d.message.startswith("unknown guard kind 'quiet_hours'; known kinds: fits_criteria")


def test_custom_guard_factories_that_fail_are_located() -> None:
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(
            CUSTOM.replace("end = 17", "finish = 17"), guards={"quiet_hours": QuietHours}
        )
    d = detail(exc, "rules.add[0].guards[2]")
    assert d.message.startswith("guard 'quiet_hours': ")
    assert "finish" in d.message

    def wrong_kind(**params: object) -> QuietHours:
        return QuietHours()

    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(
            CUSTOM.replace('"quiet_hours"', '"office_hours"'), guards={"office_hours": wrong_kind}
        )
    assert "made a guard of kind 'quiet_hours'" in detail(exc, "rules.add[0].guards[2]").message
    with pytest.raises(PathwayDefinitionError) as exc:
        definitions.loads(MINIMAL, guards={"fits_criteria": QuietHours})
    assert "is a built-in kind" in str(exc.value)


# -- the schema and the format reference -------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = definition_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert definition_schema() is not schema  # callers may change their copy


def test_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(definition_schema())
    good = tomllib.loads(MINIMAL)
    assert not list(validator.iter_errors(good))
    for broken in (
        {**good, "colour": "teal"},
        {**good, "rules": "standard"},
        {**good, "levels": [{**good["levels"][0], "setting": "hospital"}]},
        {**good, "levels": [{**good["levels"][0], "code": "Counselling"}]},
        {**good, "criteria": {"counselling": {"cravings": 1}}},
    ):
        assert list(validator.iter_errors(broken))
        with pytest.raises(PathwayDefinitionError):
            definitions.from_dict(broken)


def _reference_sections() -> dict[str, set[str]]:
    """``## heading`` -> the keys in the first column of its table, from the reference page."""
    text = (ROOT / "docs" / "format-reference.md").read_text(encoding="utf-8")
    sections: dict[str, set[str]] = {}
    current = ""
    for line in text.splitlines():
        m = re.match(r"^## .*\(`(?P<name>[^`]+)`\)", line)
        if m:
            current = m["name"]
            sections[current] = set()
            continue
        cell = re.match(r"^\| `(?P<key>[^`]+)` \|", line)
        if cell and current:
            sections[current].add(cell["key"])
    return sections


def test_format_reference_documents_exactly_the_schema_keys() -> None:
    """Every key in docs/format-reference.md is in the schema, and every schema key is
    documented."""
    schema = definition_schema()
    defs = schema["$defs"]
    expected = {
        "top level": set(schema["properties"]),
        "level": set(defs["level"]["properties"]),
        "stay": set(defs["stay"]["properties"]),
        "criteria": set(defs["criteria"]["properties"]),
        "rule": set(defs["rule"]["properties"]),
        "rule_set": set(defs["rule_set"]["properties"]),
        "removal": set(defs["removal"]["properties"]),
        "guard": set(BUILTIN_GUARDS),
    }
    assert _reference_sections() == expected


def test_catalog_names_and_unknown_catalog() -> None:
    assert list(carepath.catalogs()) == ["standard", "asam3", "asam4", "adolescent"]
    with pytest.raises(PathwayDefinitionError) as exc:
        load_catalog("asam5")
    assert "no catalog named 'asam5'; known: standard, asam3, asam4, adolescent" in str(exc.value)


def test_core_import_stays_light() -> None:
    """Importing carepath (with the definition layer) imports no optional extra."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = (
        "import sys, carepath, carepath.definitions as d; d.dumps(carepath.standard_pathway()); "
        "print(sorted(m for m in ('click', 'rich', 'jsonschema', 'numpy', 'pandas') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unusable_paths_and_catalog_names_are_definition_errors() -> None:
    with pytest.raises(PathwayDefinitionError, match="not a valid path"):
        definitions.load("a\0b.toml")
    with pytest.raises(PathwayDefinitionError, match="no catalog named a list"):
        load_catalog(["standard"])  # type: ignore[arg-type]  # the runtime check
    assert load_catalog("standard") is load_catalog("standard")
