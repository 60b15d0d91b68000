"""The simulated world on a thread of its own, in scaled real time, for the API server.

The daemon's logic is SimPy processes; in the embedded CLI they run as fast as
possible, but behind a socket they must keep pace with the wall clock (a
``sleep 5`` container lives five seconds, times ``speed``). One thread owns
the world: it blocks on a thread-safe inbox until either a job arrives (an
HTTP request, stdin bytes, a stream cancelled) or the next SimPy event is due,
then steps. Nothing polls, and nothing but this thread touches the world.

The asyncio server talks to it through ``call``/``serve`` (which return
``concurrent.futures.Future``) and reads streams through ``StreamBridge``:
the world thread appends to a bounded buffer and wakes the event loop with
``call_soon_threadsafe``, so a slow reader costs memory up to a bound, never
the world's time, and another client's request never waits behind it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

_log = logging.getLogger("csim.world")

MAX_STEPS_PER_TURN = 10_000  # then look at the inbox again, so a busy world still answers
MAX_SLEEP = 3600.0  # an event far in the future: wake up anyway now and then (time_t bounds)
DEFAULT_INBOX = 4096


class WorldBusy(Exception):
    """The inbox is full: too many requests in flight."""


class WorldStopped(Exception):
    """The world thread is not running."""


class WorldThread:
    """Runs a ``World`` (anything with ``env``) on its own thread at ``speed`` x real time.

    Args:
        world: the composition root; only ``world.env`` is used here.
        speed: world seconds per wall second; ``math.inf`` runs as fast as possible.
        inbox_size: jobs that may wait; more are refused with ``WorldBusy``.
        clock: the wall clock (monotonic seconds); tests may pass a fake.
    """

    def __init__(
        self,
        world: Any,
        speed: float = 1.0,
        inbox_size: int = DEFAULT_INBOX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.world = world
        self.env = world.env
        if hasattr(world, "poster"):
            world.poster = self.post  # work on other threads (a registry transfer) reaches the world here
        self.speed = speed
        self._clock = clock
        self._inbox: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=inbox_size)
        self._thread = threading.Thread(target=self._run, name="csim-world", daemon=True)
        self._running = False
        self._sim0 = 0.0
        self._wall0 = 0.0
        self.errors = 0

    # -- life cycle -----------------------------------------------------------------
    def start(self) -> None:
        self._sim0 = float(self.env.now)
        self._wall0 = self._clock()
        self._running = True
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the jobs already queued, then end the thread."""
        if not self._running:
            return
        self._running = False
        self._inbox.put(None)
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def in_world_thread(self) -> bool:
        return threading.current_thread() is self._thread

    # -- jobs -----------------------------------------------------------------------
    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the world thread soon; errors are logged, never raised here."""
        if not self._running or not self._thread.is_alive():
            raise WorldStopped("the world is stopped")
        try:
            self._inbox.put_nowait(fn)
        except queue.Full:
            raise WorldBusy("too many requests in flight") from None

    def call(self, fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        """Run ``fn`` on the world thread; its result (or exception) completes the future."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def job() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn())
            except BaseException as err:
                fut.set_exception(err)

        try:
            self.post(job)
        except (WorldBusy, WorldStopped) as err:
            fut.set_exception(err)
        return fut

    def process(self, make: Callable[[], Generator[Any, Any, Any]]) -> concurrent.futures.Future[Any]:
        """Start the SimPy process ``make()`` on the world thread; the future gets its return value."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def job() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                proc = self.env.process(make())
            except BaseException as err:
                fut.set_exception(err)
                return

            def done(ev: Any) -> None:
                if ev.ok:
                    fut.set_result(ev.value)
                else:
                    ev.defused = True  # reported through the future, not raised in the world
                    fut.set_exception(ev.value)

            proc.callbacks.append(done)

        try:
            self.post(job)
        except (WorldBusy, WorldStopped) as err:
            fut.set_exception(err)
        return fut

    # -- the run loop ---------------------------------------------------------------
    def target(self) -> float:
        """The world time that corresponds to the wall clock now."""
        if math.isinf(self.speed):
            return math.inf
        return self._sim0 + (self._clock() - self._wall0) * self.speed

    def _run(self) -> None:
        while True:
            try:
                if self._turn():
                    return
            except Exception:  # the loop itself must survive anything a job or a step throws
                self.errors += 1
                _log.exception("the world loop hit an error; continuing")

    def _turn(self) -> bool:
        """Advance to now, then wait for a job or the next due event; True when told to stop."""
        self._advance()
        due = float(self.env.peek())
        timeout: float | None = None
        if math.isinf(self.speed):
            timeout = 0.0 if not math.isinf(due) else None
        elif not math.isinf(due):
            timeout = min(max(0.0, (due - self.target()) / self.speed), MAX_SLEEP)
        try:
            job = self._inbox.get(timeout=timeout) if timeout != 0.0 else self._inbox.get_nowait()
        except queue.Empty:
            return False
        while True:  # this job and everything queued meanwhile, without sleeping in between
            if job is None:
                self._drain_inbox()
                return True
            self._advance()
            self._run_job(job)
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                return False

    def _drain_inbox(self) -> None:
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self._run_job(job)

    def _run_job(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            self.errors += 1
            _log.exception("a job on the world thread failed")

    def _advance(self) -> None:
        """Process every event due by now, then move the clock to now."""
        target = self.target()
        for _ in range(MAX_STEPS_PER_TURN):
            nxt = float(self.env.peek())
            if nxt > target or math.isinf(nxt):
                break
            self._step()
        else:
            return  # a busy world: let the inbox in before going on
        if math.isinf(target) or target <= float(self.env.now):
            return
        marker = self.env.timeout(target - float(self.env.now))
        while not marker.processed:
            self._step()

    def _step(self) -> None:
        try:
            self.env.step()
        except Exception:
            # A crashed daemon process must not take the whole daemon down with it.
            self.errors += 1
            _log.exception("a simulated process failed")


class StreamOverflow(Exception):
    """A reader fell too far behind and its stream was dropped."""


def item_size(item: Any) -> int:
    """A rough byte count for the buffer bound."""
    data = getattr(item, "data", None)
    if isinstance(data, bytes | bytearray):
        return len(data) + 32
    if isinstance(item, bytes | bytearray):
        return len(item)
    return 256


class StreamBridge:
    """Items from the world thread to one asyncio reader, bounded in bytes.

    ``push`` and ``end`` run on the world thread (they are a ``Stream``
    consumer); ``get`` runs on the event loop. Past ``max_bytes`` waiting
    the reader is declared too slow: the buffer is dropped and ``get``
    raises ``StreamOverflow``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, max_bytes: int = 16 << 20) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._items: deque[Any] = deque()
        self._bytes = 0
        self._max = max_bytes
        self._ended = False
        self.overflowed = False
        self._ready = asyncio.Event()
        self._wake_pending = False

    def __call__(self, item: Any) -> None:
        """The ``Stream.consume`` callback: an item, or ``None`` at the end."""
        if item is None:
            self.end()
        else:
            self.push(item)

    def push(self, item: Any) -> None:
        with self._lock:
            if self._ended or self.overflowed:
                return
            size = item_size(item)
            if self._bytes + size > self._max:
                self.overflowed = True
                self._items.clear()
                self._bytes = 0
            else:
                self._items.append(item)
                self._bytes += size
            wake = not self._wake_pending
            self._wake_pending = True
        if wake:
            self._wake()

    def end(self) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
            wake = not self._wake_pending
            self._wake_pending = True
        if wake:
            self._wake()

    def _wake(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._ready.set)
        except RuntimeError:
            pass  # the loop is closed: nobody is reading any more

    async def get(self) -> list[Any] | None:
        """Everything buffered (at least one item), or ``None`` once the stream has ended."""
        while True:
            with self._lock:
                if self.overflowed:
                    raise StreamOverflow("the client is reading too slowly")
                if self._items:
                    batch = list(self._items)
                    self._items.clear()
                    self._bytes = 0
                    return batch
                if self._ended:
                    return None
                self._wake_pending = False
                self._ready.clear()
            await self._ready.wait()
