"""``SimRuntime``: containerd + shim + runc + the virtual kernel, in world time.

Implements :class:`simulator.runtime.protocol.Runtime`. Every hop emits its
span under the parent the daemon hands in and takes the time
:class:`KernelParams` gives it: ``containerd`` (``Tasks.Create``...),
``shim`` (``start shim``), ``runc`` (``runc create``, ``runc start``...) and
``kernel`` (``clone(CLONE_NEWPID|...)``, ``mount overlay``, ``pivot_root``,
``execve(...)``, ``cgroup freeze``).

Persistence: :meth:`SimRuntime.snapshot_container` returns a container's upper
layer as tar bytes and :meth:`SimRuntime.restore_container` puts it back after
``create``; named volumes persist through :meth:`VolumeRegistry.snapshot`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

import simpy

from simulator.model.errors import Conflict, InvalidParameter, NotFound
from simulator.runtime.protocol import (
    STDERR,
    STDOUT,
    ContainerSpec,
    ExitStatus,
    LayerStore,
    NetworkView,
    ProcessHandle,
    ProcessIO,
    ProcessRow,
    ProcessSpec,
    ResourceUsage,
)
from simulator.runtime.sim.inode import LayerCache
from simulator.runtime.sim.kernel import Container, ExecError, Kernel
from simulator.runtime.sim.params import KernelParams
from simulator.runtime.sim.process import SIGKILL, Process, Program
from simulator.runtime.sim.streams import IoInput, IoOutput
from simulator.runtime.sim.vfs import ContainerFs, FsError, Volume, VolumeRegistry
from simulator.trace.tracer import SpanContext, Tracer

Proc = Generator[simpy.Event, Any, Any]
CLONE_FLAGS = "CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET"
_CLONE = f"clone({CLONE_FLAGS})"
_OCI_PREFIX = ("failed to create task for container: failed to create shim task: "
               "OCI runtime create failed: runc create failed: unable to start container process: ")  # fmt: skip


class ExecFailed(InvalidParameter):
    """The init (or exec'd) process could not be executed; ``exit_code`` is 127 or 126."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class SimRuntime:
    """The simulated runtime (see module docstring).

    Args:
        env: the SimPy world.
        tracer: where spans go.
        layers: image layers by diff id.
        network: the daemon's DNS and routing answers.
        params: latencies and limits.
        volumes: the daemon's named volumes (a private registry when omitted).
    """

    name = "sim"

    def __init__(
        self,
        env: simpy.Environment,
        tracer: Tracer,
        layers: LayerStore,
        network: NetworkView,
        params: KernelParams | None = None,
        volumes: VolumeRegistry | None = None,
    ) -> None:
        self.env = env
        self.tracer = tracer
        self.params = params or KernelParams()
        self.kernel = Kernel(env, self.params, network)
        self.cache = LayerCache(layers)
        self.volumes = volumes if volumes is not None else VolumeRegistry()
        self._exits: dict[int, Process] = {}

    # -- helpers -----------------------------------------------------------
    def _hops(self, hop: str, parent: SpanContext, steps: Iterable[tuple[str, float, dict[str, Any]]]) -> Proc:
        """Each step a span on ``hop`` under ``parent`` that takes its seconds, one after another
        (one generator for a whole sequence: every container start and delete runs one)."""
        for name, seconds, attrs in steps:
            ctx = self.tracer.start(hop, name, parent, **attrs)
            if seconds > 0:
                yield self.env.timeout(seconds)
            self.tracer.end(ctx)

    def _hop(self, hop: str, name: str, parent: SpanContext, seconds: float, **attrs: Any) -> Proc:
        yield from self._hops(hop, parent, ((name, seconds, attrs),))

    def _container(self, container_id: str) -> Container:
        c = self.kernel.containers.get(container_id)
        if c is None:
            raise NotFound(f"No such container: {container_id}")
        return c

    def _wall(self) -> float:
        return self.params.epoch + float(self.env.now)

    # -- create / start ---------------------------------------------------
    def create(self, spec: ContainerSpec, parent: SpanContext) -> Proc:
        if spec.id in self.kernel.containers:
            raise Conflict(f"container {spec.id} already exists")
        p = self.params
        ctx = self.tracer.start("containerd", "Containers.Create", parent, id=spec.id[:12])
        yield self.env.timeout(p.containers_create)
        lower = self.cache.image_root(tuple(spec.layers))
        fs = ContainerFs(lower, self._wall, spec.readonly_rootfs)
        for mount in spec.mounts:
            fs.mount(mount.destination, self._volume_for(spec, mount.kind, mount.source),
                     mount.read_only, mount.kind)  # fmt: skip
        if spec.process.cwd not in ("", "/") and not fs.exists(spec.process.cwd):
            fs.mkdir(spec.process.cwd, parents=True)
        container = Container(spec=spec, fs=fs, thawed=self.env.event(), host_cpus=p.host_cpus)
        fs.gate = container.may_write  # a replayed process does not write twice (see ``start``)
        self.kernel.containers[spec.id] = container
        self.tracer.end(ctx)

    def _volume_for(self, spec: ContainerSpec, kind: str, source: str) -> Volume:
        if kind == "tmpfs":
            return Volume(f"tmpfs:{spec.id}")
        if kind == "bind":
            return self.volumes.get(f"bind:{source}")
        return self.volumes.get(source)

    def start(self, container_id: str, io: ProcessIO, parent: SpanContext, replay_until: float = -1.0) -> Proc:
        c = self._container(container_id)
        if c.init is not None and not c.init.done:
            raise Conflict(f"container {container_id} is already running")
        p = self.params
        spec = c.spec
        # How long the process had run when the world was saved: it is re-run from its start,
        # and what it did in that time (counted from when the program starts) is not repeated.
        replay_for = replay_until - float(self.env.now) if replay_until >= 0 else -1.0
        c.replay_until = -1.0
        c.oom_killed = False
        c.frozen = False
        task = self.tracer.start("containerd", "Tasks.Create", parent, id=container_id[:12])
        yield self.env.timeout(p.tasks_create)
        shim = self.tracer.start("shim", "start shim", task)
        yield self.env.timeout(p.shim_start)
        c.shim_pid = self.kernel.alloc_host_pid()
        self.tracer.end(shim, pid=c.shim_pid)
        runc = self.tracer.start("runc", "runc create", task)
        yield self.env.timeout(p.runc_create)
        steps: list[tuple[str, float, dict[str, Any]]] = [  # runc create's kernel steps, in order
            (_CLONE, p.clone_namespaces, {}),
            ("mount overlay", p.mount_overlay, {"lowerdir": len(spec.layers)}),
            *((f"mount {m.kind} {m.destination}", p.mount_volume, {"read_only": m.read_only}) for m in spec.mounts),
            ("pivot_root", p.pivot_root, {}),
            ("cgroup create", p.cgroup_setup, {"memory": spec.memory, "nano_cpus": spec.nano_cpus}),
        ]
        yield from self._hops("kernel", runc, steps)
        try:
            program, argv, uid, gid = self._load(c, spec.process)
        except ExecFailed as exc:
            self.tracer.end(runc, error=exc.message)
            self.tracer.end(task, error=exc.message)
            raise
        self.tracer.end(runc)
        self.tracer.end(task)
        start = self.tracer.start("containerd", "Tasks.Start", parent, id=container_id[:12])
        yield self.env.timeout(p.tasks_start)
        runc_start = self.tracer.start("runc", "runc start", start)
        yield self.env.timeout(p.runc_start)
        yield from self._hop("kernel", f"execve({argv[0]})", runc_start, p.execve)
        c.next_pid = 1
        c.cpu_ns = 0
        proc = self._spawn(c, spec.process, io, argv, uid, gid)
        c.init = proc
        c.replay_until = float(self.env.now) + replay_for if replay_for >= 0 else -1.0
        proc.replaying = replay_for >= 0
        proc.start(program)
        self.tracer.end(runc_start, pid=proc.host_pid)
        self.tracer.end(start)
        return self._handle(c, proc)

    def _load(self, c: Container, ps: ProcessSpec) -> tuple[Program, list[str], int, int]:
        argv = list(ps.args)
        if not argv:
            raise ExecFailed(_OCI_PREFIX + "exec: no command specified: unknown", 127)
        env = _env_dict(ps.env)
        uid, gid = self._user(c, ps.user)
        try:
            path = self.kernel.find_executable(c.fs, argv[0], env.get("PATH", ""), ps.cwd or "/")
            program, argv = self.kernel.load(c.fs, path, argv, ps.cwd or "/")
        except ExecError as exc:
            if exc.errno == "ENOENT" and "/" not in argv[0]:
                msg = f'exec: "{argv[0]}": executable file not found in $PATH: unknown'
                raise ExecFailed(_OCI_PREFIX + msg, 127) from None
            if exc.errno == "ENOENT":
                msg = f'exec: "{argv[0]}": stat {argv[0]}: no such file or directory: unknown'
                raise ExecFailed(_OCI_PREFIX + msg, 127) from None
            if exc.errno == "EACCES":
                msg = f'exec: "{argv[0]}": permission denied: unknown'
                raise ExecFailed(_OCI_PREFIX + msg, 126) from None
            if exc.errno == "ENOEXEC":
                msg = f"exec {argv[0]}: exec format error: unknown"
                raise ExecFailed(_OCI_PREFIX + msg, 126) from None
            msg = f"{argv[0]}: applet not found: unknown"
            raise ExecFailed(_OCI_PREFIX + msg, 127) from None
        return program, argv, uid, gid

    def _user(self, c: Container, user: str) -> tuple[int, int]:
        if not user:
            return 0, 0
        name, _, group = user.partition(":")
        try:
            passwd = c.fs.read("/etc/passwd").decode(errors="replace")
        except FsError:
            passwd = ""
        uid, gid = -1, -1
        for line in passwd.splitlines():
            f = line.split(":")
            if len(f) > 3 and (f[0] == name or f[2] == name):
                uid, gid = int(f[2]), int(f[3])
                break
        if uid < 0:
            if not name.isdigit():
                raise ExecFailed(_OCI_PREFIX + f"unable to find user {name}: no matching entries "
                                 "in passwd file: unknown", 126)  # fmt: skip
            uid, gid = int(name), int(name) if not group else 0
        if group:
            gid = int(group) if group.isdigit() else gid
        return uid, gid

    def _spawn(self, c: Container, ps: ProcessSpec, io: ProcessIO, argv: list[str], uid: int, gid: int) -> Process:
        gate = c.fs.gate
        out = IoOutput(io, STDOUT, ps.tty, gate)
        err = IoOutput(io, STDERR, ps.tty, gate)
        stdin = IoInput(io, ps.tty, out if ps.tty else None)
        env = _env_dict(ps.env)
        env.setdefault("HOSTNAME", c.hostname)
        env.setdefault("HOME", "/root" if uid == 0 else "/")
        cwd = ps.cwd or "/"
        return Process(self.kernel, c, argv, env, cwd, uid, gid, {0: stdin, 1: out, 2: err}, None)

    def _handle(self, c: Container, proc: Process) -> ProcessHandle:
        exited = self.env.event()

        def report(_event: simpy.Event) -> None:
            code = proc.code if proc.code is not None else 0
            exited.succeed(ExitStatus(code, oom_killed=c.oom_killed, signal=proc.term_signal))

        proc.exited.callbacks.append(report)  # type: ignore[union-attr]
        return ProcessHandle(proc.host_pid, exited, {"pid": proc.pid})

    # -- signals, freezer -------------------------------------------------
    def kill(self, container_id: str, signal: int) -> None:
        c = self.kernel.containers.get(container_id)
        if c is None or c.init is None or c.init.done:
            return
        c.init.send_signal(signal)

    def pause(self, container_id: str, parent: SpanContext) -> Proc:
        c = self._container(container_id)
        p = self.params
        task = self.tracer.start("containerd", "Tasks.Pause", parent, id=container_id[:12])
        yield self.env.timeout(p.tasks_pause)
        runc = self.tracer.start("runc", "runc pause", task)
        yield self.env.timeout(p.runc_pause)
        yield from self._hop("kernel", "cgroup freeze", runc, p.cgroup_freeze)
        self.kernel.freeze(c)
        self.tracer.end(runc)
        self.tracer.end(task)

    def resume(self, container_id: str, parent: SpanContext) -> Proc:
        c = self._container(container_id)
        p = self.params
        task = self.tracer.start("containerd", "Tasks.Resume", parent, id=container_id[:12])
        yield self.env.timeout(p.tasks_pause)
        runc = self.tracer.start("runc", "runc resume", task)
        yield self.env.timeout(p.runc_pause)
        yield from self._hop("kernel", "cgroup thaw", runc, p.cgroup_freeze)
        self.kernel.thaw(c)
        self.tracer.end(runc)
        self.tracer.end(task)

    def delete(self, container_id: str, parent: SpanContext) -> Proc:
        c = self._container(container_id)
        p = self.params
        for proc in list(c.procs.values()):
            proc.send_signal(SIGKILL)
        if c.frozen:
            self.kernel.thaw(c)
        task = self.tracer.start("containerd", "Tasks.Delete", parent, id=container_id[:12])
        yield self.env.timeout(p.tasks_delete)
        runc = self.tracer.start("runc", "runc delete", task)
        yield self.env.timeout(p.runc_delete)
        yield from self._hops(
            "kernel", runc, (("umount overlay", p.umount_overlay, {}), ("cgroup rmdir", p.cgroup_remove, {}))
        )
        self.tracer.end(runc)
        self.tracer.end(task)
        yield from self._hop("containerd", "Containers.Delete", parent, p.containers_delete)
        self.kernel.containers.pop(container_id, None)
        self.kernel.release(c)

    # -- exec -------------------------------------------------------------
    def exec(self, container_id: str, process: ProcessSpec, io: ProcessIO, parent: SpanContext) -> Proc:
        c = self._container(container_id)
        if c.init is None or c.init.done:
            raise Conflict(f"Container {container_id} is not running")
        p = self.params
        task = self.tracer.start("containerd", "Tasks.Exec", parent, id=container_id[:12])
        yield self.env.timeout(p.tasks_exec)
        runc = self.tracer.start("runc", "runc exec", task)
        yield self.env.timeout(p.runc_exec)
        yield from self._hop("kernel", "setns(CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|"
                             "CLONE_NEWNET)", runc, p.setns)  # fmt: skip
        try:
            program, argv, uid, gid = self._load(c, process)
        except ExecFailed as exc:
            message = exc.message.replace(_OCI_PREFIX, "OCI runtime exec failed: exec failed: "
                                          "unable to start container process: ")  # fmt: skip
            self.tracer.end(runc, error=message)
            self.tracer.end(task, error=message)
            raise ExecFailed(message, exc.exit_code) from None
        yield from self._hop("kernel", f"execve({argv[0]})", runc, p.execve)
        proc = self._spawn(c, process, io, argv, uid, gid)
        proc.start(program)
        self.tracer.end(runc, pid=proc.host_pid)
        self.tracer.end(task)
        return self._handle(c, proc)

    # -- inspection ----------------------------------------------------------
    def changes(self, container_id: str) -> list[tuple[str, str]]:
        return self._container(container_id).fs.changes()

    def top(self, container_id: str) -> list[ProcessRow]:
        c = self._container(container_id)
        rows = []
        for proc in sorted(c.procs.values(), key=lambda pr: pr.pid):
            user = "root" if proc.uid == 0 else str(proc.uid)
            rows.append(ProcessRow(user, proc.host_pid, proc.ppid_host, " ".join(proc.argv)))
        return rows

    def stats(self, container_id: str) -> ResourceUsage:
        c = self._container(container_id)
        return ResourceUsage(
            cpu_total_ns=c.cpu_ns,
            system_cpu_ns=int(float(self.env.now) * 1e9) * self.params.host_cpus,
            online_cpus=self.params.host_cpus,
            memory_usage=c.memory_usage(),
            memory_limit=c.spec.memory or self.params.host_memory,
            pids=len(c.procs),
        )

    def export_upper(self, container_id: str) -> bytes:
        return self._container(container_id).fs.export_upper()

    def read_file(self, container_id: str, path: str) -> bytes | None:
        c = self._container(container_id)
        try:
            node = c.fs.lookup(path)
        except FsError:
            return None
        return node.data if node.kind == "file" else None

    # -- persistence -------------------------------------------------------------
    def snapshot_container(self, container_id: str) -> bytes:
        """The container's upper layer as a reproducible tar (restore with ``restore_container``)."""
        return self.export_upper(container_id)

    def restore_container(self, container_id: str, upper: bytes) -> None:
        """Re-apply an upper layer saved by :meth:`snapshot_container` (after ``create``)."""
        self._container(container_id).fs.import_upper(upper)

    def process_count(self, container_id: str) -> int:
        return len(self._container(container_id).procs)


def _env_dict(env: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in env:
        key, _, value = item.partition("=")
        out[key] = value
    return out
