"""The composition root of the simulated backend: one SimPy world with every hop in it.

``World`` wires the daemon to the simulated runtime and the simulated hub,
and serves Engine API requests in-process. The embedded CLI, the TUI, the
lessons and the benchmarks all drive a ``World``.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simpy

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.api.router import Router
from simulator.daemon.daemon import Daemon
from simulator.daemon.streams import Stream
from simulator.des.hub import default_hub
from simulator.des.hub_registry import SimHubRegistry
from simulator.des.memstore import MemoryContentStore
from simulator.des.params import WorldParams
from simulator.trace.bus import TraceBus
from simulator.trace.events import EventLog
from simulator.trace.tracer import SpanContext, Tracer

DEFAULT_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: fixed so a seed gives one result
_INFINITY = float("inf")


@dataclass(frozen=True, slots=True)
class CliResult:
    """What one command line printed and returned."""

    exit_code: int
    stdout: str
    stderr: str


class World:
    """A simulated Docker host: daemon, runtime, hub, trace and events.

    Args:
        seed: seeds ids and names; the same script gives a byte-identical trace.
        params: every modelled latency and bandwidth.
        epoch: Unix time of world time 0.
        content: the blob store (in memory unless given).
        initial_time: world time to start at (a reloaded world continues its clock).
    """

    def __init__(
        self,
        seed: int = 0,
        params: WorldParams | None = None,
        epoch: float = DEFAULT_EPOCH,
        content: Any = None,
        initial_time: float = 0.0,
        runtime: bool = True,
    ) -> None:
        self.params = params or WorldParams()
        self.env = simpy.Environment(initial_time=initial_time)
        self.bus = TraceBus()
        self.events = EventLog()
        env = self.env
        # Every span reads the clock twice: read SimPy's ``_now`` directly (``now`` is a
        # property over it) from a closure over ``env`` rather than ``self``.
        self.tracer = Tracer(lambda: float(env._now), self.bus)
        self.daemon = Daemon(
            self.env,
            self.tracer,
            self.events,
            content if content is not None else MemoryContentStore(),
            self.params.daemon,
            seed=seed,
            epoch=epoch,
        )
        self.runtime: Any = None
        # Real work on other threads (a registry transfer) completes events through ``post``.
        self.inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.poster: Callable[[Callable[[], None]], None] | None = None  # set by a thread driving the world
        from simulator.daemon.registry_source import Handoff, HttpRegistrySource, RegistryRouter

        self.handoff = Handoff(self.env, self.post)
        self.http_registry = HttpRegistrySource(self.env, self.tracer, self.handoff, self.params.hub)
        if runtime:
            from simulator.runtime.sim.runtime import SimRuntime

            self.runtime = SimRuntime(self.env, self.tracer, self.daemon.images, self.daemon, self.params.kernel)
            self.daemon.attach_runtime(self.runtime)
            hub = SimHubRegistry(self.env, self.tracer, default_hub(), self.params.hub)
            self.daemon.registry = RegistryRouter(self.http_registry, hub=hub)
        self.router = Router(self.daemon, self.params.api)
        self.state_dir: Path | None = None

    def ensure_base_images(self) -> list[str]:
        """Base images the backend needs before a command (none: the simulated hub has them)."""
        return []

    @classmethod
    def create(cls, seed: int = 0, state_dir: Path | None = None) -> World:
        """A fresh world, or the one persisted in ``state_dir``."""
        if state_dir is None:
            return cls(seed=seed)
        from simulator.des.persist import load_world

        return load_world(Path(state_dir), seed=seed)

    # -- driving the world ----------------------------------------------------------
    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the world's thread (safe from any thread)."""
        (self.poster or self.inbox.put)(fn)

    def run_until(self, event: simpy.Event, horizon: float = 3600.0) -> None:
        """Run the world until ``event`` fires, or nothing is left to do, or ``horizon`` passes.

        While real work is in flight on other threads (``handoff.pending``), an
        idle world waits for what they post instead of stopping.
        """
        env, inbox = self.env, self.inbox
        step, inbox_empty = env.step, inbox.empty  # bound once: this loop is the hot path
        scheduled = env._queue  # ``env.peek()`` inlined (a Python call per step); SimPy never rebinds it
        limit = env.now + horizon
        while event.callbacks is not None:  # i.e. not ``event.processed``, without a property call per step
            while not inbox_empty():
                inbox.get_nowait()()
            nxt = scheduled[0][0] if scheduled else _INFINITY
            if nxt > limit or nxt == _INFINITY:
                if self.handoff.pending <= 0:
                    break
                try:
                    inbox.get(timeout=horizon)()
                except queue.Empty:
                    break
                continue
            step()

    def request(self, req: ApiRequest, parent: SpanContext | None = None) -> ApiResponse:
        """Serve one API request and return its response (streams keep filling as the world runs)."""
        proc = self.env.process(self.router.handle(req, parent))
        self.run_until(proc)
        if not proc.processed:
            raise RuntimeError(f"the world stalled serving {req.method} {req.path}")
        resp = proc.value
        assert isinstance(resp, ApiResponse)
        return resp

    def api(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        parent: SpanContext | None = None,
    ) -> ApiResponse:
        """Convenience for tests and the TUI: JSON in, ApiResponse out (streams drained)."""
        resp = self.request(ApiRequest.build(method, path, query, body), parent)
        if resp.stream is not None and resp.hijack is None:
            items = self.drain(resp.stream)
            if resp.body is None:
                resp.body = items
        return resp

    def request_stream(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Stream:
        """Send a streaming request and return its stream without draining it (e.g. ``/wait``)."""
        resp = self.request(ApiRequest.build(method, path, query, body))
        if resp.stream is None:
            raise RuntimeError(f"{method} {path} answered {resp.status} without a stream: {resp.body}")
        return resp.stream

    def drain(self, stream: Stream, on_item: Callable[[Any], None] | None = None, horizon: float = 3600.0) -> list[Any]:
        """Run the world until ``stream`` closes; return (and pass on) its items."""
        items: list[Any] = []
        closed = self.env.event()

        def consume(chunk: Any) -> None:
            if chunk is None:
                if not closed.triggered:
                    closed.succeed()
                return
            items.append(chunk)
            if on_item is not None:
                on_item(chunk)

        stream.consume(consume)
        self.run_until(closed, horizon)
        return items

    def follow(
        self,
        stream: Stream,
        on_item: Callable[[Any], None] | None = None,
        stdin: Callable[[Callable[[Callable[[], None]], None]], None] | None = None,
    ) -> list[Any]:
        """Like ``drain``, but at wall-clock speed, for ``logs -f``, ``events`` and ``run -it``.

        ``stdin`` is started with the driver's ``post``: it runs on its own thread and
        hands every chunk a user types to the world through it.
        """
        from simulator.des.realtime import WallClockDriver

        driver = self.live_driver()
        items: list[Any] = []
        closed = [False]

        def consume(chunk: Any) -> None:
            if chunk is None:
                closed[0] = True
                return
            items.append(chunk)
            if on_item is not None:
                on_item(chunk)

        stream.consume(consume)
        if stdin is not None:
            stdin(driver.post)
        assert isinstance(driver, WallClockDriver)
        driver.run_until(lambda: closed[0])
        return items

    def live_driver(self) -> Any:
        """The wall-clock driver of this world (made on first use, continuing from ``env.now``)."""
        from simulator.des.realtime import WallClockDriver

        if getattr(self, "_live_driver", None) is None:
            self._live_driver = WallClockDriver(self.env)
        return self._live_driver

    def settle(self) -> None:
        """Run everything due now (zero-delay work) without advancing the clock."""
        while self.env.peek() <= self.env.now:
            self.env.step()

    def advance(self, seconds: float) -> None:
        """Let world time pass (containers keep running, restart policies fire)."""
        self.env.run(until=self.env.now + seconds)

    def run_cli(self, argv: list[str]) -> CliResult:
        """Run one csim/docker command line against this world, capturing its output."""
        from simulator.client.main import run_embedded

        result: CliResult = run_embedded(self, argv)
        return result
