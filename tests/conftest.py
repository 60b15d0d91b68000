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
    from simulator.runtime.linux.network import remove_bridges_under

    remove_bridges_under(factory.getbasetemp())
