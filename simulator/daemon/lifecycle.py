"""Container lifecycle: create, start, stop, kill, restart, pause, unpause, rm, wait, rename.

The legality of each move is the table in ``model.state``; this module does
the moves, in Docker's order of events, and runs the restart manager.
"""

from __future__ import annotations

from typing import Any

import simpy

from simulator.daemon.containers import Container
from simulator.daemon.core import Proc
from simulator.daemon.execs import ExecMixin
from simulator.daemon.networks import NetworkMixin
from simulator.daemon.volumes import VolumeMixin
from simulator.model import state as rules
from simulator.model.errors import Conflict, DockerError, InvalidParameter, NotFound
from simulator.model.names import generate_name, validate_name
from simulator.model.restart import RestartPolicy, next_backoff
from simulator.model.signals import SIGKILL, SIGTERM, parse_signal, signal_name
from simulator.runtime.protocol import (
    ContainerSpec,
    ExitStatus,
    FirstOf,
    MountSpec,
    ProcessIO,
    ProcessSpec,
)
from simulator.trace.tracer import SpanContext


def merge_env(image_env: list[str], env: list[str]) -> list[str]:
    """Container env overrides the image's, key by key, keeping the image's order."""
    out: dict[str, str] = {}
    for item in [*image_env, *env]:
        key = item.split("=", 1)[0]
        out[key] = item
    return list(out.values())


class LifecycleMixin(NetworkMixin, VolumeMixin, ExecMixin):
    """Container operations (they attach networks, mount volumes and drop exec records)."""

    # -- create ---------------------------------------------------------------------
    def create_container(self, parent: SpanContext, body: dict[str, Any], name: str = "") -> Proc:
        """``POST /containers/create``; returns ``{"Id", "Warnings"}``."""
        ctx = self.span("ContainerCreate", parent, name=name)
        try:
            result = yield from self._create(ctx, body, name)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx, id=result["Id"])
        return result

    def _create(self, ctx: SpanContext, body: dict[str, Any], name: str) -> Proc:
        if name:
            name = validate_name(name)
        image_name = str(body.get("Image") or "")
        if not image_name:
            raise InvalidParameter("config cannot be empty in order to create a container")
        image = self.images.get(image_name)
        host_config = dict(body.get("HostConfig") or {})
        policy_raw = host_config.get("RestartPolicy") or {}
        policy = RestartPolicy.validated(
            str(policy_raw.get("Name") or "no"), int(policy_raw.get("MaximumRetryCount") or 0)
        )
        if host_config.get("AutoRemove") and policy.name != "no":
            raise InvalidParameter("can't create 'AutoRemove' container with restart policy")
        self._validate_resources(host_config)
        host_config["Runtime"] = self.check_runtime(str(host_config.get("Runtime") or ""))
        img_cfg = dict(image.container_config)
        entrypoint = body.get("Entrypoint")
        cmd = body.get("Cmd")
        if isinstance(entrypoint, str):
            entrypoint = [entrypoint]
        if isinstance(cmd, str):
            cmd = [cmd]
        if entrypoint is None or entrypoint == [""]:
            entrypoint = None if entrypoint == [""] else img_cfg.get("Entrypoint")
            if not cmd:
                cmd = img_cfg.get("Cmd")
        argv = [*(entrypoint or []), *(cmd or [])]
        if not argv:
            raise InvalidParameter("No command specified")
        cid = self.new_id()
        if not name:
            retry = 0
            name = generate_name(self.rng)
            while self.containers.name_taken(name):
                retry += 1
                name = generate_name(self.rng, retry)
        labels = {**(img_cfg.get("Labels") or {}), **(body.get("Labels") or {})}
        config: dict[str, Any] = {
            "Hostname": body.get("Hostname") or cid[:12],
            "Domainname": body.get("Domainname") or "",
            "User": body.get("User") or img_cfg.get("User") or "",
            "AttachStdin": bool(body.get("AttachStdin")),
            "AttachStdout": bool(body.get("AttachStdout", True)),
            "AttachStderr": bool(body.get("AttachStderr", True)),
            "ExposedPorts": {
                **(img_cfg.get("ExposedPorts") or {}),
                **(body.get("ExposedPorts") or {}),
            }
            or None,
            "Tty": bool(body.get("Tty")),
            "OpenStdin": bool(body.get("OpenStdin")),
            "StdinOnce": bool(body.get("StdinOnce")),
            "Env": merge_env(list(img_cfg.get("Env") or []), list(body.get("Env") or [])),
            "Cmd": cmd,
            "Image": image_name,
            "Volumes": {**(img_cfg.get("Volumes") or {}), **(body.get("Volumes") or {})} or None,
            "WorkingDir": body.get("WorkingDir") or img_cfg.get("WorkingDir") or "",
            "Entrypoint": entrypoint,
            "OnBuild": None,
            "Labels": labels,
        }
        stop_signal = body.get("StopSignal") or img_cfg.get("StopSignal")
        if stop_signal:
            parse_signal(str(stop_signal))
            config["StopSignal"] = stop_signal
        if body.get("StopTimeout") is not None:
            config["StopTimeout"] = int(body["StopTimeout"])
        host_config.setdefault("NetworkMode", "default")
        # Stored as sent: the docker CLI sends "no", an API client that sends nothing gets "".
        host_config["RestartPolicy"] = {
            "Name": "" if not policy_raw.get("Name") else policy.name,
            "MaximumRetryCount": policy.maximum_retry_count,
        }
        log_config = host_config.get("LogConfig") or {}
        if not log_config.get("Type"):  # the docker CLI sends {"Type": ""}: the daemon's default applies
            host_config["LogConfig"] = {"Type": "json-file", "Config": log_config.get("Config") or {}}
        host_config.setdefault("AutoRemove", False)
        host_config.setdefault("Binds", None)
        container = Container(
            id=cid,
            name=name,
            created=self.now(),
            image=image_name,
            image_id=image.id,
            config=config,
            host_config=host_config,
            path=argv[0],
            args=argv[1:],
        )
        network = self._network_for_create(host_config, body)
        container.networks = {network: {}}
        mounts = yield from self._prepare_mounts(ctx, container)
        container.mounts = mounts
        self.containers.add(container)
        try:
            yield self.work(self.params.create)
            yield from self.rt.create(self._spec(container), ctx)
            container.runtime_created = True
        except DockerError:
            self.containers.remove(container)
            raise
        extra = body.get("NetworkingConfig") or {}
        endpoints = (extra.get("EndpointsConfig") or {}) if isinstance(extra, dict) else {}
        aliases = (endpoints.get(network) or {}).get("Aliases") if endpoints else None
        if aliases:
            container.networks[network]["Aliases"] = list(aliases)
        self.container_event(container, "create")
        warnings: list[str] = []
        return {"Id": cid, "Warnings": warnings}

    def _validate_resources(self, host_config: dict[str, Any]) -> None:
        memory = int(host_config.get("Memory") or 0)
        if memory and memory < 6 * 1024 * 1024:
            raise InvalidParameter("Minimum memory limit allowed is 6MB")
        nano = int(host_config.get("NanoCpus") or 0)
        if nano < 0:
            raise InvalidParameter("Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available")
        if nano and not 10_000_000 <= nano <= 2_000_000_000:
            raise InvalidParameter("Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available")

    def _spec(self, c: Container) -> ContainerSpec:
        image = self.images.images.get(c.image_id)
        layers = image.diff_ids if image is not None else ()
        stop = c.config.get("StopSignal")
        hc = c.host_config
        nano = int(hc.get("NanoCpus") or 0)
        if not nano and hc.get("CpuQuota") and hc.get("CpuPeriod"):
            nano = int(int(hc["CpuQuota"]) * 1_000_000_000 / int(hc["CpuPeriod"]))
        return ContainerSpec(
            id=c.id,
            name=c.name,
            hostname=str(c.config.get("Hostname") or c.id[:12]),
            layers=tuple(layers),
            process=ProcessSpec(
                args=(c.path, *c.args),
                env=tuple(c.config.get("Env") or ()),
                cwd=str(c.config.get("WorkingDir") or "/"),
                user=str(c.config.get("User") or ""),
                tty=c.tty,
                open_stdin=bool(c.config.get("OpenStdin")),
            ),
            memory=int(hc.get("Memory") or 0),
            nano_cpus=nano,
            pids_limit=int(hc.get("PidsLimit") or 0),
            mounts=tuple(
                MountSpec(
                    kind=m["Type"],
                    source=m["Name"] if m["Type"] == "volume" and not self.volumes_on_disk else m["Source"],
                    destination=m["Destination"],
                    read_only=not m["RW"],
                )
                for m in c.mounts
            ),
            network_mode=self._network_mode(c),
            stop_signal=parse_signal(str(stop)) if stop else SIGTERM,
            readonly_rootfs=bool(hc.get("ReadonlyRootfs")),
            runtime=str(hc.get("Runtime") or ""),
        )

    # -- start ------------------------------------------------------------------------
    def start_container(self, parent: SpanContext, ref: str) -> Proc:
        """``POST /containers/{id}/start``."""
        c = self.containers.get(ref)
        ctx = self.span("ContainerStart", parent, container=c.name)
        try:
            rules.check_start(c.state)
            c.manually_stopped = False
            c.has_been_manually_stopped = False
            yield from self._start(ctx, c)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx)

    def _start(self, ctx: SpanContext, c: Container, replay_until: float = -1.0) -> Proc:
        with self.workers.request() as slot:
            yield slot
            yield self.work(self.params.op)
        if not c.runtime_created:
            yield from self.rt.create(self._spec(c), ctx)
            c.runtime_created = True
        yield from self._connect_networks(ctx, c)
        try:
            c.published = self._publish_ports(c)
        except DockerError as err:
            yield from self._start_failed(ctx, c, err.message, 128, mounted=False)
            raise
        self._mount_events(c, "mount")
        io = ProcessIO(
            self.env,
            lambda stream, data, c=c: self.record_output(c, stream, data),  # type: ignore[misc]
            open_stdin=bool(c.config.get("OpenStdin")),
        )
        for chunk in self._pending_stdin.pop(c.id, []):
            if chunk is None:
                io.close_stdin()
            else:
                io.feed_stdin(chunk)
        self._io[c.id] = io
        try:
            handle = yield from self.rt.start(c.id, io, ctx, replay_until)
        except DockerError as err:
            self._io.pop(c.id, None)
            code = 127 if "not found" in err.message else 126 if "permission denied" in err.message else 128
            yield from self._start_failed(ctx, c, err.message, code, mounted=True)
            raise
        self._handles[c.id] = handle
        c.state.set_running(handle.pid, self.now())
        if replay_until >= 0:
            c.state.started_at = c.state.started_at  # keep the original start time
        self.container_event(c, "start")
        self.env.process(self._monitor(c, handle.exited))

    def _start_failed(self, ctx: SpanContext, c: Container, message: str, code: int, mounted: bool) -> Proc:
        """A start that failed before the process ran: undo what ``_start`` set up, tell the waiters.

        ``mounted``: the mounts were announced (a runtime failure), so they are unmounted and
        the container dies with ``code``; a port that could not be bound fails before that.
        """
        c.state.set_start_error(message, code, self.now())
        self._disconnect_networks(c)
        if mounted:
            self._mount_events(c, "unmount")
            self.container_event(c, "die", exitCode=code)
        self._notify(c.id, ("next-exit", "not-running"), code)
        if c.host_config.get("AutoRemove"):
            yield from self._remove_now(ctx, c, remove_volumes=True)

    def _monitor(self, c: Container, exited: simpy.Event) -> Proc:
        status: ExitStatus = yield exited
        yield from self._handle_exit(c, status)

    def _handle_exit(self, c: Container, status: ExitStatus) -> Proc:
        self._handles.pop(c.id, None)
        io = self._io.pop(c.id, None)
        if io is not None:
            io.close_stdin()
        ran_for = self.now() - (c.state.started_at or self.now())
        self._close_listeners(c.id)
        policy = RestartPolicy.validated(
            str(c.host_config["RestartPolicy"].get("Name") or "no"),
            int(c.host_config["RestartPolicy"].get("MaximumRetryCount") or 0),
        )
        restart = (
            not self.shutting_down
            and self.containers.find(c.id) is not None
            and policy.should_restart(status.code, c.restart_count, c.manually_stopped, c.has_been_manually_stopped)
        )
        if restart:
            c.state.set_restarting(status.code, self.now(), status.oom_killed)
        else:
            c.state.set_stopped(status.code, self.now(), status.oom_killed, status.error)
        self.container_event(c, "die", exitCode=status.code)
        self._disconnect_networks(c)
        self._mount_events(c, "unmount")
        self._notify(c.id, ("next-exit", "not-running"), status.code)
        if restart:
            c.last_backoff = next_backoff(c.last_backoff, ran_for)
            self.env.process(self._restart_later(c, c.last_backoff))
        elif c.host_config.get("AutoRemove") and not c.state.removal_in_progress:
            yield from self._remove_now(None, c, remove_volumes=True)

    def _restart_later(self, c: Container, delay: float) -> Proc:
        yield self.env.timeout(delay)
        if not c.state.restarting or c.state.removal_in_progress or self.containers.find(c.id) is None:
            return
        c.restart_count += 1
        ctx = self.tracer.start("dockerd", "restart manager", None, container=c.name)
        try:
            yield from self._start(ctx, c)
        except DockerError as err:
            c.state.set_stopped(c.state.exit_code, self.now(), error=err.message)
        self.tracer.end(ctx)

    # -- stop / kill --------------------------------------------------------------------
    def _stop_signal(self, c: Container) -> int:
        raw = c.config.get("StopSignal")
        return parse_signal(str(raw)) if raw else SIGTERM

    def stop_container(
        self, parent: SpanContext, ref: str, timeout: int | None = None, signal: str | None = None
    ) -> Proc:
        """``POST /containers/{id}/stop``: the stop signal, then SIGKILL after the timeout."""
        c = self.containers.get(ref)
        ctx = self.span("ContainerStop", parent, container=c.name)
        try:
            rules.check_stop(c.state)
            sig = parse_signal(signal) if signal else self._stop_signal(c)
            if timeout is None:
                timeout = int(c.config.get("StopTimeout", self.params.stop_timeout))
            c.manually_stopped = True
            c.has_been_manually_stopped = True
            yield from self._stop(ctx, c, sig, timeout)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.container_event(c, "stop")
        self.end(ctx)

    def _stop(self, ctx: SpanContext, c: Container, sig: int, timeout: float) -> Proc:
        if c.state.restarting and c.id not in self._handles:
            c.state.set_stopped(c.state.exit_code, self.now())
            self._notify(c.id, ("next-exit", "not-running"), c.state.exit_code)
            return
        handle = self._handles.get(c.id)
        if handle is None:
            return
        exited = handle.exited
        self.container_event(c, "kill", signal=sig)
        self.rt.kill(c.id, sig)
        if c.state.paused and sig != SIGKILL:
            pass  # a frozen process cannot act on the signal; the timeout decides
        if timeout < 0:
            yield exited
        else:
            yield FirstOf(self.env, exited, self.env.timeout(timeout))  # ``exited | timeout``, cheaper
        if not exited.triggered:
            self.container_event(c, "kill", signal=SIGKILL)
            self.rt.kill(c.id, SIGKILL)
            if c.state.paused:
                yield from self.rt.resume(c.id, ctx)
            yield exited
        yield self.env.timeout(0)  # let the monitor record the exit first

    def kill_container(self, parent: SpanContext, ref: str, signal: str | None = None) -> Proc:
        """``POST /containers/{id}/kill``: SIGKILL unless told otherwise."""
        c = self.containers.get(ref)
        ctx = self.span("ContainerKill", parent, container=c.name)
        try:
            sig = parse_signal(signal) if signal else SIGKILL
            rules.check_kill(c.state, c.id, ref)
            if sig in (SIGKILL, self._stop_signal(c)):
                c.manually_stopped = True
                c.has_been_manually_stopped = True
            handle = self._handles.get(c.id)
            self.container_event(c, "kill", signal=sig)
            self.rt.kill(c.id, sig)
            if sig == SIGKILL and handle is not None:
                if c.state.paused:
                    yield from self.rt.resume(c.id, ctx)
                yield handle.exited | self.env.timeout(10)
                yield self.env.timeout(0)
            else:
                yield self.work(self.params.op)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx, signal=signal_name(sig))

    def restart_container(self, parent: SpanContext, ref: str, timeout: int | None = None) -> Proc:
        """``POST /containers/{id}/restart``: stop (if running), then start."""
        c = self.containers.get(ref)
        ctx = self.span("ContainerRestart", parent, container=c.name)
        try:
            if c.state.paused:
                pass  # Docker stops a paused container too (SIGKILL after the timeout)
            if c.state.running:
                if timeout is None:
                    timeout = int(c.config.get("StopTimeout", self.params.stop_timeout))
                c.manually_stopped = True
                yield from self._stop(ctx, c, self._stop_signal(c), timeout)
                self.container_event(c, "stop")
            c.manually_stopped = False
            c.has_been_manually_stopped = False
            yield from self._start(ctx, c)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.container_event(c, "restart")
        self.end(ctx)

    # -- pause ----------------------------------------------------------------------------
    def pause_container(self, parent: SpanContext, ref: str) -> Proc:
        """``POST /containers/{id}/pause``: freeze every process (the freezer cgroup)."""
        yield from self._freeze(parent, ref, pause=True)

    def unpause_container(self, parent: SpanContext, ref: str) -> Proc:
        """``POST /containers/{id}/unpause``: thaw them."""
        yield from self._freeze(parent, ref, pause=False)

    def _freeze(self, parent: SpanContext, ref: str, pause: bool) -> Proc:
        c = self.containers.get(ref)
        ctx = self.span("ContainerPause" if pause else "ContainerUnpause", parent, container=c.name)
        try:
            if pause:
                rules.check_pause(c.state, c.id)
                yield from self.rt.pause(c.id, ctx)
            else:
                rules.check_unpause(c.state, c.id)
                yield from self.rt.resume(c.id, ctx)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        c.state.paused = pause
        self.container_event(c, "pause" if pause else "unpause")
        self.end(ctx)

    # -- remove ------------------------------------------------------------------------
    def remove_container(self, parent: SpanContext, ref: str, force: bool = False, volumes: bool = False) -> Proc:
        """``DELETE /containers/{id}``."""
        c = self.containers.get(ref)
        ctx = self.span("ContainerRemove", parent, container=c.name)
        try:
            rules.check_remove(c.state, c.id, ref, force)
            if c.state.running:
                c.manually_stopped = True
                handle = self._handles.get(c.id)
                if handle is not None:
                    self.container_event(c, "kill", signal=SIGKILL)
                    self.rt.kill(c.id, SIGKILL)
                    if c.state.paused:
                        yield from self.rt.resume(c.id, ctx)
                    yield handle.exited | self.env.timeout(3)
                    yield self.env.timeout(0)
                else:
                    c.state.set_stopped(c.state.exit_code, self.now())
            if self.containers.find(c.id) is not None:  # AutoRemove may have raced us
                yield from self._remove_now(ctx, c, volumes)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx)

    def _remove_now(self, ctx: SpanContext | None, c: Container, remove_volumes: bool) -> Proc:
        c.state.removal_in_progress = True
        own = ctx or self.tracer.start("dockerd", "ContainerRemove (auto)", None, container=c.name)
        yield self.work(self.params.remove)
        if c.runtime_created:
            yield from self.rt.delete(c.id, own)
        self._release_endpoints(c)
        self.containers.remove(c)
        self._drop_exec_records(c)
        c.state.removal_in_progress = False
        if remove_volumes:
            self._remove_anonymous_volumes(c)
        self._listeners.pop(c.id, None)
        self.container_event(c, "destroy")
        self._notify(c.id, ("removed", "next-exit", "not-running"), c.state.exit_code)
        if ctx is None:
            self.tracer.end(own)

    # -- wait, rename ---------------------------------------------------------------------
    def wait_container(self, ref: str, condition: str = "not-running") -> simpy.Event:
        """An event that succeeds with the exit code (``POST /containers/{id}/wait``)."""
        if condition not in ("not-running", "next-exit", "removed"):
            raise InvalidParameter(f'invalid condition: "{condition}"')
        c = self.containers.get(ref)
        return self.wait_event(c, condition)

    def rename_container(self, parent: SpanContext, ref: str, new_name: str) -> Proc:
        c = self.containers.get(ref)
        ctx = self.span("ContainerRename", parent, container=c.name)
        try:
            if not new_name:
                raise InvalidParameter("Neither old nor new names may be empty")
            new_name = validate_name(new_name)
            if new_name == c.name:
                raise InvalidParameter("Renaming a container with the same name as its current name")
            old = c.name
            try:
                self.containers.reserve_name(new_name, c.id)
            except Conflict as err:
                raise Conflict(f"Error when allocating new name: {err.message}") from None
            self.containers.release_name(old)
            c.name = new_name
            yield self.work(self.params.op)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.container_event(c, "rename", oldName=f"/{old}")
        self.end(ctx)

    def container_changes(self, ref: str) -> list[tuple[str, str]]:
        c = self.containers.get(ref)
        if not c.runtime_created:
            return []
        return self.rt.changes(c.id)

    def prune_containers(self, parent: SpanContext) -> Proc:
        ctx = self.span("ContainersPrune", parent)
        deleted: list[str] = []
        reclaimed = 0
        for c in self.containers.all():
            if not c.state.running:
                size = self.size_rw(c)
                yield from self._remove_now(ctx, c, False)
                deleted.append(c.id)
                reclaimed += size
        self.event("container", "prune", "", reclaimed=reclaimed)
        self.end(ctx, deleted=len(deleted))
        return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    def lookup_exit(self, ref: str) -> int:
        c = self.containers.find(ref)
        if c is None:
            raise NotFound(f"No such container: {ref}")
        return c.state.exit_code
