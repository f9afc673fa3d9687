"""The typed face stays typed: mypy must flag each deliberate mistake in type_tests/bad/.

Every line marked ``# E: <code>`` must get exactly that error code, and no other line
may get an error. (``type_tests/good_usage.py`` is checked by the main mypy run.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "type_tests" / "bad"
MARK = re.compile(r"#\s*E:\s*([a-z0-9-]+)")
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z0-9-]+)\]$")

Finding = tuple[str, int, str]


def expected_errors() -> set[Finding]:
    out: set[Finding] = set()
    for path in sorted(BAD.glob("bad_*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if m := MARK.search(line):
                out.add((path.name, n, m.group(1)))
    return out


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> set[Finding]:
    files = [str(p) for p in sorted(BAD.glob("bad_*.py"))]
    cache = tmp_path_factory.mktemp("mypy_cache")
    stdout, stderr, _status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache),
            "--no-pretty",
            "--show-error-codes",
            "--no-error-summary",
            "--hide-error-context",
            *files,
        ]
    )
    assert stderr == ""
    out: set[Finding] = set()
    for line in stdout.splitlines():
        if m := ERROR.match(line):
            out.add((Path(m["path"]).name, int(m["line"]), m["code"]))
        else:
            assert ": note: " in line, line
    return out


def test_there_are_marked_mistakes() -> None:
    expected = expected_errors()
    assert {name for name, _, _ in expected} == {"bad_events.py", "bad_values.py"}
    codes = {code for _, _, code in expected}
    assert {"attr-defined", "arg-type", "call-arg"} <= codes


@pytest.mark.parametrize("finding", sorted(expected_errors()), ids=lambda f: f"{f[0]}:{f[1]}")
def test_mypy_reports_the_expected_error(finding: Finding, reported: set[Finding]) -> None:
    assert finding in reported


def test_mypy_reports_nothing_else(reported: set[Finding]) -> None:
    assert reported - expected_errors() == set()


def test_bad_files_are_excluded_from_the_main_run() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'exclude = ["type_tests/bad/"]' in text
