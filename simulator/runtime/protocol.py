"""The boundary below the daemon: what dockerd asks of containerd + shim + an OCI runtime.

The daemon is written once, as SimPy processes. A runtime is handed the
SimPy environment and the tracer and implements this protocol; the simulated
one (``runtime.sim``) runs virtual processes in world time, the Linux one
(``runtime.linux``) forks real ones and completes SimPy events when they exit.

Methods that take time are generators to be driven with ``yield from`` inside
a SimPy process; they emit their own ``containerd``/``shim``/``runc``/
``kernel`` spans under the ``parent`` context they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy
from simpy.events import PENDING

from simulator.trace.tracer import SpanContext

STDIN, STDOUT, STDERR = 0, 1, 2

# Processes yield SimPy events and may return a value.
Proc = Generator[simpy.Event, Any, Any]


class FirstOf(simpy.Event):
    """Succeeds (with value None) when the first of ``events`` is processed; fails if that one failed.

    ``simpy.AnyOf`` schedules the same event at the same moment, but also builds a
    ``ConditionValue`` and supports nesting; a container stop and a process sleep
    each wait on one of these, and none of them reads the value.
    """

    def __init__(self, env: simpy.Environment, *events: simpy.Event) -> None:
        super().__init__(env)
        self._events = events
        for event in events:
            if event.callbacks is None:
                self._check(event)
            else:
                event.callbacks.append(self._check)
        self.callbacks.append(self._forget)  # type: ignore[union-attr]  # a fresh event: a list

    def _check(self, event: simpy.Event) -> None:
        if self._value is not PENDING:
            return
        if event._ok:
            self.succeed()
        else:
            event._defused = True  # type: ignore[attr-defined]  # as ``AnyOf`` does: the failure is ours now
            self.fail(event._value)

    def _forget(self, _event: simpy.Event) -> None:
        # As ``AnyOf``: drop our callback from the events still pending (a process
        # waits on its wake-up event again and again; the callbacks would pile up).
        check = self._check
        for event in self._events:
            callbacks = event.callbacks
            if callbacks and check in callbacks:
                callbacks.remove(check)


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """What to execute: the OCI ``process`` object, reduced to what csim uses."""

    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    user: str = ""
    tty: bool = False
    open_stdin: bool = False


@dataclass(frozen=True, slots=True)
class MountSpec:
    """A volume or bind mount: ``source`` is a host path (linux) or a volume name (sim)."""

    kind: str  # "volume" | "bind" | "tmpfs"
    source: str
    destination: str
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """One network attachment of a container."""

    network: str
    network_id: str
    ip: str
    prefix_len: int
    gateway: str
    mac: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Everything a runtime needs to create a container (the OCI bundle, in spirit).

    Attributes:
        id: the full 64-hex container id.
        name: the container name without the leading slash.
        hostname: the UTS hostname (Docker: the short id unless --hostname).
        layers: the image's layer diff ids, bottom layer first.
        process: the init process.
        memory: memory limit in bytes, 0 for none.
        nano_cpus: CPU limit in 1e-9 CPUs, 0 for none.
        pids_limit: max tasks, 0 for none.
        mounts: volumes and binds.
        network_mode: "bridge", "host", "none", or a network name.
        endpoints: the attachments made before start.
        stop_signal: the image's or container's StopSignal number.
        readonly_rootfs: --read-only.
        runtime: the OCI runtime to use (``--runtime``); "" means the daemon's default.
    """

    id: str
    name: str
    hostname: str
    layers: tuple[str, ...]
    process: ProcessSpec
    memory: int = 0
    nano_cpus: int = 0
    pids_limit: int = 0
    mounts: tuple[MountSpec, ...] = ()
    network_mode: str = "bridge"
    endpoints: tuple[EndpointSpec, ...] = ()
    stop_signal: int = 15
    readonly_rootfs: bool = False
    extra_hosts: tuple[str, ...] = ()
    runtime: str = ""


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """How a process ended: Docker's ExitCode (128+signal when killed), OOMKilled, Error."""

    code: int
    oom_killed: bool = False
    signal: int = 0
    error: str = ""


class ProcessIO:
    """The daemon's end of a process's stdio.

    The runtime calls ``write`` for every chunk the process prints; the daemon
    routes it to the json-file log and to attached clients. Stdin is a SimPy
    store of byte chunks; ``b""`` marks end of input. Input fed before the
    process starts is kept (the real CLI sends piped stdin before ``/start``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        on_output: Callable[[int, bytes], None],
        open_stdin: bool = False,
    ) -> None:
        self.env = env
        self._on_output = on_output
        self.open_stdin = open_stdin
        self.stdin_closed = not open_stdin
        # Without open stdin the store only ever holds the end-of-input mark, and most
        # processes never read it: it is made on first use (``stdin``), which saves a
        # store and a SimPy event per container start. A reader cannot tell: the mark
        # is there from the moment the store exists.
        self._stdin: simpy.Store | None = simpy.Store(env) if open_stdin else None

    @property
    def stdin(self) -> simpy.Store:
        """The store of stdin chunks (``b""`` marks end of input)."""
        if self._stdin is None:
            self._stdin = simpy.Store(self.env)
            self._stdin.put(b"")
        return self._stdin

    def write(self, stream: int, data: bytes) -> None:
        if data:
            self._on_output(stream, data)

    def feed_stdin(self, data: bytes) -> None:
        if not self.stdin_closed and data:
            self.stdin.put(data)

    def close_stdin(self) -> None:
        if not self.stdin_closed:
            self.stdin_closed = True
            self.stdin.put(b"")


@dataclass(slots=True)
class ProcessHandle:
    """A started process: its pid (in the host's view) and the event that fires on exit.

    ``exited`` succeeds with an ``ExitStatus``; it never fails.
    """

    pid: int
    exited: simpy.Event
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One line of ``docker top``."""

    uid: str
    pid: int
    ppid: int
    cmd: str


@dataclass(frozen=True, slots=True)
class ResourceUsage:
    """What ``docker stats`` shows, read from the (virtual or real) cgroup."""

    cpu_total_ns: int
    system_cpu_ns: int
    online_cpus: int
    memory_usage: int
    memory_limit: int
    pids: int
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0


class NetworkView(Protocol):
    """The daemon's answers about container networking, for the (virtual) kernel."""

    def resolve(self, container_id: str, name: str) -> str | None:
        """The IP ``name`` resolves to from inside ``container_id`` (Docker's DNS rules)."""
        ...

    def container_at(self, container_id: str, ip: str) -> str | None:
        """The id of the container reachable at ``ip`` from ``container_id``, if any."""
        ...


class LayerStore(Protocol):
    """Where a runtime finds image layers by diff id."""

    def layer_tar(self, diff_id: str) -> bytes:
        """The uncompressed tar of a layer."""
        ...


class Runtime(Protocol):
    """containerd + shim + OCI runtime, as the daemon sees them."""

    name: str

    def create(self, spec: ContainerSpec, parent: SpanContext) -> Proc:
        """Prepare the root filesystem and the container's resources; nothing runs yet."""
        ...

    def start(self, container_id: str, io: ProcessIO, parent: SpanContext, replay_until: float = -1.0) -> Proc:
        """Start the init process; returns a ``ProcessHandle``.

        ``replay_until``: re-running a process that was already running when
        the world was saved; output and filesystem writes before this world
        time are not repeated (simulated backend only).
        """
        ...

    def kill(self, container_id: str, signal: int) -> None:
        """Deliver a signal to the init process (no-op if it is not running)."""
        ...

    def pause(self, container_id: str, parent: SpanContext) -> Proc:
        """Freeze every process of the container (the freezer cgroup)."""
        ...

    def resume(self, container_id: str, parent: SpanContext) -> Proc:
        """Thaw the container."""
        ...

    def delete(self, container_id: str, parent: SpanContext) -> Proc:
        """Release everything create made: rootfs, upper layer, cgroup, netns."""
        ...

    def exec(self, container_id: str, process: ProcessSpec, io: ProcessIO, parent: SpanContext) -> Proc:
        """Run another process in the container's namespaces; returns a ``ProcessHandle``."""
        ...

    def changes(self, container_id: str) -> list[tuple[str, str]]:
        """``docker diff``: (kind, path) with kind in A, C, D, sorted by path."""
        ...

    def top(self, container_id: str) -> list[ProcessRow]: ...

    def stats(self, container_id: str) -> ResourceUsage: ...

    def export_upper(self, container_id: str) -> bytes:
        """The container's changes as a layer tar (whiteouts included), for commit and build."""
        ...

    def read_file(self, container_id: str, path: str) -> bytes | None:
        """A file as the container sees it (None if missing), for checks and `cp`."""
        ...
