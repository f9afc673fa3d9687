"""Output people can read: the summary's text and a placement's one line."""

from __future__ import annotations

import re

import pytest

from carepath import Assessment, place

sim = pytest.importorskip("carepath.sim")


@pytest.fixture(scope="module")
def text() -> str:
    result = sim.simulate(sim.SimulationModel.default(), n=400, seed=11, days=200)
    return str(result.summary())


def test_the_summary_says_what_it_counts(text: str) -> None:
    assert text.startswith("Summary of 400 simulated patients.\n")
    assert "Tables count stays (a patient can have several)" in text
    for title in (
        "Length of stay, in days, of the stays that ended before the horizon",
        "How stays ended, per level (share of the level's ended stays)",
        "Follow-up after a detox or inpatient discharge",
        "Readmissions: a new episode within the window after an episode ended",
        "Days of care and cost, per level",
    ):
        assert title in text


def test_shares_are_percentages_and_days_have_no_false_decimals(text: str) -> None:
    outcomes = text.split("How stays ended", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"\d+\.\d%", outcomes)
    assert not re.search(r"(?<![\d.])0\.\d", outcomes)  # no raw fractions such as 0.370
    los = text.split("Length of stay", 1)[1].split("\n\n", 1)[0]
    for cell in re.findall(r"\d+\.\d+", los):
        assert cell.endswith(".5"), cell  # a half day at most (a median of two stays)
    assert "dropped_out" not in text
    assert "followed_up" not in text
    assert "NaN" not in text  # no cost given: no cost column


def test_a_placement_prints_one_line_and_explains_on_request() -> None:
    placement = place(Assessment(withdrawal=3, emotional=2, relapse=3, environment=3))
    line = str(placement)
    assert line == "Withdrawal management (detox) — deciding rating: withdrawal 3"
    assert "\n" not in line
    assert "Not Outpatient:" in placement.explain()
    several = place(Assessment(withdrawal=1, emotional=2, readiness=2, relapse=2, environment=2))
    assert str(several) == (
        "Intensive outpatient (IOP) — deciding ratings: emotional 2, relapse 2; "
        "could also serve: Partial hospitalization (PHP), Sober living"
    )
    assert str(place(Assessment())) == ("Outpatient — the least intensive level; every rating fits")
