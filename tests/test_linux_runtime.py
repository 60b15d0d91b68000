"""The built-in Linux runtime against the real kernel: isolation, limits, signals, exec, diff."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from linux_harness import Layers, Output, World, busybox_layer, is_root, new_id, run_container, spec

from simulator.model.errors import InvalidParameter
from simulator.runtime.protocol import ExitStatus, ProcessIO, ProcessSpec

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not is_root(), reason="needs root: namespaces, overlayfs, cgroups"),
]


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_layer(tmp_path_factory.mktemp("img") / "layer")


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def runtime(world: World, layer: Path, tmp_path: Path) -> Iterator[Any]:
    from simulator.runtime.linux.runtime import LinuxRuntime

    rt = LinuxRuntime(world.env, world.tracer, Layers({"layer0": layer}), tmp_path / "state", world.post)
    yield rt
    rt.reap_orphans(set())
    rt.close()


def sh(world: World, runtime: Any, script: str, **kwargs: Any) -> tuple[ExitStatus, Output]:
    return run_container(world, runtime, spec(new_id(), ("sh", "-c", script), **kwargs))


class Running:
    """A started container driven step by step."""

    def __init__(self, world: World, runtime: Any, args: tuple[str, ...], **kwargs: Any) -> None:
        self.world, self.runtime = world, runtime
        self.spec = spec(new_id(), args, **kwargs)
        self.out = Output()
        self.root = world.root()

        def begin() -> Generator[Any, Any, Any]:
            yield from runtime.create(self.spec, self.root)
            io = ProcessIO(world.env, self.out)
            return (yield from runtime.start(self.spec.id, io, self.root))

        self.handle = world.run(begin())

    @property
    def id(self) -> str:
        return self.spec.id

    def wait(self, timeout: float = 15.0) -> ExitStatus:
        return self.world.run(self.handle.exited, timeout)  # type: ignore[no-any-return]

    def running(self) -> bool:
        return not self.handle.exited.triggered

    def delete(self) -> None:
        self.world.run(self.runtime.delete(self.id, self.root))


def test_echo_hi(world: World, runtime: Any) -> None:
    status, out = run_container(world, runtime, spec(new_id(), ("echo", "hi")))
    assert (status.code, out.text(1)) == (0, "hi\n")


def test_pid_one_hostname_and_image_root(world: World, runtime: Any) -> None:
    cid = new_id()
    status, out = run_container(world, runtime, spec(cid, ("sh", "-c", "echo $$; hostname; ls /")))
    lines = out.text(1).split()
    assert status.code == 0
    assert lines[0] == "1"
    assert lines[1] == cid[:12]
    assert lines[2:] == sorted(["bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "var"])


def test_host_files_unreachable(world: World, runtime: Any, tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("do not read")
    status, out = sh(world, runtime, f"cat {secret}; cat /proc/1/root{secret}; ls /host 2>&1")
    assert "do not read" not in out.text()
    assert status.code != 0


def test_mount_fails_without_cap_sys_admin(world: World, runtime: Any) -> None:
    status, out = sh(world, runtime, "mkdir -p /mnt; mount -t tmpfs x /mnt")
    assert status.code != 0
    assert "denied" in out.text(2) or "not permitted" in out.text(2)


def test_proc_sys_is_read_only(world: World, runtime: Any) -> None:
    status, out = sh(world, runtime, "echo evil > /proc/sys/kernel/hostname")
    assert status.code != 0
    assert "Read-only file system" in out.text(2)


def test_capabilities_are_dockers_default_set(world: World, runtime: Any) -> None:
    _, out = sh(world, runtime, "grep -E 'CapEff|CapBnd|NoNewPrivs' /proc/self/status")
    fields = dict(line.split(":\t") for line in out.text(1).splitlines())
    assert fields["CapEff"] == "00000000a80425fb"  # Docker's 14 capabilities
    assert fields["CapBnd"] == "00000000a80425fb"
    assert fields["NoNewPrivs"] == "1"


def test_exit_code_env_and_user(world: World, runtime: Any) -> None:
    status, out = run_container(
        world,
        runtime,
        spec(new_id(), ("sh", "-c", "echo $FOO; id -u; exit 3"), env=("FOO=bar", "PATH=/bin"), user="nobody"),
    )
    assert status.code == 3
    assert out.text(1).split() == ["bar", "65534"]


def test_memory_limit_oom_kills(world: World, runtime: Any) -> None:
    status, _ = run_container(
        world,
        runtime,
        spec(new_id(), ("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"), memory=16 << 20),
    )
    assert status.oom_killed
    assert status.code == 137


def test_pids_limit_stops_fork_bomb(world: World, runtime: Any) -> None:
    status, out = sh(world, runtime, "for i in $(seq 1 30); do sleep 1 & done; wait; echo done", pids_limit=10)
    assert "can't fork" in out.text(2) or "Resource temporarily unavailable" in out.text(2)
    assert status.code != 0  # the shell gives up when fork fails


def test_pause_freezes_and_resume_continues(world: World, runtime: Any) -> None:
    c = Running(world, runtime, ("sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/c; done"))
    try:
        world.sleep(0.2)
        world.run(runtime.pause(c.id, c.root))
        frozen = runtime.read_file(c.id, "/tmp/c")
        world.sleep(0.3)
        assert runtime.read_file(c.id, "/tmp/c") == frozen
        world.run(runtime.resume(c.id, c.root))
        world.sleep(0.3)
        assert _counter(runtime, c.id) > int(frozen or b"0")
        runtime.kill(c.id, signal.SIGKILL)
        assert c.wait().code == 137
    finally:
        c.delete()


def _counter(runtime: Any, container_id: str) -> int:
    """The counter file, read again when caught between truncate and write."""
    for _ in range(100):
        data = runtime.read_file(container_id, "/tmp/c")
        if data and data.endswith(b"\n"):
            return int(data)
        time.sleep(0.001)
    raise AssertionError("counter never readable")


def test_stop_sleep_ignores_term_then_sigkill(world: World, runtime: Any) -> None:
    c = Running(world, runtime, ("sleep", "30"))
    try:
        runtime.kill(c.id, signal.SIGTERM)
        world.sleep(1.0)
        assert c.running()  # PID 1 without a handler: the kernel drops SIGTERM
        runtime.kill(c.id, signal.SIGKILL)
        status = c.wait()
        assert (status.code, status.signal, status.oom_killed) == (137, 9, False)
    finally:
        c.delete()


def test_stop_trapped_term_exits_with_own_code(world: World, runtime: Any) -> None:
    c = Running(world, runtime, ("sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.05; done"))
    try:
        world.sleep(0.2)
        runtime.kill(c.id, signal.SIGTERM)
        assert c.wait().code == 42
    finally:
        c.delete()


def test_exec_joins_namespaces(world: World, runtime: Any) -> None:
    c = Running(world, runtime, ("sleep", "30"))
    try:
        out = Output()
        io = ProcessIO(world.env, out)
        process = ProcessSpec(
            args=("sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /; exit 5"),
            env=("PATH=/bin",),
        )
        handle = world.run(runtime.exec(c.id, process, io, c.root))
        status = world.run(handle.exited)
        lines = out.text(1).splitlines()
        assert status.code == 5
        assert lines[0] == c.id[:12]
        assert lines[1].strip() == "sleep 30"
        assert "bin" in lines[2:]
        rows = runtime.top(c.id)
        assert any(row.cmd == "sleep 30" for row in rows)
        usage = runtime.stats(c.id)
        assert usage.pids >= 1 and usage.memory_usage > 0
    finally:
        runtime.kill(c.id, signal.SIGKILL)
        c.wait()
        c.delete()


def test_command_not_found_and_not_executable(world: World, runtime: Any) -> None:
    with pytest.raises(InvalidParameter, match=r'exec: "nosuch": executable file not found in \$PATH'):
        run_container(world, runtime, spec(new_id(), ("nosuch",)))
    with pytest.raises(InvalidParameter, match="permission denied"):
        run_container(world, runtime, spec(new_id(), ("/etc/passwd",)))


def test_diff_and_export(world: World, runtime: Any) -> None:
    c = Running(world, runtime, ("sh", "-c", "echo x > /tmp/new; rm /etc/group; echo y >> /etc/passwd"))
    try:
        assert c.wait().code == 0
        assert runtime.changes(c.id) == [
            ("C", "/etc"),
            ("D", "/etc/group"),
            ("C", "/etc/passwd"),
            ("C", "/tmp"),
            ("A", "/tmp/new"),
        ]
        import io
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(runtime.export_upper(c.id))) as tar:
            names = tar.getnames()
        assert {"etc/.wh.group", "etc/passwd", "tmp/new"} <= set(names)
    finally:
        c.delete()


def test_two_containers_share_lower_inodes_not_writes(world: World, runtime: Any, layer: Path) -> None:
    a = Running(world, runtime, ("sh", "-c", "echo a > /tmp/mine; sleep 30"))
    b = Running(world, runtime, ("sleep", "30"))
    try:
        world.sleep(0.2)
        inode = (layer / "bin/busybox").stat().st_ino
        for c in (a, b):
            assert (runtime.bundle(c.id) / "rootfs/bin/busybox").stat().st_ino == inode
        assert runtime.read_file(a.id, "/tmp/mine") == b"a\n"
        assert runtime.read_file(b.id, "/tmp/mine") is None
        assert not (layer / "tmp/mine").exists()
    finally:
        for c in (a, b):
            runtime.kill(c.id, signal.SIGKILL)
            c.wait()
            c.delete()
    assert not (runtime.state_root / a.id).exists()


def test_stdin_and_tty(world: World, runtime: Any) -> None:
    status, out = run_container(world, runtime, spec(new_id(), ("cat",), open_stdin=True), stdin=b"hello\n")
    assert (status.code, out.text(1)) == (0, "hello\n")
    status, out = sh(world, runtime, "test -t 1 && echo tty", tty=True)
    assert out.text(1) == "tty\r\n"


def test_spans_have_measured_durations(world: World, runtime: Any) -> None:
    run_container(world, runtime, spec(new_id(), ("true",)))
    names = {s.name: s for s in world.spans}
    clone = next(s for s in world.spans if s.name.startswith("clone(CLONE_NEWPID"))
    assert any(n.startswith("unshare(CLONE_NEWNS") for n in names)
    assert any(n.startswith("execve(/bin/true") for n in names)
    assert any(n.startswith("mount overlay") for n in names)
    assert clone.hop == "kernel" and clone.attrs["measured_ms"] > 0
    hops = {s.hop for s in world.spans}
    assert {"containerd", "shim", "runc", "kernel"} <= hops


def _snapshot(root: Path) -> tuple[int, set[str], set[int]]:
    # Only this runtime's mounts: other tests (or a student's csim) may mount and unmount meanwhile.
    with open("/proc/self/mountinfo") as f:
        mounts = sum(1 for line in f if str(root) in line)
    groups: set[str] = set()
    for controller in ("memory", "pids", "freezer", "cpu"):
        base = Path("/sys/fs/cgroup") / controller / "csim"
        if base.is_dir():
            groups |= {f"{controller}/{p.name}" for p in base.iterdir() if p.is_dir()}
    procs = {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()}
    return mounts, groups, procs


@pytest.mark.slow
def test_no_leaks_after_many_cycles(world: World, runtime: Any) -> None:
    run_container(world, runtime, spec(new_id(), ("true",)))
    mounts, groups, procs = _snapshot(runtime.state_root.parent)
    for i in range(30):
        if i % 3 == 0:
            c = Running(world, runtime, ("sleep", "30"))
            runtime.kill(c.id, signal.SIGKILL)
            c.wait()
            c.delete()
        else:
            run_container(world, runtime, spec(new_id(), ("sh", "-c", "echo $$ >/dev/null")))
    time.sleep(0.1)
    after_mounts, after_groups, after_procs = _snapshot(runtime.state_root.parent)
    assert after_mounts == mounts
    assert after_groups == groups
    leftover = {p for p in after_procs - procs if Path(f"/proc/{p}").exists()}
    assert not [Path(f"/proc/{p}/cmdline").read_bytes() for p in leftover if _is_descendant(p)]
    assert not any(runtime.state_root.iterdir())


def _is_descendant(pid: int) -> bool:
    """Ours: a shim (a fork of this process, same cmdline) or a container's ``sleep 30``."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    own = Path("/proc/self/cmdline").read_bytes()
    return pid != os.getpid() and cmd in (own, b"sleep\x0030\x00")
