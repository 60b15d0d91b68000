"""How long ``docker build`` takes on the simulated backend: cold, and fully cached.

Builds a 10-step, two-stage Dockerfile (ARG, WORKDIR, COPY, RUN, ENV,
COPY --from, LABEL, EXPOSE, CMD) through ``POST /build`` on a fresh world
(busybox already pulled), then rebuilds it unchanged several times: every
step must come from the cache and give the same image ID. Prints the wall
time of the cold build and the median cached rebuild (target: < 200 ms),
and the modelled (world) time of each.

Usage: python bench/build_cache.py [REBUILDS]
"""

from __future__ import annotations

import io
import statistics
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from build_helpers import MULTI_STAGE

DOCKERFILE = MULTI_STAGE.encode()  # the same two-stage Dockerfile the build tests use
TARGET_MS = 200.0


def context_tar() -> bytes:
    files = {"Dockerfile": DOCKERFILE, "src/a.txt": b"hello\n", "src/b.txt": b"world\n"}
    for i in range(50):
        files[f"src/extra/f{i:02d}.txt"] = f"file {i}\n".encode() * 20
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_once(world: object, body: bytes) -> tuple[float, float, list[dict[str, object]]]:
    start_world = float(world.env.now)  # type: ignore[attr-defined]
    start = time.perf_counter()
    resp = world.api("POST", "/build", {"t": "bench:1"}, body)  # type: ignore[attr-defined]
    wall = time.perf_counter() - start
    messages: list[dict[str, object]] = resp.body
    if resp.status != 200 or any("errorDetail" in m for m in messages):
        raise SystemExit(f"build failed: {messages[-1] if messages else resp.body}")
    return wall, float(world.env.now) - start_world, messages  # type: ignore[attr-defined]


def main() -> int:
    rebuilds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    from simulator.des.world import World

    world = World(seed=1)
    world.api("POST", "/images/create", {"fromImage": "docker.io/library/busybox", "tag": "latest"})
    body = context_tar()
    cold_wall, cold_world, cold = build_once(world, body)
    cold_id = next(m["aux"] for m in reversed(cold) if "aux" in m)
    times: list[float] = []
    cached_world = 0.0
    for _ in range(rebuilds):
        wall, cached_world, messages = build_once(world, body)
        hits = sum(1 for m in messages if m.get("stream") == " ---> Using cache\n")
        if hits != 9 or next(m["aux"] for m in reversed(messages) if "aux" in m) != cold_id:
            raise SystemExit(f"rebuild was not fully cached ({hits}/9 steps)")
        times.append(wall)
    median_ms = statistics.median(times) * 1000
    print(f"cold build:           {cold_wall * 1000:8.1f} ms wall, {cold_world:7.3f} s modelled")
    print(f"cached rebuild (x{rebuilds}): {median_ms:8.1f} ms wall (median), {cached_world:7.3f} s modelled")
    print(f"cold / cached:        {cold_wall * 1000 / median_ms:8.1f}x")
    verdict = "OK" if median_ms < TARGET_MS else "SLOW"
    print(f"target: cached rebuild < {TARGET_MS:.0f} ms: {verdict}")
    return 0 if median_ms < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
