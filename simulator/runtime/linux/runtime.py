"""The real backend's runtime: containerd + shim + a namespace runtime, as the daemon sees them.

``LinuxRuntime`` implements ``runtime.protocol.Runtime`` with real kernel
objects. ``create`` is containerd's job (snapshot mount, bundle, cgroup);
``start``/``exec`` fork a detached shim (``shim.py``) that runs the built-in
init (``process.py``) or, with ``runtime_binary``, the installed runc/crun on
the very same bundle. Everything that takes real time runs on a worker
thread; the SimPy world only ever sees events completed through ``post``
and spans relayed with their measured durations (``tracing.py``).

Containers outlive the daemon: ``restore`` re-attaches to the shims still
running after a restart and ``reap_orphans`` clears what nobody owns.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import simpy

from simulator.model.errors import DockerError, InvalidParameter, NotFound, SystemError_
from simulator.runtime.linux import diff, etcfiles, introspect, portproxy, shim
from simulator.runtime.linux import rootfs as fs
from simulator.runtime.linux.cgroups import Cgroup, CgroupManager, CgroupResources
from simulator.runtime.linux.links import Step
from simulator.runtime.linux.network import BridgeSpec, ContainerNetworks
from simulator.runtime.linux.process import ExecError
from simulator.runtime.linux.state import ContainerDir, ProcessDir, read_json, write_json_atomic
from simulator.runtime.linux.tracing import Post, SpanRelay
from simulator.runtime.linux.watcher import ProcessWatcher, exit_status
from simulator.runtime.protocol import (
    ContainerSpec,
    EndpointSpec,
    ExitStatus,
    Proc,
    ProcessHandle,
    ProcessIO,
    ProcessRow,
    ProcessSpec,
    ResourceUsage,
)
from simulator.trace.tracer import SpanContext, Tracer

T = TypeVar("T")
_SHIM_EXIT_SECONDS = 5.0


class LayerPaths(Protocol):
    """Where unpacked image layers live (``daemon.layers.LayerUnpacker``)."""

    def unpacked_path(self, diff_id: str) -> Path: ...


@dataclass(slots=True)
class _Process:
    """A process the runtime started (or re-attached to) and its watcher."""

    pdir: ProcessDir
    shim_pid: int
    pid: int
    handle: ProcessHandle
    watcher: ProcessWatcher | None = None
    io: ProcessIO | None = None
    stdin: queue.Queue[bytes] | None = None


@dataclass(slots=True)
class _Container:
    """What the runtime knows about one container."""

    cdir: ContainerDir
    config: dict[str, Any]
    lowers: list[Path]
    cgroup: Cgroup
    init: _Process | None = None
    execs: dict[str, _Process] = field(default_factory=dict)


def docker_start_error(runtime: str, message: str) -> InvalidParameter:
    """The error dockerd reports when the OCI runtime cannot start the process."""
    return InvalidParameter(
        "failed to create task for container: failed to create shim task: OCI runtime create "
        f"failed: {runtime} create failed: unable to start container process: {message}: unknown"
    )


class LinuxRuntime:
    """Containers in Linux namespaces, started by detached shims.

    Args:
        env: the daemon's SimPy environment (touched on the world thread only).
        tracer: the world's tracer.
        layers: unpacked image layers by diff id.
        state_root: where container directories live.
        post: runs a function on the world thread (thread-safe).
        runtime_binary: ``"runc"``/``"crun"`` (or a path) to run bundles with an
            installed OCI runtime instead of the built-in one.
        cgroups: the cgroup hierarchy (default: the host's).
    """

    def __init__(
        self,
        env: simpy.Environment,
        tracer: Tracer,
        layers: LayerPaths,
        state_root: Path,
        post: Post,
        runtime_binary: str | None = None,
        *,
        cgroups: CgroupManager | None = None,
    ) -> None:
        self.env = env
        self.tracer = tracer
        self.layers = layers
        self.state_root = Path(state_root)
        self.state_root.mkdir(parents=True, exist_ok=True)
        self.post = post
        self.binary = shutil.which(runtime_binary) if runtime_binary else None
        if runtime_binary and self.binary is None:
            raise SystemError_(f'exec: "{runtime_binary}": executable file not found in $PATH')
        self.name = Path(self.binary).name if self.binary else "linux"
        self.cgroups = cgroups or CgroupManager.for_host()
        self._containers: dict[str, _Container] = {}
        self.networks = ContainerNetworks(self.state_root)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="linux-runtime")
        self._factor = float(getattr(env, "factor", 1.0) or 1.0)

    # -- plumbing -------------------------------------------------------------------------

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

    def _get(self, container_id: str) -> _Container:
        c = self._containers.get(container_id)
        if c is None:
            raise NotFound(f"No such container: {container_id}")
        return c

    # -- create ---------------------------------------------------------------------------

    def create(self, spec: ContainerSpec, parent: SpanContext) -> Proc:
        """Mount the rootfs, write the bundle, make the cgroup."""
        return self._in_worker("containerd", "create container", parent, lambda relay: self._create(spec, relay))

    def _create(self, spec: ContainerSpec, relay: SpanRelay) -> None:
        from simulator.runtime.oci.spec import build_oci_config, resolve_user

        cdir = ContainerDir(self.state_root / spec.id)
        cgroup = self.cgroups.cgroup(spec.id)
        lowers = [self.layers.unpacked_path(d) for d in reversed(spec.layers)]
        try:
            cdir.path.mkdir(parents=True)
            files = etcfiles.write(cdir.path, spec)
            netns_path = None
            if spec.network_mode != "host":
                t0 = time.monotonic()
                netns_path = os.fspath(self.networks.create_sandbox(cdir.path, spec.name, spec.hostname))
                relay.span("kernel", "unshare(CLONE_NEWNET) + mount --bind netns (ip netns add)", t0, time.monotonic())
            # Docker's "<id>-init" layer: mount points that must not show in `docker diff`.
            fs.make_init_layer(cdir.init_layer)
            lowers = [cdir.init_layer, *lowers]
            t0 = time.monotonic()
            fs.mount_overlay(lowers, cdir.upper, cdir.work, cdir.rootfs)
            relay.span("kernel", f"mount overlay ({len(lowers) - 1} layers + init)", t0, time.monotonic())
            user_ids = resolve_user(spec.process.user, cdir.rootfs)
            if self.binary is None:
                t0 = time.monotonic()
                cgroup = self.cgroups.create(spec.id, _resources(spec))
                relay.span("kernel", f"mkdir cgroup csim/{spec.id[:12]}", t0, time.monotonic())
            config = build_oci_config(
                spec,
                "rootfs",
                cgroups_path=self.cgroups.cgroups_path(spec.id),
                netns_path=netns_path,
                hostname_path=os.fspath(files["hostname"]),
                hosts_path=os.fspath(files["hosts"]),
                resolv_conf_path=os.fspath(files["resolv.conf"]),
                user_ids=user_ids,
                memory_swap=spec.memory or None,
            )
            cdir.config.write_text(json.dumps(config, indent=2))
            write_json_atomic(
                cdir.meta,
                {
                    "id": spec.id,
                    "runtime": self.name,
                    "lowers": [os.fspath(p) for p in lowers],
                    "open_stdin": spec.process.open_stdin,
                },
            )
        except BaseException:
            self.networks.destroy_sandbox(cdir.path)
            _destroy_dir(cdir, cgroup)
            raise
        self._containers[spec.id] = _Container(cdir, config, lowers, cgroup)

    # -- start / exec ---------------------------------------------------------------------

    def start(self, container_id: str, io: ProcessIO, parent: SpanContext, replay_until: float = -1.0) -> Proc:
        """Fork the shim, which starts the init; returns a ``ProcessHandle``."""
        c = self._get(container_id)
        exited = self.env.event()

        def work(relay: SpanRelay) -> _Process:
            pdir = c.cdir.init
            for stale in (pdir.exit_json, pdir.shim_json, pdir.pid_file):
                stale.unlink(missing_ok=True)
            launch = shim.Launch(
                container_id=container_id,
                proc_dir=pdir,
                config=c.config,
                process=c.config["process"],
                rootfs=os.fspath(c.cdir.rootfs),
                cgroup=None if self.binary else c.cgroup,
                open_stdin=io.open_stdin,
                oom_cgroup=c.cgroup,
            )
            if self.binary:
                launch.argv = [
                    self.binary,
                    "--root",
                    os.fspath(self.runc_root),
                    "run",
                    *self._keep_flag(),
                    "--bundle",
                    os.fspath(c.cdir.path),
                    "--pid-file",
                    os.fspath(pdir.pid_file),
                    container_id,
                ]
                launch.pid_file = os.fspath(pdir.pid_file)
            return self._launch(launch, io, exited, relay)

        p: _Process = yield from self._in_worker("containerd", "start task", parent, work)
        c.init = p
        return p.handle

    def exec(self, container_id: str, process: ProcessSpec, io: ProcessIO, parent: SpanContext) -> Proc:
        """Run ``process`` in the container's namespaces and cgroup."""
        c = self._get(container_id)
        if c.init is None or c.init.handle.exited.triggered:
            raise InvalidParameter(f"container {container_id} is not running")
        init = c.init
        exited = self.env.event()
        exec_id = uuid.uuid4().hex

        def work(relay: SpanRelay) -> _Process:
            from simulator.runtime.oci.spec import resolve_user

            uid, gid = (
                resolve_user(process.user, c.cdir.rootfs)
                if process.user
                else (
                    int(c.config["process"]["user"]["uid"]),
                    int(c.config["process"]["user"]["gid"]),
                )
            )
            oci_process = dict(c.config["process"])
            oci_process.update(
                terminal=process.tty,
                args=list(process.args),
                env=list(process.env) or oci_process.get("env", []),
                cwd=process.cwd or "/",
                user={"uid": uid, "gid": gid},
            )
            pdir = c.cdir.exec_dir(exec_id)
            launch = shim.Launch(
                container_id=container_id,
                proc_dir=pdir,
                config=c.config,
                process=oci_process,
                rootfs=os.fspath(c.cdir.rootfs),
                cgroup=None if self.binary else c.cgroup,
                join_pid=init.pid,
                open_stdin=io.open_stdin,
            )
            if self.binary:
                pdir.path.mkdir(parents=True, exist_ok=True)
                spec_file = pdir.path / "process.json"
                spec_file.write_text(json.dumps(oci_process))
                launch.argv = [
                    self.binary,
                    "--root",
                    os.fspath(self.runc_root),
                    "exec",
                    "--process",
                    os.fspath(spec_file),
                    "--pid-file",
                    os.fspath(pdir.pid_file),
                    container_id,
                ]
                launch.pid_file = os.fspath(pdir.pid_file)
                launch.join_pid = 0
            return self._launch(launch, io, exited, relay)

        p: _Process = yield from self._in_worker("containerd", "exec process", parent, work)
        c.execs[exec_id] = p
        p.handle.info["exec_id"] = exec_id
        return p.handle

    def _launch(self, launch: shim.Launch, io: ProcessIO, exited: simpy.Event, relay: SpanRelay) -> _Process:
        """Spawn the shim (worker thread), start following it, feed its stdin."""
        t0 = time.monotonic()
        relay.open("shim", "shim", "start shim (fork, setsid, fork)", t0)
        relay.open("runc", "runc", f"{self.name} init", t0, parent="shim")
        pending: dict[str, Any] = {}

        def on_message(message: dict[str, Any]) -> None:
            if "span" in message:
                s = message["span"]
                relay.span(s["hop"], s["name"], s["t0"], s["t1"], parent="runc")
            elif "exec" in message:
                pending.update(message["exec"])
            elif "ready" in message and pending:
                relay.span("kernel", pending["name"], pending["t0"], message["ready"]["t"], "runc")

        log_offset = launch.proc_dir.log.stat().st_size if launch.proc_dir.log.exists() else 0
        try:
            started = shim.spawn(launch, on_message)
        except ExecError as exc:
            relay.close("runc", error=exc.message)
            relay.close("shim")
            raise docker_start_error(self.name, exc.message) from None
        relay.close("runc")
        relay.close("shim")
        handle = ProcessHandle(
            pid=started.pid,
            exited=exited,
            info={"shim_pid": started.shim_pid, "log": os.fspath(launch.proc_dir.log)},
        )
        p = _Process(launch.proc_dir, started.shim_pid, started.pid, handle, io=io)
        self._follow(p, log_offset)
        if launch.open_stdin:
            self._feed_stdin(p, io)
        return p

    def _follow(self, p: _Process, offset: int) -> None:
        """Start the watcher thread that forwards output and reports the exit."""

        def on_output(stream: int, data: bytes) -> None:
            target = p.io
            if target is not None:
                self.post(lambda: target.write(stream, data))

        def on_exit(status: ExitStatus) -> None:
            if p.stdin is not None:
                p.stdin.put(b"")

            def finish() -> None:
                if not p.handle.exited.triggered:
                    p.handle.exited.succeed(status)

            self.post(finish)

        p.watcher = ProcessWatcher(p.pdir, p.shim_pid, on_output, on_exit, offset)
        p.watcher.start()

    def _feed_stdin(self, p: _Process, io: ProcessIO) -> None:
        """A world process takes chunks from ``io.stdin``; a thread writes them to the FIFO."""
        chunks: queue.Queue[bytes] = queue.Queue()
        p.stdin = chunks
        fifo = os.fspath(p.pdir.stdin)

        def writer() -> None:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                return
            os.set_blocking(fd, True)
            try:
                while data := chunks.get():
                    os.write(fd, data)
            except OSError:
                pass
            finally:
                os.close(fd)

        def pump() -> Proc:
            while True:
                data = yield io.stdin.get()
                chunks.put(bytes(data))
                if not data:
                    return

        threading.Thread(target=writer, name=f"stdin-{p.shim_pid}", daemon=True).start()

        def begin() -> None:
            self.env.process(pump())

        self.post(begin)

    # -- signals, freezer -----------------------------------------------------------------

    def kill(self, container_id: str, signal_number: int) -> None:
        """Signal the init; PID 1 ignores signals it has no handler for, as the kernel decides."""
        c = self._containers.get(container_id)
        if c is None or c.init is None or c.init.handle.exited.triggered:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(c.init.pid, signal_number)
        if signal_number == signal.SIGKILL and c.cgroup.frozen():
            # A frozen task cannot act on SIGKILL until thawed.
            c.cgroup.thaw(timeout=1.0)

    def pause(self, container_id: str, parent: SpanContext) -> Proc:
        c = self._get(container_id)
        label = "cgroup freezer FROZEN" if c.cgroup.version == 1 else "cgroup.freeze = 1"

        def work(relay: SpanRelay) -> None:
            t0 = time.monotonic()
            if not c.cgroup.freeze():
                raise SystemError_(f"cannot pause container {container_id}: freezer timed out")
            relay.span("kernel", label, t0, time.monotonic())

        yield from self._in_worker("containerd", "pause task", parent, work)

    def resume(self, container_id: str, parent: SpanContext) -> Proc:
        c = self._get(container_id)
        label = "cgroup freezer THAWED" if c.cgroup.version == 1 else "cgroup.freeze = 0"

        def work(relay: SpanRelay) -> None:
            t0 = time.monotonic()
            c.cgroup.thaw()
            relay.span("kernel", label, t0, time.monotonic())

        yield from self._in_worker("containerd", "resume task", parent, work)

    # -- delete, restore, orphans ----------------------------------------------------------

    def delete(self, container_id: str, parent: SpanContext) -> Proc:
        """Kill what is left, unmount, remove the cgroup and the container's directory."""
        c = self._get(container_id)

        def work(relay: SpanRelay) -> None:
            t0 = time.monotonic()
            self._stop_everything(c)
            relay.span("shim", "kill processes, wait for shims", t0, time.monotonic())
            if self.binary:
                t0 = time.monotonic()
                self._runc("delete", "--force", container_id)
                relay.span("runc", f"{self.name} delete", t0, time.monotonic())
            t0 = time.monotonic()
            self.networks.destroy_sandbox(c.cdir.path)
            relay.span("kernel", "delete veths, umount netns", t0, time.monotonic())
            t0 = time.monotonic()
            _destroy_dir(c.cdir, c.cgroup)
            relay.span("kernel", "umount rootfs, rmdir cgroup", t0, time.monotonic())

        yield from self._in_worker("containerd", "delete container", parent, work)
        self._containers.pop(container_id, None)

    def _stop_everything(self, c: _Container) -> None:
        c.cgroup.kill_all()
        for p in [c.init, *c.execs.values()]:
            if p is None:
                continue
            _wait_gone(p.shim_pid, _SHIM_EXIT_SECONDS)
            if p.watcher is not None:
                p.watcher.join(timeout=_SHIM_EXIT_SECONDS)

    def _keep_flag(self) -> list[str]:
        """runc's ``run --keep`` leaves the cgroup for the OOM check; crun has no such flag."""
        return ["--keep"] if self.name == "runc" else []

    def _runc(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        assert self.binary is not None
        argv = [self.binary, "--root", os.fspath(self.runc_root), *args]
        return subprocess.run(argv, capture_output=True, check=False, timeout=30)

    def restore(
        self, container_ids: list[str], io_for: Callable[[str], ProcessIO | None] | None = None
    ) -> dict[str, ProcessHandle | ExitStatus]:
        """Re-attach to containers after a daemon restart (live restore).

        For each id: a ``ProcessHandle`` when its shim still runs (output
        forwarded from now on to ``io_for(id)``), else the ``ExitStatus`` the
        shim recorded. Ids without a directory are skipped. Call on the world thread.
        """
        found: dict[str, ProcessHandle | ExitStatus] = {}
        for container_id in container_ids:
            cdir = ContainerDir(self.state_root / container_id)
            config = read_json(cdir.config)
            meta = read_json(cdir.meta)
            if config is None or meta is None:
                continue
            lowers = [Path(p) for p in meta.get("lowers", [])]
            if lowers and not fs.is_mountpoint(cdir.rootfs):
                with contextlib.suppress(OSError):
                    fs.mount_overlay(lowers, cdir.upper, cdir.work, cdir.rootfs)
            c = _Container(cdir, config, lowers, self.cgroups.cgroup(container_id))
            self._containers[container_id] = c
            pdir = cdir.init
            status = exit_status(pdir)
            record = read_json(pdir.shim_json)
            if status is None and record is not None and _alive(record):
                io = io_for(container_id) if io_for is not None else None
                handle = ProcessHandle(
                    pid=int(record["pid"]),
                    exited=self.env.event(),
                    info={"shim_pid": int(record["shim"]), "log": os.fspath(pdir.log)},
                )
                p = _Process(pdir, int(record["shim"]), int(record["pid"]), handle, io=io)
                c.init = p
                offset = pdir.log.stat().st_size if pdir.log.exists() else 0
                self._follow(p, offset)
                found[container_id] = handle
            elif record is not None or status is not None:
                found[container_id] = status or ExitStatus(
                    code=255, error="shim exited without recording an exit status"
                )
        return found

    def attach(self, container_id: str, io: ProcessIO) -> None:
        """Send a restored init's further output to ``io``."""
        c = self._get(container_id)
        if c.init is not None:
            c.init.io = io

    def reap_orphans(self, known_ids: set[str]) -> list[str]:
        """Remove mounts, cgroups, shims and directories of containers nobody knows."""
        reaped: list[str] = []
        # Only this state root's containers: the csim cgroup parent is shared by every
        # daemon on the host (each test, each CSIM_STATE), whose containers are not orphans.
        ids = {p.name for p in self.state_root.iterdir() if not p.name.startswith(".")}
        for container_id in sorted(ids - known_ids):
            cdir = ContainerDir(self.state_root / container_id)
            cgroup = self.cgroups.cgroup(container_id)
            cgroup.kill_all()
            for record_file in cdir.path.glob("**/shim.json"):
                record = read_json(record_file)
                if record is not None and _alive(record):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(record["pid"]), signal.SIGKILL)
                    _wait_gone(int(record["shim"]), _SHIM_EXIT_SECONDS)
            if self.binary:
                self._runc("delete", "--force", container_id)
            self.networks.destroy_sandbox(cdir.path)
            _destroy_dir(cdir, cgroup)
            self._containers.pop(container_id, None)
            reaped.append(container_id)
        with contextlib.suppress(Exception):
            self.networks.reap_bridges()  # networks of state roots that were deleted
        return reaped

    def close(self) -> None:
        """Stop following shims (they keep running) and the worker threads."""
        for c in self._containers.values():
            for p in [c.init, *c.execs.values()]:
                if p is not None and p.watcher is not None:
                    p.watcher.stop()
        self._pool.shutdown(wait=False)

    # -- networks -------------------------------------------------------------------------
    # The daemon calls these from its (synchronous) endpoint bookkeeping on the world
    # thread; the netlink work takes a few milliseconds and runs right there, timed
    # into kernel spans. Namespace switches happen on fresh threads (``netns.py``).

    def ensure_bridge(self, network: str, network_id: str, subnet: str, gateway: str) -> None:
        """``docker network create``: the network's bridge on the host."""
        spec = BridgeSpec(network, network_id, subnet, gateway, self.networks.bridge_for(network, network_id))
        self._network_op("create bridge", None, lambda: self.networks.ensure_bridge(spec), network)

    def remove_bridge(self, network: str, network_id: str) -> None:
        """``docker network rm``: delete the network's bridge."""
        self._network_op("delete bridge", None, lambda: self.networks.remove_bridge(network, network_id), network)

    def attach_network(self, container_id: str, endpoint: EndpointSpec, parent: SpanContext | None = None) -> None:
        """Plug the container's namespace into the endpoint's bridge (veth, IP, route, hosts)."""
        self._network_op(
            f"join {endpoint.network}", parent, lambda: self.networks.attach(container_id, endpoint), endpoint.network
        )

    def detach_network(self, container_id: str, endpoint: EndpointSpec, parent: SpanContext | None = None) -> None:
        """Unplug the container from one network; never fails (what is gone is gone)."""
        with contextlib.suppress(DockerError):
            self._network_op(
                f"leave {endpoint.network}",
                parent,
                lambda: self.networks.detach(container_id, endpoint.network_id),
                endpoint.network,
            )

    def publish_ports(
        self,
        container_id: str,
        endpoint: EndpointSpec,
        port_bindings: dict[str, Any],
        parent: SpanContext | None = None,
        container_name: str = "",
    ) -> list[dict[str, str]]:
        """Start the endpoint's port proxy (``-p``); the bindings really bound."""
        bindings = portproxy.parse_bindings(port_bindings)
        if not bindings or not endpoint.ip:
            return []
        record = self.networks.sandbox(container_id).proxy_file(endpoint.network_id)
        device = self.networks.bridge_for(endpoint.network, endpoint.network_id)
        portproxy.stop(record)
        bound: list[portproxy.PortBinding] = []

        def work() -> list[Step]:
            t0 = time.monotonic()
            bound.extend(portproxy.start(record, endpoint.ip, device, bindings, container_name or container_id[:12]))
            ports = ", ".join(f"{b.host_ip}:{b.host_port}->{b.key}" for b in bound)
            return [(f"fork port proxy {ports} -> {endpoint.ip}", t0, time.monotonic())]

        self._network_op("publish ports", parent, work, endpoint.network)
        return [b.to_api() | {"Port": b.key} for b in bound]

    def _network_op(self, name: str, parent: SpanContext | None, work: Callable[[], list[Step]], network: str) -> None:
        own = self.tracer.start("dockerd", f"network {name}", parent, network=network)
        relay = SpanRelay(self.tracer, lambda fn: fn(), own, self._factor)
        try:
            steps = work()
        except DockerError as exc:
            self.tracer.end(own, error=exc.message)
            raise
        except Exception as exc:
            message = f"failed to set up container networking on {network}: {exc}"
            self.tracer.end(own, error=message)
            raise SystemError_(message) from None
        for step, t0, t1 in steps:
            relay.span("kernel", step, t0, t1)
        self.tracer.end(own)

    # -- inspection -----------------------------------------------------------------------

    def changes(self, container_id: str) -> list[tuple[str, str]]:
        c = self._get(container_id)
        return diff.changes(c.cdir.upper, c.lowers)

    def top(self, container_id: str) -> list[ProcessRow]:
        return introspect.top(self._get(container_id).cgroup)

    def stats(self, container_id: str) -> ResourceUsage:
        return introspect.stats(self._get(container_id).cgroup)

    def export_upper(self, container_id: str) -> bytes:
        return diff.export_upper(self._get(container_id).cdir.upper)

    def read_file(self, container_id: str, path: str) -> bytes | None:
        root = os.fspath(self._get(container_id).cdir.rootfs)
        target = fs.secure_join(root, path)
        try:
            with open(target, "rb") as f:
                return f.read()
        except OSError:
            return None

    def bundle(self, container_id: str) -> Path:
        """The container's OCI bundle directory (config.json + rootfs)."""
        return self._get(container_id).cdir.path


def _succeed(event: simpy.Event, value: Any) -> None:
    event.succeed(value)


def _fail(event: simpy.Event, error: Exception) -> None:
    event.fail(error)


def _resources(spec: ContainerSpec) -> CgroupResources:
    return CgroupResources(memory=spec.memory, nano_cpus=spec.nano_cpus, pids_limit=spec.pids_limit)


def _as_docker_error(exc: BaseException) -> DockerError:
    if isinstance(exc, ExecError):
        return InvalidParameter(exc.message)
    return SystemError_(str(exc) or type(exc).__name__)


def _alive(record: dict[str, Any]) -> bool:
    """Is the shim of a ``shim.json`` record still the same running process?"""
    pid = int(record.get("shim", 0))
    return pid > 0 and shim.start_time(pid) == int(record.get("start", -2))


def _wait_gone(pid: int, timeout: float) -> None:
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


def _destroy_dir(cdir: ContainerDir, cgroup: Cgroup) -> None:
    """Unmount the rootfs, remove the cgroup and the directory (each step tolerates absence)."""
    if cdir.rootfs.exists():
        fs.unmount_all(cdir.rootfs)
    cgroup.remove()
    shutil.rmtree(cdir.path, ignore_errors=True)
