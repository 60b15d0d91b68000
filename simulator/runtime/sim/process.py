"""Virtual processes: SimPy processes with a pid, signals, memory and CPU time.

A program is a generator function taking its :class:`Process`; it only ever
waits through the process's helpers (:meth:`Process.wait_event`,
:meth:`Process.sleep`, :meth:`Process.cpu`), which is where the kernel's
rules apply: pending signals are acted on (default action, handler, or
ignored when the process is PID 1 of its namespace and has no handler), and a
frozen container makes no progress until it is thawed (a sleep resumes with
the time it had left).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulator.runtime.protocol import FirstOf
from simulator.runtime.sim.streams import (
    BrokenPipe,
    InputStream,
    OutputStream,
)

if TYPE_CHECKING:
    from simulator.runtime.sim.kernel import Container, Kernel
    from simulator.runtime.sim.vfs import ContainerFs

ProgramGen = Generator[simpy.Event, Any, int]
Program = Callable[["Process"], ProgramGen]
SignalHandler = Callable[[int], "int | None"]
"""Called when a signal arrives; returning an int makes the process exit with it."""

SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGUSR1, SIGPIPE, SIGTERM = 1, 2, 3, 9, 10, 13, 15
SIGCHLD, SIGCONT, SIGSTOP, SIGWINCH, SIGURG = 17, 18, 19, 28, 23
DEFAULT_IGNORED = frozenset({SIGCHLD, SIGCONT, SIGWINCH, SIGURG})
IGNORE = "ignore"


class Terminated(Exception):
    """The process was killed by ``signal`` (exit code 128 + signal)."""

    def __init__(self, signal: int) -> None:
        super().__init__(signal)
        self.signal = signal


class ExitProcess(Exception):
    """The process calls exit(code)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Process:
    """One virtual process in a container.

    Attributes:
        pid: the pid inside the container's pid namespace (init is 1).
        host_pid: the pid in the host's namespace (unique across containers).
        argv: the command line.
        env: environment variables.
        cwd: working directory (canonical).
        fds: open descriptors 0, 1, 2 (and any a shell redirects).
        exited: fires with the exit code.
    """

    def __init__(
        self,
        kernel: Kernel,
        container: Container,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        uid: int,
        gid: int,
        fds: dict[int, Any],
        parent: Process | None,
    ) -> None:
        self.kernel = kernel
        self.env_sim: simpy.Environment = kernel.env
        self.container = container
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.uid, self.gid = uid, gid
        self.fds = fds
        self.parent = parent
        self.pid = container.alloc_pid()
        self.host_pid = kernel.alloc_host_pid()
        self.ppid_host = parent.host_pid if parent is not None else container.shim_pid
        self.handlers: dict[int, SignalHandler | str] = {}
        self.pending: list[int] = []
        self._wake = self.env_sim.event()
        self.exited = self.env_sim.event()
        self.code: int | None = None
        self.term_signal = 0
        self.rss = kernel.params.process_rss
        self.cpu_ns = 0
        self.out_bytes = 0
        self.started_at = self.env_sim.now
        self.replaying: bool = parent.replaying if parent is not None else False
        """Re-running what it did before the world was saved (its writes are dropped until then)."""
        self._sim: simpy.Process | None = None
        self.owned: list[Any] = []
        """Streams closed when the process ends (its pipe ends)."""

    # -- identity --------------------------------------------------------
    @property
    def is_init(self) -> bool:
        return self.pid == 1

    @property
    def fs(self) -> ContainerFs:
        return self.container.fs

    @property
    def now(self) -> float:
        return float(self.env_sim.now)

    @property
    def wall(self) -> float:
        """Unix time as the container's clock shows it."""
        return self.kernel.params.epoch + self.now

    @property
    def done(self) -> bool:
        return self.code is not None

    # -- lifecycle -------------------------------------------------------
    def start(self, program: Program) -> None:
        self.container.procs[self.pid] = self
        self._sim = self.env_sim.process(self._main(program))
        if self.replaying:
            self.container.replay_procs.add(self._sim)

    def _main(self, program: Program) -> Generator[simpy.Event, Any, None]:
        code = 0
        try:
            code = yield from program(self)
        except ExitProcess as exc:
            code = exc.code
        except Terminated as exc:
            self.term_signal = exc.signal
            code = 128 + exc.signal
        except BrokenPipe:
            self.term_signal = SIGPIPE
            code = 128 + SIGPIPE
        self._finish(code & 0xFF)

    def _finish(self, code: int) -> None:
        self.code = code
        self.container.procs.pop(self.pid, None)
        if self.replaying:
            self.container.replay_procs.discard(self._sim)
        for stream in self.owned:
            stream.close()
        self.kernel.process_exited(self)
        self.exited.succeed(code)

    # -- signals ---------------------------------------------------------
    def on_signal(self, signal: int, handler: SignalHandler | str | None) -> None:
        """Install a handler, ``IGNORE``, or None for the default action."""
        if handler is None:
            self.handlers.pop(signal, None)
        else:
            self.handlers[signal] = handler

    def send_signal(self, signal: int) -> None:
        """Queue ``signal``; it acts the next time the process waits (at once if it waits)."""
        if self.done:
            return
        self.pending.append(signal)
        if not self._wake.triggered:
            self._wake.succeed()

    def poke(self) -> None:
        """Wake the process without a signal (the freezer uses this to park it)."""
        if not self.done and not self._wake.triggered:
            self._wake.succeed()

    def _act_on_signals(self, frozen: bool) -> None:
        if SIGKILL in self.pending:
            raise Terminated(SIGKILL)
        if frozen:
            return
        while self.pending:
            sig = self.pending.pop(0)
            handler = self.handlers.get(sig)
            if handler == IGNORE or sig == 0:
                continue
            if callable(handler):
                result = handler(sig)
                if result is not None:
                    raise ExitProcess(result)
                continue
            if sig in DEFAULT_IGNORED or sig == SIGSTOP or self.is_init:
                continue  # PID 1 ignores signals it has no handler for
            raise Terminated(sig)

    # -- waiting -----------------------------------------------------------
    def _rearm(self) -> simpy.Event:
        if self._wake.triggered:
            self._wake = self.env_sim.event()
        return self._wake

    def _until_thawed(self) -> Generator[simpy.Event, Any, None]:
        while self.container.frozen:
            self._act_on_signals(frozen=True)
            yield self.env_sim.any_of([self.container.thawed, self._rearm()])

    def wait_event(self, event: simpy.Event) -> Generator[simpy.Event, Any, Any]:
        """Wait for ``event`` and return its value, acting on signals and the freezer."""
        while True:
            if self.container.frozen:
                yield from self._until_thawed()
            self._act_on_signals(frozen=False)
            if event.triggered:
                return event.value
            yield self.env_sim.any_of([event, self._rearm()])

    def sleep(self, seconds: float) -> Generator[simpy.Event, Any, None]:
        """Sleep ``seconds`` of world time; frozen time does not count."""
        yield from self._progress(seconds, 0.0)

    def cpu(self, seconds: float, threads: int = 1) -> Generator[simpy.Event, Any, None]:
        """Do ``seconds`` of CPU work on ``threads`` threads, at the container's CPU share."""
        rate = self.container.cpu_rate(threads)
        yield from self._progress(seconds / rate, rate)

    def _progress(self, duration: float, cpu_rate: float) -> Generator[simpy.Event, Any, None]:
        remaining = max(0.0, duration)
        while True:
            if self.container.frozen:
                yield from self._until_thawed()
            self._act_on_signals(frozen=False)
            if remaining <= 0:
                return
            start = self.env_sim.now
            timer = self.env_sim.timeout(remaining)
            yield FirstOf(self.env_sim, timer, self._rearm())  # ``any_of``, cheaper: every sleep waits here
            elapsed = self.env_sim.now - start
            remaining -= elapsed
            self._charge(elapsed * cpu_rate)
            if timer.processed:  # (a Timeout is "triggered" from birth)
                remaining = 0.0

    def _charge(self, cpu_seconds: float) -> None:
        ns = round(cpu_seconds * 1e9)
        self.cpu_ns += ns
        self.container.cpu_ns += ns

    # -- memory ------------------------------------------------------------
    def alloc(self, nbytes: int) -> None:
        """Grow resident memory; past the container's limit the OOM killer acts."""
        self.rss += nbytes
        self.kernel.check_memory(self.container)
        if SIGKILL in self.pending:
            raise Terminated(SIGKILL)

    # -- I/O -----------------------------------------------------------------
    def write(self, fd: int, data: bytes | str) -> None:
        """Write to descriptor ``fd`` (bytes beyond the output limit are dropped)."""
        raw = data.encode() if isinstance(data, str) else data
        if self.out_bytes >= self.kernel.params.max_output:
            return
        self.out_bytes += len(raw)
        stream: OutputStream | None = self.fds.get(fd)
        if stream is not None:
            stream.write(raw)

    def out(self, text: bytes | str) -> None:
        self.write(1, text)

    def err(self, text: bytes | str) -> None:
        self.write(2, text)

    @property
    def output_exhausted(self) -> bool:
        return self.out_bytes >= self.kernel.params.max_output

    def read(self, fd: int = 0) -> Generator[simpy.Event, Any, bytes]:
        """The next chunk from ``fd`` (``b""`` at end of input)."""
        stream: InputStream | None = self.fds.get(fd)
        if stream is None:
            return b""
        data: bytes = yield from stream.read(self)
        return data

    def read_all(self, fd: int = 0) -> Generator[simpy.Event, Any, bytes]:
        """Everything until end of input (bounded by the output limit)."""
        parts: list[bytes] = []
        total = 0
        while total < self.kernel.params.max_output:
            chunk = yield from self.read(fd)
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        return b"".join(parts)

    def readline(self, fd: int = 0) -> Generator[simpy.Event, Any, bytes | None]:
        """One line including its ``\\n`` (the last may lack it); None at end of input."""
        stream: InputStream | None = self.fds.get(fd)
        if stream is None:
            return None
        buf = b""
        while len(buf) < self.kernel.params.max_output:
            chunk = yield from stream.read(self)
            if not chunk:
                return buf or None
            nl = chunk.find(b"\n")
            if nl >= 0:
                stream.unread(chunk[nl + 1 :])
                return buf + chunk[: nl + 1]
            buf += chunk
        return buf

    # -- children --------------------------------------------------------
    def spawn(
        self,
        argv: list[str],
        program: Program,
        fds: dict[int, Any] | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> Process:
        """Fork and exec ``program`` as a child in the same container."""
        child = Process(
            self.kernel,
            self.container,
            argv,
            dict(self.env if env is None else env),
            self.cwd if cwd is None else cwd,
            self.uid,
            self.gid,
            dict(self.fds if fds is None else fds),
            self,
        )
        child.start(program)
        return child

    def wait_child(self, child: Process) -> Generator[simpy.Event, Any, int]:
        code: int = yield from self.wait_event(child.exited)
        return code
