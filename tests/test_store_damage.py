"""Damaged store rows are caught one by one (issue 22).

A property test writes random damage (truncation, splicing across rows, nesting,
wrong types) into random rows of a real SQLite store and checks that every read path
(load, data, export, import_episodes, check) raises only CorruptRecord, that undamaged
episodes still load, and that check() reports every damaged row by episode and seq.
"""

from __future__ import annotations

import functools
import io
import json
import re
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _store_support import T0
from carepath import Assessment, CorruptRecord, Episode, StoreError, standard_pathway
from carepath.store import EpisodeStore
from carepath.store._rows import import_line

PATHWAY = standard_pathway()
_WHERE = re.compile(r"episode '([^']*)' seq (\d+)")


def _episode(episode_id: str) -> Episode:
    ep = PATHWAY.start("patient-1", at=T0, episode_id=episode_id)
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3, relapse=2), event_id="MSG001")
    ep.reassess(Assessment(withdrawal=2), at=T0 + timedelta(days=1), event_id="MSG002")
    ep.step_down("inpatient", at=T0 + timedelta(days=3), event_id="MSG003")
    ep.drop_out(at=T0 + timedelta(days=5), reason="left early", event_id="MSG004")
    return ep


EPISODES = ("ep-1", "ep-2", "ep-3")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with three episodes of four events, closed (no WAL left)."""
    path = tmp_path_factory.mktemp("damage") / "template.db"
    with EpisodeStore.open(f"sqlite:///{path}") as s:
        for e in EPISODES:
            s.create(_episode(e))
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return path


ROWS = [(e, seq) for e in EPISODES for seq in range(1, 5)]

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=6,
)


@st.composite
def damage(draw: st.DrawFn, texts: dict[tuple[str, int], str]) -> tuple[tuple[str, int], object]:
    """A row and the new value of its payload (text, or another type)."""
    row = draw(st.sampled_from(ROWS))
    old = texts[row]
    kind = draw(st.sampled_from(["truncate", "splice", "nest", "deep", "field", "type", "junk"]))
    if kind == "truncate":
        return row, old[: draw(st.integers(0, len(old) - 1))]
    if kind == "splice":  # the start of this row and the end of another (or itself)
        other = texts[draw(st.sampled_from(ROWS))]
        return row, old[: draw(st.integers(0, len(old)))] + other[
            draw(st.integers(0, len(other))) :
        ]
    if kind == "nest":
        n = draw(st.integers(1, 5))
        return row, "[" * n + old + "]" * n
    if kind == "deep":
        n = draw(st.integers(17, 50_000))
        return row, '{"a":' * n + "1" + "}" * n
    if kind == "field":  # a field of the event given a value of another type
        data: dict[str, Any] = json.loads(old)
        key = draw(st.sampled_from(sorted(data)))
        data[key] = draw(json_values)
        return row, json.dumps(data)
    if kind == "type":  # a value of another type in the column itself
        return row, draw(st.integers() | st.floats(allow_nan=False) | st.binary(max_size=8))
    return row, draw(st.text(max_size=40))


def _texts(path: Path) -> dict[tuple[str, int], str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT episode_id, seq, payload FROM carepath_events").all()
    engine.dispose()
    return {(e, s): p for e, s, p in rows}


def _must_be_corrupt(fn: Callable[[], object]) -> None:
    with pytest.raises(CorruptRecord) as info:
        fn()
    assert info.value.table
    assert info.value.episode_id in (*EPISODES, "")


@pytest.fixture(scope="module")
def originals(template: Path) -> dict[tuple[str, int], str]:
    return _texts(template)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_every_damaged_row_is_caught_on_every_read_path(
    data: st.DataObject,
    template: Path,
    originals: dict[tuple[str, int], str],
    tmp_path: Path,
) -> None:
    """Whatever is written into rows, reads raise only CorruptRecord, undamaged
    episodes load, and check() reports every damaged row and raises nothing."""
    changes = dict(data.draw(st.lists(damage(originals), min_size=1, max_size=4)))
    damaged = {row for row, value in changes.items() if value != originals[row]}
    path = tmp_path / f"s{data.draw(st.integers(0, 10**9))}.db"
    shutil.copy(template, path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for (e, seq), value in changes.items():
            conn.execute(
                sa.text(
                    "UPDATE carepath_events SET payload = :p WHERE episode_id = :e AND seq = :s"
                ),
                {"p": value, "e": e, "s": seq},
            )
    engine.dispose()
    with EpisodeStore.open(f"sqlite:///{path}") as store:
        bad_episodes = {e for e, _ in damaged}
        for e in EPISODES:
            if e in bad_episodes:
                _must_be_corrupt(functools.partial(store.load, e, PATHWAY))
                _must_be_corrupt(functools.partial(store.data, e))
            else:
                assert store.load(e, PATHWAY) == _episode(e)
        if bad_episodes:
            _must_be_corrupt(lambda: store.export(io.StringIO()))
        else:
            store.export(io.StringIO())
        problems = store.check([PATHWAY])
        problems_without_pathway = store.check()
    reported = {(m[1], int(m[2])) for p in problems for m in _WHERE.finditer(p)}
    assert damaged <= reported
    assert {e for e, _ in reported} == bad_episodes
    assert {(m[1], int(m[2])) for p in problems_without_pathway for m in _WHERE.finditer(p)} >= (
        damaged
    )
    for p in problems:  # row contents are never quoted
        assert "left early" not in p


@pytest.fixture(scope="module")
def export_lines(template: Path) -> list[str]:
    out = io.StringIO()
    with EpisodeStore.open(f"sqlite:///{template}") as s:
        s.export(out)
    return out.getvalue().splitlines(keepends=True)


@st.composite
def damaged_lines(draw: st.DrawFn, lines: list[str]) -> list[str]:
    """Export lines with one of them damaged (truncated, spliced, nested, retyped)."""
    i = draw(st.integers(0, len(lines) - 1))
    old = lines[i].rstrip("\n")
    kind = draw(st.sampled_from(["truncate", "splice", "nest", "deep", "field", "junk"]))
    if kind == "truncate":
        new = old[: draw(st.integers(0, len(old) - 1))]
    elif kind == "splice":
        other = draw(st.sampled_from(lines)).rstrip("\n")
        new = old[: draw(st.integers(0, len(old)))] + other[draw(st.integers(0, len(other))) :]
    elif kind == "nest":
        new = "[" * draw(st.integers(1, 5)) + old
    elif kind == "deep":
        n = draw(st.integers(17, 50_000))
        new = "[" * n + "]" * n
    elif kind == "field":
        data = json.loads(old)
        target: dict[str, Any] = data
        if draw(st.booleans()):
            target = data["events"][draw(st.integers(0, len(data["events"]) - 1))]
        target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
        new = json.dumps(data)
    else:
        new = draw(st.text(max_size=40))
    out = list(lines)
    out[i] = new + "\n"
    return out


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_damaged_import_lines_raise_only_store_errors(
    data: st.DataObject, export_lines: list[str], tmp_path: Path
) -> None:
    """A damaged line is a CorruptRecord unless it is still a well-formed episode (then
    the store's own checks may refuse it as a StoreError); nothing else escapes."""
    lines = data.draw(damaged_lines(export_lines))
    path = tmp_path / f"i{data.draw(st.integers(0, 10**9))}.db"
    with EpisodeStore.open(f"sqlite:///{path}") as store:
        try:
            store.import_episodes(lines)
        except CorruptRecord:
            pass
        except StoreError:
            for n, line in enumerate(lines, 1):  # only a well-formed line gets this far
                if line.strip():
                    import_line(line, n)
