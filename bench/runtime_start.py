"""Start-to-exit of ``true`` in one bundle: csim's built-in runtime vs runc vs crun.

Usage (root): ``python bench/runtime_start.py [runs]``

All three run the same OCI bundle (config.json written by csim, rootfs an
overlay of a busybox layer) through csim's shim, so the difference is the
runtime alone. A bare ``runc run`` (no shim, no csim in the way) is timed
too. Prints medians in milliseconds, the ratio to runc through the shim, and
the built-in runtime against both runc figures (target: no slower, <= 1).
Then, end to end, the real docker CLI's ``docker run --rm busybox true``
against ``csim daemon --backend linux`` and a private Debian dockerd.

Where the built-in runtime's time goes shows in its spans (``csim --trace``):
the forked init joins its v1 cgroup by writing ``0`` to ``tasks`` (a thread
moving itself skips the kernel's global threadgroup lock and its RCU grace
period, 5-20 ms, that a ``cgroup.procs`` write -- runc's way -- waits for),
and the exit is reported when the shim's ``exit.json`` lands.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from linux_harness import Layers, World, busybox_layer, new_id, spec

from simulator.model.errors import DockerError
from simulator.runtime.linux.runtime import LinuxRuntime

# Every timed start begins from a quiet kernel. Back to back, a start can find the
# cgroup lock's RCU state still warm from the previous one and skip a grace period
# (a bare `runc run` loop measures 27 ms that way against 38 ms when spaced out).
SETTLE_SECONDS = 0.05


def time_runtime(layer: Path, root: Path, binary: str | None, runs: int) -> list[float] | str:
    """Seconds from start() to exit for each run (create/delete not counted)."""
    world = World()
    rt = LinuxRuntime(world.env, world.tracer, Layers({"l": layer}), root, world.post, binary)
    samples: list[float] = []
    try:
        for _ in range(runs):
            cspec = spec(new_id(), ("true",), layers=("l",))
            parent = world.root()
            world.run(rt.create(cspec, parent))
            time.sleep(SETTLE_SECONDS)
            t0 = time.monotonic()
            from simulator.runtime.protocol import ProcessIO

            handle = world.run(rt.start(cspec.id, ProcessIO(world.env, lambda s, d: None), parent))
            world.run(handle.exited)
            samples.append(time.monotonic() - t0)
            world.run(rt.delete(cspec.id, parent))
    except DockerError as exc:
        return exc.message.split("unable to start container process: ")[-1]
    finally:
        rt.reap_orphans(set())
        rt.close()
    return samples


def time_bare_runc(layer: Path, tmp: Path, runs: int) -> list[float] | str:
    """``runc run`` of the same kind of bundle, straight from a shell-like fork/exec."""
    if shutil.which("runc") is None:
        return "runc not installed"
    world = World()
    rt = LinuxRuntime(world.env, world.tracer, Layers({"l": layer}), tmp / "bare", world.post, "runc")
    cspec = spec(new_id(), ("true",), layers=("l",))
    world.run(rt.create(cspec, world.root()))
    bundle = rt.bundle(cspec.id)
    samples = []
    for i in range(runs):
        time.sleep(SETTLE_SECONDS)
        t0 = time.monotonic()
        subprocess.run(
            ["runc", "--root", str(tmp / "bare-root"), "run", "--bundle", str(bundle), f"b{i}"],
            check=False,
            stdin=subprocess.DEVNULL,
        )
        samples.append(time.monotonic() - t0)
    world.run(rt.delete(cspec.id, world.root()))
    rt.close()
    return samples


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        layer = busybox_layer(tmp / "layer")
        results: dict[str, list[float] | str] = {
            "csim built-in": time_runtime(layer, tmp / "builtin", None, runs),
            "runc via csim shim": time_runtime(layer, tmp / "runc", "runc", runs)
            if shutil.which("runc")
            else "not installed",
            "crun via csim shim": time_runtime(layer, tmp / "crun", "crun", runs)
            if shutil.which("crun")
            else "not installed",
            "bare `runc run`": time_bare_runc(layer, tmp, runs),
        }
    medians = {k: statistics.median(v) for k, v in results.items() if isinstance(v, list)}
    anchor = medians.get("runc via csim shim") or medians.get("bare `runc run`")
    print(f"start-to-exit of `true`, median of {runs} runs")
    for name, value in results.items():
        if isinstance(value, str):
            print(f"  {name:22} skipped: {value}")
            continue
        ratio = f"  {medians[name] / anchor:5.2f}x runc" if anchor else ""
        print(f"  {name:22} {medians[name] * 1000:8.2f} ms{ratio}")
    builtin = medians.get("csim built-in")
    if builtin is not None:
        for name in ("runc via csim shim", "bare `runc run`"):
            if name in medians:
                print(f"  built-in / {name}: {builtin / medians[name]:.2f} (target <= 1)")
    end_to_end(max(5, runs // 3))


def docker_run_median(env: dict[str, str], runs: int, extra: list[str]) -> float:
    """Median wall time of the real docker CLI's `run --rm busybox true` against one daemon."""
    argv = ["docker", "run", "--rm", *extra, "busybox", "true"]
    subprocess.run(argv, env=env, capture_output=True, check=True)  # warm up
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def end_to_end(runs: int) -> None:
    """`docker run --rm busybox true` through `csim daemon --backend linux` and a private real dockerd."""
    if shutil.which("docker") is None:
        print("end to end: skipped (no docker CLI)")
        return
    from api_harness import csim_daemon, real_dockerd

    print(f"end to end, `docker run --rm busybox true` (real docker CLI), median of {runs} runs")
    with csim_daemon("--backend", "linux") as csim:
        csim_s = docker_run_median(csim.env(), runs, ["--network", "none"])
    print(f"  {'csim daemon (linux)':22} {csim_s * 1000:8.1f} ms")
    try:
        with real_dockerd() as real:
            real_s = docker_run_median(real.env(), runs, ["--network", "none"])
    except Exception as err:  # pytest.skip inside the harness, or dockerd missing
        print(f"  real dockerd: skipped ({err})")
        return
    print(f"  {'real dockerd 20.10':22} {real_s * 1000:8.1f} ms")
    print(f"  ratio csim/dockerd {csim_s / real_s:.2f} (target < 0.5)")


if __name__ == "__main__":
    main()
