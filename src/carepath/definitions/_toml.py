"""A small TOML writer for pathway definitions (scalars first, then tables)."""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["to_toml"]


def _toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        elif 0xD800 <= o <= 0xDFFF:
            raise ValueError("a lone surrogate cannot be written to TOML")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(key: str) -> str:
    if key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key):
        return key
    return _toml_string(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = [
            f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items() if v is not None
        ]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def to_toml(data: Mapping[str, object], *, inline_tables: frozenset[str] = frozenset()) -> str:
    """Write a mapping as TOML: scalars first, then tables and arrays of tables.

    Nested tables inside an array of tables are written inline. ``None`` values are
    left out (TOML has no null). Keys named in ``inline_tables`` are written
    as one table whose entries are inline tables (``[criteria]``, one line a level).
    """
    lines: list[str] = []
    tables: list[tuple[str, object]] = []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, Mapping) or _is_table_array(value):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables:
        if isinstance(value, Mapping):
            lines.append("")
            lines.append(f"[{_toml_key(key)}]")
            sub_tables: list[tuple[str, object]] = []
            for k, v in value.items():
                if v is None:
                    continue
                if key not in inline_tables and (_is_table_array(v)):
                    sub_tables.append((k, v))
                else:
                    lines.append(f"{_toml_key(str(k))} = {_toml_value(v)}")
            for k, v in sub_tables:
                assert isinstance(v, list)
                for item in v:
                    lines.append("")
                    lines.append(f"[[{_toml_key(key)}.{_toml_key(str(k))}]]")
                    lines.extend(
                        f"{_toml_key(str(ik))} = {_toml_value(iv)}"
                        for ik, iv in item.items()
                        if iv is not None
                    )
        else:
            assert isinstance(value, list)
            for item in value:
                lines.append("")
                lines.append(f"[[{_toml_key(key)}]]")
                lines.extend(
                    f"{_toml_key(str(ik))} = {_toml_value(iv)}"
                    for ik, iv in item.items()
                    if iv is not None
                )
    return "\n".join(lines).lstrip("\n") + "\n"
