"""``docker exec``: extra processes in a running container's namespaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.daemon.containers import Container, LogEntry
from simulator.daemon.core import DaemonCore, Proc
from simulator.daemon.streams import Stream
from simulator.model import state as rules
from simulator.model.errors import Conflict, DockerError, InvalidParameter, NotFound
from simulator.runtime.protocol import ExitStatus, ProcessIO, ProcessSpec
from simulator.trace.tracer import SpanContext


@dataclass(slots=True)
class ExecRecord:
    """One exec instance, as ``GET /exec/{id}/json`` describes it."""

    id: str
    container_id: str
    cmd: list[str]
    tty: bool
    attach_stdin: bool
    attach_stdout: bool
    attach_stderr: bool
    env: list[str]
    user: str
    workdir: str
    privileged: bool = False
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    io: ProcessIO | None = None
    output: Stream | None = None
    pending_stdin: list[bytes | None] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": "",
            "ExitCode": self.exit_code,
            "ID": self.id,
            "OpenStderr": self.attach_stderr,
            "OpenStdin": self.attach_stdin,
            "OpenStdout": self.attach_stdout,
            "ProcessConfig": {
                "arguments": self.cmd[1:],
                "entrypoint": self.cmd[0] if self.cmd else "",
                "privileged": self.privileged,
                "tty": self.tty,
                "user": self.user,
            },
            "Running": self.running,
            "Pid": self.pid,
        }


class ExecMixin(DaemonCore):
    """Exec operations."""

    execs: dict[str, ExecRecord]

    def _init_execs(self) -> None:
        self.execs = {}

    def _exec_label(self, rec: ExecRecord) -> str:
        return " ".join([rec.cmd[0], " ".join(rec.cmd[1:])]) if rec.cmd else ""

    def create_exec(self, parent: SpanContext, ref: str, body: dict[str, Any]) -> Proc:
        c = self.containers.get(ref)
        ctx = self.span("ContainerExecCreate", parent, container=c.name)
        try:
            cmd = body.get("Cmd") or []
            if isinstance(cmd, str):
                cmd = [cmd]
            if not cmd:
                raise InvalidParameter("No exec command specified")
            rules.check_exec(c.state, c.id, ref)
            yield self.work(self.params.op)
            rec = ExecRecord(
                id=self.new_id(),
                container_id=c.id,
                cmd=[str(x) for x in cmd],
                tty=bool(body.get("Tty")),
                attach_stdin=bool(body.get("AttachStdin")),
                attach_stdout=bool(body.get("AttachStdout")),
                attach_stderr=bool(body.get("AttachStderr")),
                env=list(body.get("Env") or []),
                user=str(body.get("User") or ""),
                workdir=str(body.get("WorkingDir") or ""),
                privileged=bool(body.get("Privileged")),
            )
            self.execs[rec.id] = rec
            c.execs.append(rec.id)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.container_event(c, f"exec_create: {self._exec_label(rec)}", execID=rec.id)
        self.end(ctx, exec_id=rec.id)
        return {"Id": rec.id}

    def get_exec(self, eid: str) -> ExecRecord:
        rec = self.execs.get(eid)
        if rec is None:
            raise NotFound(f"No such exec instance: {eid}")
        return rec

    def start_exec(self, parent: SpanContext, eid: str, detach: bool = False) -> Proc:
        """Start an exec; returns its output ``Stream`` (of LogEntry, None at exit)."""
        rec = self.get_exec(eid)
        ctx = self.span("ContainerExecStart", parent, exec_id=eid)
        try:
            if rec.started:
                raise Conflict(f"exec command {eid} has already run")
            c = self.containers.find(rec.container_id)
            if c is None:
                raise NotFound(f"No such container: {rec.container_id}")
            rules.check_exec(c.state, c.id, c.name)
            rec.started = True
            rec.running = True
            out = Stream()
            rec.output = out

            def on_output(stream: int, data: bytes, rec: ExecRecord = rec) -> None:
                if rec.output is not None:
                    rec.output.put(LogEntry(self.now(), "stderr" if stream == 2 else "stdout", data))

            io = ProcessIO(self.env, on_output, open_stdin=rec.attach_stdin)
            rec.io = io
            for chunk in rec.pending_stdin:
                if chunk is None:
                    io.close_stdin()
                else:
                    io.feed_stdin(chunk)
            user = rec.user or str(c.config.get("User") or "")
            spec = ProcessSpec(
                args=tuple(rec.cmd),
                env=(*(c.config.get("Env") or []), *rec.env),
                cwd=rec.workdir or str(c.config.get("WorkingDir") or "/"),
                user=user,
                tty=rec.tty,
                open_stdin=rec.attach_stdin,
            )
            self.container_event(c, f"exec_start: {self._exec_label(rec)}", execID=rec.id)
            try:
                handle = yield from self.rt.exec(c.id, spec, io, ctx)
            except DockerError as err:
                rec.running = False
                rec.exit_code = 126 if "permission" in err.message else 127
                out.put(LogEntry(self.now(), "stdout", (err.message + "\r\n").encode()))
                out.close()
                self.container_event(c, "exec_die", execID=rec.id, exitCode=rec.exit_code)
                self.end(ctx, exit_code=rec.exit_code)
                return out
            rec.pid = handle.pid
            self.env.process(self._exec_monitor(c, rec, handle.exited))
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx)
        return out

    def _exec_monitor(self, c: Container, rec: ExecRecord, exited: Any) -> Proc:
        status: ExitStatus = yield exited
        yield self.env.timeout(0)
        rec.running = False
        rec.exit_code = status.code
        rec.pid = 0
        if rec.output is not None:
            rec.output.close()
        self.container_event(c, "exec_die", execID=rec.id, exitCode=status.code)

    def feed_exec_stdin(self, eid: str, data: bytes | None) -> None:
        rec = self.get_exec(eid)
        if rec.io is None:
            rec.pending_stdin.append(data)
        elif data is None:
            rec.io.close_stdin()
        else:
            rec.io.feed_stdin(data)

    def _drop_exec_records(self, c: Container) -> None:
        for eid in c.execs:
            self.execs.pop(eid, None)
