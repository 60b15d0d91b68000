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
