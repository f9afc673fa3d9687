"""A custom guard kind for the command-line tests (``--guards _cli_guards:GUARDS``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final, final

import attrs

from carepath import GuardContext, GuardFactory


@final
@attrs.frozen
class Always:
    """A guard that always passes."""

    kind: ClassVar[str] = "always"
    overridable: ClassVar[bool] = True

    def check(self, ctx: GuardContext) -> Sequence[str]:
        return ()


GUARDS: Final[dict[str, GuardFactory]] = {"always": Always}
