"""HL7 v2 benchmarks: which parser, and how fast a whole feed becomes courses of treatment.

Run: ``.venv/bin/python benchmarks/bench_hl7.py [--quick] [--messages N]``.
hl7apy and python-hl7 are needed only for figure 1 (``pip install hl7apy hl7``); a
parser that is not installed is skipped.

1. Parsers, on the same generated ADT messages (MSH, EVN, PID, NK1, PV1, PV2, DG1; a
   realistic mix of A01/A02/A03/A04/A08), each reading the fields carepath uses
   (MSH-7/9/10/12, EVN-2, every PID-3 repetition, PV1-2/3/10/19/36):
   - hl7apy 1.3 (what carepath used before): ``parse_message(find_groups=False,
     validation_level=TOLERANT)``, the fields read from its tree;
   - python-hl7 (PyPI ``hl7``): ``hl7.parse``, the fields read by index;
   - carepath's own reader (``carepath.interop._hl7_reader``): splits only those
     segments and fields, within :class:`~carepath.interop.HL7Limits`.
   Printed: CPU microseconds per message and each parser's time as a ratio of
   carepath's, all measured in this run (best of three passes each; one for hl7apy).
2. ``episodes_from_hl7v2`` over N generated messages (default 100,000: 20 per patient,
   two or three visits each, per-session IOP registrations, a cancel and a retry per
   patient), against the raw reader over the same messages as the baseline (the share
   of the time that is parsing). Target: at least 5,000 messages/s on one core. Both
   the CPU time of this process (what one core gives, whatever else runs on the
   machine) and the wall time are printed.

3. One field of 1 MB of one separator (``~``, ``&``, ``^``, ``\\``, ``|``) in PID-3: the time
   ``from_hl7v2`` takes to refuse it (default limits) or read it (no limits), best of
   three, CPU time. Target: well under a second (hl7apy took 23 s for 100 KB of ``~``).

The load average is printed before and after: figures taken under load are not
comparable.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from carepath import standard_pathway
from carepath.interop import HL7Limits, episodes_from_hl7v2, from_hl7v2
from carepath.interop._hl7_reader import read_message, split_messages

_STRUCTURE = {"A01": "ADT_A01", "A02": "ADT_A02", "A03": "ADT_A03", "A04": "ADT_A01"}
_STRUCTURE |= {"A08": "ADT_A01", "A11": "ADT_A09", "A13": "ADT_A01"}


def message(
    trigger: str,
    control_id: str,
    at: datetime,
    *,
    patient: int,
    visit: str,
    patient_class: str,
    service: str,
    location: str = "",
    disposition: str = "",
) -> str:
    """One ADT v2.5 message with the segments an Epic-style feed sends."""
    ts = at.strftime("%Y%m%d%H%M")
    pv1 = [""] * 45
    pv1[0], pv1[1], pv1[2], pv1[3] = "PV1", "1", patient_class, location
    pv1[7], pv1[10], pv1[18], pv1[19] = "1234^WELBY^MARCUS^^^DR", service, "SUD", visit
    pv1[36], pv1[44] = disposition, ts
    return "\r".join(
        (
            f"MSH|^~\\&|EPIC|NORTHSIDE|CAREPATH|NORTHSIDE|{ts}||ADT^{trigger}^"
            f"{_STRUCTURE[trigger]}|{control_id}|P|2.5|||AL|NE",
            f"EVN|{trigger}|{ts}|||OP123^ENTRY^ALEX",
            f"PID|1||{100000000 + patient:09d}^^^SSA^SS~MRN{patient:07d}^^^NORTHSIDE^MR~"
            f"E{patient}^^^EPI^PI||DOE^JANE^Q||19800101|F|||1 MAIN ST^^SPRINGFIELD^IL^62701"
            "||(555)555-0100|||S||ACCT42|123-45-6789",
            "NK1|1|DOE^JOHN|SPO|1 MAIN ST^^SPRINGFIELD^IL^62701|(555)555-0101",
            "|".join(pv1).rstrip("|"),
            "PV2|||^ALCOHOL USE DISORDER",
            "DG1|1||F10.20^Alcohol dependence, uncomplicated^I10||",
        )
    )


def feed(n_messages: int) -> list[str]:
    """About ``n_messages`` messages: per patient a detox visit stepping down to
    residential, a discharge, IOP registered per session a day later, a cancelled and
    re-sent discharge, a retried message, and an update."""
    out: list[str] = []
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
    patient = 0
    while len(out) < n_messages:
        patient += 1
        t = t0 + timedelta(hours=patient % 500)
        counter = iter(range(1_000_000))

        def m(
            trigger: str,
            at: datetime,
            visit: str,
            cls: str,
            svc: str,
            disp: str = "",
            *,
            patient: int = patient,
            ids: Iterator[int] = counter,
        ) -> str:
            return message(
                trigger,
                f"P{patient}-{next(ids)}",
                at,
                patient=patient,
                visit=visit,
                patient_class=cls,
                service=svc,
                disposition=disp,
            )

        v1, day = f"V{patient}-1", timedelta(days=1)
        msgs = [
            m("A01", t, v1, "I", "DETOX"),
            m("A08", t + timedelta(hours=2), v1, "I", "DETOX"),
            m("A02", t + 4 * day, v1, "I", "RES"),
            m("A03", t + 20 * day, v1, "I", "RES", "01"),
        ]
        msgs.append(m("A13", t + 20 * day + timedelta(hours=1), v1, "I", "RES"))
        msgs.append(m("A03", t + 21 * day, v1, "I", "RES", "01"))
        start = t + 22 * day
        for session in range(6):
            vs = f"V{patient}-S{session}"
            at = start + session * 2 * day
            msgs.append(m("A04", at, vs, "O", "IOP"))
            msgs.append(m("A03", at + timedelta(hours=3), vs, "O", "IOP", "01"))
        msgs.append(msgs[2])  # a retried transfer
        out.extend(msgs)
    return out[:n_messages] if len(out) - n_messages < 20 else out


def _best(fn: Callable[[], object], passes: int = 3) -> float:
    """The fewest CPU seconds of this process one call took (what one core gives,
    however busy the machine is)."""
    times = []
    for _ in range(passes):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def _carepath_reader(texts: list[str]) -> Callable[[], object]:
    limits = HL7Limits()

    def run() -> object:
        out = []
        for i, text in enumerate(texts, 1):
            for segments in split_messages(text):
                raw = read_message(segments, i, limits)
                out.append(
                    (
                        raw.get("MSH", 7),
                        raw.get("MSH", 9, 2),
                        raw.get("MSH", 10),
                        raw.get("EVN", 2),
                        raw.repetitions("PID", 3),
                        raw.get("PV1", 2),
                        raw.get("PV1", 3),
                        raw.get("PV1", 10),
                        raw.get("PV1", 19),
                        raw.get("PV1", 36),
                    )
                )
        return out

    return run


def _python_hl7(texts: list[str]) -> Callable[[], object] | None:
    try:
        import hl7  # noqa: PLC0415  # optional, only for the comparison
    except ImportError:
        return None

    def run() -> object:
        out = []
        for text in texts:
            msg = hl7.parse(text)
            msh, evn, pid, pv1 = (msg.segment(s) for s in ("MSH", "EVN", "PID", "PV1"))
            out.append(
                (
                    str(msh[7]),
                    str(msh[9][0][1]),
                    str(msh[10]),
                    str(evn[2]),
                    [[str(c) for c in rep] for rep in pid[3]],
                    str(pv1[2]),
                    str(pv1[3]),
                    str(pv1[10]),
                    str(pv1[19]),
                    str(pv1[36]) if len(pv1) > 36 else "",
                )
            )
        return out

    return run


def _hl7apy(texts: list[str]) -> Callable[[], object] | None:
    try:
        from hl7apy.consts import VALIDATION_LEVEL  # noqa: PLC0415
        from hl7apy.parser import parse_message  # noqa: PLC0415
    except ImportError:
        return None

    def run() -> object:
        out = []
        for text in texts:
            msg = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.TOLERANT)
            fields = []
            for seg, n in (("msh", 7), ("msh", 9), ("msh", 10), ("evn", 2), ("pid", 3)):
                segment = getattr(msg, seg)
                fields.append([r.to_er7() for r in getattr(segment, f"{seg}_{n}")])
            for n in (2, 3, 10, 19, 36):
                fields.append([r.to_er7() for r in getattr(msg.pv1, f"pv1_{n}")])
            out.append(fields)
        return out

    return run


def figure_parsers(n: int) -> None:
    texts = feed(n)[:n]
    ours = _best(_carepath_reader(texts))
    print(f"1. parsers, {len(texts):,} ADT messages, best of 3 passes")
    print(f"   carepath reader   {ours / len(texts) * 1e6:9.1f} us/message   1.0x")
    for name, factory in (("python-hl7", _python_hl7), ("hl7apy", _hl7apy)):
        run = factory(texts)
        if run is None:
            print(f"   {name:<17} not installed: skipped")
            continue
        took = _best(run, passes=1 if name == "hl7apy" else 3)
        print(
            f"   {name:<17} {took / len(texts) * 1e6:9.1f} us/message "
            f"{took / ours:6.1f}x carepath's time"
        )


def _cpu_and_wall(fn: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of this process and wall seconds of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def figure_feed(n: int) -> None:
    texts = feed(n)
    pathway = standard_pathway()
    joined = "\r".join(texts)
    parse_cpu, parse_wall = _cpu_and_wall(_carepath_reader([joined]))
    result: list[object] = []
    cpu, wall = _cpu_and_wall(lambda: result.extend(episodes_from_hl7v2(joined, pathway)))
    print(
        f"2. episodes_from_hl7v2: {len(texts):,} messages -> {len(result):,} episodes: "
        f"{cpu:.2f} s of CPU = {len(texts) / cpu:,.0f} messages/s on one core (target "
        f">= 5,000); wall {wall:.2f} s = {len(texts) / wall:,.0f} messages/s. The raw reader "
        f"over the same messages: {parse_cpu:.2f} s of CPU ({parse_cpu / cpu:.0%}), wall "
        f"{parse_wall:.2f} s"
    )


def figure_separators() -> None:
    from carepath import InteropError  # noqa: PLC0415

    pathway = standard_pathway()
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    base = message("A01", "M1", at, patient=1, visit="V1", patient_class="I", service="DETOX")
    huge = HL7Limits(
        max_message_chars=10**8, max_field_chars=10**8, max_repetitions=10**8, max_components=10**8
    )
    print("3. 1 MB of one separator in PID-3, best of 3")
    for sep in ("~", "&", "^", "\\", "|"):
        text = base.replace("~MRN0000001", "~MRN0000001" + sep * 1_000_000)
        for name, limits in (("default limits", None), ("no limits", huge)):

            def run(text: str = text, limits: HL7Limits | None = limits) -> None:
                with contextlib.suppress(InteropError):
                    from_hl7v2(text, pathway, limits=limits)

            took = _best(run)
            print(f"   {sep!r:>6} {name:<15} {took * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--messages", type=int, default=100_000, help="figure 2's feed size")
    parser.add_argument("--parser-messages", type=int, default=2_000, help="figure 1's size")
    parser.add_argument("--figures", default="1,2,3", help="which figures, e.g. 2,3")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    figures = set(args.figures.split(","))
    if "1" in figures:
        figure_parsers(max(20, args.parser_messages // scale))
    if "2" in figures:
        figure_feed(max(100, args.messages // scale))
    if "3" in figures:
        figure_separators()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
