"""A small SimPy world for driving the Linux runtime from tests.

The daemon runs its world on one thread and lets other threads in only
through ``post``. ``World`` does the same in miniature: a plain SimPy
environment whose clock is kept at wall time, an inbox of functions from
other threads, and ``run`` to drive one generator (or event) to completion.
``busybox_layer`` makes an image layer directory from the host's static
busybox, standing in for an unpacked image.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import simpy

from simulator.runtime.protocol import ContainerSpec, ExitStatus, ProcessIO, ProcessSpec
from simulator.trace.span import Span
from simulator.trace.tracer import SpanContext, Tracer

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


def is_root() -> bool:
    return os.geteuid() == 0


def busybox_layer(dest: Path) -> Path:
    """An image layer with a static busybox and its applet links (like busybox:latest)."""
    for sub in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "home", "var"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, dest / "bin/busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        link = dest / "bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")
    (dest / "etc/passwd").write_text(PASSWD)
    (dest / "etc/group").write_text(GROUP)
    os.chmod(dest / "tmp", 0o1777)
    return dest


class Layers:
    """Maps diff ids to layer directories (the daemon's ``LayerUnpacker`` stand-in)."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def unpacked_path(self, diff_id: str) -> Path:
        return self.paths[diff_id]


class World:
    """A SimPy environment kept at wall time, with a thread-safe inbox."""

    def __init__(self) -> None:
        self.env = simpy.Environment()
        self.spans: list[Span] = []
        self._t0 = time.monotonic()
        self.tracer = Tracer(lambda: self.env.now, self.spans.append)
        self._inbox: queue.Queue[Callable[[], None]] = queue.Queue()

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the world thread (callable from any thread)."""
        self._inbox.put(fn)

    def wall(self) -> float:
        return time.monotonic() - self._t0

    def _catch_up(self) -> None:
        now = self.wall()
        if now > self.env.now and self.env.peek() > now:
            tick = self.env.timeout(now - self.env.now)
            while not tick.processed:
                self.env.step()

    def run(self, target: Generator[Any, Any, Any] | simpy.Event, timeout: float = 30.0) -> Any:
        """Drive the world until ``target`` finishes; its value (or its exception)."""
        event = self.env.process(target) if not isinstance(target, simpy.Event) else target
        deadline = time.monotonic() + timeout
        while not event.processed:
            if time.monotonic() > deadline:
                raise TimeoutError("world did not finish in time")
            self._catch_up()
            if self.env.peek() <= max(self.env.now, self.wall()):
                self.env.step()
                continue
            wait = min(self.env.peek() - self.wall(), deadline - time.monotonic(), 0.5)
            try:
                fn = self._inbox.get(timeout=max(wait, 0.0))
            except queue.Empty:
                continue
            self._catch_up()
            fn()
        if not event.ok:
            raise event.value
        return event.value

    def root(self, name: str = "test") -> SpanContext:
        return self.tracer.start("dockerd", name)

    def sleep(self, seconds: float) -> None:
        self._catch_up()
        self.run(self.env.timeout(seconds), timeout=seconds + 10)


class Output:
    """Collects what a process prints, per stream."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int, bytes]] = []

    def __call__(self, stream: int, data: bytes) -> None:
        self.chunks.append((stream, data))

    def text(self, stream: int | None = None) -> str:
        return b"".join(d for s, d in self.chunks if stream is None or s == stream).decode()


def spec(
    container_id: str,
    args: tuple[str, ...],
    layers: tuple[str, ...] = ("layer0",),
    **kwargs: Any,
) -> ContainerSpec:
    """A ContainerSpec for tests; ``tty``/``open_stdin``/``user`` go to the process."""
    process_keys = {"tty", "open_stdin", "user", "cwd", "env"}
    process_args = {k: kwargs.pop(k) for k in list(kwargs) if k in process_keys}
    process_args.setdefault("env", DEFAULT_ENV)
    return ContainerSpec(
        id=container_id,
        name=container_id[:12],
        hostname=container_id[:12],
        layers=layers,
        process=ProcessSpec(args=args, **process_args),
        **kwargs,
    )


def new_id() -> str:
    return os.urandom(32).hex()


def run_container(
    world: World,
    runtime: Any,
    cspec: ContainerSpec,
    timeout: float = 20.0,
    stdin: bytes | None = None,
) -> tuple[ExitStatus, Output]:
    """create, start, wait, delete; returns the exit status and the output."""
    out = Output()
    root = world.root()

    def flow() -> Generator[Any, Any, tuple[ExitStatus, Output]]:
        yield from runtime.create(cspec, root)
        io = ProcessIO(world.env, out, open_stdin=stdin is not None)
        if stdin is not None:
            io.feed_stdin(stdin)
            io.close_stdin()
        try:
            handle = yield from runtime.start(cspec.id, io, root)
            status = yield handle.exited
        finally:
            yield from runtime.delete(cspec.id, root)
        return status, out

    return world.run(flow(), timeout)  # type: ignore[no-any-return]
