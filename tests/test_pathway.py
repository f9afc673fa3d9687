"""Pathway definitions: validation, custom pathways, identity and the shared engine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import pytest
from transitions import Machine

import carepath._machine
from carepath import (
    INTAKE,
    Assessment,
    Criteria,
    Episode,
    Event,
    FitsCriteria,
    Guard,
    GuardContext,
    InvalidArgument,
    InvalidEvent,
    Level,
    MinimumStay,
    Outcome,
    Override,
    Pathway,
    PathwayError,
    RiskAtMost,
    Rule,
    Setting,
    StayRule,
    TransitionRejected,
    default_rules,
    place,
    standard_pathway,
)
from carepath import Dimension as D
from carepath.levels import STANDARD_CRITERIA, STANDARD_LEVELS

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)

CLINIC = Level(
    code="clinic",
    name="Clinic",
    intensity=0,
    setting=Setting.AMBULATORY,
    stay=StayRule(minimum_days=14, typical_days=30),
)
DAY = Level(
    code="day",
    name="Day programme",
    intensity=1,
    setting=Setting.DAY,
    stay=StayRule(minimum_days=5, typical_days=10, maximum_days=30),
)
RESIDENTIAL = Level(
    code="residential",
    name="Residential",
    intensity=2,
    setting=Setting.RESIDENTIAL,
    medically_monitored=True,
    stay=StayRule(minimum_days=7, typical_days=21, maximum_days=60),
)
LEVELS = (CLINIC, DAY, RESIDENTIAL)
CRITERIA = {
    "clinic": Criteria(withdrawal=0, relapse=1, environment=1),
    "day": Criteria(withdrawal=1, relapse=2, environment=3),
    "residential": Criteria(),
}


class ReadyForDischarge:
    """A custom, non-overridable guard: readiness concern must be at most mild."""

    kind: ClassVar[str] = "ready_for_discharge"
    overridable: ClassVar[bool] = False

    def check(self, ctx: GuardContext) -> Sequence[str]:
        a = ctx.assessment
        if a is not None and a.readiness <= 1:
            return ()
        return ("the patient has no discharge plan they agree to",)


def custom_rules() -> list[Rule]:
    fits, minimum = FitsCriteria(), MinimumStay()
    rules = [Rule(event=Event.ADMIT, source=INTAKE, target=lv.code, guards=[fits]) for lv in LEVELS]
    rules += [
        Rule(event=Event.STEP_DOWN, source="residential", target="day", guards=[minimum, fits]),
        Rule(event=Event.STEP_DOWN, source="day", target="clinic", guards=[minimum, fits]),
        Rule(event=Event.STEP_UP, source="clinic", target="day", guards=[fits]),
        Rule(event=Event.STEP_UP, source="day", target="residential", guards=[fits]),
        Rule(
            event=Event.COMPLETE,
            source="clinic",
            target="completed",
            guards=[minimum, ReadyForDischarge()],
        ),
    ]
    for lv in LEVELS:
        rules.append(Rule(event=Event.REASSESS, source=lv.code, target=lv.code))
        rules.append(Rule(event=Event.DROP_OUT, source=lv.code, target="dropped_out"))
        rules.append(Rule(event=Event.RELAPSE, source=lv.code, target=lv.code))
    rules.append(
        Rule(
            event=Event.RELAPSE,
            source="clinic",
            target="residential",
            guards=[RiskAtMost(dimension=D.BIOMEDICAL, risk=4)],
        )
    )
    return rules


def custom_pathway(**changes: Any) -> Pathway:
    kw: dict[str, Any] = {
        "id": "community",
        "version": "2",
        "levels": LEVELS,
        "criteria": CRITERIA,
        "rules": custom_rules(),
        "name": "Community programme",
    }
    kw.update(changes)
    return Pathway(**kw)


# -- the standard pathway ------------------------------------------------------------------


def test_standard_pathway_validates() -> None:
    p = standard_pathway()
    assert p.id == "standard"
    assert [lv.code for lv in p.levels] == [
        "outpatient",
        "sober_living",
        "iop",
        "php",
        "inpatient",
        "detox",
    ]


def test_standard_pathway_is_cached() -> None:
    assert standard_pathway() is standard_pathway()


def test_standard_pathway_states() -> None:
    p = standard_pathway()
    assert p.states[0] == INTAKE
    assert set(p.states) == {INTAKE, *(lv.code for lv in p.levels), *(o.value for o in Outcome)}


def test_every_rule_of_the_standard_pathway_is_well_shaped() -> None:
    p = standard_pathway()
    by_code = {lv.code: lv for lv in p.levels}
    for r in p.rules:
        if r.event is Event.STEP_DOWN:
            assert by_code[r.target].intensity < by_code[r.source].intensity
        if r.event is Event.STEP_UP:
            assert by_code[r.target].intensity > by_code[r.source].intensity
        if r.event is Event.ADMIT:
            assert r.source == INTAKE


def test_level_lookup() -> None:
    p = standard_pathway()
    iop = p.level("iop")
    assert p.level(iop) is iop
    assert p.criteria_for(iop) is p.criteria["iop"]
    assert p.rule(Event.STEP_DOWN, "inpatient", "iop") is not None
    assert p.rule(Event.STEP_DOWN, "iop", "inpatient") is None
    assert {r.source for r in p.rules_from("iop")} == {"iop"}
    assert p.rules_from("completed") == ()


def test_level_lookup_refuses_foreign_levels() -> None:
    p = standard_pathway()
    with pytest.raises(InvalidEvent) as info:
        p.level("iopp")
    assert info.value.field == "level"
    assert "'iopp' is not a level of pathway 'standard'" in str(info.value)
    foreign = Level(
        code="iop",
        name="Other IOP",
        intensity=2,
        setting=Setting.AMBULATORY,
        stay=StayRule(minimum_days=1, typical_days=1),
    )
    with pytest.raises(ValueError, match="not a level of pathway 'standard'"):
        p.level(foreign)


# -- custom pathways -----------------------------------------------------------------------


def test_custom_pathway_validates_and_places() -> None:
    p = custom_pathway()
    assert [lv.code for lv in p.levels] == ["clinic", "day", "residential"]
    assert place(Assessment(relapse=1), p).level is CLINIC
    assert place(Assessment(relapse=2), p).level is DAY
    assert place(Assessment(withdrawal=3), p).level is RESIDENTIAL
    assert p.place(Assessment(environment=2)).level is DAY


def test_levels_are_sorted_by_intensity_whatever_the_given_order() -> None:
    p = custom_pathway(levels=(RESIDENTIAL, CLINIC, DAY))
    assert p.levels == LEVELS
    assert p.content_hash == custom_pathway().content_hash


def test_custom_pathway_end_to_end() -> None:
    p = custom_pathway()
    ep = p.start("c-17", at=T0)
    ep.admit("residential", at=T0, assessment=Assessment(withdrawal=2, relapse=3))
    with pytest.raises(TransitionRejected) as info:
        ep.step_down("day", at=T0 + timedelta(days=2), assessment=Assessment(relapse=2))
    assert [r.message for r in info.value.reasons] == [
        "Residential's minimum stay is 7 days; the patient has been there 2.0 days "
        "(5.0 days to go)",
    ]
    ep.step_down("day", at=T0 + timedelta(days=8), assessment=Assessment(relapse=2))
    ep.step_down("clinic", at=T0 + timedelta(days=14), assessment=Assessment(relapse=1))
    # the custom guard is not overridable
    late = T0 + timedelta(days=40)
    with pytest.raises(TransitionRejected) as info:
        ep.complete(
            at=late,
            assessment=Assessment(readiness=3),
            override=Override(reason="team decision", by="dr-1"),
        )
    assert [(r.kind, r.overridable) for r in info.value.reasons] == [
        ("ready_for_discharge", False),
    ]
    assert not info.value.overridable
    ep.complete(at=late, assessment=Assessment(readiness=1))
    assert ep.outcome is Outcome.COMPLETED
    assert [(r.source, r.target) for r in ep.history] == [
        ("intake", "residential"),
        ("residential", "day"),
        ("day", "clinic"),
        ("clinic", "completed"),
    ]
    assert Episode.from_json(ep.to_json(), p) == ep


def test_custom_pathway_has_only_its_own_moves() -> None:
    p = custom_pathway()
    ep = p.start("c-18", at=T0)
    ep.admit("day", at=T0, assessment=Assessment(relapse=2))
    with pytest.raises(TransitionRejected) as info:
        ep.complete(at=T0 + timedelta(days=90), override=Override(reason="r", by="dr"))
    assert info.value.reasons[0].kind == "structure"
    assert "the pathway has no complete move from Day programme to completed" in (
        info.value.explain()
    )


def test_default_rules_over_custom_levels_validate() -> None:
    p = Pathway(id="c", version="1", levels=LEVELS, criteria=CRITERIA, rules=default_rules(LEVELS))
    assert p.name == "c"


def test_custom_guard_satisfies_the_protocol() -> None:
    assert isinstance(ReadyForDischarge(), Guard)
    assert isinstance(FitsCriteria(), Guard)
    assert not isinstance(object(), Guard)


# -- validation: every problem at once -----------------------------------------------------


def test_pathway_reports_every_problem_at_once() -> None:
    clinic_twice = Level(
        code="clinic",
        name="Clinic 2",
        intensity=5,
        setting=Setting.AMBULATORY,
        stay=StayRule(minimum_days=1, typical_days=1),
    )
    bad_stay = Level(
        code="bad_stay",
        name="Bad stay",
        intensity=6,
        setting=Setting.DAY,
        stay=StayRule(minimum_days=10, typical_days=5, maximum_days=20),
    )
    island = Level(
        code="island",
        name="Island",
        intensity=7,
        setting=Setting.DAY,
        stay=StayRule(minimum_days=1, typical_days=1),
    )
    trap = Level(
        code="trap",
        name="Trap",
        intensity=8,
        setting=Setting.DAY,
        stay=StayRule(minimum_days=1, typical_days=1),
    )
    levels = (*LEVELS, clinic_twice, bad_stay, island, trap)
    criteria = {
        "clinic": CRITERIA["clinic"],
        "day": CRITERIA["day"],
        "residential": Criteria(withdrawal=3),  # nothing is total any more
        "bad_stay": Criteria(relapse=3),
        "island": Criteria(relapse=3),
        "trap": Criteria(relapse=3),
        "ghost": Criteria(),
    }
    rules = [
        *custom_rules(),
        Rule(event=Event.ADMIT, source=INTAKE, target="bad_stay"),
        Rule(event=Event.DROP_OUT, source="bad_stay", target="dropped_out"),
        Rule(event=Event.DROP_OUT, source="island", target="dropped_out"),
        Rule(event=Event.ADMIT, source=INTAKE, target="trap"),
        Rule(event=Event.STEP_DOWN, source="clinic", target="residential"),  # goes up
        Rule(event=Event.STEP_UP, source="day", target="ghost"),  # unknown level
        Rule(event=Event.COMPLETE, source="day", target="dropped_out"),
        Rule(event=Event.ADMIT, source=INTAKE, target="clinic"),  # defined twice
        Rule(event=Event.DROP_OUT, source="completed", target="dropped_out"),
    ]
    with pytest.raises(PathwayError) as info:
        Pathway(id="broken", version="1", levels=levels, criteria=criteria, rules=rules)
    err = info.value
    problems = err.problems
    text = "\n".join(map(str, problems))
    expected = [
        "level code 'clinic' is used twice",
        "level 'bad_stay': typical stay 5 days is below the minimum 10",
        "criteria given for unknown level 'ghost'",
        "no level accepts every assessment",
        "unknown target level 'ghost'",
        "step_down must go to a less intensive level",
        "complete must lead to 'completed'",
        "the same move is defined twice",
        "'completed' is an outcome; nothing leaves an outcome",
        "level 'island' is unreachable from intake",
        "level 'trap' has no way to an outcome",
    ]
    missing = [e for e in expected if e not in text]
    assert missing == []
    assert {p.code for p in problems} >= {
        "duplicate_level_code",
        "stay_inconsistent",
        "criteria_for_unknown_level",
        "placement_not_total",
        "unknown_target",
        "rule_shape",
        "duplicate_rule",
        "source_is_outcome",
        "level_unreachable",
        "level_without_exit",
    }
    assert err.pathway_id == "broken"
    assert f"pathway 'broken' has {len(problems)} problems:" in str(err)
    for p in problems:
        assert f"  - {p}" in str(err)


def test_unreachable_level_is_reported() -> None:
    rules = [r for r in custom_rules() if r.target != "day"]
    with pytest.raises(PathwayError) as info:
        custom_pathway(rules=rules)
    assert [str(p) for p in info.value.problems] == [
        "levels[1]: level 'day' is unreachable from intake"
    ]
    assert "1 problem:" in str(info.value)


def test_level_with_no_way_to_an_outcome_is_reported() -> None:
    rules = [
        r
        for r in custom_rules()
        if not (
            r.source == "clinic"
            and (r.event in {Event.DROP_OUT, Event.COMPLETE} or r.target in {"day", "residential"})
        )
    ]
    with pytest.raises(PathwayError) as info:
        custom_pathway(rules=rules)
    assert [p.code for p in info.value.problems] == ["level_without_exit"]


def test_rule_naming_unknown_levels_is_reported() -> None:
    rules = [*custom_rules(), Rule(event=Event.STEP_DOWN, source="resid", target="dya")]
    with pytest.raises(PathwayError) as info:
        custom_pathway(rules=rules)
    text = "\n".join(map(str, info.value.problems))
    assert "unknown source level 'resid'" in text
    assert "unknown target level 'dya'" in text


def test_inconsistent_stay_rule_is_reported() -> None:
    bad = Level(
        code="day",
        name="Day",
        intensity=1,
        setting=Setting.DAY,
        stay=StayRule(minimum_days=5, typical_days=10, maximum_days=4),
    )
    with pytest.raises(PathwayError) as info:
        custom_pathway(levels=(CLINIC, bad, RESIDENTIAL))
    assert [(p.code, p.level, p.where, p.message) for p in info.value.problems] == [
        (
            "stay_inconsistent",
            "day",
            ("levels", 1, "stay", "maximum_days"),
            "level 'day': maximum stay 4 days is below the minimum 5",
        ),
        (
            "stay_inconsistent",
            "day",
            ("levels", 1, "stay", "maximum_days"),
            "level 'day': maximum stay 4 days is below the typical 10",
        ),
    ]


def test_non_total_criteria_are_reported() -> None:
    with pytest.raises(PathwayError, match="so that placement is total"):
        custom_pathway(criteria={**CRITERIA, "residential": Criteria(environment=3)})


def test_missing_criteria_and_shared_intensity_are_reported() -> None:
    twin = Level(
        code="twin",
        name="Twin",
        intensity=1,
        setting=Setting.DAY,
        stay=StayRule(minimum_days=1, typical_days=1),
    )
    rules = [
        *custom_rules(),
        Rule(event=Event.ADMIT, source=INTAKE, target="twin"),
        Rule(event=Event.DROP_OUT, source="twin", target="dropped_out"),
    ]
    with pytest.raises(PathwayError) as info:
        custom_pathway(levels=(*LEVELS, twin), rules=rules)
    text = "\n".join(map(str, info.value.problems))
    assert "levels 'day' and 'twin' share intensity 1" in text
    assert "level 'twin' has no criteria" in text


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            Rule(event=Event.STEP_UP, source="residential", target="clinic"),
            "step_up must go to a more intensive level",
        ),
        (
            Rule(event=Event.RELAPSE, source="residential", target="clinic"),
            "relapse stays in place or goes to a more intensive level",
        ),
        (
            Rule(event=Event.REASSESS, source="clinic", target="day"),
            "reassess keeps the patient in place",
        ),
        (
            Rule(event=Event.ADMIT, source="clinic", target="day"),
            "admit goes from intake to a level",
        ),
        (
            Rule(event=Event.STEP_UP, source=INTAKE, target="day"),
            "step_up goes from a level to a level, not from intake",
        ),
        (
            Rule(event=Event.STEP_DOWN, source="day", target="completed"),
            "step_down cannot lead to an outcome",
        ),
        (
            Rule(event=Event.TRANSFER_OUT, source="day", target="dropped_out"),
            "transfer_out must lead to 'transferred_out'",
        ),
    ],
)
def test_badly_shaped_rules_are_reported(rule: Rule, problem: str) -> None:
    with pytest.raises(PathwayError) as info:
        custom_pathway(rules=[*custom_rules(), rule])
    assert len(info.value.problems) == 1
    found = info.value.problems[0]
    assert found.message.endswith(problem)
    assert found.message.startswith(f"{rule.event.value} {rule.source} -> {rule.target}: ")
    assert found.where == ("rules", len(custom_rules()))


def test_wrong_kinds_of_objects_are_reported() -> None:
    with pytest.raises(PathwayError) as info:
        Pathway(
            id="",
            version="",
            levels=[*LEVELS, "iop"],  # type: ignore[list-item]
            criteria={**CRITERIA, "iop": {"withdrawal": 1}},  # type: ignore[dict-item]
            rules=[*custom_rules(), ("admit", INTAKE, "day")],  # type: ignore[list-item]
        )
    text = "\n".join(map(str, info.value.problems))
    assert "id must be a non-empty string" in text
    assert "version must be a non-empty string" in text
    assert "is a str, not a Level" in text
    assert "criteria for 'iop' is a dict, not a Criteria" in text
    assert "is a tuple, not a Rule" in text


def test_guard_not_implementing_the_protocol_is_reported() -> None:
    rules = [*custom_rules()]
    rules[0] = Rule(event=Event.ADMIT, source=INTAKE, target="clinic", guards=[object()])  # type: ignore[list-item]  # deliberately not a Guard
    with pytest.raises(PathwayError, match="guard object does not implement the Guard protocol"):
        custom_pathway(rules=rules)


def test_empty_pathway_is_reported() -> None:
    with pytest.raises(PathwayError, match="at least one level"):
        Pathway(id="e", version="1", levels=(), criteria={}, rules=())


def test_pathway_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="pathway 'community'"):
        custom_pathway(criteria={})


# -- identity ------------------------------------------------------------------------------


def test_content_hash_is_stable_and_equal_for_equal_definitions() -> None:
    a, b = custom_pathway(), custom_pathway()
    assert a is not b
    assert a.content_hash == b.content_hash == a.content_hash
    assert len(a.content_hash) == 64
    int(a.content_hash, 16)
    assert a == b
    assert hash(a) == hash(b)


def test_content_hash_is_stable_across_processes() -> None:
    code = "import carepath; print(carepath.standard_pathway().content_hash)"
    hashes = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert hashes == {standard_pathway().content_hash}


def test_content_hash_changes_when_a_threshold_changes() -> None:
    base = custom_pathway()
    looser = custom_pathway(
        criteria={**CRITERIA, "clinic": Criteria(withdrawal=0, relapse=2, environment=1)}
    )
    assert looser.content_hash != base.content_hash
    assert looser != base


@pytest.mark.parametrize(
    "changes",
    [
        {"version": "3"},
        {"id": "community2"},
        {"rules": custom_rules()[:-1]},
        {
            "levels": (
                CLINIC,
                DAY,
                Level(
                    code="residential",
                    name="Residential",
                    intensity=2,
                    setting=Setting.RESIDENTIAL,
                    medically_monitored=True,
                    stay=StayRule(minimum_days=8, typical_days=21, maximum_days=60),
                ),
            )
        },
    ],
    ids=["version", "id", "rules", "stay"],
)
def test_content_hash_changes_with_the_definition(changes: dict[str, Any]) -> None:
    assert custom_pathway(**changes).content_hash != custom_pathway().content_hash


def test_repr() -> None:
    assert repr(custom_pathway()) == "Pathway(id='community', version='2', levels=3, rules=18)"


# -- the shared engine ---------------------------------------------------------------------


def test_one_engine_per_pathway_shared_by_every_episode() -> None:
    p = custom_pathway()
    episodes = [p.start(f"c-{i}", at=T0) for i in range(5)]
    engines = set()
    for ep in episodes:
        ep.admit("clinic", at=T0, assessment=Assessment())
        engines.add(id(ep.pathway.engine))
    assert engines == {id(p.engine)}
    assert isinstance(p.engine.machine, Machine)


def test_episodes_hold_no_machine() -> None:
    p = custom_pathway()
    ep = p.start("c-1", at=T0)
    ep.admit("clinic", at=T0, assessment=Assessment())
    assert not hasattr(ep, "__dict__")
    for name in type(ep).__slots__:
        value = getattr(ep, name)
        assert not isinstance(value, Machine), name
        assert value is not p.engine, name


def test_no_machine_is_built_per_episode(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []

    class CountingMachine(Machine):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(carepath._machine, "Machine", CountingMachine)
    p = custom_pathway()
    for i in range(50):
        ep = p.start(f"c-{i}", at=T0)
        ep.admit("clinic", at=T0, assessment=Assessment())
        ep.reassess(Assessment(relapse=2), at=T0 + timedelta(days=1))
        ep.step_up("day", at=T0 + timedelta(days=1))
    assert len(built) == 1
    # Episodes are never bound to the machine as models: it holds none at all.
    assert p.engine.machine.models == []


def test_no_auto_transitions() -> None:
    p = standard_pathway()
    machine = p.engine.machine
    assert machine.auto_transitions is False
    for state in p.states:
        triggers = machine.get_triggers(state)
        assert not any(t.startswith("to_") for t in triggers)
    assert set(machine.events) == {r.trigger for r in p.rules}


def test_engine_refuses_moves_the_pathway_lacks() -> None:
    engine = standard_pathway().engine
    assert engine.has("step_down__iop", "inpatient")
    assert not engine.has("step_down__iop", "outpatient")
    assert not engine.has("to_completed", "iop")
    assert engine.fire("step_down__iop", "inpatient") == "iop"


def test_the_most_intensive_level_must_accept_every_profile() -> None:
    """A total level below a limited top would leave a relapse at the top nowhere to go."""
    levels = [
        Level(
            code="a",
            name="A",
            intensity=0,
            setting=Setting.AMBULATORY,
            stay=StayRule(minimum_days=0, typical_days=1),
        ),
        Level(
            code="b",
            name="B",
            intensity=1,
            setting=Setting.RESIDENTIAL,
            stay=StayRule(minimum_days=0, typical_days=1),
        ),
    ]
    with pytest.raises(PathwayError) as info:
        Pathway(
            id="upside-down",
            version="1",
            levels=levels,
            criteria={"a": Criteria(), "b": Criteria(withdrawal=1)},
            rules=default_rules(levels),
        )
    assert any(
        "the most intensive level 'b' must leave every dimension unlimited" in p.message
        for p in info.value.problems
    )


def test_a_guards_settings_are_part_of_the_content_hash() -> None:
    """Two pathways differing only in a plain guard's setting must not share a hash."""

    class MaxDays:
        kind = "max_days"
        overridable = True

        def __init__(self, days: int) -> None:
            self.days = days

        def check(self, ctx: GuardContext) -> Sequence[str]:
            return () if ctx.days_in_level <= self.days else ("too long",)

    def build(days: int) -> Pathway:
        levels = STANDARD_LEVELS
        rules = [
            Rule(
                event=r.event,
                source=r.source,
                target=r.target,
                guards=(*r.guards, MaxDays(days)) if r.event is Event.REASSESS else r.guards,
            )
            for r in default_rules(levels)
        ]
        return Pathway(id="p", version="1", levels=levels, criteria=STANDARD_CRITERIA, rules=rules)

    assert build(1).content_hash != build(1000).content_hash
    assert build(5).content_hash == build(5).content_hash


def test_a_pathways_identity_is_read_only() -> None:
    p = standard_pathway()
    with pytest.raises(AttributeError):
        p.version = "999"  # type: ignore[misc]  # deliberately writing a read-only property
    assert p.version == "1"


def test_a_guard_returning_a_bare_string_is_a_clear_error() -> None:
    """``return "no"`` type-checks as Sequence[str]; it must not become reasons 'n', 'o'."""

    @attrs.frozen
    class Sloppy:
        kind: ClassVar[str] = "sloppy"
        overridable: ClassVar[bool] = True

        def check(self, ctx: GuardContext) -> Sequence[str]:
            return "no"

    rules = [
        Rule(
            event=r.event,
            source=r.source,
            target=r.target,
            guards=(*r.guards, Sloppy()) if r.event is Event.ADMIT else r.guards,
        )
        for r in default_rules(STANDARD_LEVELS)
    ]
    p = Pathway(
        id="sloppy", version="1", levels=STANDARD_LEVELS, criteria=STANDARD_CRITERIA, rules=rules
    )
    ep = p.start("pt", at=T0)
    with pytest.raises(TypeError, match="guard 'sloppy' returned a string"):
        ep.admit("outpatient", at=T0, assessment=Assessment())
    assert ep.version == 0


def test_stateless_slotted_and_plain_guards_with_rich_settings_build_and_hash() -> None:
    """A guard with ``__slots__ = ()`` keeps no settings; one holding a timedelta and a
    frozenset gets a stable content hash (no raw TypeError from JSON)."""

    class Slotted:
        __slots__ = ()
        kind = "slotted"
        overridable = True

        def check(self, ctx: GuardContext) -> Sequence[str]:
            return ()

    class Rich:
        kind = "rich"
        overridable = True

        def __init__(self, days: int) -> None:
            self.window = timedelta(days=days)
            self.codes = frozenset({"b", "a", "c"})

        def check(self, ctx: GuardContext) -> Sequence[str]:
            return ()

    def build(guard: Guard) -> Pathway:
        rules = [
            Rule(
                event=r.event,
                source=r.source,
                target=r.target,
                guards=(*r.guards, guard) if r.event is Event.REASSESS else r.guards,
            )
            for r in default_rules(STANDARD_LEVELS)
        ]
        return Pathway(
            id="p", version="1", levels=STANDARD_LEVELS, criteria=STANDARD_CRITERIA, rules=rules
        )

    slotted = build(Slotted())
    ep = slotted.start("pt", at=T0)
    ep.admit("outpatient", at=T0, assessment=Assessment())
    assert Episode.from_json(ep.to_json(), slotted) == ep
    assert build(Rich(1)).content_hash == build(Rich(1)).content_hash
    assert build(Rich(1)).content_hash != build(Rich(2)).content_hash


def test_rule_and_guard_fields_are_checked_with_carepath_errors() -> None:
    with pytest.raises(InvalidArgument, match=r"^Rule\.guards: expected a sequence of guards"):
        Rule(event=Event.ADMIT, source=INTAKE, target="iop", guards=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match=r"^guard\.risk: rating 9 is out of range"):
        RiskAtMost(dimension=D.WITHDRAWAL, risk=9)
