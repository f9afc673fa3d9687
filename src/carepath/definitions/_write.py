"""Writing a pathway out: plain data, TOML and JSON text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from carepath._errors import PathwayError
from carepath._pathway import Pathway, default_rules

from ._toml import to_toml

__all__ = ["to_data", "to_json_text", "to_toml_text"]


_NO_LIMIT: Final = 4


def _compact_guard(g: Mapping[str, Any]) -> object:
    return g["kind"] if len(g) == 1 else dict(g)


def to_data(pathway: Pathway, *, compact: bool = False) -> dict[str, Any]:
    """The definition as plain data (see :func:`carepath.definitions.to_dict`)."""
    data = pathway.to_canonical()
    probe = _default_rules_data(pathway) if compact else None
    if probe is None:
        return data
    data["criteria"] = {
        code: {d: v for d, v in c.items() if v != _NO_LIMIT} for code, c in data["criteria"].items()
    }
    mine = {(r["event"], r["source"], r["target"]): r for r in data["rules"]}
    default = {(r["event"], r["source"], r["target"]): r for r in probe}
    remove = [{"event": k[0], "source": k[1], "target": k[2]} for k in default if k not in mine]
    add = [
        {**r, "guards": [_compact_guard(g) for g in r["guards"]]}
        for k, r in mine.items()
        if default.get(k) != r
    ]
    if not remove and not add:
        data["rules"] = "default"
    elif len(remove) + len(add) < len(mine):
        rule_set: dict[str, Any] = {"base": "default"}
        if add:
            rule_set["add"] = add
        if remove:
            rule_set["remove"] = remove
        data["rules"] = rule_set
    else:
        data["rules"] = [
            {**r, "guards": [_compact_guard(g) for g in r["guards"]]} for r in data["rules"]
        ]
    return data


def _default_rules_data(pathway: Pathway) -> list[dict[str, Any]] | None:
    """The canonical form of the default rules over ``pathway``'s levels."""
    try:
        twin = Pathway(
            id=pathway.id,
            version=pathway.version,
            levels=pathway.levels,
            criteria=pathway.criteria,
            rules=default_rules(pathway.levels),
        )
    except PathwayError:  # pragma: no cover - default rules over valid levels are valid
        return None
    rules_data: list[dict[str, Any]] = twin.to_canonical()["rules"]
    return rules_data


def to_toml_text(pathway: Pathway, *, compact: bool = False) -> str:
    """The definition as TOML text (see :func:`carepath.definitions.dumps`)."""
    data = to_data(pathway, compact=compact)
    for level in data["levels"]:
        hours = level["hours_per_week"]
        if len(hours) == 2 and hours[1] is None:
            level["hours_per_week"] = hours[:1]
    if isinstance(data["rules"], list):
        for rule in data["rules"]:
            rule["guards"] = [
                _compact_guard(g) if isinstance(g, Mapping) else g for g in rule["guards"]
            ]
    return to_toml(data, inline_tables=frozenset({"criteria"}))


def to_json_text(pathway: Pathway, *, compact: bool = False, indent: int | None = 2) -> str:
    """The definition as JSON text (see :func:`carepath.definitions.dumps`)."""
    return json.dumps(to_data(pathway, compact=compact), indent=indent, ensure_ascii=False)
