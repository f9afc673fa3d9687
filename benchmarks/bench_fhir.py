"""FHIR benchmarks (issues 15 and 22): large bundles at the speed of the JSON, and Bulk
Data NDJSON import.

Run with ``.venv/bin/python benchmarks/bench_fhir.py`` (``--quick`` for a smoke run that
reports the figures but never fails on them).

a. One episode of 8,000 events (every event with an assessment, a move every tenth
   event: about 48,000 Observations, 800 Encounters), side by side in one run:
   ``json.loads`` of its FHIR JSON (the baseline), export (``to_fhir_json``) and import
   (``from_fhir`` of the text). Target: export and import each within 5x ``json.loads``;
   peak memory of import (tracemalloc, measured in a separate pass) under 10x the
   size of the text.
b. Bulk Data NDJSON import (``episodes_from_fhir_ndjson``) of 100,000 Encounters (20,000
   patients, five stays each, plus their Patient lines) from a file. Target: at least
   5,000 resources per second on one core.

Timings are CPU seconds of this process (``time.process_time``: one core's work), the
best of several rounds (the median is shown too); the runs of a are interleaved.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from carepath import Assessment, Episode, Event, Pathway, standard_pathway
from carepath.interop import episodes_from_fhir_ndjson, from_fhir, to_fhir_json

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
RATIO_TARGET = 5.0
MEMORY_TARGET = 10.0
NDJSON_TARGET = 5_000.0


def long_episode(pathway: Pathway, events: int) -> Episode:
    """Admit to IOP, then reassessments a minute apart, with a step up to PHP or down to
    IOP every tenth event; every event carries an assessment."""
    ep = pathway.start("patient-bench", at=T0, episode_id="bench-fhir")
    ep.admit("iop", at=T0, assessment=Assessment(relapse=2))
    for i in range(1, events):
        at = T0 + timedelta(minutes=i)
        a = Assessment(readiness=i % 2, environment=(i // 2) % 2, relapse=2)
        if i % 10 == 0:
            target = "php" if ep.state == "iop" else "iop"
            event = Event.STEP_UP if target == "php" else Event.STEP_DOWN
            ep.record(event, target, at=at, assessment=a)
        else:
            ep.record(Event.REASSESS, at=at, assessment=a)
    return ep


def timed(fn: Callable[[], object]) -> float:
    """CPU seconds of ``fn`` in this process: one core's work, whatever else the machine
    is running (wall-clock time on a shared machine measures the neighbours too)."""
    gc.collect()
    start = time.process_time()
    fn()
    return time.process_time() - start


def peak_memory(fn: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_bundle(events: int, rounds: int) -> dict[str, float]:
    pathway = standard_pathway()
    ep = long_episode(pathway, events)
    text = to_fhir_json(ep, "R4")
    data = json.loads(text)
    n_resources = len(data["entry"])
    del data
    assert from_fhir(text, pathway) == ep
    runs: dict[str, list[float]] = {"json.loads": [], "export": [], "import": []}
    for _ in range(rounds):
        runs["json.loads"].append(timed(lambda: json.loads(text)))
        runs["export"].append(timed(lambda: to_fhir_json(ep, "R4")))
        runs["import"].append(timed(lambda: from_fhir(text, pathway)))
    size = len(text.encode())
    peak = peak_memory(lambda: from_fhir(text, pathway))
    base = min(runs["json.loads"])
    print(f"a. one episode of {events:,} events: {n_resources:,} resources, {size / 1e6:.1f} MB")
    for name, times in runs.items():
        print(
            f"   {name:<10} best {min(times):7.3f} s  median {statistics.median(times):7.3f} s"
            f"  ({min(times) / base:4.1f}x json.loads)"
        )
    print(f"   import peak memory {peak / 1e6:.0f} MB = {peak / size:.1f}x the text")
    return {
        "export": min(runs["export"]) / base,
        "import": min(runs["import"]) / base,
        "memory": peak / size,
    }


def _ndjson(path: Path, patients: int, stays: int) -> int:
    levels = ("H0011", "H0018", "H0035", "H0015", "H0004")
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for p in range(patients):
            out.write(json.dumps({"resourceType": "Patient", "id": f"p{p}"}) + "\n")
            n += 1
            start = T0 + timedelta(minutes=p)
            for s in range(stays):
                end = start + timedelta(days=3 + s)
                enc = {
                    "resourceType": "Encounter",
                    "id": f"e{p}-{s}",
                    "status": "finished",
                    "class": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "IMP" if s < 2 else "AMB",
                    },
                    "type": [{"coding": [{"system": HCPCS, "code": levels[s % len(levels)]}]}],
                    "subject": {"reference": f"Patient/p{p}"},
                    "period": {"start": start.isoformat(), "end": end.isoformat()},
                }
                if s == stays - 1:
                    enc["hospitalization"] = {
                        "dischargeDisposition": {"coding": [{"code": "home"}]}
                    }
                out.write(json.dumps(enc) + "\n")
                n += 1
                start = end
    return n


def bench_ndjson(encounters: int, rounds: int) -> float:
    pathway = standard_pathway()
    stays = 5
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.ndjson"
        n = _ndjson(path, encounters // stays, stays)
        times = []
        for _ in range(rounds):
            times.append(timed(lambda: episodes_from_fhir_ndjson([path], pathway)))
        result = episodes_from_fhir_ndjson([path], pathway)
    assert result.counts["Encounter"] == encounters
    best = min(times)
    rate = n / best
    print(
        f"b. Bulk NDJSON: {encounters:,} Encounters + {encounters // stays:,} Patients = {n:,}"
        f" resources: best {best:.2f} s, median {statistics.median(times):.2f} s"
        f" -> {rate:,.0f} resources/s"
    )
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run; never fails")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, one process")
    events, encounters, rounds = (800, 5_000, 1) if args.quick else (8_000, 100_000, 3)
    ratios = bench_bundle(events, rounds)
    rate = bench_ndjson(encounters, 1 if args.quick else 2)
    missed = [
        f"{k} {v:.1f}x > {RATIO_TARGET}x"
        for k, v in ratios.items()
        if k != "memory" and v > RATIO_TARGET
    ]
    if ratios["memory"] > MEMORY_TARGET:
        missed.append(f"memory {ratios['memory']:.1f}x > {MEMORY_TARGET}x")
    if rate < NDJSON_TARGET:
        missed.append(f"NDJSON {rate:,.0f}/s < {NDJSON_TARGET:,.0f}/s")
    print("targets: " + ("all met" if not missed else "missed: " + "; ".join(missed)))
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
