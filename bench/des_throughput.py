"""How fast the simulated world runs container lifecycles, against a bare SimPy loop.

Runs N full lifecycles (create, start, stop, rm through every hop, after one
pull) and, in the same run, a bare SimPy loop scheduling the same number of
events. Prints lifecycles per second, the ratio bare-loop-time /
csim-time (target >= 0.25), and the peak RSS of a child process for two sizes
(memory should grow about linearly with N).

How events are counted: an event is one ``env.schedule`` call (a timeout,
a succeeded event, a process start or end). SimPy numbers every scheduled
event from one counter (``env._eid``), so the count is the counter's advance
over the timed lifecycles, read without consuming an id. The bare loop is one
process yielding timeouts; its start and its end are events too, so it
yields ``count - 2`` timeouts and its own counter is checked to advance by
exactly ``count``. Events the csim run scheduled but had not processed when it
stopped (the timers of killed ``sleep 300`` processes) are counted as well:
scheduling them was part of the work; ``queued`` in the output says how many.

Usage: python bench/des_throughput.py [N]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing


def run_lifecycles(n: int) -> dict[str, float]:
    import simpy

    from simulator.api.messages import ApiRequest
    from simulator.des.world import World

    world = World(seed=1)
    world.api("POST", "/images/create", {"fromImage": "docker.io/library/busybox", "tag": "latest"})
    steps_before = _scheduled(world.env)
    queued_before = len(world.env._queue)
    start = time.perf_counter()
    for i in range(n):
        created = world.request(
            ApiRequest.build(
                "POST", "/containers/create", {"name": f"c{i}"}, {"Image": "busybox", "Cmd": ["sleep", "300"]}
            )
        )
        cid = created.body["Id"]
        world.request(ApiRequest.build("POST", f"/containers/{cid}/start"))
        world.request(ApiRequest.build("POST", f"/containers/{cid}/stop", {"t": 1}))
        world.request(ApiRequest.build("DELETE", f"/containers/{cid}"))
    elapsed = time.perf_counter() - start
    steps = _scheduled(world.env) - steps_before
    queued = len(world.env._queue) - queued_before

    env = simpy.Environment()

    def loop(count: int):  # type: ignore[no-untyped-def]
        for _ in range(count):
            yield env.timeout(0.001)

    bare_before = _scheduled(env)
    env.process(loop(steps - 2))  # + the process's start and end events = steps
    t0 = time.perf_counter()
    env.run()
    bare = time.perf_counter() - t0
    bare_steps = _scheduled(env) - bare_before
    if bare_steps != steps:
        raise AssertionError(f"bare loop scheduled {bare_steps} events, csim {steps}")
    return {"n": n, "seconds": elapsed, "events": steps, "queued": queued, "bare_seconds": bare}


def _scheduled(env: object) -> int:
    """The id SimPy will give the next scheduled event: how many were scheduled so far.

    ``env._eid`` is an ``itertools.count``; its repr (``count(42)``) tells the next
    value without consuming it, so reading it does not disturb what it counts.
    """
    text = repr(env._eid)  # type: ignore[attr-defined]
    if not (text.startswith("count(") and text.endswith(")")):
        raise RuntimeError(f"unexpected SimPy event counter {text!r}")
    return int(text[len("count(") : -1])


def child(n: int) -> None:
    result = run_lifecycles(n)
    result["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = []
    for size in (n // 2, n):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in runs:
        rate = r["n"] / r["seconds"]
        ratio = r["bare_seconds"] / r["seconds"]
        print(
            f"N={r['n']:>6}  {rate:8.0f} lifecycles/s  ({r['events']} SimPy events, {r['queued']} still queued)  "
            f"bare-loop/csim time ratio {ratio:.3f}  peak RSS {r['max_rss_kb'] / 1024:.1f} MiB"
        )
    small, big = runs
    growth = (big["max_rss_kb"] - small["max_rss_kb"]) / max(big["n"] - small["n"], 1)
    print(f"memory growth: {growth:.2f} KiB per lifecycle")
    print("targets: >= 1000 lifecycles/s, ratio >= 0.25")


if __name__ == "__main__":
    main()
