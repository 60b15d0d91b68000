"""Engine API latency: the csim daemon (sim backend, fast clock) against a private real dockerd.

Measures, through a unix socket, the median of
- ``GET /containers/json`` (raw HTTP, one connection per request), and
- a full ``docker run --rm busybox true`` with the real docker CLI (process
  start, ping, create, attach, wait, start, exit, removal),
for ``csim daemon --speed 1000`` and, when ``dockerd`` is installed and we
are root, a private ``dockerd`` (``--bridge=none``, busybox loaded from the
csim bootstrap image) started in a temp dir in the same run. Prints both and
their ratio. Target for the sim backend: ``docker run --rm`` under 150 ms.

Usage: python bench/api_latency.py [--rounds 20] [--list-rounds 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api_harness import Daemon, connect, csim_daemon, real_dockerd


def list_latency(sock: str, rounds: int) -> float:
    request = b"GET /v1.41/containers/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        s = connect(sock)
        s.sendall(request)
        while s.recv(65536):
            pass
        s.close()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def run_latency(d: Daemon, rounds: int, network: list[str]) -> float:
    env = d.env()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = subprocess.run(
            ["docker", "run", "--rm", *network, "busybox", "true"], env=env, capture_output=True, check=False
        )
        samples.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise RuntimeError(f"docker run failed: {r.stderr.decode(errors='replace')}")
    return statistics.median(samples)


def measure(d: Daemon, rounds: int, list_rounds: int, network: list[str]) -> tuple[float, float]:
    run_latency(d, 2, network)  # warm up
    return list_latency(d.sock, list_rounds), run_latency(d, rounds, network)


def row(label: str, list_s: float, run_s: float) -> None:
    print(f"{label:31} GET /containers/json {list_s * 1000:7.2f} ms   docker run --rm {run_s * 1000:7.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--list-rounds", type=int, default=200)
    args = ap.parse_args()
    if shutil.which("docker") is None:
        print("the docker CLI is not installed: nothing to measure")
        return 1
    with csim_daemon("--speed", "1000", "--log-level", "warning") as csim:
        if csim.docker("pull", "busybox").returncode != 0:
            print("csim: pull busybox failed")
            return 1
        csim_list, csim_run = measure(csim, args.rounds, args.list_rounds, [])
    row("csim daemon (sim, speed 1000x):", csim_list, csim_run)
    verdict = "met" if csim_run < 0.150 else "MISSED"
    print(f"  target docker run --rm < 150 ms: {verdict}")
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        print("real dockerd: not measured (needs root and dockerd)")
        return 0
    import pytest

    try:
        with real_dockerd() as real:
            real_list, real_run = measure(real, args.rounds, args.list_rounds, ["--network", "none"])
    except pytest.skip.Exception as why:
        print(f"real dockerd: not measured ({why})")
        return 0
    row("real dockerd 20.10 (private):", real_list, real_run)
    print(
        f"{'ratio csim/dockerd:':31} GET /containers/json {csim_list / real_list:7.2f}x      "
        f"docker run --rm {csim_run / real_run:7.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
