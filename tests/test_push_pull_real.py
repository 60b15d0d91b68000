"""Push and pull for real on the linux backend, and the real docker CLI pushing to the csim registry.

The linux world's clock is the wall clock: registry spans last what the
transfer really took, and carry the model's prediction beside it. Layers a
pull brings are unpacked by the ``LayerUnpacker`` when a container first
needs them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_push_pull import add_layer_image, lines
from test_registry_helpers import RegistryThread, registry

from simulator.daemon.push import seed_registry
from simulator.registry.client import RegistryClient

__all__ = ["registry"]

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux"),
]


def make_world(state: Path) -> object:
    from simulator.des.linux_world import LinuxWorld

    world = LinuxWorld(state)
    if not world.ensure_base_images() and not world.daemon.has_image("busybox:latest"):
        pytest.skip("no busybox to bootstrap an image from")
    return world


def close_world(world: object) -> None:
    ids = world.run_cli(["ps", "-aq"]).stdout.split()  # type: ignore[attr-defined]
    if ids:
        world.run_cli(["rm", "-f", *ids])  # type: ignore[attr-defined]
    world.close()  # type: ignore[attr-defined]


@pytest.fixture
def linux_world(tmp_path: Path) -> Iterator[object]:
    world = make_world(tmp_path / "state")
    try:
        yield world
    finally:
        close_world(world)


def test_push_rmi_pull_run_on_the_linux_backend(linux_world: object, registry: RegistryThread) -> None:
    w: object = linux_world
    app = f"localhost:{registry.port}/demo/app:1"
    add_layer_image(w, "busybox", app, {"hello.txt": b"pulled for real\n"})
    pushed = w.run_cli(["push", app])  # type: ignore[attr-defined]
    assert pushed.exit_code == 0, pushed.stderr
    assert lines(pushed.stdout).count(next(x for x in lines(pushed.stdout) if x.endswith(": Pushed"))) == 1
    digest = next(x for x in lines(pushed.stdout) if x.startswith("1: digest: ")).split()[2]

    removed = w.run_cli(["rmi", app])  # type: ignore[attr-defined]
    assert "Deleted: sha256:" in removed.stdout, removed.stderr
    pulled = w.run_cli(["pull", app])  # type: ignore[attr-defined]
    assert pulled.exit_code == 0, pulled.stderr
    got = lines(pulled.stdout)
    assert sum(x.endswith(": Already exists") for x in got) == 1
    assert sum(x.endswith(": Pull complete") for x in got) == 1
    assert f"Digest: {digest}" in got

    spans = [
        s
        for s in w.bus.spans()  # type: ignore[attr-defined]
        if s.hop == "registry" and s.name.startswith("Pull layer")
    ]
    assert len(spans) == 1
    span = spans[0]
    # Real time: the span lasts what the transfer took (plus hand-off to the world thread).
    assert span.duration >= span.attrs["measured_s"] * 0.5
    assert span.attrs["bytes"] > 0 and span.attrs["predicted_s"] > 0

    ran = w.run_cli(["run", "--rm", app, "cat", "/hello.txt"])  # type: ignore[attr-defined]
    assert (ran.exit_code, ran.stdout) == (0, "pulled for real\n"), ran.stderr
    ran = w.run_cli(["run", "--rm", app, "sh", "-c", "echo hi from $(hostname | wc -c)"])  # type: ignore[attr-defined]
    assert ran.exit_code == 0 and ran.stdout.startswith("hi from"), ran.stderr
    traced = w.run_cli(["--trace", "pull", app])  # type: ignore[attr-defined]
    assert "Image is up to date" in traced.stdout and "measured_s=" in traced.stderr


def test_default_registry_serves_docker_hub_names(
    registry: RegistryThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = make_world(tmp_path / "offline")
    try:
        refused = offline.run_cli(["pull", "alpine"])  # type: ignore[attr-defined]
        assert refused.exit_code == 1 and "no such host" in refused.stderr
    finally:
        close_world(offline)
    seed_registry(registry.hostport)
    monkeypatch.setenv("CSIM_REGISTRY", registry.hostport)
    world = make_world(tmp_path / "seeded")
    try:
        world.run_cli(["rmi", "busybox"])  # type: ignore[attr-defined]
        pulled = world.run_cli(["pull", "busybox"])  # type: ignore[attr-defined]
        assert pulled.exit_code == 0, pulled.stderr
        assert "Status: Downloaded newer image for busybox:latest" in pulled.stdout
        ran = world.run_cli(["run", "--rm", "busybox", "echo", "seeded"])  # type: ignore[attr-defined]
        assert (ran.exit_code, ran.stdout) == (0, "seeded\n"), ran.stderr
    finally:
        close_world(world)


def test_the_docker_cli_pushes_to_the_csim_registry(registry: RegistryThread, linux_world: object) -> None:
    from api_harness import real_dockerd

    name = f"localhost:{registry.port}/demo/fromdocker:1"
    with real_dockerd() as d:
        assert d.docker("tag", "busybox:latest", name).returncode == 0
        pushed = d.docker("push", name, timeout=120)
        assert pushed.returncode == 0, pushed.stderr
        assert f"The push refers to repository [{name.rsplit(':', 1)[0]}]" in pushed.stdout
        assert ": Pushed" in pushed.stdout and "1: digest: sha256:" in pushed.stdout
        again = d.docker("push", name, timeout=120)
        assert ": Layer already exists" in again.stdout
    digest = pushed.stdout.split("1: digest: ")[1].split()[0]
    assert RegistryClient(registry.url).get_manifest("demo/fromdocker", "1").digest == digest
    pulled = linux_world.run_cli(["pull", name])  # type: ignore[attr-defined]
    assert pulled.exit_code == 0 and f"Digest: {digest}" in pulled.stdout, pulled.stderr
    ran = linux_world.run_cli(["run", "--rm", name, "echo", "from docker"])  # type: ignore[attr-defined]
    assert (ran.exit_code, ran.stdout) == (0, "from docker\n"), ran.stderr
