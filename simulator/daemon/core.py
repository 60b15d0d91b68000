"""The core of dockerd: state, time, ids, spans, events, output and waiting.

Every operation is a SimPy process (a generator) that takes modelled time on
the simulated backend and real time on the linux backend; the runtime below
is the only part that differs. Operations take the caller's span context and
emit a ``dockerd`` span; the runtime emits the spans below it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

import simpy

from simulator.daemon.containers import Container, ContainerStore, LogEntry
from simulator.daemon.images import BlobStore, ImageService
from simulator.daemon.params import DaemonParams
from simulator.daemon.slots import WorkerSlots
from simulator.runtime.protocol import ProcessHandle, ProcessIO, Runtime
from simulator.trace.events import EventLog
from simulator.trace.tracer import SpanContext, Tracer

Proc = Generator[simpy.Event, Any, Any]


class DaemonCore:
    """The state and helpers every part of dockerd shares.

    Args:
        env: the SimPy environment the daemon's processes run in.
        tracer: where spans go.
        events: Docker's event log.
        content: the content-addressable blob store.
        params: modelled dockerd costs.
        seed: seeds ids and generated names, so a world is reproducible.
        epoch: Unix time of world time 0 (timestamps shown to users).
    """

    def __init__(
        self,
        env: simpy.Environment,
        tracer: Tracer,
        events: EventLog,
        content: BlobStore,
        params: DaemonParams | None = None,
        seed: int = 0,
        epoch: float = 1_767_225_600.0,
    ) -> None:
        self.env = env
        self.tracer = tracer
        self.events = events
        self.params = params or DaemonParams()
        self.epoch = epoch
        self.rng = random.Random(seed)
        self.images = ImageService(content)
        self.containers = ContainerStore()
        self.runtime: Runtime | None = None
        self.registry: Any = None
        self.workers = WorkerSlots(env, capacity=self.params.workers)
        self.download_slots = simpy.Resource(env, capacity=self.params.max_downloads)
        self._io: dict[str, ProcessIO] = {}
        self._handles: dict[str, ProcessHandle] = {}
        self._listeners: dict[str, list[Callable[[LogEntry | None], None]]] = {}
        self._waiters: dict[str, list[tuple[str, simpy.Event]]] = {}
        self._pending_stdin: dict[str, list[bytes | None]] = {}
        self._removed_codes: dict[str, int] = {}
        self.id_counter = 0
        self.shutting_down = False

    # -- wiring ----------------------------------------------------------------
    def attach_runtime(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def runtime_names(self) -> tuple[list[str], str]:
        """The OCI runtimes ``--runtime`` may name, and the default (``docker info`` Runtimes)."""
        names = getattr(self.runtime, "names", None)
        if callable(names):
            return list(names()), str(getattr(self.runtime, "default", "runc"))
        return ["runc"], "runc"

    def check_runtime(self, name: str) -> str:
        names, default = self.runtime_names()
        name = name or default
        if name not in names:
            from simulator.model.errors import InvalidParameter

            raise InvalidParameter(f"unknown or invalid runtime name: {name}")
        return name

    @property
    def rt(self) -> Runtime:
        if self.runtime is None:
            raise RuntimeError("no runtime attached to the daemon")
        return self.runtime

    # -- time and ids -----------------------------------------------------------
    def now(self) -> float:
        return float(self.env.now)

    def wall(self, t: float | None = None) -> float:
        """Unix seconds for world time ``t`` (default: now)."""
        return self.epoch + (self.now() if t is None else t)

    def size_rw(self, c: Container) -> int:
        """Bytes in ``c``'s writable layer (its files, as a layer tar holds them): ``SizeRw``."""
        import tarfile
        from io import BytesIO

        if not c.runtime_created:
            return 0
        with tarfile.open(fileobj=BytesIO(self.rt.export_upper(c.id))) as tar:
            return sum(member.size for member in tar)

    def time_ns(self) -> int:
        return round(self.wall() * 1e9)

    def new_id(self) -> str:
        self.id_counter += 1
        return f"{self.rng.getrandbits(256):064x}"

    # -- tracing and events -----------------------------------------------------
    def span(self, label: str, parent: SpanContext | None, /, **attrs: Any) -> SpanContext:
        return self.tracer.start("dockerd", label, parent, **attrs)

    def end(self, ctx: SpanContext, **attrs: Any) -> None:
        self.tracer.end(ctx, **attrs)

    def work(self, seconds: float) -> simpy.Event:
        return self.env.timeout(seconds)

    # Builds the attribute dict already stringified and hands it to ``EventLog.emit``:
    # a container lifecycle logs about ten events, and ``EventLog.log``'s generic
    # conversion (a second dict) showed up in profiles.
    def container_event(self, c: Container, action: str, **extra: Any) -> None:
        labels = c.config.get("Labels")
        attrs = {str(k): str(v) for k, v in labels.items()} if labels else {}
        attrs["image"] = str(c.image)
        attrs["name"] = str(c.name)
        for key, value in extra.items():
            attrs[key] = str(value)
        self.events.emit("container", action, c.id, attrs, self.time_ns())

    def event(self, type_: str, action: str, actor: str, **attrs: Any) -> None:
        self.events.log(type_, action, actor, attrs, time_ns=self.time_ns())

    # -- output ------------------------------------------------------------------
    def record_output(self, c: Container, stream: int, data: bytes) -> None:
        entry = LogEntry(self.now(), "stderr" if stream == 2 else "stdout", data)
        c.logs.append(entry)
        if len(c.logs) > self.params.log_lines_kept:
            del c.logs[: len(c.logs) - self.params.log_lines_kept]
        for listener in list(self._listeners.get(c.id, [])):
            listener(entry)

    def listen(self, cid: str, fn: Callable[[LogEntry | None], None]) -> Callable[[], None]:
        """Receive every new output chunk of a container, and None when it stops."""
        self._listeners.setdefault(cid, []).append(fn)

        def stop() -> None:
            items = self._listeners.get(cid, [])
            if fn in items:
                items.remove(fn)

        return stop

    def _close_listeners(self, cid: str) -> None:
        for fn in self._listeners.pop(cid, []):
            fn(None)

    # -- stdin buffering (the CLI sends piped stdin before /start) -------------------
    def feed_stdin(self, cid: str, data: bytes | None) -> None:
        """Bytes for the container's stdin, or None for end of input."""
        io = self._io.get(cid)
        if io is None:
            self._pending_stdin.setdefault(cid, []).append(data)
            return
        if data is None:
            io.close_stdin()
        else:
            io.feed_stdin(data)

    def is_running_process(self, cid: str) -> bool:
        return cid in self._handles

    # -- waiting ---------------------------------------------------------------------
    def wait_event(self, c: Container, condition: str) -> simpy.Event:
        """An event that succeeds with the exit code when ``condition`` is met."""
        ev = self.env.event()
        if condition == "not-running" and not c.state.running:
            ev.succeed(c.state.exit_code)
            return ev
        self._waiters.setdefault(c.id, []).append((condition, ev))
        return ev

    def _notify(self, cid: str, kinds: tuple[str, ...], code: int) -> None:
        keep: list[tuple[str, simpy.Event]] = []
        for cond, ev in self._waiters.get(cid, []):
            if cond in kinds and not ev.triggered:
                ev.succeed(code)
            elif not ev.triggered:
                keep.append((cond, ev))
        if keep:
            self._waiters[cid] = keep
        else:
            self._waiters.pop(cid, None)
