"""The shim: the small process that owns one container process.

containerd starts one ``containerd-shim`` per container so that the daemon
can die, restart or upgrade while containers keep running. csim does the
same without starting an interpreter: the daemon forks, and the child --
detached from the daemon's session by ``setsid``, every inherited descriptor
closed -- is the shim. It survives the daemon (it is reparented to init), and
while the daemon lives, the watcher that follows it collects its status. It
creates the container process (``process.py``), holds its stdio (a pty master
or pipes), appends the output to ``log.json`` in Docker's json-file format,
copies the ``stdin`` FIFO to it, reaps it and writes ``exit.json`` atomically
before exiting. The daemon learns that the process started from the progress
pipe and that it ended from ``exit.json`` (``watcher.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from simulator.runtime.linux import jsonlog
from simulator.runtime.linux import process as proc
from simulator.runtime.linux import syscalls as sc
from simulator.runtime.linux.cgroups import Cgroup
from simulator.runtime.linux.state import ProcessDir, write_json_atomic

CREATED = b"\0"  # on the error pipe: set up, waiting for `start` (OCI create)
SHIM_EXIT_SECONDS = 5.0  # how long a shim may take to end once its process is gone
_DRAIN_SECONDS = 1.0
_PIDFILE_SECONDS = 10.0


@dataclass(slots=True)
class Launch:
    """What one shim runs.

    Attributes:
        container_id: the container.
        proc_dir: where the log, stdin FIFO, shim.json and exit.json go.
        config: the container's OCI config (for an init).
        process: the OCI ``process`` to execute.
        rootfs: the overlay mount point (host path).
        cgroup: the container's cgroup, joined by the process (None: an
            external runtime places it).
        join_pid: for an exec, the host pid of the container's init.
        argv: run this command (``runc run ...``) instead of the built-in init.
        pid_file: with ``argv``, where the external runtime writes the container pid.
        gate_fd: an fd the init reads one byte from before execve (OCI create/start).
        open_stdin: give the process a stdin fed from the ``stdin`` FIFO (else /dev/null).
        oom_cgroup: where to read OOM kills when ``cgroup`` is None (an external
            runtime's cgroup, at the same path).
    """

    container_id: str
    proc_dir: ProcessDir
    config: dict[str, Any]
    process: dict[str, Any]
    rootfs: str
    cgroup: Cgroup | None
    join_pid: int = 0
    argv: list[str] | None = None
    pid_file: str | None = None
    gate_fd: int = -1
    open_stdin: bool = False
    oom_cgroup: Cgroup | None = None
    keep_fds: tuple[int, ...] = field(default=())

    @property
    def tty(self) -> bool:
        return bool(self.process.get("terminal"))


@dataclass(frozen=True, slots=True)
class ShimStarted:
    """The shim's pid and the container process's host pid."""

    shim_pid: int
    pid: int


def spawn(launch: Launch, on_message: Callable[[dict[str, Any]], None]) -> ShimStarted:
    """Fork a detached shim for ``launch`` and wait until its process has exec'd.

    ``on_message`` receives every progress message (spans) as it arrives.

    Raises:
        ExecError: the process could not be started (Docker's 126/127 cases).
        OSError: the shim could not be forked.
    """
    launch.proc_dir.path.mkdir(parents=True, exist_ok=True)
    if launch.open_stdin and not launch.proc_dir.stdin.exists():
        os.mkfifo(launch.proc_dir.stdin, 0o600)
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    shim_pid = os.fork()
    if shim_pid == 0:  # pragma: no cover - runs in the forked child
        try:
            os.close(read_fd)
            os.setsid()
            run_shim(launch, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    started: ShimStarted | None = None
    failure: proc.ExecError | None = None
    with os.fdopen(read_fd, "rb") as pipe:
        for line in pipe:
            message = json.loads(line)
            if "ready" in message:
                started = ShimStarted(message["ready"]["shim"], message["ready"]["pid"])
            elif "error" in message:
                failure = proc.ExecError(message["error"]["code"], message["error"]["message"])
            on_message(message)
    if failure is not None or started is None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(shim_pid, 0)  # it exits right after reporting the failure
    if failure is not None:
        raise failure
    if started is None:
        raise OSError(0, "shim exited before the container process started")
    return started


def reap(shim_pid: int) -> bool:
    """Collect an exited shim's status if it is this process's child (no zombie left).

    The daemon forks each shim once; the shim calls ``setsid`` and outlives the
    daemon if it has to (it is then reparented to init, and after a restart it is
    nobody's child here: waitpid says so and there is nothing to collect).
    Returns False while the shim is this process's child and still running.
    """
    try:
        done, _ = os.waitpid(shim_pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != 0


def run_shim(launch: Launch, ready_fd: int) -> NoReturn:  # pragma: no cover - forked
    """The shim's whole life. Never returns."""
    progress = proc.Progress(ready_fd)
    try:
        _detach(ready_fd, launch.keep_fds + ((launch.gate_fd,) if launch.gate_fd >= 0 else ()))
        _Shim(launch, progress).run()
    except proc.ExecError as exc:
        progress.send("error", code=exc.code, message=exc.message)
    except BaseException as exc:
        progress.send("error", code=1, message=f"shim: {exc}")
    os._exit(0)


def _detach(ready_fd: int, keep: tuple[int, ...]) -> None:
    """Drop every fd inherited from the daemon and ignore terminal signals."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    wanted = sorted({0, 1, 2, ready_fd, *keep})
    for low, high in zip(wanted, [*wanted[1:], 65536], strict=True):
        os.closerange(low + 1, high)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sc.set_child_subreaper()


class _Shim:  # pragma: no cover - runs in the forked shim
    """The shim's state between fork and exit."""

    def __init__(self, launch: Launch, progress: proc.Progress) -> None:
        self.launch = launch
        self.progress = progress
        self.log_fd = -1
        self.outputs: dict[int, int] = {}  # fd -> stream
        self.stdin_target = -1
        self.fifo_fd = -1

    def run(self) -> None:
        launch = self.launch
        pdir = launch.proc_dir
        self.log_fd = os.open(pdir.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        child_fds = self._stdio()
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        oom_group = launch.cgroup or launch.oom_cgroup
        oom_before = oom_group.oom_kills() if oom_group else 0
        t0 = time.monotonic()
        if launch.join_pid:
            proc.enter_pid_namespace(launch.join_pid)
            label = f"setns(/proc/{launch.join_pid}/ns/pid) + fork"
        elif launch.argv is None and _wants_pid_ns(launch.config):
            sc.unshare(sc.CLONE_NEWPID)
            label = "clone(CLONE_NEWPID)"
        else:
            label = "fork"
        child = os.fork()
        if child == 0:
            self._child(child_fds, err_w)
        self.progress.send("span", hop="kernel", name=label, t0=t0, t1=time.monotonic())
        for fd in {*child_fds, err_w}:
            os.close(fd)
        failure = _read_all(err_r, stop_at_created=launch.gate_fd >= 0)
        if failure == CREATED:
            # OCI create: the init waits on the gate; report it now, errors go to exit.json.
            self._report_ready(child, child)
            failure = _read_all(err_r)
        os.close(err_r)
        if failure:
            os.waitpid(child, 0)
            error = json.loads(failure)
            write_json_atomic(pdir.exit_json, {"code": error["code"], "error": error["message"]})
            raise proc.ExecError(error["code"], error["message"])
        pid = child if launch.argv is None else self._external_pid(child, t0)
        self._report_ready(child, pid)
        status = self._pump(child)
        oom = oom_group is not None and oom_group.oom_kills() > oom_before
        code = os.waitstatus_to_exitcode(status)
        signum = -code if code < 0 else 0
        record = {
            "code": 128 + signum if signum else code,
            "signal": signum,
            "oom_killed": oom and not launch.join_pid,
            "finished_at": jsonlog.rfc3339nano(),
        }
        write_json_atomic(pdir.exit_json, record)

    def _report_ready(self, child: int, pid: int) -> None:
        """Record shim.json and tell the daemon the process runs (once)."""
        if self.progress.fd < 0:
            return
        record = {"shim": os.getpid(), "pid": pid, "start": _start_time(os.getpid())}
        write_json_atomic(self.launch.proc_dir.shim_json, record)
        self.progress.send("ready", shim=os.getpid(), pid=pid, t=time.monotonic())
        os.close(self.progress.fd)
        self.progress.fd = -1

    def _stdio(self) -> list[int]:
        """Make the container's stdio; returns the child's ends (0, 1, 2 order)."""
        launch = self.launch
        if launch.open_stdin:
            self.fifo_fd = os.open(launch.proc_dir.stdin, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        if launch.tty:
            master, slave = os.openpty()
            os.set_inheritable(master, False)
            self.outputs[master] = 1
            self.stdin_target = master
            return [slave]
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        self.outputs = {out_r: 1, err_r: 2}
        if self.fifo_fd >= 0:
            in_r, in_w = os.pipe2(os.O_CLOEXEC)
            self.stdin_target = in_w
        else:
            in_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        return [in_r, out_w, err_w]

    def _child(self, fds: list[int], err_w: int) -> NoReturn:
        """The forked container process (or external runtime): wire stdio and go."""
        launch = self.launch

        def body() -> NoReturn:
            os.setsid()
            if launch.tty:
                fcntl.ioctl(fds[0], termios.TIOCSCTTY, 0)
                for target in (0, 1, 2):
                    os.dup2(fds[0], target)
            else:
                for target, fd in enumerate(fds):
                    os.dup2(fd, target)
            keep = sorted({0, 1, 2, err_w, self.progress.fd, launch.gate_fd} - {-1})
            for low, high in zip(keep, [*keep[1:], 65536], strict=True):
                os.closerange(low + 1, high)
            if launch.argv is not None:
                proc.reset_signals()
                os.execv(launch.argv[0], launch.argv)
            if launch.join_pid:
                proc.join_container(launch.process, launch.join_pid, launch.cgroup, self.progress)
            console = os.ttyname(0) if launch.tty else None

            def created() -> None:
                os.write(err_w, CREATED)

            proc.init_container(
                launch.config,
                launch.rootfs,
                launch.cgroup,
                console,
                self.progress,
                gate_fd=launch.gate_fd,
                on_created=created,
            )

        proc.run_child(body, err_w)

    def _external_pid(self, child: int, t0: float) -> int:
        """Wait for the external runtime's pid file (it exits early on failure)."""
        path = self.launch.pid_file or ""
        deadline = time.monotonic() + _PIDFILE_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                with open(path) as f:
                    pid = int(f.read().strip())
                self.progress.send("span", hop="runc", name="runc run", t0=t0, t1=time.monotonic())
                return pid
            done, status = os.waitpid(child, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                error = _drain_text(self.outputs)
                write_json_atomic(self.launch.proc_dir.exit_json, {"code": code, "error": error})
                raise proc.ExecError(code if code in (126, 127) else 1, error)
            time.sleep(0.0005)
        raise proc.ExecError(1, "timed out waiting for the OCI runtime's pid file")

    def _pump(self, child: int) -> int:
        """Copy output to the log and stdin to the process until it exits; its wait status."""
        pidfd = sc.pidfd_open(child)
        poller = select.poll()
        for fd in self.outputs:
            poller.register(fd, select.POLLIN)
        if self.fifo_fd >= 0:
            poller.register(self.fifo_fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        status: int | None = None
        deadline = 0.0
        while True:
            if status is not None and (not self.outputs or time.monotonic() > deadline):
                return status
            timeout = None if status is None else max(0, int((deadline - time.monotonic()) * 1000))
            for fd, _event in poller.poll(timeout):
                if fd == pidfd:
                    poller.unregister(pidfd)
                    _, status = os.waitpid(child, 0)
                    deadline = time.monotonic() + _DRAIN_SECONDS
                    self._reap_orphans()
                elif fd == self.fifo_fd:
                    if not self._copy_stdin():
                        poller.unregister(fd)
                elif not self._copy_output(fd):
                    poller.unregister(fd)
                    self.outputs.pop(fd, None)
                    os.close(fd)

    def _copy_output(self, fd: int) -> bool:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the pty's slave side is gone
            return False
        if not data:
            return False
        os.write(self.log_fd, jsonlog.encode(self.outputs[fd], data))
        return True

    def _copy_stdin(self) -> bool:
        try:
            data = os.read(self.fifo_fd, 65536)
        except BlockingIOError:
            return True
        if data and self.stdin_target >= 0:
            with contextlib.suppress(OSError):
                os.write(self.stdin_target, data)
            return True
        # Every writer closed the FIFO: close the process's stdin (EOF).
        if self.stdin_target >= 0 and not self.launch.tty:
            os.close(self.stdin_target)
            self.stdin_target = -1
        return False

    def _reap_orphans(self) -> None:
        """As a subreaper the shim inherits the external runtime's orphans; reap them."""
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass


def _wants_pid_ns(config: dict[str, Any]) -> bool:
    namespaces = (config.get("linux") or {}).get("namespaces") or []
    return any(ns.get("type") == "pid" and not ns.get("path") for ns in namespaces)


def _read_all(fd: int, stop_at_created: bool = False) -> bytes:
    """Everything written to the error pipe until EOF (or the "created" marker)."""
    chunks: list[bytes] = []
    while chunk := os.read(fd, 65536):
        if stop_at_created and not chunks and chunk == CREATED:
            return CREATED
        chunks.append(chunk)
    return b"".join(chunks)


def _drain_text(outputs: dict[int, int]) -> str:
    """Whatever an external runtime printed before failing (its error message)."""
    text = b""
    for fd in outputs:
        os.set_blocking(fd, False)
        with contextlib.suppress(OSError):
            text += os.read(fd, 65536)
    return text.decode(errors="replace").strip()


def _start_time(pid: int) -> int:
    """Field 22 of /proc/<pid>/stat: tells a live shim from a reused pid after a restart."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return -1


def start_time(pid: int) -> int:
    """Public alias of the process start time reader (used by live restore)."""
    return _start_time(pid)
