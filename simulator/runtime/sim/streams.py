"""File descriptors of virtual processes: the daemon's stdio, pipes, files, buffers.

Writes never block (a pipe's buffer is unbounded; a writer whose reader has
gone gets ``BrokenPipe``, which kills it like SIGPIPE). Reads are generators
driven through :meth:`Process.wait_event`, so a reader blocked on an empty
pipe or on the user's keyboard still reacts to signals and the freezer.
Streams are shared by reference between a parent and the children it
spawns, as inherited descriptors are.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from simulator.runtime.protocol import STDOUT, ProcessIO

if TYPE_CHECKING:
    from simulator.runtime.sim.process import Process
    from simulator.runtime.sim.vfs import ContainerFs

ReadGen = Generator[simpy.Event, Any, bytes]


class BrokenPipe(Exception):
    """Written to a pipe nobody reads any more (the writer dies of SIGPIPE)."""


class OutputStream(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class InputStream(Protocol):
    def read(self, proc: Process) -> ReadGen:
        """The next chunk, ``b""`` at end of input."""
        ...

    def unread(self, data: bytes) -> None:
        """Give back bytes read too far (the next ``read`` returns them first)."""
        ...

    def close(self) -> None: ...


class NullOutput:
    """``/dev/null``."""

    def write(self, data: bytes) -> None:
        return None

    def close(self) -> None:
        return None


class BufferOutput:
    """Collects output (command substitution), up to ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += data[:room]

    def close(self) -> None:
        return None


class IoOutput:
    """The daemon's end of stdout/stderr; a TTY merges both and turns ``\\n`` into ``\\r\\n``."""

    def __init__(self, io: ProcessIO, stream: int, tty: bool, gate: Callable[[], bool]) -> None:
        self.io = io
        self.stream = STDOUT if tty else stream
        self.tty = tty
        self.gate = gate

    def write(self, data: bytes) -> None:
        if not data or not self.gate():
            return
        if self.tty:
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self.io.write(self.stream, data)

    def close(self) -> None:
        return None


class FileOutput:
    """A redirect to a file: every write lands in the virtual filesystem at once."""

    def __init__(self, fs: ContainerFs, path: str, cwd: str, uid: int, gid: int) -> None:
        self.fs, self.path, self.cwd, self.uid, self.gid = fs, path, cwd, uid, gid

    def write(self, data: bytes) -> None:
        from simulator.runtime.sim.vfs import FsError

        try:
            self.fs.write(self.path, data, self.cwd, append=True, uid=self.uid, gid=self.gid)
        except FsError:
            pass

    def close(self) -> None:
        return None


class BytesInput:
    """Input from a byte string (a file redirect, a here-document, ``/dev/null``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, proc: Process) -> ReadGen:
        data, self.data = self.data, b""
        return data
        yield  # pragma: no cover - makes this a generator

    def unread(self, data: bytes) -> None:
        self.data = data + self.data

    def close(self) -> None:
        return None


class Pipe:
    """A pipe between two processes of a pipeline."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.buffer = bytearray()
        self.write_closed = False
        self.read_closed = False
        self.ready = env.event()

    def _signal(self) -> None:
        if not self.ready.triggered:
            self.ready.succeed()


class PipeWriter:
    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe

    def write(self, data: bytes) -> None:
        if self.pipe.read_closed:
            raise BrokenPipe()
        if data:
            self.pipe.buffer += data
            self.pipe._signal()

    def close(self) -> None:
        self.pipe.write_closed = True
        self.pipe._signal()


class PipeReader:
    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.pushback = b""

    def read(self, proc: Process) -> ReadGen:
        pipe = self.pipe
        if self.pushback:
            data, self.pushback = self.pushback, b""
            return data
        while not pipe.buffer and not pipe.write_closed:
            if pipe.ready.triggered:
                pipe.ready = pipe.env.event()
            yield from proc.wait_event(pipe.ready)
        data = bytes(pipe.buffer)
        pipe.buffer.clear()
        return data

    def unread(self, data: bytes) -> None:
        self.pushback = data + self.pushback

    def close(self) -> None:
        self.pipe.read_closed = True


class IoInput:
    """The daemon's stdin store; with a TTY it echoes what is typed, as a pty does.

    One instance is shared by every process reading the container's stdin, so
    bytes one reader leaves are there for the next.
    """

    def __init__(self, io: ProcessIO, tty: bool, echo: OutputStream | None) -> None:
        self.io = io
        self.tty = tty
        self.echo = echo
        self.pushback = b""
        self.eof = False

    def read(self, proc: Process) -> ReadGen:
        if self.pushback:
            data, self.pushback = self.pushback, b""
            return data
        if self.eof:
            return b""
        get = self.io.stdin.get()
        try:
            chunk = yield from proc.wait_event(get)
        except BaseException:
            if get.triggered:
                self.pushback = bytes(get.value or b"") + self.pushback
            else:
                get.cancel()
            raise
        data = bytes(chunk)
        if not data:
            self.eof = True
            return b""
        if self.tty:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if b"\x04" in data:
                data = data.split(b"\x04", 1)[0]
                self.eof = True
            if self.echo is not None and data:
                self.echo.write(data)
        return data

    def unread(self, data: bytes) -> None:
        self.pushback = data + self.pushback

    def close(self) -> None:
        return None
