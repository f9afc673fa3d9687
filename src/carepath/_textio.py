"""Reading text and JSON from senders: one rule for encodings, limits and quoting.

Every reader of outside input (pathway files, episode JSON, store rows and
imports, FHIR, HL7 v2, the CLI) goes through this module, so that they all
behave the same way:

- **Encodings.** Text is UTF-8. A UTF-8 byte-order mark is stripped (Windows
  tools write one). Anything that is not UTF-8 is refused with
  :class:`TextInputError` naming the byte offset and line, and a hint; a reader
  where a legacy encoding is legitimate (HL7 v2's MSH-18) passes ``encoding=``.
- **Strict JSON.** :func:`load_json` is :func:`json.loads` plus: a duplicate key
  in an object is an error naming the key and where it is (a JSON-pointer path,
  ``/levels/2/code``); nesting deeper than ``max_depth`` is an error (never a
  ``RecursionError``); a document over ``max_bytes`` is refused before it is
  parsed; ``NaN``/``Infinity`` are refused; an empty document is an error. It costs
  about 2-3x :func:`json.loads` on large documents (``benchmarks/bench_textio.py``).
- **Quoting sender values.** :func:`show` quotes a value in an error message only
  when it is a short, well-formed code or id of the field's kind and not shaped
  like personal data (an SSN, a date, a phone number); otherwise it describes the
  value ("an 11-character value that is not a known hospital-service code").

Limits (defaults, and how to change them; also in ``docs/errors.md``):

- :data:`DEFAULT_MAX_BYTES` (64 MiB): ``max_bytes=`` of :func:`read_path`,
  :func:`as_text`, :func:`load_json`; ``None`` for no limit.
- :data:`DEFAULT_MAX_DEPTH` (100): ``max_depth=`` of :func:`load_json`.
- :data:`DEFAULT_MAX_LINE_BYTES` (64 MiB): ``max_line_bytes=`` of :func:`iter_lines`.

This module is private and imports nothing from carepath but ``_errors``.
Readers turn :class:`TextInputError` into their own documented error type
(``PathwayDefinitionError``, ``EpisodeLoadError``, ``CorruptRecord``,
``InteropError``), keeping its ``problem`` and location.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from itertools import accumulate
from typing import IO, Any, Final

from ._errors import CarepathError
from ._quote import CodeKind, describe, is_quotable, show

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LINE_BYTES",
    "CodeKind",
    "TextInputError",
    "as_text",
    "describe",
    "is_quotable",
    "iter_lines",
    "load_json",
    "read_path",
    "show",
]

DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
"""The largest document read or parsed unless a reader is told otherwise (64 MiB)."""

DEFAULT_MAX_DEPTH: Final = 100
"""The deepest JSON nesting accepted unless a reader is told otherwise."""

DEFAULT_MAX_LINE_BYTES: Final = 64 * 1024 * 1024
"""The longest line :func:`iter_lines` accepts unless told otherwise (64 MiB)."""

_BOM: Final = "\ufeff"
_BOM_BYTES: Final = b"\xef\xbb\xbf"


class TextInputError(CarepathError, ValueError):
    """Input text that cannot be read: not UTF-8, over a limit, or not strict JSON.

    Readers convert it into their own error type; it reaches users only from code
    that reads text without a domain of its own.

    Attributes:
        problem: What is wrong and what is allowed (never the text itself).
        source: The file or stream it came from (empty for text given directly).
        offset: The 0-based byte offset (for encodings) or character offset (JSON)
            where it went wrong, when known.
        line: The 1-based line, when known.
        column: The 1-based column, when known.
        pointer: Where in the JSON document (``"/levels/2"``; ``""`` for the root),
            when known.
        limit: The name of the limit that was exceeded (``"max_depth"``), if any.
    """

    def __init__(
        self,
        *,
        problem: str,
        source: str = "",
        offset: int | None = None,
        line: int | None = None,
        column: int | None = None,
        pointer: str | None = None,
        limit: str = "",
    ) -> None:
        self.problem = problem
        self.source = source
        self.offset = offset
        self.line = line
        self.column = column
        self.pointer = pointer
        self.limit = limit
        super().__init__(f"{self.where() or '<input>'}: {problem}")

    def where(self) -> str:
        """``source:line:column`` with what is known (empty when nothing is)."""
        parts = [self.source] if self.source else []
        if self.line is not None:
            parts.append(f"line {self.line}")
            if self.column is not None:
                parts[-1] += f" column {self.column}"
        return ", ".join(parts)


# -- encodings ---------------------------------------------------------------------------------


def _decode(
    raw: bytes, *, encoding: str, source: str, hint: str, base_offset: int = 0, base_line: int = 1
) -> str:
    utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8")
    try:
        text = raw.decode("utf-8" if utf8 else encoding)
    except UnicodeDecodeError as exc:
        line = base_line + raw.count(b"\n", 0, exc.start)
        name = "UTF-8" if utf8 else encoding
        raise TextInputError(
            problem=f"not {name} text: byte 0x{raw[exc.start]:02x} at byte offset "
            f"{base_offset + exc.start} cannot be decoded; {hint}",
            source=source,
            offset=base_offset + exc.start,
            line=line,
        ) from None
    except LookupError:
        raise TextInputError(problem=f"unknown encoding {encoding!r}", source=source) from None
    return text[1:] if text.startswith(_BOM) else text


_HINT: Final = "save it as UTF-8"


def _check_size(size: int, max_bytes: int | None, source: str) -> None:
    if max_bytes is not None and size > max_bytes:
        raise TextInputError(
            problem=f"larger than the limit of {max_bytes:,} bytes (max_bytes); "
            "split it or raise the limit",
            source=source,
            limit="max_bytes",
        )


def as_text(
    data: str | bytes | bytearray | memoryview,
    *,
    encoding: str = "utf-8",
    source: str = "",
    hint: str = _HINT,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> str:
    """Text from ``str`` or bytes: bytes decoded strictly, a leading BOM stripped.

    Raises:
        TextInputError: bytes that are not ``encoding`` (default UTF-8; the message
            gives the byte offset, the line and ``hint``), input over ``max_bytes``
            (characters for ``str``), or neither text nor bytes.
    """
    if isinstance(data, str):
        _check_size(len(data), max_bytes, source)
        return data[1:] if data.startswith(_BOM) else data
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        _check_size(len(raw), max_bytes, source)
        return _decode(raw, encoding=encoding, source=source, hint=hint)
    raise TextInputError(
        problem=f"expected text or bytes, got {type(data).__name__}", source=source
    )


def read_path(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    hint: str = _HINT,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
) -> str:
    """The text of a file (``"-"``: standard input), decoded as :func:`as_text` does.

    At most ``max_bytes + 1`` bytes are read, so an endless stream is refused, not
    held in memory.

    Raises:
        TextInputError: the file is missing, unreadable or a directory (the message
            gives the operating system's reason), or its content fails :func:`as_text`.
    """
    name = os.fspath(path)
    limit = -1 if max_bytes is None else max_bytes + 1
    try:
        if name == "-":
            source = "<stdin>"
            raw = (stdin if stdin is not None else sys.stdin.buffer).read(limit)
        else:
            source = name
            with open(name, "rb") as fh:
                raw = fh.read(limit)
    except OSError as exc:
        raise TextInputError(
            problem=f"cannot read the file: {exc.strerror or type(exc).__name__}", source=name
        ) from None
    except ValueError:  # a NUL byte in the path
        raise TextInputError(
            problem="cannot read the file: not a valid path", source=name
        ) from None
    return as_text(raw, encoding=encoding, source=source, hint=hint, max_bytes=max_bytes)


def iter_lines(
    stream: IO[bytes],
    *,
    source: str = "",
    encoding: str = "utf-8",
    hint: str = _HINT,
    max_line_bytes: int | None = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line of a binary stream, decoded strictly.

    The first line loses a UTF-8 BOM; line endings are kept. Memory is bounded by
    ``max_line_bytes``; offsets in errors are from the start of the stream.

    Raises:
        TextInputError: a line that is not ``encoding`` or is longer than
            ``max_line_bytes`` (names the line).
    """
    offset = 0
    number = 0
    limit = -1 if max_line_bytes is None else max_line_bytes + 1
    while True:
        try:
            raw = stream.readline(limit)
        except OSError as exc:
            raise TextInputError(
                problem=f"cannot read: {exc.strerror or type(exc).__name__}", source=source
            ) from None
        if not raw:
            return
        number += 1
        if max_line_bytes is not None and len(raw) > max_line_bytes:
            raise TextInputError(
                problem=f"line {number} is longer than the limit of {max_line_bytes:,} bytes "
                "(max_line_bytes)",
                source=source,
                offset=offset,
                line=number,
                limit="max_line_bytes",
            )
        if number == 1 and raw.startswith(_BOM_BYTES):
            raw = raw[3:]
            offset += 3
        text = _decode(
            raw, encoding=encoding, source=source, hint=hint, base_offset=offset, base_line=number
        )
        offset += len(raw)
        yield number, text


# -- strict JSON -------------------------------------------------------------------------------


class _Duplicate(Exception):  # internal signal, never escapes this module
    pass


class _Pairs(list[tuple[str, Any]]):
    """An object kept as its key/value pairs, to locate a duplicate key."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _Duplicate
    return d


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (use a number or null)")


_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]+")
_TOKEN: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(text: str, max_depth: int) -> bool:
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > max_depth


def _depth_error(text: str, max_depth: int, source: str) -> TextInputError:
    depth = 0
    offset: int | None = None
    for m in _TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > max_depth:
                offset = m.start()
                break
        elif c in "]}":
            depth -= 1
    line = column = None
    if offset is not None:
        line = text.count("\n", 0, offset) + 1
        column = offset - text.rfind("\n", 0, offset)
    return TextInputError(
        problem=f"JSON nested deeper than the limit of {max_depth} levels (max_depth)",
        source=source,
        offset=offset,
        line=line,
        column=column,
        limit="max_depth",
    )


def _pointer_token(key: str | int) -> str:
    if isinstance(key, int):
        return str(key)
    if is_quotable(key, kind="key"):
        return key.replace("~", "~0").replace("/", "~1")
    return "<key>"


def _find_duplicate(text: str) -> tuple[str, str]:
    """The first duplicate key in document order and the pointer of its object."""
    data = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_constant)
    # Depth-first, in document order; depth is already bounded by max_depth.
    stack: list[tuple[object, str]] = [(data, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _Pairs):
            seen: set[str] = set()
            for key, _ in node:
                if key in seen:
                    return key, where
                seen.add(key)
            stack.extend((v, f"{where}/{_pointer_token(k)}") for k, v in reversed(node))
        elif isinstance(node, list):
            stack.extend((v, f"{where}/{i}") for i, v in reversed(list(enumerate(node))))
    raise AssertionError("no duplicate key found")  # pragma: no cover - _unique saw one


def load_json(
    text: str | bytes | bytearray,
    *,
    source: str = "",
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """Parse strict JSON: no duplicate keys, no NaN, bounded size and depth.

    Bytes are decoded as :func:`as_text` does (UTF-8, BOM stripped).

    Raises:
        TextInputError: invalid JSON (with line and column), a duplicate key (names
            the key when it is quotable, and the JSON pointer of its object), nesting
            deeper than ``max_depth``, more than ``max_bytes``, or not UTF-8.

    >>> load_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> load_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    ...
    carepath._textio.TextInputError: <input>: duplicate key 'a' in the object at /...
    """
    s = as_text(text, source=source, max_bytes=max_bytes)
    if not s.strip():
        raise TextInputError(problem="empty document: expected JSON", source=source)
    if _too_deep(s, max_depth):
        raise _depth_error(s, max_depth, source)
    try:
        try:
            return json.loads(s, object_pairs_hook=_unique, parse_constant=_constant)
        except _Duplicate:
            # Parsed again keeping the pairs, to name the key and its place; a document
            # that is also invalid further on is reported as invalid JSON.
            key, where = _find_duplicate(s)
            what = f"key {key!r}" if is_quotable(key, kind="key") else describe(key, what="a key")
            raise TextInputError(
                problem=f"duplicate {what} in the object at {where or '/'} "
                "(each key may appear once)",
                source=source,
                pointer=where,
            ) from None
    except TextInputError:
        raise
    except json.JSONDecodeError as exc:
        raise TextInputError(
            problem=f"invalid JSON: {exc.msg}",
            source=source,
            offset=exc.pos,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except RecursionError:  # max_depth above what the interpreter's stack allows
        raise TextInputError(
            problem="JSON nested deeper than this Python can parse; lower max_depth",
            source=source,
            limit="max_depth",
        ) from None
    except ValueError as exc:  # NaN, or an integer with too many digits
        raise TextInputError(problem=f"invalid JSON: {exc}", source=source) from None


# -- quoting sender values ---------------------------------------------------------------------
