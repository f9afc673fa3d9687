"""carepath registers its public values with Hypothesis' ``from_type`` (entry point)."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from carepath import Assessment, Episode, Override, Pathway, Risk, standard_pathway


@given(
    st.from_type(Assessment),
    st.from_type(Risk),
    st.from_type(Override),
    st.from_type(Episode),
    st.from_type(Pathway),
)
def test_from_type_gives_valid_public_values(
    a: Assessment, r: Risk, o: Override, ep: Episode, p: Pathway
) -> None:
    assert isinstance(a, Assessment)
    assert isinstance(r, Risk)
    assert o.reason
    assert Episode.from_json(ep.to_json(), ep.pathway) == ep
    assert p is standard_pathway()


def test_the_registration_runs_when_hypothesis_is_imported() -> None:
    """Nothing but ``import hypothesis``: the entry point registers the strategies."""
    code = (
        "from hypothesis import strategies as st; import carepath; "
        "print(repr(st.from_type(carepath.Pathway)), "
        "'integers' in repr(st.from_type(carepath.Assessment)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    # Unregistered, a Pathway cannot be built and an Assessment's ratings are any integers.
    assert out.stdout.strip() == (
        "just(Pathway(id='standard', version='1', levels=6, rules=84)) False"
    )
