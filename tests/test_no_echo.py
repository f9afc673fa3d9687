"""Sender text is never echoed (issue 22): SSN-, name-, date- and phone-shaped strings
planted in every field that an error of the episode JSON reader, the store import,
the pathway file reader or the CLI quotes appear in no error message, repr, log
record or CLI output. (HL7 and FHIR readers have their own tests.)

A one-word name in a field of codes ("SMITH") cannot be told from a code; the rule
(:func:`carepath._textio.show`) quotes only short code-shaped values, so names with a
space, a comma or a caret are never quoted.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carepath import Assessment, CarepathError, Episode, definitions, standard_pathway

PATHWAY = standard_pathway()
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
PLANTED = [
    "123-45-6789",  # SSN
    "123456789",
    "Jane Q. Public",  # name
    "Public, Jane",
    "1970-01-31",  # date of birth
    "01/31/1970",
    "(555) 867-5309",  # phone
    "+1 555 867 5309",
    "555-867-5309",
]


def _episode() -> dict[str, Any]:
    ep = PATHWAY.start("patient-1", at=T0, episode_id="ep-1")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="MSG001")
    ep.reassess(Assessment(withdrawal=2), at=T0 + timedelta(days=1), event_id="MSG002")
    return ep.to_dict()


Change = Callable[[dict[str, Any]], dict[str, Any]]


def _set(path: str, value: object, also: Callable[[dict[str, Any]], None] | None = None) -> Change:
    def change(d: dict[str, Any]) -> dict[str, Any]:
        d = copy.deepcopy(d)
        target: Any = d
        keys = path.split(".")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
        if also is not None:
            also(d)
        return d

    return change


def _break_source(d: dict[str, Any]) -> None:
    d["events"][1]["source"] = "iop"


def _break_hash(d: dict[str, Any]) -> None:
    d["pathway"]["content_hash"] = "0" * 64


def _dup_key(value: str) -> str:
    text = json.dumps(_episode())
    return text.replace(
        '"withdrawal": 3', f'"withdrawal": 3, {json.dumps(value)}: 1, {json.dumps(value)}: 2', 1
    )


# Fields of the episode JSON that an error names, each broken so that an error is raised.
FIELDS: dict[str, Callable[[str], Change]] = {
    "id": lambda v: _set("id", v, _break_source),
    "events[].event_id": lambda v: _set("events.1.event_id", v, _break_source),
    "events[].source": lambda v: _set("events.1.source", v),
    "events[].target": lambda v: _set("events.0.target", v),
    "events[].event": lambda v: _set("events.1.event", v),
    "events[].at": lambda v: _set("events.1.at", v),
    "events[].assessment key": lambda v: _set("events.1.assessment", {v: 1}),
    "events[].note": lambda v: _set("events.1.note", [v]),
    "pathway.id": lambda v: _set("pathway.id", v, _break_hash),
    "pathway.version": lambda v: _set("pathway.version", v, _break_hash),
    "previous_episode_id": lambda v: _set("previous_episode_id", [v]),
    "started_at": lambda v: _set("started_at", v),
    "format": lambda v: _set("format", v),
}


def _clean(value: str, *texts: str) -> None:
    for t in texts:
        assert value not in t, t
        assert value.replace(" ", "") not in t.replace(" ", "") or len(value) < 6, t


@pytest.mark.parametrize("value", PLANTED)
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_episode_json_errors_never_echo_planted_values(
    field: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = FIELDS[field](value)(_episode())
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CarepathError) as info:
        Episode.from_json(json.dumps(data), PATHWAY)
    err = info.value
    _clean(
        value, str(err), repr(err), *map(str, err.args), *(r.getMessage() for r in caplog.records)
    )


@pytest.mark.parametrize("value", PLANTED)
def test_duplicate_keys_are_not_echoed(value: str) -> None:
    with pytest.raises(CarepathError) as info:
        Episode.from_json(_dup_key(value), PATHWAY)
    assert "duplicate" in str(info.value)
    _clean(value, str(info.value), repr(info.value))


@pytest.mark.parametrize("value", PLANTED)
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_store_import_errors_never_echo_planted_values(
    field: str, value: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("sqlalchemy")
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra

    data = FIELDS[field](value)(_episode())
    caplog.set_level(logging.DEBUG)
    with EpisodeStore.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        try:
            store.import_episodes([json.dumps(data)])
            # Stored (the import checks shape and order; levels are checked on load).
            store.load(data["id"], PATHWAY)
        except CarepathError as exc:
            _clean(value, str(exc), repr(exc), *(r.getMessage() for r in caplog.records))
        problems = store.check([PATHWAY])
    _clean(value, *problems)


# -- pathway files -----------------------------------------------------------------------------

TOML = definitions.dumps(PATHWAY)


def _pathway_cases(value: str) -> dict[str, str]:
    v = json.dumps(value)
    return {
        "level code": TOML.replace('code = "detox"', f"code = {v}", 1),
        "setting": TOML.replace('setting = "residential"', f"setting = {v}", 1),
        "guard kind": TOML.replace('"fits_criteria"', f"{v}", 1),
        "rule set": f'id = "x"\nversion = "1"\nname = "n"\nrules = {v}\n',
        "unknown key": TOML.replace('id = "standard"', f'id = "standard"\n{v} = 1', 1),
    }


@pytest.mark.parametrize("value", PLANTED)
def test_pathway_file_errors_never_echo_planted_values(value: str) -> None:
    for name, text in _pathway_cases(value).items():
        assert value in text or json.dumps(value)[1:-1] in text, name
        with pytest.raises(CarepathError) as info:
            definitions.loads(text)
        _clean(value, str(info.value), repr(info.value))


# -- the command line --------------------------------------------------------------------------


@pytest.mark.parametrize("value", PLANTED)
def test_cli_output_never_echoes_planted_values(value: str, tmp_path: Path) -> None:
    pytest.importorskip("click")
    from click.testing import CliRunner  # noqa: PLC0415  # the extra

    from carepath.cli import main  # noqa: PLC0415

    runner = CliRunner()
    outputs: list[str] = []
    for i, field in enumerate(sorted(FIELDS)):
        f = tmp_path / f"ep{i}.json"
        f.write_text(json.dumps(FIELDS[field](value)(_episode())), encoding="utf-8")
        outputs.append(
            runner.invoke(
                main, ["store", "import", f"sqlite:///{tmp_path / 's.db'}", str(f)]
            ).output
        )
        if field not in ("events[].note",):  # a note's text is the clinician's, not an error
            outputs.append(runner.invoke(main, ["fhir", "export", str(f)]).output)
    for i, text in enumerate(_pathway_cases(value).values()):
        f = tmp_path / f"p{i}.toml"
        f.write_text(text, encoding="utf-8")
        outputs.append(runner.invoke(main, ["validate", str(f)]).output)
    outputs.append(runner.invoke(main, ["store", "check", f"sqlite:///{tmp_path / 's.db'}"]).output)
    _clean(value, *outputs)
