"""A MkDocs hook: draw the docs' diagrams at build time, so they show with no network.

A fenced block whose info string is ``python diagram`` is shown as ordinary Python
code and followed by the picture it makes: the hook runs the block (its last line an
expression giving a ``graphviz.Digraph``, as ``Pathway.to_graphviz()`` returns) and
inlines the SVG that graphviz's ``dot`` draws. No script draws anything in the
reader's browser, so the page works offline and on an intranet. tests/test_docs.py
runs the same blocks and checks each gives a diagram.
"""

from __future__ import annotations

import ast
import re
from typing import Any

_FENCE = re.compile(r"^```python diagram[^\n]*\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def diagram_svg(code: str, where: str) -> str:
    """Run ``code`` (its last statement an expression) and draw what it gives as SVG."""
    tree = ast.parse(code, filename=where)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        raise ValueError(f"{where}: a diagram block must end in an expression")
    last = ast.Expression(tree.body.pop().value)
    namespace: dict[str, Any] = {"__name__": "docs_diagram"}
    exec(compile(tree, where, "exec"), namespace)  # the docs' own code
    graph = eval(compile(last, where, "eval"), namespace)
    svg = graph.pipe(format="svg").decode("utf-8")
    svg = svg[svg.find("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    return "\n".join(line for line in svg.splitlines() if line.strip())


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Show each diagram block's code, then its picture."""

    def draw(match: re.Match[str]) -> str:
        code = match["code"]
        where = f"{page.file.src_uri}: diagram block"
        svg = diagram_svg(code, where)
        return (
            f"```python\n{code}```\n\n"
            f'<figure class="carepath-diagram">\n{svg}\n</figure>\n'
        )

    return _FENCE.sub(draw, markdown)
