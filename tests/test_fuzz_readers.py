"""Fuzzing the readers of outside input (issue 22): episode JSON, pathway files (as text
and bytes), store import lines. Whatever comes in, only the reader's documented error
comes out; separator-heavy input costs time linear in its length.

Bounded by the Hypothesis profile: ``make test`` runs the ``dev``/``ci`` profile,
``make fuzz`` the same tests with the ``fuzz`` profile (many more examples).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepath import (
    Assessment,
    Episode,
    EpisodeLoadError,
    PathwayDefinitionError,
    StoreError,
    definitions,
    standard_pathway,
)

PATHWAY = standard_pathway()
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _episode_text() -> str:
    ep = PATHWAY.start("patient-1", at=T0, episode_id="ep-1")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="MSG001")
    ep.reassess(Assessment(withdrawal=2), at=T0 + timedelta(days=1), event_id="MSG002")
    return ep.to_json()


EPISODE = _episode_text()
TOML = definitions.dumps(PATHWAY)
JSON = definitions.dumps(PATHWAY, "json")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few random edits: deletions, insertions of JSON punctuation or
    random text, and duplicated slices."""
    out = text
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(out)))
        j = draw(st.integers(i, min(len(out), i + 40)))
        edit = draw(st.sampled_from(["delete", "insert", "punct", "duplicate", "nest"]))
        if edit == "delete":
            out = out[:i] + out[j:]
        elif edit == "insert":
            out = out[:i] + draw(st.text(max_size=10)) + out[i:]
        elif edit == "punct":
            out = out[:i] + draw(st.text(alphabet='{}[]",:\\0-e.', max_size=6)) + out[i:]
        elif edit == "duplicate":
            out = out[:j] + out[i:j] + out[j:]
        else:
            n = draw(st.integers(1, 300))
            out = out[:i] + "[" * n + out[i:j] + "]" * n + out[j:]
    return out


anything = st.binary(max_size=300) | st.text(max_size=300)


@given(mutated(EPISODE) | anything)
def test_episode_json_raises_only_episode_load_error(text: str | bytes) -> None:
    """Episode.from_json: a mutated episode, random text or bytes -> an Episode or an
    EpisodeLoadError (PathwayMismatch included), nothing else."""
    with contextlib.suppress(EpisodeLoadError):
        Episode.from_json(text, PATHWAY)


@given(mutated(TOML) | anything)
def test_pathway_toml_raises_only_definition_errors(text: str | bytes) -> None:
    with contextlib.suppress(PathwayDefinitionError):
        definitions.loads(text)


@given(mutated(JSON) | anything)
def test_pathway_json_raises_only_definition_errors(text: str | bytes) -> None:
    with contextlib.suppress(PathwayDefinitionError):
        definitions.loads(text, "json")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(mutated(EPISODE) | st.text(max_size=200), min_size=1, max_size=3))
def test_store_import_raises_only_store_errors(lines: list[str], tmp_path: Path) -> None:
    """import_episodes: mutated episode lines or random text -> imported, or a
    StoreError (CorruptRecord for lines that are not episodes), nothing else."""
    pytest.importorskip("sqlalchemy")
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra

    with (
        EpisodeStore.open(f"sqlite:///{tmp_path / 'fuzz.db'}") as store,
        contextlib.suppress(StoreError),
    ):
        store.import_episodes(lines)


# -- linear time on separator-heavy input ------------------------------------------------------


def _seconds(fn: Callable[[str], Any], text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with contextlib.suppress(EpisodeLoadError, PathwayDefinitionError, StoreError):
            fn(text)
        best = min(best, time.perf_counter() - start)
    return best


def _import(text: str) -> None:
    pytest.importorskip("sqlalchemy")
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra

    with EpisodeStore.open("sqlite://") as store:
        store.import_episodes([text])


READERS: dict[str, Callable[[str], Any]] = {
    "episode JSON": lambda t: Episode.from_json(t, PATHWAY),
    "pathway JSON": lambda t: definitions.loads(t, "json"),
    "store import": _import,
}
SEPARATORS: dict[str, Callable[[int], str]] = {
    "[": lambda n: "[" * n,
    "{": lambda n: '{"a":' * n,
    ",": lambda n: "[" + "1," * n + "1]",
    '"': lambda n: '"' + '\\"' * n + '"',
    ":": lambda n: "{" + ",".join(f'"k{i}":{i}' for i in range(n)) + "}",
    "dup": lambda n: "{" + '"a":1,' * n + '"a":1}',
}


@pytest.mark.parametrize("sep", sorted(SEPARATORS))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_separator_heavy_input_costs_linear_time(reader: str, sep: str) -> None:
    """Ten times the separators cost about ten times the time (a quadratic reader would
    take a hundred times): measured as a ratio in the same run, never in seconds."""
    fn, make = READERS[reader], SEPARATORS[sep]
    if reader == "pathway JSON" and sep == ":":
        pytest.skip("200,000 unknown keys make 200,000 listed problems: slow, not a separator")
    small = _seconds(fn, make(20_000))
    large = _seconds(fn, make(200_000))
    assert large < 50 * max(small, 2e-4), (small, large)


def test_a_megabyte_of_brackets_is_refused_quickly_relative_to_json() -> None:
    """1 MB of '[' is refused by the depth limit in about the time json.loads takes to
    parse a megabyte of ordinary JSON (same run, ratio)."""
    ordinary = json.dumps([{"a": i, "b": "x" * 10} for i in range(40_000)])
    base = _seconds(json.loads, ordinary)
    deep = _seconds(READERS["episode JSON"], "[" * 1_000_000)
    assert deep < 20 * base, (base, deep)
