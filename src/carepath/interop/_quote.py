"""The rule for quoting a sender's values in errors and notes.

carepath._textio (issue 22) holds the one shared rule; until it is on main this is the
same rule, in one place, to swap for its ``show``.
"""

from __future__ import annotations

import re
from typing import Final, Literal

__all__ = ["quotable", "show"]

_KINDS: Final = {
    "code": re.compile(r"[A-Za-z0-9][A-Za-z0-9._:^/-]{0,19}"),
    "id": re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"),
}
# Six digits in one run of digits and ``- . / :`` (an SSN, a date, a phone number).
_SIX_DIGITS: Final = re.compile(r"\d(?:[\-./:]*\d){5}")


def quotable(value: str, *, kind: Literal["code", "id"] = "code") -> bool:
    """Whether ``value`` may appear in an error message: a short, well-formed code
    (1-20 characters of letters, digits and ``. _ - : ^ /``) or id (1-64 characters of
    letters, digits and ``. _ - :``) not shaped like personal data (six or more digits in
    a row, alone or with ``- . / :`` between them: SSNs, dates, phone numbers)."""
    if _KINDS[kind].fullmatch(value) is None:
        return False
    return _SIX_DIGITS.search(value) is None


def show(value: str, *, kind: Literal["code", "id"] = "code", what: str) -> str:
    """``repr(value)`` when :func:`quotable`, else words for its length, never its content.

    >>> show("DTX", what="a known point-of-care code")
    "'DTX'"
    >>> show("123-45-6789", what="a known hospital-service code")
    'an 11-character value that is not a known hospital-service code'
    """
    if quotable(value, kind=kind):
        return repr(value)
    n = len(value)
    if n == 0:
        return f"an empty value that is not {what}"
    digits = str(n)
    vowel = digits.startswith("8") or (len(digits) % 3 == 2 and digits[:2] in ("11", "18"))
    return f"{'an' if vowel else 'a'} {n}-character value that is not {what}"
