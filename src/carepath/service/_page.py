"""The placement page: a plain HTML form of the six ratings, and the placement it gives.

Served by the CDS Hooks app at ``GET /placement`` (no script, no external assets);
the ratings travel as query parameters (``?withdrawal=3&relapse=2``), nothing is
stored, and the page shows no patient identity. It is the page a card can link to
(and, later, a SMART app can launch).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Final

from carepath._assessment import DIMENSIONS, Assessment, Risk
from carepath._pathway import Pathway
from carepath.interop._questionnaire import questionnaire

from ._errors import ServiceError

__all__ = ["placement_page"]

_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:1em auto;padding:0 1em;"
    "color:#222}form{display:grid;grid-template-columns:28em 12em;gap:.4em 1em;"
    "align-items:center}button{grid-column:2;padding:.4em}#placement{border:2px solid #2a6;"
    "padding:.5em 1em;margin:1em 0;border-radius:6px}#placement h2{margin:.2em 0}"
    "#reasons li{margin:.2em 0}.note{color:#555;font-size:.9em}#pathway{overflow-x:auto}"
)


def _ratings(query: Mapping[str, str]) -> Assessment | None:
    """The assessment in the query, or ``None`` when the form has not been sent."""
    names = [d.value for d in DIMENSIONS]
    if not any(n in query for n in names):
        return None
    values: dict[str, int] = {}
    for n in names:
        raw = query.get(n, "0")
        if raw not in {"0", "1", "2", "3", "4"}:
            raise ServiceError(status=400, code="invalid", field=n, problem="expected a rating 0-4")
        values[n] = int(raw)
    return Assessment.from_mapping(values)


def placement_page(pathway: Pathway, query: Mapping[str, str]) -> str:
    """The page: the form (filled with the query's ratings), the placement, the pathway."""
    assessment = _ratings(query)
    texts = {item["linkId"]: item["text"] for item in questionnaire()["item"]}
    rows = []
    for d in DIMENSIONS:
        chosen = assessment[d] if assessment is not None else Risk.NONE
        options = "".join(
            f'<option value="{int(r)}"{" selected" if r is chosen else ""}>'
            f"{int(r)} — {r.label}</option>"
            for r in Risk
        )
        rows.append(
            f'<label for="{d.value}">{escape(texts[d.value])}</label>'
            f'<select name="{d.value}" id="{d.value}">{options}</select>'
        )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>carepath: level-of-care placement</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Level-of-care placement</h1>",
        f'<p class="note">Pathway: {escape(pathway.name)}. Rate each dimension 0-4. '
        "carepath's criteria are its own documented heuristics in the style of the public "
        "ASAM principles, not the proprietary ASAM decision rules.</p>",
        '<form method="get" action="placement" id="assessment">',
        *rows,
        '<button type="submit" id="place">Place</button>',
        "</form>",
    ]
    if assessment is not None:
        placement = pathway.place(assessment)
        lines = placement.explain().splitlines()
        parts += [
            '<section id="placement">',
            f'<h2 id="level">Placement: {escape(placement.level.name)}</h2>',
            '<ul id="reasons">',
            *(f"<li>{escape(line)}</li>" for line in lines[1:]),
            "</ul>",
        ]
        if placement.alternatives:
            parts += [
                '<p id="alternatives">Alternatives: '
                + ", ".join(escape(a.name) for a in placement.alternatives)
                + "</p>"
            ]
        parts += [placement._repr_html_(), "</section>"]
    parts += [
        '<section id="pathway"><h2>The pathway</h2>',
        pathway._repr_html_(),
        "</section></body></html>",
    ]
    return "\n".join(parts)
