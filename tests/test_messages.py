"""Error messages that say how to fix: close-match hints, both times, public class names."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

import carepath
from carepath import Assessment, Event, InvalidEvent, Rule, standard_pathway
from carepath._suggest import did_you_mean
from support import T0


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("inpatint", "inpatient"), ("Inpatient", "inpatient"), ("sober-living", "sober_living")],
)
def test_an_unknown_level_suggests_the_closest_one(typed: str, meant: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        standard_pathway().level(typed)
    assert f"did you mean {meant!r}?" in str(info.value)
    assert "known: outpatient, sober_living" in str(info.value)


def test_an_unknown_level_far_from_any_gets_no_guess() -> None:
    with pytest.raises(InvalidEvent) as info:
        standard_pathway().level("rehab")
    assert "did you mean" not in str(info.value)


def test_an_episode_event_with_a_misspelt_level_suggests_one() -> None:
    ep = standard_pathway().start("p-1", at=T0)
    with pytest.raises(InvalidEvent) as info:
        ep.admit("detoxx", at=T0, assessment=Assessment(withdrawal=3))
    assert "did you mean 'detox'?" in str(info.value)
    assert ep.version == 0


def test_an_unknown_event_name_suggests_the_closest_one() -> None:
    ep = standard_pathway().start("p-1", at=T0)
    with pytest.raises(InvalidEvent) as info:
        ep.check("stepdown", "iop", at=T0)  # type: ignore[arg-type]  # the mistake under test
    assert "did you mean 'step_down'?" in str(info.value)
    with pytest.raises(InvalidEvent) as info:
        Rule(source="intake", target="iop", event="admitt")  # type: ignore[arg-type]  # under test
    assert "did you mean 'admit'?" in str(info.value)


def test_an_out_of_order_event_quotes_both_times() -> None:
    ep = standard_pathway().start("p-1", at=T0)
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3))
    with pytest.raises(InvalidEvent) as info:
        ep.reassess(Assessment(withdrawal=3), at=T0 - timedelta(hours=1))
    message = str(info.value)
    assert "2026-01-05T08:00:00+00:00 is earlier than" in message
    assert "latest event at 2026-01-05T09:00:00+00:00" in message


def test_the_helper_suggests_only_known_names() -> None:
    assert did_you_mean("iopp", ["iop", "php"]) == "did you mean 'iop'? "
    assert did_you_mean("iop", ["iop", "php"]) == ""  # an exact name needs no hint
    assert did_you_mean(3, ["iop"]) == ""
    assert did_you_mean("", ["iop"]) == ""


@pytest.mark.parametrize("name", [n for n in carepath.__all__ if n[0].isupper()])
def test_public_errors_are_named_by_their_public_path(name: str) -> None:
    obj = getattr(carepath, name)
    if isinstance(obj, type) and issubclass(obj, BaseException):
        assert obj.__module__ == "carepath"


def test_a_traceback_names_carepath_unknown_level() -> None:
    code = "import carepath\ncarepath.standard_pathway().level('inpatint')"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("carepath.UnknownLevel: "), last


def test_event_names_are_the_enum_values() -> None:
    """The suggestion list is the events' values (what a caller types)."""
    assert did_you_mean("transfer out", [e.value for e in Event]) == "did you mean 'transfer_out'? "
