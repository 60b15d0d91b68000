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

This module holds the lifecycle (create, signals, freezer, delete, restore);
the class is assembled from mixins beside it: ``tasks.py`` (bookkeeping and
worker plumbing), ``launch.py`` (start/exec), ``endpoints.py`` (networks)
and ``inspection.py`` (diff, top, stats, files).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import simpy

from simulator.model.errors import SystemError_
from simulator.runtime.linux import etcfiles
from simulator.runtime.linux import rootfs as fs
from simulator.runtime.linux.cgroups import CgroupManager, CgroupResources
from simulator.runtime.linux.endpoints import NetworkEndpoints
from simulator.runtime.linux.inspection import ContainerInspection
from simulator.runtime.linux.launch import TaskLauncher
from simulator.runtime.linux.network import ContainerNetworks
from simulator.runtime.linux.shim import SHIM_EXIT_SECONDS
from simulator.runtime.linux.state import ContainerDir, read_json, write_json_atomic
from simulator.runtime.linux.tasks import (
    ContainerRecord,
    LayerPaths,
    ShimProcess,
    destroy_container_dir,
    docker_start_error,
    shim_alive,
    wait_gone,
)
from simulator.runtime.linux.tracing import Post, SpanRelay
from simulator.runtime.linux.watcher import exit_status
from simulator.runtime.protocol import ContainerSpec, ExitStatus, Proc, ProcessHandle, ProcessIO
from simulator.trace.tracer import SpanContext, Tracer

__all__ = ["LayerPaths", "LinuxRuntime", "docker_start_error"]


class LinuxRuntime(TaskLauncher, NetworkEndpoints, ContainerInspection):
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
        self._containers: dict[str, ContainerRecord] = {}
        self.networks = ContainerNetworks(self.state_root)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="linux-runtime")
        self._factor = float(getattr(env, "factor", 1.0) or 1.0)

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
            destroy_container_dir(cdir, cgroup)
            raise
        self._containers[spec.id] = ContainerRecord(cdir, config, lowers, cgroup)

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
            destroy_container_dir(c.cdir, c.cgroup)
            relay.span("kernel", "umount rootfs, rmdir cgroup", t0, time.monotonic())

        yield from self._in_worker("containerd", "delete container", parent, work)
        self._containers.pop(container_id, None)

    def _stop_everything(self, c: ContainerRecord) -> None:
        c.cgroup.kill_all()
        for p in [c.init, *c.execs.values()]:
            if p is None:
                continue
            wait_gone(p.shim_pid, SHIM_EXIT_SECONDS)
            if p.watcher is not None:
                p.watcher.join(timeout=SHIM_EXIT_SECONDS)

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
            c = ContainerRecord(cdir, config, lowers, self.cgroups.cgroup(container_id))
            self._containers[container_id] = c
            pdir = cdir.init
            status = exit_status(pdir)
            record = read_json(pdir.shim_json)
            if status is None and record is not None and shim_alive(record):
                io = io_for(container_id) if io_for is not None else None
                handle = ProcessHandle(
                    pid=int(record["pid"]),
                    exited=self.env.event(),
                    info={"shim_pid": int(record["shim"]), "log": os.fspath(pdir.log)},
                )
                p = ShimProcess(pdir, int(record["shim"]), int(record["pid"]), handle, io=io)
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
                if record is not None and shim_alive(record):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(record["pid"]), signal.SIGKILL)
                    wait_gone(int(record["shim"]), SHIM_EXIT_SECONDS)
            if self.binary:
                self._runc("delete", "--force", container_id)
            self.networks.destroy_sandbox(cdir.path)
            destroy_container_dir(cdir, cgroup)
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


def _resources(spec: ContainerSpec) -> CgroupResources:
    return CgroupResources(memory=spec.memory, nano_cpus=spec.nano_cpus, pids_limit=spec.pids_limit)
