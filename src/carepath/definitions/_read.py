"""Reading definition text: TOML or JSON in, parsed data and the line of every key out."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from carepath._textio import TextInputError, as_text, load_json

from ._build import GuardFactory, build
from ._collect import fail as _fail
from ._spec import Path, PathSegment

if TYPE_CHECKING:
    from carepath._pathway import Pathway

__all__ = ["Format", "json_lines", "load_file", "load_text", "toml_lines"]

Format: TypeAlias = Literal["toml", "json"]


_TOML_AT = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def _parse(text: object, fmt: Format, file: str) -> tuple[object, str]:
    # Decoding, the BOM, size and depth limits and strict JSON: carepath._textio.
    if not isinstance(text, str | bytes | bytearray):
        raise _fail(
            f"expected {fmt.upper()} text, got a {type(text).__name__}", file=file, code="not_text"
        )
    try:
        text = as_text(text, source=file)
        if fmt == "json":
            return load_json(text, source=file), text
    except TextInputError as exc:
        line, path = exc.line, cast("Path", ())
        if exc.pointer is not None:  # a duplicate key: name the object it is in
            path = tuple(int(t) if t.isdigit() else t for t in exc.pointer.split("/")[1:])
            at = path
            try:
                line = json_lines(text).get(at) if isinstance(text, str) else None
            except (RecursionError, ValueError, IndexError):  # pragma: no cover - best effort
                line = None
        not_utf8 = exc.problem.startswith("not UTF-8")
        raise _fail(
            _problem(exc, fmt),
            file=file,
            line=line,
            column=exc.column,
            path=path,
            code="not_utf8" if not_utf8 else "invalid_syntax",
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_AT.match(str(exc))
        if m:
            raise _fail(
                f"invalid TOML: {m['msg']}",
                file=file,
                line=int(m["line"]),
                column=int(m["col"]),
                code="invalid_syntax",
            ) from None
        raise _fail(f"invalid TOML: {exc}", file=file, code="invalid_syntax") from None
    except RecursionError:
        raise _fail("invalid TOML: nested too deeply", file=file, code="invalid_syntax") from None


def _problem(exc: TextInputError, fmt: Format) -> str:
    if exc.problem.startswith("not UTF-8") or exc.problem.startswith("invalid"):
        return exc.problem
    return f"invalid {fmt.upper()}: {exc.problem}"


def load_text(
    text: object, fmt: Format, *, file: str = "", guards: Mapping[str, GuardFactory] | None = None
) -> Pathway:
    """Read a definition from TOML or JSON text (see :func:`carepath.definitions.loads`)."""
    data, source = _parse(text, fmt, file)
    try:
        lines = toml_lines(source) if fmt == "toml" else json_lines(source)
    except (RecursionError, ValueError, IndexError):  # pragma: no cover - locating is best effort
        lines = {}
    return build(data, file=file, lines=lines, guards=guards)


def load_file(
    path: str | os.PathLike[str], *, guards: Mapping[str, GuardFactory] | None = None
) -> Pathway:
    """Read a ``.toml`` or ``.json`` definition file (see :func:`carepath.definitions.load`)."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise _fail(
            f"cannot read the file: {exc.strerror or exc}", file=file, code="unreadable_file"
        ) from None
    except ValueError:  # e.g. a NUL byte in the path
        raise _fail(
            "cannot read the file: not a valid path", file=file, code="unreadable_file"
        ) from None
    suffix = os.path.splitext(file)[1].lower()
    if suffix == ".json":
        fmt: Format = "json"
    elif suffix == ".toml":
        fmt = "toml"
    else:
        fmt = "json" if raw.lstrip().startswith(b"{") else "toml"
    return load_text(raw, fmt, file=file, guards=guards)


# -- locating keys in text ---------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]#]+?)\s*\]\]?\s*(#.*)?$")
_KEYLINE = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
    r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=(.*)$"
)
_INLINE_KEY = re.compile(r"[{,]\s*([A-Za-z0-9_-]+)\s*=")


def _dotted(key: str) -> list[str]:
    parts = re.findall(r"[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'", key)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def toml_lines(text: str) -> dict[Path, int]:
    """Best-effort map from key paths to the 1-based line that sets them, for TOML text."""
    lines: dict[Path, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    current: Path = ()
    in_string = False
    depth = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
            in_string = not in_string
            if not in_string:
                continue
        if in_string and not _KEYLINE.match(raw):
            continue
        if depth > 0:
            depth += raw.count("[") - raw.count("]")
            continue
        h = _HEADER.match(raw)
        if h and not _KEYLINE.match(raw):
            names = _dotted(h[2])
            resolved: list[PathSegment] = []
            for k in range(len(names)):
                resolved.append(names[k])
                plain = tuple(names[: k + 1])
                is_last = k == len(names) - 1
                if h[1] == "[[" and is_last:
                    counts[plain] = counts.get(plain, -1) + 1
                    resolved.append(counts[plain])
                elif plain in counts:
                    resolved.append(counts[plain])
            current = tuple(resolved)
            lines.setdefault(current, n)
            if h[1] == "[[":
                lines.setdefault(current[:-1], n)
            continue
        m = _KEYLINE.match(raw)
        if m:
            path = (*current, *_dotted(m[1]))
            lines.setdefault(path, n)
            rest = m[2]
            if rest.strip().startswith("{"):
                for sub in _INLINE_KEY.findall(rest):
                    lines.setdefault((*path, sub), n)
            depth = max(0, rest.count("[") - rest.count("]"))
    return lines


def json_lines(text: str) -> dict[Path, int]:
    """Map from key paths to the 1-based line where their value starts, for valid JSON text."""
    out: dict[Path, int] = {}
    stack: list[list[Any]] = []  # [kind, path, index, key]
    after_colon = False
    for kind, value, line in _json_tokens(text):
        top = stack[-1] if stack else None
        if top is not None and top[0] == "obj" and not after_colon:
            if kind == "str":
                top[3] = value
            elif kind == ":":
                after_colon = True
            elif kind == "}":
                stack.pop()
            continue
        if top is not None and top[0] == "arr":
            if kind == ",":
                top[2] += 1
                continue
            if kind == "]":
                stack.pop()
                continue
        if top is None:
            path: Path = ()
        elif top[0] == "arr":
            path = (*top[1], top[2])
        else:
            path = (*top[1], top[3])
        out.setdefault(path, line)
        after_colon = False
        if kind == "{":
            stack.append(["obj", path, 0, None])
        elif kind == "[":
            stack.append(["arr", path, 0, None])
    return out


def _json_tokens(text: str) -> Iterator[tuple[str, object, int]]:
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif ch in "{}[]:,":
            yield ch, None, line
            i += 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            yield "str", json.loads(text[i : j + 1]), line
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in '{}[]:," \t\r\n':
                j += 1
            yield "lit", None, line
            i = max(j, i + 1)
