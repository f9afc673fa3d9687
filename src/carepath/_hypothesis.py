"""Hypothesis plug-in: ``st.from_type`` draws valid carepath values once carepath is installed.

Hypothesis loads this through its ``hypothesis`` entry point while ``hypothesis`` itself
is being imported, which may happen because :mod:`carepath.testing` is being imported.
So this module imports neither at its top, and each strategy is deferred: the
strategies of :mod:`carepath.testing` are looked up when a value is first drawn, when
both modules are whole.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["register"]


def register() -> None:
    """Register carepath's public values with ``hypothesis.strategies.from_type``.

    Calling it again changes nothing.
    """
    from hypothesis import strategies as st  # noqa: PLC0415  # run by hypothesis' own import

    from carepath import Assessment, Episode, Override, Pathway, Risk  # noqa: PLC0415

    def later(name: str) -> st.SearchStrategy[Any]:
        def strategy() -> st.SearchStrategy[Any]:
            made: st.SearchStrategy[Any] = getattr(
                importlib.import_module("carepath.testing"), name
            )()
            return made

        return st.deferred(strategy)

    def standard() -> st.SearchStrategy[Any]:
        return st.just(importlib.import_module("carepath").standard_pathway())

    st.register_type_strategy(Risk, later("risks"))
    st.register_type_strategy(Assessment, later("assessments"))
    st.register_type_strategy(Override, later("overrides"))
    st.register_type_strategy(Episode, later("episodes"))
    st.register_type_strategy(
        Pathway,
        st.deferred(lambda: st.just(importlib.import_module("carepath").standard_pathway())),
    )
