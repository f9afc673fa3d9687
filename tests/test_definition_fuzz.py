"""Fuzzing the definition readers: whatever comes in, only PathwayDefinitionError comes out."""

from __future__ import annotations

import json
from typing import Final

from hypothesis import given, settings
from hypothesis import strategies as st

from carepath import Pathway, PathwayDefinitionError, definitions, standard_pathway

STANDARD: Final = definitions.to_dict(standard_pathway(), compact=True)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "default",
            "none",
            "admit",
            "step_down",
            "intake",
            "completed",
            "outpatient",
            "iop",
            "detox",
            "fits_criteria",
            "risk_at_most",
            "withdrawal",
            "residential",
            "ambulatory",
        ]
    )
)
keys = st.sampled_from(
    [
        "id",
        "version",
        "name",
        "levels",
        "criteria",
        "rules",
        "code",
        "setting",
        "stay",
        "minimum_days",
        "typical_days",
        "maximum_days",
        "hours_per_week",
        "intensity",
        "event",
        "source",
        "target",
        "guards",
        "kind",
        "dimension",
        "risk",
        "base",
        "add",
        "remove",
        "withdrawal",
        "format_version",
        "$schema",
    ]
) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


def _mutations(data: object) -> st.SearchStrategy[object]:
    """Replace one node of ``data`` (found by a random walk) with a random value."""

    @st.composite
    def mutate(draw: st.DrawFn) -> object:
        copy = json.loads(json.dumps(data))
        node = copy
        for _ in range(draw(st.integers(0, 5))):
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
                if isinstance(node[key], dict | list) and node[key]:
                    node = node[key]
                    continue
                node[key] = draw(values)
                return copy
            if isinstance(node, list) and node:
                i = draw(st.integers(0, len(node) - 1))
                if isinstance(node[i], dict | list) and node[i]:
                    node = node[i]
                    continue
                node[i] = draw(values)
                return copy
            break
        if isinstance(node, dict):
            node[draw(keys)] = draw(values)
        elif isinstance(node, list):
            node.append(draw(values))
        return copy

    return mutate()


def _from_json(text: object) -> Pathway:
    return definitions.loads(text, "json")  # type: ignore[arg-type]  # fuzzed input


def _only_definition_errors(call: object, *args: object) -> None:
    try:
        result = call(*args)  # type: ignore[operator]  # the readers under test
    except PathwayDefinitionError as exc:
        problems = exc.details
        text = str(exc)
    else:
        assert isinstance(result, Pathway)
        return
    assert problems, "an error must list at least one problem"
    assert all(d.message for d in problems)
    assert text


@settings(max_examples=300)
@given(values)
def test_random_data_gives_only_definition_errors(data: object) -> None:
    """Random nested data through from_dict: a Pathway or PathwayDefinitionError, nothing else."""
    _only_definition_errors(definitions.from_dict, data)


@settings(max_examples=300)
@given(_mutations(STANDARD))
def test_mutated_standard_definition_gives_only_definition_errors(data: object) -> None:
    """The standard definition with one node replaced: only PathwayDefinitionError comes out."""
    _only_definition_errors(definitions.from_dict, data)
    _only_definition_errors(_from_json, json.dumps(data))


@settings(max_examples=200)
@given(st.text(max_size=200) | st.binary(max_size=100))
def test_random_text_gives_only_definition_errors(text: str | bytes) -> None:
    """Random text as TOML and as JSON: only PathwayDefinitionError comes out."""
    if isinstance(text, str):
        _only_definition_errors(definitions.loads, text)
    _only_definition_errors(_from_json, text)


TOML_LINES: Final = definitions.dumps(standard_pathway(), compact=True).splitlines()


@settings(max_examples=200)
@given(st.data())
def test_edited_toml_gives_only_definition_errors(data: st.DataObject) -> None:
    """The standard TOML with lines deleted, duplicated or garbled: located errors only."""
    lines = list(TOML_LINES)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "garble", "retype"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "garble":
            cut = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + data.draw(st.text(max_size=5)) + lines[i][cut:]
        elif "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = (
                key
                + "= "
                + data.draw(
                    st.sampled_from(
                        ['"x"', "3", "-1", "[]", "{}", "true", "1.5", '["a"]', "{ kind = 1 }"]
                    )
                )
            )
    try:
        definitions.loads("\n".join(lines), file="edited.toml")
    except PathwayDefinitionError as exc:
        for d in exc.details:
            assert d.file == "edited.toml"
            assert d.line is None or 1 <= d.line <= len(lines) + 1


def test_deeply_nested_input_is_a_definition_error() -> None:
    """Nesting deep enough to exhaust the parser's recursion is still a located error."""
    for text in ("[" * 100_000, "x = " + "[" * 100_000):
        _only_definition_errors(_from_json, text)
        _only_definition_errors(definitions.loads, text)
    deep: object = 1
    for _ in range(50):
        deep = [deep]
    _only_definition_errors(definitions.from_dict, {**STANDARD, "levels": deep})
    _only_definition_errors(definitions.from_dict, ["not", "a", "table"])
    _only_definition_errors(definitions.loads, 3)
