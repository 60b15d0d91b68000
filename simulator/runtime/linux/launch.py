"""How the Linux runtime starts processes: ``start`` (the init) and ``exec``.

Both fork a detached shim (``shim.py``) that runs the built-in init
(``process.py``) or, with ``runtime_binary``, ``runc run``/``runc exec`` on
the container's bundle. The shim's messages become spans, a watcher thread
forwards the process's output and reports its exit into the SimPy world, and
a writer thread feeds its stdin FIFO from the world's stdin store.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import uuid
from typing import Any

import simpy

from simulator.model.errors import InvalidParameter
from simulator.runtime.linux import shim
from simulator.runtime.linux.process import ExecError
from simulator.runtime.linux.tasks import RuntimeCore, ShimProcess, docker_start_error
from simulator.runtime.linux.tracing import SpanRelay
from simulator.runtime.linux.watcher import ProcessWatcher
from simulator.runtime.protocol import ExitStatus, Proc, ProcessHandle, ProcessIO, ProcessSpec
from simulator.trace.tracer import SpanContext


class TaskLauncher(RuntimeCore):
    """``start`` and ``exec``: a shim per process, followed until it exits."""

    def start(self, container_id: str, io: ProcessIO, parent: SpanContext, replay_until: float = -1.0) -> Proc:
        """Fork the shim, which starts the init; returns a ``ProcessHandle``."""
        c = self._get(container_id)
        exited = self.env.event()

        def work(relay: SpanRelay) -> ShimProcess:
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

        p: ShimProcess = yield from self._in_worker("containerd", "start task", parent, work)
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

        def work(relay: SpanRelay) -> ShimProcess:
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

        p: ShimProcess = yield from self._in_worker("containerd", "exec process", parent, work)
        c.execs[exec_id] = p
        p.handle.info["exec_id"] = exec_id
        return p.handle

    def _launch(self, launch: shim.Launch, io: ProcessIO, exited: simpy.Event, relay: SpanRelay) -> ShimProcess:
        """Spawn the shim (worker thread), start following it, feed its stdin."""
        t0 = time.monotonic()
        relay.open("shim", "shim", "start shim (fork, setsid)", t0)
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
        p = ShimProcess(launch.proc_dir, started.shim_pid, started.pid, handle, io=io)
        self._follow(p, log_offset)
        if launch.open_stdin:
            self._feed_stdin(p, io)
        return p

    def _follow(self, p: ShimProcess, offset: int) -> None:
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

    def _feed_stdin(self, p: ShimProcess, io: ProcessIO) -> None:
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

    def _keep_flag(self) -> list[str]:
        """runc's ``run --keep`` leaves the cgroup for the OOM check; crun has no such flag."""
        return ["--keep"] if self.name == "runc" else []
