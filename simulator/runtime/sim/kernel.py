"""The virtual kernel: containers' namespaces and cgroups, pids, the OOM killer, execve.

A :class:`Container` is what the kernel knows of one container: its pid
namespace (the pid counter and its processes), its mount namespace (a
:class:`ContainerFs`), its UTS hostname, its cgroup (memory limit, CPU quota,
freezer state, usage counters) and the sockets its programs listen on. The
:class:`Kernel` allocates host pids, runs the OOM killer, resolves commands
on ``PATH`` and loads programs by the *executable contract* of
:mod:`simulator.model.layer` (a file ``\\x7fELF csim-exec <program>``;
``busybox`` and ``coreutils`` dispatch on the basename of ``argv[0]``; a
``#!`` script runs its interpreter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import simpy

from simulator.model.layer import executable_program
from simulator.runtime.protocol import ContainerSpec, NetworkView
from simulator.runtime.sim.params import KernelParams
from simulator.runtime.sim.process import SIGKILL, Process, Program
from simulator.runtime.sim.vfs import ContainerFs, FsError

if TYPE_CHECKING:
    from types import ModuleType

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MAX_INTERPRETER_DEPTH = 4


class ExecError(Exception):
    """execve failed; ``errno`` is ENOENT, EACCES, ENOEXEC or ``APPLET`` (busybox: no applet)."""

    def __init__(self, errno: str, path: str) -> None:
        super().__init__(errno, path)
        self.errno = errno
        self.path = path


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    client_ip: str
    user_agent: str = "Wget"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    reason: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Listener:
    """A listening socket: ``handler`` answers one HTTP request synchronously."""

    port: int
    owner: Process
    handler: Callable[[HttpRequest], HttpResponse] | None


@dataclass(slots=True)
class Container:
    """The kernel's view of one container (namespaces + cgroup)."""

    spec: ContainerSpec
    fs: ContainerFs
    thawed: simpy.Event
    shim_pid: int = 0
    next_pid: int = 1
    procs: dict[int, Process] = field(default_factory=dict)
    init: Process | None = None
    frozen: bool = False
    cpu_ns: int = 0
    oom_killed: bool = False
    listeners: dict[int, Listener] = field(default_factory=dict)
    replay_until: float = -1.0
    replay_procs: set[simpy.Process] = field(default_factory=set)
    """The SimPy processes of a replayed init and its children (see ``SimRuntime.start``)."""
    host_cpus: int = 4

    def may_write(self) -> bool:
        """Whether a write (to a file or to stdout/stderr) happens now.

        A replayed process re-does what it had done when the world was saved; until it is
        past that (``replay_until``), its writes already happened and are dropped. Anything
        else (an exec, the daemon copying files in) always writes.
        """
        if self.replay_until < 0:
            return True
        env = self.thawed.env
        return float(env.now) > self.replay_until or env.active_process not in self.replay_procs

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def hostname(self) -> str:
        return self.spec.hostname

    def alloc_pid(self) -> int:
        pid = self.next_pid
        self.next_pid += 1
        return pid

    def cpu_rate(self, threads: int = 1) -> float:
        """Speed of one of ``threads`` busy threads, in CPUs (1.0 = a whole core)."""
        quota = self.spec.nano_cpus / 1e9 if self.spec.nano_cpus else float(self.host_cpus)
        return max(1e-3, min(1.0, quota / max(1, threads)))

    def memory_usage(self) -> int:
        return sum(p.rss for p in self.procs.values())


class Kernel:
    """Host-wide kernel state shared by every container of one runtime."""

    def __init__(self, env: simpy.Environment, params: KernelParams, network: NetworkView) -> None:
        self.env = env
        self.params = params
        self.network = network
        self.containers: dict[str, Container] = {}
        self._next_host_pid = params.host_pid_base

    def alloc_host_pid(self) -> int:
        pid = self._next_host_pid
        self._next_host_pid += 1
        return pid

    def wall(self) -> float:
        return self.params.epoch + float(self.env.now)

    # -- process bookkeeping -------------------------------------------
    def process_exited(self, proc: Process) -> None:
        container = proc.container
        for port in [p for p, lst in container.listeners.items() if lst.owner is proc]:
            del container.listeners[port]
        if proc is container.init:
            # The pid namespace dies with its init: the kernel SIGKILLs the rest.
            for other in list(container.procs.values()):
                other.send_signal(SIGKILL)

    def release(self, container: Container) -> None:
        """Forget a deleted container: drop its init process and its filesystem's write gate.

        Both point back at the container (``init.container``, the gate's closure), so
        without this a deleted container, its processes and their stdio would wait for
        Python's cyclic garbage collector, which then runs about twice as often.
        Called once every process of the container has exited.
        """
        container.init = None
        container.fs.gate = _always_writable

    def check_memory(self, container: Container) -> None:
        """Run the OOM killer when the cgroup is over its memory limit."""
        limit = container.spec.memory
        if not limit or container.memory_usage() <= limit:
            return
        alive = [p for p in container.procs.values() if SIGKILL not in p.pending]
        if not alive:
            return
        victim = max(alive, key=lambda p: (p.rss, p.pid))
        container.oom_killed = True
        victim.send_signal(SIGKILL)

    def freeze(self, container: Container) -> None:
        container.frozen = True
        for proc in list(container.procs.values()):
            proc.poke()  # wake it so it parks in the freezer

    def thaw(self, container: Container) -> None:
        container.frozen = False
        event, container.thawed = container.thawed, self.env.event()
        event.succeed()

    # -- execve -------------------------------------------------------
    def find_executable(self, fs: ContainerFs, name: str, path_env: str, cwd: str) -> str:
        """The path ``name`` runs (``PATH`` search unless it contains ``/``).

        Raises:
            ExecError: ENOENT when not found.
        """
        if "/" in name:
            try:
                node = fs.lookup(name, cwd)
            except FsError as exc:
                raise ExecError(exc.errno, name) from None
            if node.kind != "file":
                raise ExecError("EACCES", name)
            return name
        for directory in (path_env or DEFAULT_PATH).split(":"):
            candidate = f"{(directory or '.').rstrip('/')}/{name}"
            found = fs.probe(candidate, cwd)
            if found is not None and found.kind == "file" and found.mode & 0o111:
                return candidate
        raise ExecError("ENOENT", name)

    def load(self, fs: ContainerFs, path: str, argv: list[str], cwd: str) -> tuple[Program, list[str]]:
        """Load the program of executable ``path`` for ``argv`` (follows ``#!``).

        Raises:
            ExecError: EACCES (not executable), ENOEXEC (no magic, no ``#!``), APPLET.
        """
        programs = _programs()

        for _ in range(_MAX_INTERPRETER_DEPTH):
            try:
                node = fs.lookup(path, cwd)
            except FsError as exc:
                raise ExecError(exc.errno, path) from None
            if node.kind != "file" or not node.mode & 0o111:
                raise ExecError("EACCES", path)
            data = node.data
            program = executable_program(data)
            if program in ("busybox", "coreutils"):
                applet = argv[0].rsplit("/", 1)[-1]
                if applet in ("busybox", "coreutils") and len(argv) > 1:
                    argv = argv[1:]
                    applet = argv[0].rsplit("/", 1)[-1]
                found = programs.APPLETS.get(applet)
                if found is None:
                    raise ExecError("APPLET", applet)
                return found, argv
            if program is not None:
                return programs.PROGRAMS.get(program) or programs.not_simulated(program), argv
            if data.startswith(b"#!"):
                line = data[2:].split(b"\n", 1)[0].decode(errors="replace").strip()
                parts = line.split(None, 1)
                if not parts:
                    raise ExecError("ENOEXEC", path)
                argv = [parts[0], *parts[1:], path, *argv[1:]]
                path = parts[0]
                continue
            raise ExecError("ENOEXEC", path)
        raise ExecError("ELOOP", path)

    # -- network --------------------------------------------------------
    def listen(self, proc: Process, port: int, handler: Callable[[HttpRequest], HttpResponse] | None) -> None:
        proc.container.listeners[port] = Listener(port, proc, handler)

    def own_ip(self, container: Container) -> str:
        """The container's address: the daemon allocates it when the container starts."""
        if container.spec.endpoints:
            return container.spec.endpoints[0].ip
        return self.network.resolve(container.id, container.hostname) or "127.0.0.1"

    def resolve(self, container: Container, name: str) -> str | None:
        """Name resolution from inside ``container`` (IP literals, localhost, hosts, DNS)."""
        if _is_ip(name):
            return name
        if name in ("localhost", container.hostname):
            return "127.0.0.1" if name == "localhost" else self.own_ip(container)
        for entry in container.spec.extra_hosts:
            host, _, ip = entry.partition(":")
            if host == name:
                return ip
        if container.spec.network_mode == "none":
            return None
        return self.network.resolve(container.id, name)

    def peer(self, container: Container, ip: str) -> Container | None:
        """The container reachable at ``ip`` from ``container``."""
        if ip.startswith("127.") or ip == self.own_ip(container):
            return container
        if container.spec.network_mode == "none":
            return None
        target = self.network.container_at(container.id, ip)
        return self.containers.get(target) if target else None


def _is_ip(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


@cache
def _programs() -> ModuleType:
    """The program table, imported on the first exec (it imports the shell, which needs this module)."""
    from simulator.runtime.sim import programs

    return programs


def _always_writable() -> bool:
    return True
