"""Check the public API's type completeness with ``pyright --verifytypes`` (>= a floor).

    python scripts/verifytypes.py [--floor 95]

pyright cannot follow the editable install's import hook, so the package is copied
to a temporary directory on PYTHONPATH first. Prints the score and the symbols that
are not fully typed; exits 1 below the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=float, default=95.0, help="minimum percentage")
    args = parser.parse_args()
    pyright = Path(sys.executable).parent / "pyright"
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(
            ROOT / "src" / "carepath",
            Path(tmp) / "carepath",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        done = subprocess.run(
            [
                str(pyright),
                "--pythonpath",
                sys.executable,
                "--verifytypes",
                "carepath",
                "--ignoreexternal",
                "--outputjson",
            ],
            capture_output=True,
            text=True,
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": tmp},
            check=False,
        )
    report = json.loads(done.stdout)["typeCompleteness"]
    counts = report["exportedSymbolCounts"]
    total = sum(counts.values())
    score = 100.0 * report["completenessScore"]
    for symbol in report["symbols"]:
        if symbol["isExported"] and not symbol["isTypeKnown"]:
            first = (
                symbol["diagnostics"][0]["message"].splitlines()[0] if symbol["diagnostics"] else ""
            )
            print(f"  {symbol['name']}: {first}")
    print(
        f"public API type completeness: {score:.1f}% "
        f"({counts['withKnownType']} of {total} exported symbols fully typed; floor {args.floor}%)"
    )
    return 0 if score >= args.floor and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
