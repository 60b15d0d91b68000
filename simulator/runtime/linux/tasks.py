"""What the Linux runtime knows about its containers and their processes.

``LinuxRuntime`` is assembled from a few mixins (the launch path in
``launch.py``, network endpoints in ``endpoints.py``, inspection in
``inspection.py``); they all stand on :class:`RuntimeCore`, declared here: the
runtime's bookkeeping (one :class:`ContainerRecord` per container, one
:class:`ShimProcess` per init or exec), the worker-thread plumbing that turns
real work into SimPy events and spans, and the helpers that wait for shims
and tear a container's directory down.
"""

from __future__ import annotations

import os
import queue
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import simpy

from simulator.model.errors import DockerError, InvalidParameter, NotFound, SystemError_
from simulator.runtime.linux import rootfs as fs
from simulator.runtime.linux import shim
from simulator.runtime.linux.cgroups import Cgroup, CgroupManager
from simulator.runtime.linux.network import ContainerNetworks
from simulator.runtime.linux.process import ExecError
from simulator.runtime.linux.state import ContainerDir, ProcessDir
from simulator.runtime.linux.tracing import Post, SpanRelay
from simulator.runtime.linux.watcher import ProcessWatcher
from simulator.runtime.protocol import Proc, ProcessHandle, ProcessIO
from simulator.trace.tracer import SpanContext, Tracer

T = TypeVar("T")


class LayerPaths(Protocol):
    """Where unpacked image layers live (``daemon.layers.LayerUnpacker``)."""

    def unpacked_path(self, diff_id: str) -> Path: ...


@dataclass(slots=True)
class ShimProcess:
    """A process the runtime started (or re-attached to) and its watcher."""

    pdir: ProcessDir
    shim_pid: int
    pid: int
    handle: ProcessHandle
    watcher: ProcessWatcher | None = None
    io: ProcessIO | None = None
    stdin: queue.Queue[bytes] | None = None


@dataclass(slots=True)
class ContainerRecord:
    """What the runtime knows about one container."""

    cdir: ContainerDir
    config: dict[str, Any]
    lowers: list[Path]
    cgroup: Cgroup
    init: ShimProcess | None = None
    execs: dict[str, ShimProcess] = field(default_factory=dict)


def docker_start_error(runtime: str, message: str) -> InvalidParameter:
    """The error dockerd reports when the OCI runtime cannot start the process."""
    return InvalidParameter(
        "failed to create task for container: failed to create shim task: OCI runtime create "
        f"failed: {runtime} create failed: unable to start container process: {message}: unknown"
    )


class RuntimeCore:
    """The state and plumbing every part of ``LinuxRuntime`` shares.

    ``LinuxRuntime.__init__`` sets these attributes; the mixins built on this
    class use them.
    """

    env: simpy.Environment
    tracer: Tracer
    state_root: Path
    post: Post
    binary: str | None
    name: str
    cgroups: CgroupManager
    networks: ContainerNetworks
    _containers: dict[str, ContainerRecord]
    _pool: ThreadPoolExecutor
    _factor: float

    @property
    def runc_root(self) -> Path:
        return self.state_root / f".{self.name}"

    def _in_worker(self, hop: str, name: str, parent: SpanContext, work: Callable[[SpanRelay], T]) -> Proc:
        """Run ``work`` on a worker thread under a ``hop`` span; return its result."""
        ctx = self.tracer.start(hop, name, parent)
        relay = SpanRelay(self.tracer, self.post, ctx, self._factor)
        done = self.env.event()

        def run() -> None:
            try:
                result = work(relay)
            except BaseException as exc:
                error = exc if isinstance(exc, DockerError) else _as_docker_error(exc)
                self.post(lambda: _fail(done, error))
            else:
                self.post(lambda: _succeed(done, result))

        self._pool.submit(run)
        try:
            value = yield done
        except DockerError as exc:
            self.tracer.end(ctx, error=exc.message)
            raise
        self.tracer.end(ctx)
        return value

    def _get(self, container_id: str) -> ContainerRecord:
        c = self._containers.get(container_id)
        if c is None:
            raise NotFound(f"No such container: {container_id}")
        return c


def _succeed(event: simpy.Event, value: Any) -> None:
    event.succeed(value)


def _fail(event: simpy.Event, error: Exception) -> None:
    event.fail(error)


def _as_docker_error(exc: BaseException) -> DockerError:
    if isinstance(exc, ExecError):
        return InvalidParameter(exc.message)
    return SystemError_(str(exc) or type(exc).__name__)


def shim_alive(record: dict[str, Any]) -> bool:
    """Is the shim of a ``shim.json`` record still the same running process?"""
    pid = int(record.get("shim", 0))
    return pid > 0 and shim.start_time(pid) == int(record.get("start", -2))


def wait_gone(pid: int, timeout: float) -> None:
    """Wait (bounded) until ``pid`` no longer runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except OSError:
            return
        time.sleep(0.002)


def destroy_container_dir(cdir: ContainerDir, cgroup: Cgroup) -> None:
    """Unmount the rootfs, remove the cgroup and the directory (each step tolerates absence)."""
    if cdir.rootfs.exists():
        fs.unmount_all(cdir.rootfs)
    cgroup.remove()
    shutil.rmtree(cdir.path, ignore_errors=True)
