"""Every command that reads a file, given a bad one: exit status 2, one line on stderr,
never a traceback; a UTF-8 BOM is accepted everywhere (issue 22)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("click")
from click.testing import CliRunner, Result  # after the skip

from carepath import Assessment, standard_pathway
from carepath.cli import main  # after the skip

PATHWAY = standard_pathway()
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _episode_json() -> str:
    ep = PATHWAY.start("patient-1", at=T0, episode_id="ep-1")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="MSG001")
    return ep.to_json()


def _bundle_json() -> str:
    pytest.importorskip("fhir.resources")
    from carepath.interop import to_fhir  # noqa: PLC0415  # the extra

    ep = PATHWAY.start("patient-1", at=T0, episode_id="ep-1")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="MSG001")
    return to_fhir(ep, "R4B").model_dump_json()


# Each command: (name, the arguments around the file, the file's good content, suffix).
Args = Callable[[str, Path], list[str]]
COMMANDS: list[tuple[str, Args, Callable[[], str], str]] = [
    ("validate", lambda f, d: ["validate", f], PATHWAY.to_toml, ".toml"),
    ("show", lambda f, d: ["show", f], PATHWAY.to_toml, ".toml"),
    ("paths", lambda f, d: ["paths", "--pathway", f], PATHWAY.to_toml, ".toml"),
    (
        "diagram",
        lambda f, d: ["diagram", "--pathway", f, "--format", "mermaid"],
        PATHWAY.to_toml,
        ".toml",
    ),
    (
        "simulate",
        lambda f, d: ["simulate", "--pathway", f, "-n", "5", "-d", "5"],
        PATHWAY.to_json,
        ".json",
    ),
    (
        "store check",
        lambda f, d: ["store", "check", _db(d), "--pathway", f],
        PATHWAY.to_toml,
        ".toml",
    ),
    ("fhir export", lambda f, d: ["fhir", "export", f], _episode_json, ".json"),
    (
        "fhir export --pathway",
        lambda f, d: ["fhir", "export", _file(d, "ep.json", _episode_json()), "--pathway", f],
        PATHWAY.to_toml,
        ".toml",
    ),
    ("fhir import", lambda f, d: ["fhir", "import", f], _bundle_json, ".json"),
    ("store import", lambda f, d: ["store", "import", _db(d), f], _episode_json, ".jsonl"),
]
IDS = [c[0] for c in COMMANDS]


def _db(d: Path) -> str:
    """A store (created) in ``d``."""
    pytest.importorskip("sqlalchemy")
    from carepath.store import EpisodeStore  # noqa: PLC0415  # the extra

    url = f"sqlite:///{d / 'store.db'}"
    EpisodeStore.open(url).close()
    return url


def _file(d: Path, name: str, text: str) -> str:
    f = d / name
    if not f.exists():
        f.write_text(text, encoding="utf-8")
    return str(f)


def _run(args: list[str], stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)


def _one_line_exit_2(result: Result) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output


def _bad_inputs(d: Path, suffix: str, good: str) -> dict[str, tuple[str, str]]:
    """name -> (path, words the message must hold)."""
    (d / "empty").mkdir()
    empty = d / f"empty{suffix}"
    empty.write_text("  \n", encoding="utf-8")
    latin = d / f"latin{suffix}"
    latin.write_bytes(good.encode().replace(b"1", b"\xe9", 1))
    blocker = d / "a-file"
    blocker.write_text("x", encoding="utf-8")
    return {
        "missing": (str(d / f"missing{suffix}"), "No such file"),
        "unreadable": (str(blocker / f"child{suffix}"), "Not a directory"),
        "directory": (str(d / "empty"), "Is a directory"),
        "empty": (str(empty), "empty input"),
        "non-utf8": (str(latin), "byte offset"),
    }


KINDS = ["missing", "unreadable", "directory", "empty", "non-utf8"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("name", "args", "good", "suffix"), COMMANDS, ids=IDS)
def test_bad_input_is_one_line_and_exit_status_2(
    name: str, args: Args, good: Callable[[], str], suffix: str, kind: str, tmp_path: Path
) -> None:
    path, words = _bad_inputs(tmp_path, suffix, good())[kind]
    result = _run(args(path, tmp_path))
    _one_line_exit_2(result)
    assert words in result.stderr
    if kind == "non-utf8":
        assert "save it as UTF-8" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
@pytest.mark.parametrize(("name", "args", "good", "suffix"), COMMANDS, ids=IDS)
def test_a_file_without_read_permission(
    name: str, args: Args, good: Callable[[], str], suffix: str, tmp_path: Path
) -> None:  # pragma: no cover - not as root
    f = tmp_path / f"locked{suffix}"
    f.write_text(good(), encoding="utf-8")
    f.chmod(0)
    result = _run(args(str(f), tmp_path))
    _one_line_exit_2(result)
    assert "Permission denied" in result.stderr


@pytest.mark.parametrize(("name", "args", "good", "suffix"), COMMANDS, ids=IDS)
def test_a_bom_is_accepted(
    name: str, args: Args, good: Callable[[], str], suffix: str, tmp_path: Path
) -> None:
    f = tmp_path / f"bom{suffix}"
    f.write_bytes(b"\xef\xbb\xbf" + good().encode())
    result = _run(args(str(f), tmp_path))
    assert result.exit_code == 0, result.output


def test_fhir_import_and_store_import_read_standard_input(tmp_path: Path) -> None:
    bundle = b"\xef\xbb\xbf" + _bundle_json().encode()
    result = _run(["fhir", "import", "-"], stdin=bundle)
    assert result.exit_code == 0, result.output
    assert '"id": "ep-1"' in result.stdout
    result = _run(["store", "import", _db(tmp_path), "-"], stdin=_episode_json().encode())
    assert result.exit_code == 0, result.output
    assert "imported 1 episodes" in result.stdout
    result = _run(["fhir", "import", "-"], stdin=b"")
    _one_line_exit_2(result)
    assert "<stdin>: empty input" in result.stderr


def test_store_import_names_the_byte_offset_of_a_later_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "eps.jsonl"
    first = _episode_json()
    f.write_bytes(first.encode() + b"\n" + b'{"id": "\xff"}\n')
    result = _run(["store", "import", _db(tmp_path), str(f)])
    _one_line_exit_2(result)
    assert f"byte offset {len(first.encode()) + 1 + 8}" in result.stderr  # {"id": " is 8
    assert "line 2" in result.stderr


# -- --guards MODULE:NAME ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("def broken(:\n", "SyntaxError in"),
        ("x = 1\nraise RuntimeError('PHI-SECRET in user code')\n", "RuntimeError in"),
        ("import no_such_module_here_xyz\n", "ModuleNotFoundError: no module named"),
        ("x = 1\n\n\ny = 1 / 0\n", "ZeroDivisionError in"),
    ],
)
def test_guards_modules_that_fail_are_reported_without_a_traceback(
    source: str, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"guards_{abs(hash(source))}"
    (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = _run(["paths", "--guards", f"{name}:GUARDS"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert words in result.stderr
    assert f"cannot import {name}" in result.stderr
    assert "PHI-SECRET" not in result.output
    if "in" in words.split()[-1:]:
        assert f"{name}.py at line" in result.stderr
    if source.startswith("x = 1\n\n\n"):
        assert "at line 4" in result.stderr
