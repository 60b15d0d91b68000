"""Live restore: containers survive a daemon killed with SIGKILL; orphans are reaped."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from linux_harness import Layers, Output, World, busybox_layer, is_root, new_id, spec

from simulator.runtime.protocol import ExitStatus, ProcessHandle, ProcessIO

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not is_root(), reason="needs root: namespaces, overlayfs, cgroups"),
]


def _runtime(world: World, layer: Path, root: Path) -> Any:
    from simulator.runtime.linux.runtime import LinuxRuntime

    return LinuxRuntime(world.env, world.tracer, Layers({"layer0": layer}), root, world.post)


def _daemon(layer: Path, root: Path, write_fd: int) -> None:
    """The doomed daemon: start three containers, report their ids, wait to be killed."""
    world = World()
    rt = _runtime(world, layer, root)
    scripts = ("sleep 60", "trap 'exit 42' TERM; while true; do sleep 0.05; done", "sleep 0.3; exit 7")
    ids = []
    for script in scripts:
        cspec = spec(new_id(), ("sh", "-c", script))

        def go(cspec: Any = cspec) -> Generator[Any, Any, Any]:
            parent = world.root()
            yield from rt.create(cspec, parent)
            return (yield from rt.start(cspec.id, ProcessIO(world.env, Output()), parent))

        world.run(go())
        ids.append(cspec.id)
    os.write(write_fd, json.dumps(ids).encode() + b"\n")
    time.sleep(60)


def test_containers_survive_daemon_sigkill(tmp_path: Path) -> None:
    layer = busybox_layer(tmp_path / "layer")
    root = tmp_path / "state"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the doomed daemon
        try:
            os.close(read_fd)
            _daemon(layer, root, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        ids = json.loads(pipe.readline())
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    time.sleep(0.6)  # the third container exits while no daemon runs

    world = World()
    rt = _runtime(world, layer, root)
    try:
        found = rt.restore(ids)
        assert isinstance(found[ids[0]], ProcessHandle)
        assert isinstance(found[ids[1]], ProcessHandle)
        assert found[ids[2]] == ExitStatus(code=7)
        rt.kill(ids[0], signal.SIGKILL)
        rt.kill(ids[1], signal.SIGTERM)
        assert world.run(found[ids[0]].exited).code == 137  # type: ignore[union-attr]
        assert world.run(found[ids[1]].exited).code == 42  # type: ignore[union-attr]
        for cid in ids:
            world.run(rt.delete(cid, world.root()))
        assert not any(root.iterdir())
    finally:
        rt.reap_orphans(set())


def test_reap_orphans_removes_unknown_containers(tmp_path: Path) -> None:
    layer = busybox_layer(tmp_path / "layer")
    world = World()
    rt = _runtime(world, layer, tmp_path / "state")
    cspec = spec(new_id(), ("sleep", "60"))

    def go() -> Generator[Any, Any, Any]:
        parent = world.root()
        yield from rt.create(cspec, parent)
        return (yield from rt.start(cspec.id, ProcessIO(world.env, Output()), parent))

    handle = world.run(go())
    rootfs = os.path.realpath(tmp_path / "state" / cspec.id / "rootfs")
    assert rt.reap_orphans(set()) == [cspec.id]
    # Its directory (with exit.json) is gone too, so the handle only learns that it ended.
    assert isinstance(world.run(handle.exited), ExitStatus)
    with open("/proc/self/mountinfo") as f:
        assert rootfs not in f.read()
    assert not rt.cgroups.cgroup(cspec.id).exists()
    assert not (tmp_path / "state" / cspec.id).exists()
