"""HL7 v2 input from a careless or hostile sender: limits, linear time, no echo, BOM, fuzz.

Also the identifiers and mappings that must never guess silently: PID-3 types, PV1-2
alone, PV1-36 codes the map does not know.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _hl7_support import adt
from carepath import Episode, InteropError, Outcome, standard_pathway
from carepath.interop import (
    DEFAULT_DISPOSITIONS,
    DISCHARGE_STATUS,
    HL7Limits,
    LevelMap,
    episodes_from_hl7v2,
    from_hl7v2,
)

PATHWAY = standard_pathway()


def _error(messages: object, **kwargs: object) -> InteropError:
    with pytest.raises(InteropError) as info:
        from_hl7v2(messages, PATHWAY, **kwargs)  # type: ignore[arg-type]
    return info.value


def _with_pid3(value: str) -> str:
    return adt("A01", "M1", "202601050900", service="IOP", pid3=value)


def _with_service(value: str) -> str:
    return adt("A01", "M1", "202601050900", service=value)


# -- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "field", "limit"),
    [
        (_with_pid3("X" + "~X" * 150), "PID-3", "max_repetitions=100"),
        (_with_pid3("X" + "^" * 150), "PID-3", "max_components=100"),
        (_with_service("IOP" + "&" * 150), "PV1-10", "max_components=100"),
        (_with_service("I" * 70_000), "PV1-10", "max_field_chars=65536"),
        (_with_pid3("X" * 1_000_001), "", "max_message_chars=1000000"),
    ],
)
def test_input_past_a_limit_is_refused_naming_the_limit_and_the_place(
    message: str, field: str, limit: str
) -> None:
    ok = adt("A01", "M0", "202601040900", service="IOP")
    err = _error([ok, message])
    assert err.resource == "message #2"
    assert err.field == field
    assert limit in err.problem
    assert "HL7Limits" in err.problem


def test_limits_are_configurable_and_checked() -> None:
    many = _with_pid3("MRN1^^^C^MR" + "~X" * 150)
    assert from_hl7v2(many, PATHWAY, limits=HL7Limits(max_repetitions=200)).patient_id == "MRN1"
    with pytest.raises(InteropError, match="max_components"):
        from_hl7v2(many, PATHWAY, limits=HL7Limits(max_repetitions=200, max_components=3))
    for bad in (0, -1, True, 1.5):
        with pytest.raises(InteropError, match="positive whole number"):
            HL7Limits(max_repetitions=bad)  # type: ignore[arg-type]  # deliberate mistake
    with pytest.raises(InteropError, match="HL7Limits"):
        from_hl7v2(many, PATHWAY, limits={"max_repetitions": 5})  # type: ignore[arg-type]


_HUGE = HL7Limits(
    max_message_chars=10**8, max_field_chars=10**8, max_repetitions=10**8, max_components=10**8
)


def _best_time(fn: Callable[[], object]) -> float:
    """Seconds per call: the best of three timings, each of enough calls to last about
    20 ms (a single call of a few microseconds says more about the scheduler)."""
    start = time.perf_counter()
    fn()
    calls = max(1, int(0.02 / max(time.perf_counter() - start, 1e-6)))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def _read_or_refuse(text: str, limits: HL7Limits | None) -> Callable[[], object]:
    def run() -> object:
        try:
            return from_hl7v2(text, PATHWAY, limits=limits)
        except InteropError as exc:
            return exc

    return run


@pytest.mark.parametrize("separator", ["~", "&", "^", "\\", "|"])
@pytest.mark.parametrize("where", ["PID-3", "PV1-10", "PID-5"])
@pytest.mark.parametrize("limits", [None, _HUGE], ids=["default-limits", "no-limits"])
def test_separator_heavy_fields_take_linear_time(
    separator: str, where: str, limits: HL7Limits | None
) -> None:
    """An input ten times longer takes about ten times as long (far from the hundred
    times a quadratic reader takes), read or refused, whatever the separator."""

    def text(n: int) -> str:
        filler = separator * n
        if where == "PID-3":
            return _with_pid3("MRN1^^^C^MR" + filler)
        if where == "PV1-10":
            return _with_service("IOP" + filler)
        return adt("A01", "M1", "202601050900", service="IOP").replace("DOE^JANE", filler)

    small, large = _read_or_refuse(text(40_000), limits), _read_or_refuse(text(400_000), limits)
    small()  # warm up
    # On a shared machine one pair of timings can be off by a burst of other work; a
    # quadratic reader is about 100x in every pair, a linear one about 10x in most.
    ratios = []
    for _ in range(3):
        ratios.append(_best_time(large) / _best_time(small))
        if ratios[-1] < 30:
            break
    assert min(ratios) < 30, f"{min(ratios):.1f}x for ten times the input"


# -- never echo sender text ---------------------------------------------------------------------

_PLANTED = ["123-45-6789", "Doe, Jane", "19800101", "555-555-0100", "Jane Doe 1 Main St"]


def _planted_messages(value: str) -> list[list[str]]:
    """Feeds with ``value`` in every field an error or a finding may mention."""
    good = adt("A01", "M1", "202601050900", service="IOP")
    return [
        [adt("A01", value, "202601050900", service="IOP"), adt("A02", "M9", "20260106")],
        [adt("A01", "M1", "202601050900", service="IOP", version=value)],
        [adt("A01", "M1", "202601050900", service=value)],
        [adt("A01", "M1", "202601050900", location=value)],
        [adt("A01", "M1", "202601050900", patient_class=value)],
        [adt("A01", "M1", "202601050900", service=value, patient_class="I")],
        [adt("A01", "M1", "202601050900", service="IOP", pid3=f"X^^^{value}^{value}")],
        [adt("A01", "M1", value, service="IOP")],
        [good, adt("A03", "M2", "202602050900", service="IOP", disposition=value)],
        [good, adt("A02", "M2", "202602050900", service="IOP", patient=value)],
        [good, adt("A02", "M2", "202602050900", service="IOP", visit=value)],
    ]


@pytest.mark.parametrize("value", _PLANTED)
def test_no_error_repr_or_note_echoes_sender_text(value: str) -> None:
    level_map = LevelMap(patient_id_authority="CLINIC")
    for feed in _planted_messages(value):
        readers: tuple[Callable[[list[str]], list[Episode]], ...] = (
            lambda f: [from_hl7v2(f, PATHWAY)],
            lambda f: episodes_from_hl7v2(f, PATHWAY),
            lambda f: episodes_from_hl7v2(f, PATHWAY, level_map=level_map),
        )
        for read in readers:
            try:
                episodes = read(feed)
            except InteropError as exc:
                said = f"{exc} {exc!r} {exc.resource} {exc.field} {exc.problem}"
                episodes = []
            else:
                said = ""
            assert value not in said
            for episode in episodes:
                for record in episode.history:
                    assert value not in (record.note or "")
                    assert value not in repr(record)


def test_an_ssn_in_the_hospital_service_is_described_not_quoted() -> None:
    err = _error(adt("A01", "M1", "202601050900", service="123-45-6789", patient_class="X"))
    assert err.field == "PV1-3/PV1-10"
    assert "an 11-character value that is not a hospital-service code" in err.problem
    assert "123-45-6789" not in str(err)


# -- encodings ----------------------------------------------------------------------------------


def test_a_byte_order_mark_is_accepted() -> None:
    text = adt("A01", "M1", "202601050900", service="IOP")
    plain = from_hl7v2(text, PATHWAY)
    assert from_hl7v2("\ufeff" + text, PATHWAY) == plain
    assert from_hl7v2(b"\xef\xbb\xbf" + text.encode(), PATHWAY) == plain


def test_mllp_framing_crlf_batches_and_custom_separators_are_read() -> None:
    text = adt("A01", "M1", "202601050900", service="IOP")
    framed = "\x0b" + text + "\x1c\r"
    batch = "FHS|^~\\&|EHR\rBHS|^~\\&|EHR\r" + text.replace("\r", "\r\n") + "BTS|1\rFTS|1\r"
    custom = text.replace("|", "#").replace("^", "$").replace("MSH#$~\\&", "MSH#$~\\&")
    for variant in (framed, batch, custom):
        assert from_hl7v2(variant, PATHWAY) == from_hl7v2(text, PATHWAY)


def test_latin1_bytes_are_read() -> None:
    text = adt("A01", "M1", "202601050900", service="IOP").replace("JANE", "JOS\xc9")
    assert from_hl7v2(text.encode("latin-1"), PATHWAY).state == "iop"


# -- fuzz ---------------------------------------------------------------------------------------

_SEED = "".join(
    [
        adt("A01", "M1", "202601050900", service="DETOX"),
        adt("A03", "M2", "202601100900", service="DETOX", disposition="01"),
        adt("A04", "M3", "202601110900", service="IOP", patient_class="O", visit="V2"),
    ]
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_SEED)),
            st.integers(0, 8),
            st.text(alphabet="|^~\\&\r\n\x0b\x1c\ufeffMSHPVIDEA0123OSR-.", max_size=12),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_feeds_raise_only_interop_errors(edits: list[tuple[int, int, str]]) -> None:
    """Cutting and splicing separators anywhere in a feed gives episodes or an
    InteropError, the one documented error type, never anything else."""
    text = _SEED
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    try:
        episodes = episodes_from_hl7v2(text, PATHWAY, limits=HL7Limits(max_repetitions=5))
    except InteropError:
        return
    assert all(isinstance(e, Episode) for e in episodes)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=200).map(lambda b: b"MSH|^~\\&|" + b) | st.binary(max_size=80))
def test_arbitrary_bytes_raise_only_interop_errors(data: bytes) -> None:
    with contextlib.suppress(InteropError):
        from_hl7v2(data, PATHWAY)


# -- identifiers --------------------------------------------------------------------------------

_IDS = ["123456789^^^SSA^SS", "MRN77^^^CLINIC^MR", "E5^^^EPI^PI", "D9^^^DMV^DL"]


@pytest.mark.parametrize("order", list(itertools.permutations(_IDS)))
def test_the_patient_id_is_the_mr_identifier_whatever_its_position(order: tuple[str, ...]) -> None:
    ep = from_hl7v2(_with_pid3("~".join(order)), PATHWAY)
    assert ep.patient_id == "MRN77"
    [course] = episodes_from_hl7v2(_with_pid3("~".join(order)), PATHWAY)
    assert course.patient_id == "MRN77"


@pytest.mark.parametrize(
    "pid3",
    [
        "123456789^^^SSA^SS",
        "123456789~MRN77",  # two untyped: which is it? Never a guess.
        "123456789^^^SSA^SS~E5^^^EPI^PI",
        "123456789^^^SSA^SS~MRN77",
    ],
)
def test_no_usable_identifier_is_an_error_naming_pid3_never_its_value(pid3: str) -> None:
    err = _error(_with_pid3(pid3))
    assert err.field == "PID-3"
    assert "MR" in err.problem
    assert "123456789" not in str(err)
    assert "MRN77" not in str(err)


def test_identifier_types_and_authority_are_configurable() -> None:
    pid3 = "MRN1^^^OTHER^MR~MRN2^^^CLINIC^MR~E5^^^EPI^PI"
    assert from_hl7v2(_with_pid3(pid3), PATHWAY).patient_id == "MRN1"
    by_authority = LevelMap(patient_id_authority="CLINIC")
    assert from_hl7v2(_with_pid3(pid3), PATHWAY, by_authority).patient_id == "MRN2"
    by_type = LevelMap(patient_id_types=["PI", "MR"])
    assert from_hl7v2(_with_pid3(pid3), PATHWAY, by_type).patient_id == "E5"
    assert from_hl7v2(_with_pid3("P1"), PATHWAY).patient_id == "P1"  # a lone untyped id
    strict = LevelMap(untyped_patient_id=False)
    assert _error(_with_pid3("P1"), level_map=strict).field == "PID-3"
    with pytest.raises(InteropError, match="social security"):
        LevelMap(patient_id_types=["MR", "ss"])
    with pytest.raises(InteropError, match="identifier type"):
        LevelMap(patient_id_types="MR")


# -- levels and dispositions --------------------------------------------------------------------


def test_a_level_only_the_patient_class_suggests_is_refused_naming_the_codes_to_add() -> None:
    msg = adt("A01", "M1", "202601050900", patient_class="I", location="W3^12", service="MED")
    err = _error(msg)
    assert err.field == "PV1-3/PV1-10"
    assert "'W3' to LevelMap.locations" in err.problem
    assert "'MED' to LevelMap.services" in err.problem
    ep = from_hl7v2(msg, PATHWAY, LevelMap(patient_class_fallback=True))
    assert ep.state == "inpatient"
    assert "finding: level 'inpatient' guessed from the patient class" in str(ep.history[0].note)
    assert LevelMap().level_for(patient_class="I", location="", service="") is None


@pytest.mark.parametrize("code", sorted(DISCHARGE_STATUS))
def test_every_ub04_discharge_status_gives_a_discharge(code: str) -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="IOP"),
        adt("A03", "M2", "202603050900", service="IOP", disposition=code),
    ]
    ep = from_hl7v2(msgs, PATHWAY)
    assert ep.outcome is not None
    note = ep.history[-1].note or ""
    if code in DEFAULT_DISPOSITIONS:
        assert ep.outcome is DEFAULT_DISPOSITIONS[code]
        assert "finding" not in note
    else:
        assert code in {"20", "30", "40", "41", "42"}
        assert ep.outcome is Outcome.TRANSFERRED_OUT
        assert f"PV1-36 '{code}' ({DISCHARGE_STATUS[code]}) maps to no outcome" in note


def test_an_unknown_disposition_is_a_finding_not_a_refused_visit() -> None:
    msgs = [
        adt("A01", "M1", "202601050900", service="IOP"),
        adt("A03", "M2", "202603050900", service="IOP", disposition="ZZ"),
    ]
    ep = from_hl7v2(msgs, PATHWAY, LevelMap(unmapped_disposition="completed"))
    assert ep.outcome is Outcome.COMPLETED
    assert "PV1-36 'ZZ' (not a UB-04 discharge status) maps to no outcome" in str(
        ep.history[-1].note
    )
    assert "LevelMap.dispositions" in str(ep.history[-1].note)
