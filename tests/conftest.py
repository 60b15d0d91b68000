"""Shared fixtures: a fresh simulated world per test."""

from __future__ import annotations

import pytest

from simulator.des.world import World


@pytest.fixture
def world() -> World:
    return World(seed=7)


@pytest.fixture
def busybox_world(world: World) -> World:
    resp = world.api("POST", "/images/create", {"fromImage": "docker.io/library/busybox", "tag": "latest"})
    assert resp.status == 200
    return world


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the bridges real-backend tests brought up for their state roots (they outlive a world)."""
    import os
    import sys

    if sys.platform != "linux" or os.geteuid() != 0:
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    base = factory.getbasetemp()
    _reap_leftover_containers(base)
    from simulator.runtime.linux.network import remove_bridges_under

    remove_bridges_under(base)


def _reap_leftover_containers(base: object) -> None:
    """A safety net: real containers a failed test left under the session's temp dir are removed.

    Each test cleans up after itself; this only catches what a crashed test could not.
    """
    from pathlib import Path

    import simpy

    from simulator.runtime.linux.runtime import LinuxRuntime
    from simulator.trace.tracer import Tracer

    for root in Path(str(base)).glob("**/linux/containers"):
        if not any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir()):
            continue
        env = simpy.Environment()
        runtime = LinuxRuntime(env, Tracer(lambda: 0.0, lambda span: None), None, root, lambda fn: None)  # type: ignore[arg-type]
        try:
            reaped = runtime.reap_orphans(set())
            if reaped:
                print(f"\ncsim: removed {len(reaped)} container(s) a test left in {root}")
        except Exception as err:  # report, never hide
            print(f"\ncsim: could not clean {root}: {err}")
        finally:
            runtime.close()
