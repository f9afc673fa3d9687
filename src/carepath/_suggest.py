"""Close-match suggestions for unknown names ("did you mean 'inpatient'?").

One helper for every error that names something unknown (a level code, an event
name, a state), so each message offers the same kind of hint. Only names the
library knows are suggested; nothing the caller wrote is echoed beyond the value
the message already quotes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(value: object, known: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the closest known name, or ``""`` when none is close.

    Matching ignores case, spaces, hyphens and underscores first, then falls back to
    :func:`difflib.get_close_matches`.

    >>> did_you_mean("inpatint", ["detox", "inpatient", "iop"])
    "did you mean 'inpatient'? "
    >>> did_you_mean("Step-Down", ["step_down", "step_up"])
    "did you mean 'step_down'? "
    >>> did_you_mean("zzz", ["detox", "iop"])
    ''
    """
    if not isinstance(value, str) or not value:
        return ""
    names = list(dict.fromkeys(known))
    if value in names:
        return ""

    def squash(text: str) -> str:
        return "".join(ch for ch in text.casefold() if ch.isalnum())

    wanted = squash(value)
    for name in names:
        if squash(name) == wanted and name != value:
            return f"did you mean {name!r}? "
    by_squashed = {squash(n): n for n in names}
    close = difflib.get_close_matches(wanted, list(by_squashed), n=1, cutoff=0.6)
    return f"did you mean {by_squashed[close[0]]!r}? " if close else ""
