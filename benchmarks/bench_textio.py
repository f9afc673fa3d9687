"""Strict JSON loading (carepath._textio.load_json) against json.loads, side by side.

Run with ``.venv/bin/python benchmarks/bench_textio.py`` (``--mb 50`` by default;
``--quick`` for a smoke run). The document is FHIR-shaped (a Bundle of Encounters
with extensions, about 700 bytes per entry); both parsers read the same text in
the same run, best of ``--repeat`` rounds. The target (issue 22): strict loading
within 5x ``json.loads``, so readers that use it can import large FHIR within 5x.

Also shown: refusing 1 MB of ``[`` (the depth limit) and a duplicate key at the end
of the document (found, then located by a second parse).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from carepath._textio import TextInputError, load_json


def _entry(i: int) -> dict[str, object]:
    return {
        "fullUrl": f"urn:uuid:550e8400-e29b-41d4-a716-{i:012d}",
        "resource": {
            "resourceType": "Encounter",
            "id": f"enc-{i}",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "period": {"start": "2026-01-05T09:00:00+00:00", "end": "2026-01-06T09:00:00+00:00"},
            "extension": [
                {"url": "https://carepath.invalid/fhir/event-id", "valueString": f"MSG{i:08d}"},
                {"url": "https://carepath.invalid/fhir/note", "valueString": 'a "quoted" \\ note'},
            ],
            "subject": {"reference": "Patient/p1"},
            "location": [{"location": {"reference": "Location/detox"}, "status": "completed"}],
        },
    }


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _refused(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> None:
        try:
            fn()
        except TextInputError:
            return
        raise AssertionError("expected TextInputError")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="document size in MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a 2 MB smoke run")
    args = parser.parse_args()
    mb = 2.0 if args.quick else args.mb
    one = len(json.dumps(_entry(0)))
    n = max(1, int(mb * 1e6 / (one + 1)))
    text = json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": list(map(_entry, range(n)))}
    )
    size = len(text.encode())
    print(f"document: {size / 1e6:.1f} MB, {n:,} entries")
    base = _best(lambda: json.loads(text), args.repeat)
    strict = _best(lambda: load_json(text, max_bytes=None), args.repeat)
    print(f"json.loads:        {base:7.3f} s")
    print(f"load_json:         {strict:7.3f} s  ({strict / base:.2f}x json.loads; target <= 5x)")
    dup = text[:-2] + ', "type": "again"}'
    t = _best(_refused(lambda: load_json(dup, max_bytes=None)), 1)
    print(f"duplicate at end:  {t:7.3f} s  ({t / base:.2f}x; refused, key and place named)")
    deep = "[" * 1_000_000 + "]" * 1_000_000
    t = _best(_refused(lambda: load_json(deep)), args.repeat)
    print(f"1 MB of '[':        {t:7.3f} s  (refused: max_depth)")


if __name__ == "__main__":
    main()
