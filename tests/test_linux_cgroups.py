"""cgroups behind one interface: v2 against a fake cgroupfs tree, v1 against the real one."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from simulator.runtime.linux.cgroups import CgroupManager, CgroupResources


def _fake_v2(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_v2_detected_and_limits_written(tmp_path: Path) -> None:
    manager = CgroupManager.for_host(_fake_v2(tmp_path / "cg"))
    assert manager.version == 2
    group = manager.create("abc", CgroupResources(memory=16 << 20, nano_cpus=1_500_000_000, pids_limit=10))
    path = tmp_path / "cg/csim/abc"
    assert (path / "memory.max").read_text() == str(16 << 20)
    assert (path / "memory.swap.max").read_text() == "0"
    assert (path / "cpu.max").read_text() == "150000 100000"
    assert (path / "pids.max").read_text() == "10"
    assert (tmp_path / "cg/csim/cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert manager.cgroups_path("abc") == "/csim/abc"
    assert manager.container_ids() == {"abc"}
    assert group.version == 2


def test_v2_stats_oom_freeze_and_remove(tmp_path: Path) -> None:
    manager = CgroupManager.for_host(_fake_v2(tmp_path / "cg"))
    group = manager.create("abc", CgroupResources(memory=1 << 20))
    path = tmp_path / "cg/csim/abc"
    (path / "memory.current").write_text("4096\n")
    (path / "cpu.stat").write_text("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
    (path / "pids.current").write_text("3\n")
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    stats = group.stats()
    assert (stats.memory_usage, stats.memory_limit, stats.cpu_usage_ns, stats.pids) == (4096, 1 << 20, 1_500_000, 3)
    assert group.oom_kills() == 1
    (path / "cgroup.events").write_text("populated 0\nfrozen 1\n")
    assert group.freeze(timeout=0.1)
    assert (path / "cgroup.freeze").read_text() == "1"
    assert group.frozen()
    assert not group.thaw(timeout=0.05)  # the fake kernel never reports "frozen 0"
    (path / "cgroup.procs").write_text("")
    assert group.remove(attempts=3)
    assert not path.exists()


def test_v1_hybrid_host_counts_as_v1(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    for controller in ("memory", "pids", "freezer"):
        (root / controller).mkdir(parents=True)
        (root / controller / "cgroup.procs").write_text("")
    (root / "unified").mkdir()
    (root / "unified/cgroup.controllers").write_text("")
    manager = CgroupManager.for_host(root)
    assert manager.version == 1
    assert set(manager.controllers) == {"memory", "pids", "freezer"}


@pytest.mark.real
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create cgroups")
def test_v1_real_limits_add_freeze_stats_remove() -> None:
    manager = CgroupManager.for_host()
    if manager.version != 1:
        pytest.skip("host has cgroup v2; v1 is covered by the fake-tree tests")
    cid = f"test-{os.getpid()}"
    group = manager.create(cid, CgroupResources(memory=64 << 20, nano_cpus=500_000_000, pids_limit=20))
    child = subprocess.Popen(["sleep", "30"])
    try:
        group.add(child.pid)
        assert child.pid in group.procs()
        assert Path(f"/sys/fs/cgroup/memory/csim/{cid}/memory.limit_in_bytes").read_text().strip() == str(64 << 20)
        assert Path(f"/sys/fs/cgroup/cpu/csim/{cid}/cpu.cfs_quota_us").read_text().strip() == "50000"
        assert Path(f"/sys/fs/cgroup/pids/csim/{cid}/pids.max").read_text().strip() == "20"
        assert group.freeze() and group.frozen()
        assert group.thaw() and not group.frozen()
        stats = group.stats()
        assert stats.pids == 1 and stats.memory_limit == 64 << 20
        assert group.oom_kills() == 0
    finally:
        assert group.remove()
        child.wait(timeout=5)
    assert child.returncode == -9
    assert not group.exists()
    time.sleep(0)


def test_enter_writes_self_to_tasks_on_v1_and_procs_on_v2(tmp_path: Path) -> None:
    v1_root = tmp_path / "v1"
    for controller in ("memory", "pids"):
        (v1_root / controller).mkdir(parents=True)
        (v1_root / controller / "cgroup.procs").write_text("")
    v1 = CgroupManager.for_host(v1_root).create("abc", CgroupResources())
    v1.enter()
    for controller in ("memory", "pids"):
        # A thread moving itself skips the kernel's global threadgroup lock.
        assert (v1_root / controller / "csim/abc/tasks").read_text() == "0"
        assert not (v1_root / controller / "csim/abc/cgroup.procs").exists()
    v2 = CgroupManager.for_host(_fake_v2(tmp_path / "v2")).create("abc", CgroupResources())
    v2.enter()
    assert (tmp_path / "v2/csim/abc/cgroup.procs").read_text() == "0"


@pytest.mark.real
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create cgroups")
def test_v1_real_enter_moves_a_forked_child_whole() -> None:
    manager = CgroupManager.for_host()
    if manager.version != 1:
        pytest.skip("host has cgroup v2; v1 is covered by the fake-tree tests")
    group = manager.create(f"test-enter-{os.getpid()}", CgroupResources(pids_limit=20))
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - forked
        try:
            group.enter()
            os.write(write_fd, b"in")
            time.sleep(30)
        finally:
            os._exit(0)
    try:
        assert os.read(read_fd, 2) == b"in"
        assert group.procs() == [child]
        for path in group.dirs():  # every hierarchy lists the process, not just the thread
            assert (path / "cgroup.procs").read_text().split() == [str(child)]
        assert group.stats().pids == 1
    finally:
        os.close(read_fd)
        os.close(write_fd)
        assert group.remove()
        os.waitpid(child, 0)
