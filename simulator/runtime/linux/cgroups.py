"""Control groups v1 and v2 behind one interface.

A container's limits (``--memory``, ``--cpus``, ``--pids-limit``), its
pause/unpause (the freezer), its ``docker stats`` numbers and the OOMKilled
flag all live in its cgroup. Hosts mount cgroups either as one unified v2
tree or as one v1 hierarchy per controller; ``CgroupManager.for_host`` looks
at the mount and returns the matching flavour, so the runtime never asks
which one it is talking to. Every container gets ``<root>/csim/<id>`` (v2) or
``<root>/<controller>/csim/<id>`` (v1).
"""

from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PARENT = "csim"
CPU_PERIOD_US = 100_000
_V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")


@dataclass(frozen=True, slots=True)
class CgroupResources:
    """The limits csim sets: 0 means unlimited."""

    memory: int = 0
    nano_cpus: int = 0
    pids_limit: int = 0


@dataclass(frozen=True, slots=True)
class CgroupStats:
    """What ``docker stats`` reads from a cgroup."""

    memory_usage: int
    memory_limit: int
    cpu_usage_ns: int
    pids: int


def _read(path: Path, default: str = "") -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return default


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _keyed(text: str, key: str) -> int:
    """The value of ``key`` in a flat-keyed file (``oom_kill 1``)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return 0


def _rmdir(path: Path) -> bool:
    """Remove one cgroup directory; True when it is gone."""
    try:
        path.rmdir()
    except FileNotFoundError:
        return True
    except OSError as exc:
        if exc.errno != errno.ENOTEMPTY:
            return False
        # Only a plain directory standing in for cgroupfs (tests) says ENOTEMPTY:
        # real cgroupfs removes its interface files itself.
        for child in path.iterdir():
            if child.is_file():
                child.unlink()
        try:
            path.rmdir()
        except OSError:
            return False
    return True


class Cgroup:
    """One container's cgroup, in whichever hierarchy the host has."""

    version: int = 0
    # Where a process writes "0" to move itself in (see ``enter``).
    self_file: str = "cgroup.procs"

    def __init__(self, container_id: str) -> None:
        self.container_id = container_id

    def dirs(self) -> list[Path]:
        """Every directory this cgroup occupies (one per v1 hierarchy, one for v2)."""
        raise NotImplementedError

    def create(self) -> None:
        for path in self.dirs():
            path.mkdir(parents=True, exist_ok=True)

    def exists(self) -> bool:
        return any(path.is_dir() for path in self.dirs())

    def apply(self, resources: CgroupResources) -> None:
        raise NotImplementedError

    def add(self, pid: int) -> None:
        """Move ``pid`` (0: the caller) into the cgroup."""
        for path in self.dirs():
            _write(path / "cgroup.procs", str(pid))

    def enter(self) -> None:
        """Move the calling process, which must have a single thread, into the cgroup.

        Used by a freshly forked container process (one thread after ``fork``).
        Moving a whole process (``cgroup.procs``) takes the kernel's global
        threadgroup lock for writing, which on an idle host first waits for an
        RCU grace period: 5-20 ms here, most of a container start. A thread
        moving itself (``0`` into v1's ``tasks``) skips that lock, and for a
        one-thread process it moves the same and only task. v2 has no such
        file for domain cgroups, so it writes ``cgroup.procs``.
        """
        for path in self.dirs():
            _write(path / self.self_file, "0")

    def procs(self) -> list[int]:
        pids: set[int] = set()
        for path in self.dirs():
            for line in _read(path / "cgroup.procs").splitlines():
                if line.strip().isdigit():
                    pids.add(int(line))
        return sorted(pids)

    def freeze(self, timeout: float = 5.0) -> bool:
        raise NotImplementedError

    def thaw(self, timeout: float = 5.0) -> bool:
        raise NotImplementedError

    def frozen(self) -> bool:
        raise NotImplementedError

    def stats(self) -> CgroupStats:
        raise NotImplementedError

    def oom_kills(self) -> int:
        """How many processes the OOM killer has killed in this cgroup."""
        raise NotImplementedError

    def kill_all(self) -> None:
        """SIGKILL every process (thawing first: a frozen task cannot die)."""
        for pid in self.procs():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.frozen():
            self.thaw(timeout=1.0)

    def remove(self, attempts: int = 100, delay: float = 0.01) -> bool:
        """Kill what is left and rmdir the cgroup, retrying while the kernel still holds it."""
        for _ in range(attempts):
            if self.procs():
                self.kill_all()
            if all(_rmdir(path) for path in self.dirs()):
                return True
            time.sleep(delay)
        return False


class CgroupV1(Cgroup):
    """A container cgroup spread over the v1 controller hierarchies."""

    version = 1
    self_file = "tasks"

    def __init__(self, container_id: str, controllers: dict[str, Path]) -> None:
        super().__init__(container_id)
        self._dir = {name: base / PARENT / container_id for name, base in controllers.items()}

    def dirs(self) -> list[Path]:
        return list(dict.fromkeys(self._dir.values()))

    def _file(self, controller: str, name: str) -> Path | None:
        base = self._dir.get(controller)
        return None if base is None else base / name

    def apply(self, resources: CgroupResources) -> None:
        if resources.memory > 0 and (limit := self._file("memory", "memory.limit_in_bytes")):
            _write(limit, str(resources.memory))
            memsw = limit.with_name("memory.memsw.limit_in_bytes")
            if memsw.exists():
                # memory+swap == memory: no swap, so the OOM killer fires at the limit.
                _write(memsw, str(resources.memory))
        if resources.nano_cpus > 0 and (quota := self._file("cpu", "cpu.cfs_quota_us")):
            _write(quota.with_name("cpu.cfs_period_us"), str(CPU_PERIOD_US))
            _write(quota, str(resources.nano_cpus * CPU_PERIOD_US // 1_000_000_000))
        if resources.pids_limit > 0 and (pids := self._file("pids", "pids.max")):
            _write(pids, str(resources.pids_limit))

    def _freezer(self, state: str, timeout: float) -> bool:
        path = self._file("freezer", "freezer.state")
        if path is None:
            return False
        _write(path, state)
        deadline = time.monotonic() + timeout
        while _read(path) != state:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def freeze(self, timeout: float = 5.0) -> bool:
        return self._freezer("FROZEN", timeout)

    def thaw(self, timeout: float = 5.0) -> bool:
        return self._freezer("THAWED", timeout)

    def frozen(self) -> bool:
        path = self._file("freezer", "freezer.state")
        return path is not None and _read(path) in ("FROZEN", "FREEZING")

    def stats(self) -> CgroupStats:
        mem = self._file("memory", "memory.usage_in_bytes")
        cpu = self._file("cpuacct", "cpuacct.usage")
        pids = self._file("pids", "pids.current")
        limit = 0 if mem is None else int(_read(mem.with_name("memory.limit_in_bytes"), "0"))
        return CgroupStats(
            memory_usage=0 if mem is None else int(_read(mem, "0")),
            memory_limit=limit,
            cpu_usage_ns=0 if cpu is None else int(_read(cpu, "0")),
            pids=0 if pids is None else int(_read(pids, "0")),
        )

    def oom_kills(self) -> int:
        path = self._file("memory", "memory.oom_control")
        return 0 if path is None else _keyed(_read(path), "oom_kill")


class CgroupV2(Cgroup):
    """A container cgroup in the unified hierarchy."""

    version = 2

    def __init__(self, container_id: str, root: Path) -> None:
        super().__init__(container_id)
        self.root = root
        self.path = root / PARENT / container_id

    def dirs(self) -> list[Path]:
        return [self.path]

    def create(self) -> None:
        # Controllers must be enabled on every ancestor for the leaf to get their files.
        wanted = {"memory", "cpu", "pids"} & set(_read(self.root / "cgroup.controllers").split())
        enable = " ".join(f"+{name}" for name in sorted(wanted))
        parent = self.root / PARENT
        parent.mkdir(exist_ok=True)
        for level in (self.root, parent):
            if enable:
                try:
                    _write(level / "cgroup.subtree_control", enable)
                except OSError:
                    pass
        self.path.mkdir(exist_ok=True)

    def apply(self, resources: CgroupResources) -> None:
        if resources.memory > 0:
            _write(self.path / "memory.max", str(resources.memory))
            _write(self.path / "memory.swap.max", "0")
        if resources.nano_cpus > 0:
            quota = resources.nano_cpus * CPU_PERIOD_US // 1_000_000_000
            _write(self.path / "cpu.max", f"{quota} {CPU_PERIOD_US}")
        if resources.pids_limit > 0:
            _write(self.path / "pids.max", str(resources.pids_limit))

    def _freezer(self, value: str, timeout: float) -> bool:
        _write(self.path / "cgroup.freeze", value)
        deadline = time.monotonic() + timeout
        while str(_keyed(_read(self.path / "cgroup.events"), "frozen")) != value:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def freeze(self, timeout: float = 5.0) -> bool:
        return self._freezer("1", timeout)

    def thaw(self, timeout: float = 5.0) -> bool:
        return self._freezer("0", timeout)

    def frozen(self) -> bool:
        return _read(self.path / "cgroup.freeze") == "1"

    def stats(self) -> CgroupStats:
        limit = _read(self.path / "memory.max", "max")
        return CgroupStats(
            memory_usage=int(_read(self.path / "memory.current", "0")),
            memory_limit=0 if limit == "max" else int(limit),
            cpu_usage_ns=_keyed(_read(self.path / "cpu.stat"), "usage_usec") * 1000,
            pids=int(_read(self.path / "pids.current", "0")),
        )

    def oom_kills(self) -> int:
        return _keyed(_read(self.path / "memory.events"), "oom_kill")

    def kill_all(self) -> None:
        kill = self.path / "cgroup.kill"
        if kill.exists():
            try:
                _write(kill, "1")
                return
            except OSError:
                pass
        super().kill_all()


class CgroupManager:
    """Hands out container cgroups in the host's hierarchy.

    Args:
        root: where cgroupfs is mounted (a fake directory in tests).
        version: 1 or 2.
        controllers: for v1, controller name -> hierarchy mount point.
    """

    def __init__(self, root: Path, version: int, controllers: dict[str, Path] | None = None) -> None:
        self.root = root
        self.version = version
        self.controllers = controllers or {}

    @classmethod
    def for_host(cls, root: Path | str = "/sys/fs/cgroup") -> CgroupManager:
        """Detect v1 or v2 at ``root``.

        A unified mount has ``cgroup.controllers`` at its root. A hybrid host
        has v2 at ``root/unified`` but with no controllers, so it counts as v1.
        """
        root = Path(root)
        if (root / "cgroup.controllers").exists():
            return cls(root, 2)
        controllers = {name: root / name for name in _V1_CONTROLLERS if (root / name / "cgroup.procs").exists()}
        return cls(root, 1, controllers)

    def cgroup(self, container_id: str) -> Cgroup:
        """The (possibly not yet created) cgroup of ``container_id``."""
        if self.version == 2:
            return CgroupV2(container_id, self.root)
        return CgroupV1(container_id, self.controllers)

    def create(self, container_id: str, resources: CgroupResources) -> Cgroup:
        """Make the cgroup and set its limits; on failure nothing is left behind."""
        group = self.cgroup(container_id)
        try:
            group.create()
            group.apply(resources)
        except OSError:
            group.remove(attempts=3)
            raise
        return group

    def container_ids(self) -> set[str]:
        """Ids that have a cgroup under the csim parent (for orphan reaping)."""
        bases = [self.root] if self.version == 2 else list(self.controllers.values())
        found: set[str] = set()
        for base in bases:
            parent = base / PARENT
            if parent.is_dir():
                found.update(child.name for child in parent.iterdir() if child.is_dir())
        return found

    def cgroups_path(self, container_id: str) -> str:
        """The OCI ``linux.cgroupsPath`` that lands an external runtime in the same place."""
        return f"/{PARENT}/{container_id}"
