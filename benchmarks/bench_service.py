"""CDS Hooks service benchmark (issue 20): order-sign with prefetch, 16 concurrent clients.

Run with ``.venv/bin/python benchmarks/bench_service.py`` (``--quick`` for a smoke run).

The service runs in its own process under uvicorn on 127.0.0.1 (as ``carepath serve``
would run it, with a SQLite store holding the patient's episode); the clients are
asyncio tasks in this process, each on its own keep-alive connection, sending its
next request as soon as the last is answered (a small wrk-like loop that costs
little CPU). Measured, in the same run:

- baseline: ``GET /cds-services`` (discovery: the HTTP stack and the clients alone);
- order-sign, no card: a referral to the indicated level (load the episode from the
  store, place the assessment read from the prefetched QuestionnaireResponse, check
  the move);
- order-sign, card: a referral to another level (the same, plus the card and its row
  written to the store for feedback).

Targets: order-sign p99 under 20 ms and at least 300 requests/s with 16 clients on
this 2-core machine. The clients share the machine's cores with the server, so the
figures are the whole loop's; the ratio to the baseline shows what carepath adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _service_support import (  # noqa: E402  # the tests' fixtures: one set of sample data
    ADMITTED,
    IOP_PROFILE,
    NOW,
    hook_request,
    make_store,
    prefetch,
    referral,
)

P99_TARGET_MS = 20.0
RPS_TARGET = 300.0


def _serve(db_dir: str, port: int) -> None:
    """The server process: the store, the app, uvicorn (no token check, no access log)."""
    import uvicorn  # noqa: PLC0415

    from carepath import standard_pathway  # noqa: PLC0415
    from carepath.service import create_app  # noqa: PLC0415

    pathway = standard_pathway()
    store = make_store(Path(db_dir), pathway)
    app = create_app(store, pathway, insecure_dev=True, clock=lambda: NOW)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _request(method: str, path: str, body: dict[str, Any] | None, port: int) -> bytes:
    """One HTTP/1.1 keep-alive request, as bytes (built once, sent many times)."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return (head + "\r\n").encode() + payload


async def _load(
    port: int, request: bytes, total: int, clients: int
) -> tuple[list[float], float, int]:
    """Latencies (s), wall time (s) and the number of non-200 answers.

    Each client holds one keep-alive connection and sends its next request when the
    last answer is read: a small wrk-like loop, so the clients cost little CPU and the
    figures are the server's.
    """
    latencies: list[float] = []
    bad = 0
    left = total

    async def client() -> None:
        nonlocal left, bad
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left > 0:
                left -= 1
                start = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                bad += head[9:12] != b"200"
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), timeout=600)
    return latencies, time.perf_counter() - start, bad


def _row(name: str, lat: list[float], wall: float, bad: int) -> dict[str, float]:
    q = statistics.quantiles(lat, n=100, method="inclusive")
    out = {"p50": q[49] * 1e3, "p99": q[98] * 1e3, "rps": len(lat) / wall, "bad": bad}
    print(
        f"{name:<24} {out['p50']:>8.2f} {out['p99']:>8.2f} {out['rps']:>10.0f} {bad:>6}",
        flush=True,
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="a smoke run (300 requests)")
    parser.add_argument("--serve", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return 0
    total = 300 if args.quick else args.requests
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"{total} requests per case, {args.clients} concurrent clients, SQLite store")
    print(f"load average before the run: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", tmp, str(port)], cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/cds-services", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print("the server did not start", file=sys.stderr)
                        return 1
                    time.sleep(0.1)
            # A referral to PHP for a patient in PHP whose assessment places in PHP: no card.
            fine = hook_request("order-sign", pre=prefetch(ADMITTED), orders=(referral("php"),))
            # A referral to inpatient care when IOP is indicated: a card with a suggestion.
            card = hook_request(
                "order-sign", pre=prefetch(IOP_PROFILE), orders=(referral("inpatient"),)
            )
            path = "/cds-services/carepath-referral-sign"
            asyncio.run(_load(port, _request("POST", path, card, port), 200, 4))  # warm up
            print(f"{'case':<24} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>10} {'non200':>6}")
            rows = {}
            for name, request in (
                ("baseline (discovery)", _request("GET", "/cds-services", None, port)),
                ("order-sign, no card", _request("POST", path, fine, port)),
                ("order-sign, card", _request("POST", path, card, port)),
            ):
                lat, wall, bad = asyncio.run(_load(port, request, total, args.clients))
                rows[name] = _row(name, lat, wall, bad)
        finally:
            server.terminate()
            server.wait(30)
    base_rps = rows["baseline (discovery)"]["rps"]
    ok = True
    for name in ("order-sign, no card", "order-sign, card"):
        r = rows[name]
        met = r["p99"] < P99_TARGET_MS and r["rps"] >= RPS_TARGET and r["bad"] == 0
        ok &= met
        print(
            f"{name}: {r['rps'] / base_rps:.2f}x the baseline's throughput; "
            f"targets p99 < {P99_TARGET_MS:.0f} ms and >= {RPS_TARGET:.0f} req/s: "
            + ("met" if met else "NOT met")
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
