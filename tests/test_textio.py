"""carepath._textio: encodings, strict JSON, limits and the quoting rule."""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepath import CarepathError
from carepath._textio import (
    DEFAULT_MAX_DEPTH,
    TextInputError,
    as_text,
    describe,
    is_quotable,
    iter_lines,
    load_json,
    read_path,
    show,
)

# -- encodings ---------------------------------------------------------------------------------


def test_a_bom_is_stripped_from_bytes_and_text() -> None:
    assert as_text(b"\xef\xbb\xbfabc") == "abc"
    assert as_text("\ufeffabc") == "abc"
    assert as_text("abc\ufeff") == "abc\ufeff"  # only a leading one is a BOM


def test_non_utf8_is_refused_with_the_byte_offset_and_line() -> None:
    with pytest.raises(TextInputError) as info:
        as_text(b"ok\nline two \xe9t\xe9\n", source="f.txt")
    err = info.value
    assert err.offset == 12
    assert err.line == 2
    assert "byte offset 12" in str(err)
    assert "f.txt, line 2" in str(err)
    assert "save it as UTF-8" in str(err)
    assert isinstance(err, CarepathError)
    assert isinstance(err, ValueError)


def test_a_legacy_encoding_is_read_when_asked_for() -> None:
    assert as_text(b"caf\xe9", encoding="latin-1") == "caf\u00e9"
    with pytest.raises(TextInputError, match="unknown encoding"):
        as_text(b"x", encoding="no-such-codec")


def test_the_hint_is_the_callers() -> None:
    with pytest.raises(TextInputError, match="pass --encoding"):
        as_text(b"\xff", hint="pass --encoding")


def test_size_limit() -> None:
    with pytest.raises(TextInputError) as info:
        as_text(b"x" * 11, max_bytes=10)
    assert info.value.limit == "max_bytes"
    assert "10 bytes (max_bytes)" in str(info.value)
    assert as_text(b"x" * 10, max_bytes=10) == "x" * 10
    assert as_text(b"x" * 11, max_bytes=None) == "x" * 11


def test_not_text_is_refused() -> None:
    with pytest.raises(TextInputError, match="expected text or bytes, got int"):
        as_text(3)  # type: ignore[arg-type]  # a wrong type on purpose


def test_read_path(tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    f.write_bytes(b"\xef\xbb\xbf{}")
    assert read_path(f) == "{}"
    assert read_path("-", stdin=io.BytesIO(b"\xef\xbb\xbfhi")) == "hi"
    cases: list[tuple[str | Path, str]] = [
        (tmp_path / "missing", "No such file"),
        (tmp_path, "Is a directory"),
        ("a\0b", "not a valid path"),
    ]
    for bad, reason in cases:
        with pytest.raises(TextInputError, match=reason):
            read_path(bad)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    with pytest.raises(TextInputError, match="max_bytes"):
        read_path(big, max_bytes=99)


def test_iter_lines_strips_the_bom_and_gives_absolute_offsets() -> None:
    lines = list(iter_lines(io.BytesIO(b"\xef\xbb\xbfa\nbb\n\nc")))
    assert lines == [(1, "a\n"), (2, "bb\n"), (3, "\n"), (4, "c")]
    with pytest.raises(TextInputError) as info:
        list(iter_lines(io.BytesIO(b"\xef\xbb\xbfa\nbb\nc\xffd\n"), source="x.jsonl"))
    assert info.value.offset == 9
    assert info.value.line == 3
    with pytest.raises(TextInputError, match="line 2 is longer") as info:
        list(iter_lines(io.BytesIO(b"ab\nabcdef\n"), max_line_bytes=4))
    assert info.value.limit == "max_line_bytes"


# -- strict JSON -------------------------------------------------------------------------------


def test_load_json_is_json() -> None:
    assert load_json('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert load_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_duplicate_keys_name_the_key_and_the_place() -> None:
    with pytest.raises(TextInputError) as info:
        load_json('{"levels": [{"code": "a"}, {"code": "b", "code": "c"}]}')
    assert info.value.pointer == "/levels/1"
    assert "duplicate key 'code' in the object at /levels/1" in str(info.value)
    with pytest.raises(TextInputError, match=r"at / "):
        load_json('{"id": "a", "id": "b"}')


def test_the_first_duplicate_in_document_order_is_named() -> None:
    with pytest.raises(TextInputError) as info:
        load_json('{"a": {"x": 1, "x": 2}, "b": {"y": 1, "y": 2}}')
    assert info.value.pointer == "/a"


def test_a_duplicate_key_that_is_personal_data_is_described_not_quoted() -> None:
    with pytest.raises(TextInputError) as info:
        load_json('{"o": {"Jane Doe": 1, "Jane Doe": 2}}')
    assert "Jane" not in str(info.value)
    assert "an 8-character value that is not a key" in str(info.value)


def test_pointer_escapes() -> None:
    with pytest.raises(TextInputError) as info:
        load_json('{"a/b": [{"k": 1, "k": 1}]}')
    assert info.value.pointer == "/<key>/0"  # "a/b" is not a quotable key


def test_depth_limit_is_an_error_not_a_recursion_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(TextInputError) as info:
        load_json(deep)
    err = info.value
    assert err.limit == "max_depth"
    assert err.offset == DEFAULT_MAX_DEPTH
    assert "deeper than the limit of 100 levels" in str(err)
    assert load_json("[" * 100 + "]" * 100) is not None
    with pytest.raises(TextInputError, match="max_depth"):
        load_json('{"a": ' * 101 + "1" + "}" * 101)
    assert load_json("[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(TextInputError):
        load_json("[[[1]]]", max_depth=2)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 500, "b": '\\"[[[' * 100})
    assert load_json(text, max_depth=1)["a"] == "[" * 500


def test_a_depth_the_interpreter_cannot_parse_is_still_our_error() -> None:
    with pytest.raises(TextInputError, match="lower max_depth"):
        load_json("[" * 100_000 + "]" * 100_000, max_depth=10**6)


@pytest.mark.parametrize(
    "text",
    ["", "  \n", "{", '{"a": 1,}', "NaN", '{"a": Infinity}', "-Infinity", "1" * 5000, "[1] 2"],
)
def test_invalid_json_is_refused(text: str) -> None:
    with pytest.raises(TextInputError):
        load_json(text)


def test_invalid_json_has_line_and_column() -> None:
    with pytest.raises(TextInputError) as info:
        load_json('{\n  "a": 1\n  "b": 2\n}', source="x.json")
    assert (info.value.line, info.value.column) == (3, 3)
    assert str(info.value).startswith("x.json, line 3 column 3: invalid JSON")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=30,
)


@given(json_values)
def test_load_json_agrees_with_json_loads_on_valid_documents(value: Any) -> None:
    """Strict loading changes nothing for JSON without duplicates within the limits."""
    text = json.dumps(value)
    assert load_json(text, max_depth=1000) == json.loads(text)


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_load_json_raises_only_text_input_error(data: bytes | str) -> None:
    """Any input parses or raises TextInputError; nothing else escapes."""
    with contextlib.suppress(TextInputError):
        load_json(data, max_depth=5)


@given(st.text(alphabet='[]{}"\\:,1ab ', max_size=300), st.integers(1, 50))
def test_depth_check_never_refuses_what_json_accepts_within_the_limit(text: str, d: int) -> None:
    """Whatever json.loads parses at depth <= d, load_json parses too (unless duplicates)."""
    try:
        expected = json.loads(text)
    except (ValueError, RecursionError):
        return
    depth = _depth(expected)
    if depth > d:
        with pytest.raises(TextInputError, match="max_depth"):
            load_json(text, max_depth=d)
        return
    try:
        got = load_json(text, max_depth=d)
    except TextInputError as exc:
        duplicate = "duplicate" in exc.problem
    else:
        duplicate = False
    if not duplicate:
        assert depth <= d
        assert got == expected


def _depth(v: object) -> int:
    if isinstance(v, dict):
        return 1 + max(map(_depth, v.values()), default=0)
    if isinstance(v, list):
        return 1 + max(map(_depth, v), default=0)
    return 0


def _seconds(fn: Any, arg: Any) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - start)
    return best


def test_refusing_deep_input_grows_linearly() -> None:
    """Ten times the brackets cost about ten times the time (not a hundred)."""

    def run(n: int) -> None:
        with pytest.raises(TextInputError):
            load_json("[" * n + '"' + "]" * n, max_depth=50)

    small = _seconds(run, 20_000)
    large = _seconds(run, 200_000)
    assert large < 40 * max(small, 1e-4)


# -- quoting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["MED", "detox", "ADT^A02", "MSG00042", "level-2.1", "a:b"])
def test_short_codes_are_quoted(value: str) -> None:
    assert is_quotable(value)
    assert show(value) == repr(value)


@pytest.mark.parametrize(
    "value",
    [
        "123-45-6789",  # SSN
        "123456789",
        "1970-01-31",  # date
        "19700131",
        "01/31/1970",
        "555-867-5309",  # phone
        "+15558675309",
        "Jane Doe",  # name: a space is not a code character
        "DOE^JANE^Q",  # an XPN name is longer than... no: it has a letter run; see below
        "x" * 21,
        "caf\u00e9",
        "a\nb",
    ],
)
def test_personal_or_long_values_are_described(value: str) -> None:
    if value == "DOE^JANE^Q":  # looks like a code: only the field's kind can tell
        assert is_quotable(value)
        return
    assert not is_quotable(value)
    shown = show(value, what="a known hospital-service code")
    assert value not in shown
    assert shown.endswith("that is not a known hospital-service code")


def test_ids_may_be_longer_and_uuids_are_ids() -> None:
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    assert is_quotable(uuid, kind="id")
    assert not is_quotable(uuid)
    assert is_quotable("episode-" + "x" * 50, kind="id")
    assert not is_quotable("episode-1970-01-31", kind="id")


def test_describe_words() -> None:
    assert describe("123-45-6789", what="a code") == "an 11-character value that is not a code"
    assert describe("abc", what="a code") == "a 3-character value that is not a code"
    assert describe("x" * 80, what="a code").startswith("an 80-character")
    assert describe("x" * 18, what="a code").startswith("an 18-character")
    assert describe("x" * 110, what="a code").startswith("a 110-character")
    assert describe("", what="a code") == "an empty value that is not a code"
    assert describe(3, what="a code") == "a number, not a code"
    assert describe([1], what="a code") == "a list, not a code"
    assert describe({}, what="a code") == "an object, not a code"
    assert describe(None, what="a code") == "null, not a code"
    assert describe("abc") == "a 3-character value"
    assert describe(1.5) == "a number"


@given(st.text(max_size=40))
def test_show_quotes_only_quotable_values(value: str) -> None:
    """A value is either quoted whole (and then quotable) or only its length is told."""
    shown = show(value, what="a code")
    if is_quotable(value):
        assert shown == repr(value)
    else:
        assert shown == describe(value, what="a code")
        assert shown.split(" ")[1] in ("empty", f"{len(value)}-character")
