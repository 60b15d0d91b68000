"""Driving a SimPy world at wall-clock time while other threads complete its events.

On the linux backend real work (fork/exec, waiting for an exit, reading a
log) runs on other threads; they hand results to the world through one
thread-safe inbox (``post``). The driver keeps the SimPy clock at wall time:
it runs every event that is due, runs what the inbox brought, and otherwise
sleeps on the inbox until the next event is due — no polling.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

import simpy


class WallClockDriver:
    """Steps ``env`` in real time (scaled by ``speed``) and runs posted callables."""

    def __init__(self, env: simpy.Environment, speed: float = 1.0) -> None:
        self.env = env
        self.speed = speed
        self.inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._t0 = time.monotonic() - float(env.now) / speed

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the world's thread (safe to call from any thread)."""
        self.inbox.put(fn)

    def world_time(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    def _catch_up(self) -> None:
        target = self.world_time()
        if target > self.env.now:
            self.env.run(until=target)

    def _drain_inbox(self) -> None:
        while True:
            try:
                fn = self.inbox.get_nowait()
            except queue.Empty:
                return
            fn()

    def run_until(self, done: Callable[[], bool], timeout: float | None = None) -> bool:
        """Drive the world until ``done()`` or ``timeout`` wall seconds pass; returns ``done()``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._catch_up()
            self._drain_inbox()
            while self.env.peek() <= self.env.now:
                self.env.step()
            if done():
                return True
            wait = (self.env.peek() - self.world_time()) / self.speed
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0 and time.monotonic() >= deadline:
                    return done()
            try:
                fn = self.inbox.get(timeout=max(0.0, min(wait, 3600.0)))
            except queue.Empty:
                continue
            self._catch_up()
            fn()
