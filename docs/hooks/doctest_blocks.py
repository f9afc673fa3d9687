"""A Griffe extension for the API reference: render bare ``>>>`` examples as code.

carepath's docstrings carry doctest examples in their text (they run in the test
suite). Markdown would read ``>>>`` as nested block quotes, so this extension
wraps every run of doctest lines in a ``pycon`` fence before rendering.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>`` lines (up to the next blank line) in a pycon fence."""
    out: list[str] = []
    in_fence = False  # inside a fence written by the author
    in_doctest = False
    indent = ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if in_doctest:
            if not stripped:
                out.append(f"{indent}```")
                in_doctest = False
            else:
                out.append(line)
                continue
        if stripped.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            out.append(line)
            in_doctest = True
            continue
        out.append(line)
    if in_doctest:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest examples of every loaded object's docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
