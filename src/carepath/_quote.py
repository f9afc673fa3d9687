"""The one rule for quoting a sender's value in an error message.

An error quotes a value from the input only when it is a short, well-formed code
or id of the field's kind and not shaped like personal data; anything else is
described (its length or type), never quoted. This module imports nothing from
carepath, so every floor (problem records included) can use it;
:mod:`carepath._textio` re-exports it for the readers.
"""

from __future__ import annotations

import re
from typing import Final, Literal, TypeAlias

__all__ = ["CodeKind", "describe", "is_quotable", "show"]

CodeKind: TypeAlias = Literal["code", "id", "key"]
"""What kind of value a field holds, for :func:`show`:

- ``"code"``: a short code (at most 20 characters of letters, digits, ``. _ - : ^ /``);
- ``"id"``: an identifier (at most 64 characters of letters, digits, ``. _ - :``);
- ``"key"``: a JSON key (at most 40 characters of letters, digits, ``_ - . $ @``).
"""

_KINDS: Final[dict[str, re.Pattern[str]]] = {
    "code": re.compile(r"[A-Za-z0-9][A-Za-z0-9._:^/-]{0,19}"),
    "id": re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"),
    "key": re.compile(r"[A-Za-z_$@][A-Za-z0-9_.$@-]{0,39}"),
}
_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# A run of digits with the separators of SSNs, dates and phone numbers, holding six
# or more digits (an SSN has 9, a date 6-8, a phone number 7 or more).
_DIGIT_RUN: Final = re.compile(r"\d[\d\-./:]*")


def _personal_shaped(value: str) -> bool:
    return any(sum(c.isdigit() for c in m.group()) >= 6 for m in _DIGIT_RUN.finditer(value))


def is_quotable(value: object, *, kind: CodeKind = "code") -> bool:
    """Whether ``value`` may appear in an error message: a ``str`` of the kind's alphabet
    and length (see :data:`CodeKind`) and not shaped like personal data (six or more
    digits in a row, alone or with ``- . / :`` between them: SSNs, dates, phone
    numbers). The empty string, and a UUID as an ``"id"``, are always quotable; so is
    a number of at most 5 characters (``7``, ``2.5``, ``True``)."""
    if isinstance(value, bool | int | float) and not isinstance(value, str):
        return len(repr(value)) <= 5  # a rating or a small count, never a phone number
    if not isinstance(value, str):
        return False
    if not value or (kind == "id" and _UUID.fullmatch(value)):  # nothing to leak
        return True
    return _KINDS[kind].fullmatch(value) is not None and not _personal_shaped(value)


def describe(value: object, *, what: str = "") -> str:
    """Words for a value that is not quoted: its length or type, never its content;
    with ``what``, also what it is not.

    >>> describe("123-45-6789", what="a known hospital-service code")
    'an 11-character value that is not a known hospital-service code'
    >>> describe("Jane Doe")
    'an 8-character value'
    """
    if isinstance(value, str):
        n = len(value)
        digits = str(n)  # "an" before eight, eleven, eighteen, eighty, eleven thousand...
        vowel = digits.startswith("8") or (len(digits) % 3 == 2 and digits[:2] in ("11", "18"))
        words = "an empty value" if n == 0 else f"{'an' if vowel else 'a'} {n}-character value"
        return f"{words} that is not {what}" if what else words
    kind = {bool: "a boolean", int: "a number", float: "a number", type(None): "null"}.get(
        type(value), "a list" if isinstance(value, list | tuple) else "an object"
    )
    return f"{kind}, not {what}" if what else kind


def show(value: object, *, kind: CodeKind = "code", what: str = "") -> str:
    """``repr(value)`` when :func:`is_quotable`, else :func:`describe`.

    >>> show("MED")
    "'MED'"
    >>> show("Jane Doe")
    'an 8-character value'
    >>> show("Jane Doe", what="a known hospital-service code")
    'an 8-character value that is not a known hospital-service code'
    """
    return repr(value) if is_quotable(value, kind=kind) else describe(value, what=what)
