"""Hostile input to the loaders: BOMs, non-UTF-8, duplicate keys, deep nesting (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepath import (
    Episode,
    EpisodeLoadError,
    PathwayDefinitionError,
    definitions,
    standard_pathway,
)

STANDARD = standard_pathway()
TOML = definitions.dumps(STANDARD)
JSON = definitions.dumps(STANDARD, "json")


def test_from_toml_accepts_a_bom() -> None:
    assert definitions.loads("\ufeff" + TOML) == STANDARD
    assert definitions.loads("\ufeff" + JSON, "json") == STANDARD
    assert definitions.loads(b"\xef\xbb\xbf" + JSON.encode(), "json") == STANDARD


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_pathway_files_with_a_bom_load(tmp_path: Path, suffix: str) -> None:
    f = tmp_path / f"p{suffix}"
    f.write_bytes(b"\xef\xbb\xbf" + (TOML if suffix == ".toml" else JSON).encode())
    assert definitions.load(f) == STANDARD


def test_json_duplicate_keys_are_refused_like_tomls() -> None:
    text = '{"id": "a", ' + JSON.lstrip()[1:]
    with pytest.raises(PathwayDefinitionError) as info:
        definitions.loads(text, "json")
    assert "duplicate key 'id' in the object at /" in str(info.value)
    assert info.value.details[0].line == 1
    nested = JSON.replace('"levels": [\n    {', '"levels": [\n    {"code": "zzz",', 1)
    assert nested != JSON
    with pytest.raises(PathwayDefinitionError, match=r"duplicate key 'code' .* /levels/0") as info:
        definitions.loads(nested, "json", file="p.json")
    problem = info.value.details[0]
    assert problem.path == "levels[0]"
    assert problem.line == nested.splitlines().index('    {"code": "zzz",') + 1
    with pytest.raises(PathwayDefinitionError, match="Cannot overwrite"):
        definitions.loads('id = "a"\nid = "b"\n')


def test_non_utf8_pathway_names_the_byte(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_bytes(TOML.encode().replace(b"version", b"v\xe9rsion", 1))
    with pytest.raises(
        PathwayDefinitionError, match=r"not UTF-8 text: byte 0xe9 at byte offset \d+"
    ):
        definitions.load(f)


def test_deep_pathway_json_is_a_definition_error() -> None:
    with pytest.raises(PathwayDefinitionError, match="max_depth"):
        definitions.loads("[" * 100_000, "json")


def _episode_json() -> str:
    ep = STANDARD.start(
        "p-1",
        at=__import__("datetime").datetime(2026, 1, 5, tzinfo=__import__("datetime").UTC),
        episode_id="ep-1",
    )
    return ep.to_json()


def test_episode_json_bom_and_duplicates() -> None:
    text = _episode_json()
    assert Episode.from_json("\ufeff" + text, STANDARD).id == "ep-1"
    assert Episode.from_json(b"\xef\xbb\xbf" + text.encode(), STANDARD).id == "ep-1"
    with pytest.raises(EpisodeLoadError, match="duplicate key 'id' in the object at /"):
        Episode.from_json('{"id": "x", ' + text[1:], STANDARD)
    with pytest.raises(EpisodeLoadError, match="byte offset 0"):
        Episode.from_json(b"\xff" + text.encode(), STANDARD)
