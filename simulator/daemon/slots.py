"""dockerd's worker slots: ``simpy.Resource``'s events, without its generic machinery.

Every API call and every container start holds one of ``DaemonParams.workers``
slots. ``simpy.Resource`` builds a slot from generic put and get queues (a
request, a release, two queue scans and their callbacks per use), which made it
one of the larger costs of a simulated request. :class:`WorkerSlots` schedules
exactly the same SimPy events at the same moments, so traces do not change:

- a request is an event, triggered at once when a slot is free and nobody
  queued before it, else when a release hands it the slot (first come, first
  served);
- leaving the ``with`` block releases: a release event is scheduled at once,
  and when it is processed it offers the freed slot to the first queued request.

Like ``simpy.Resource``, only the head of the queue is ever tried (when a
request is made and when a release is processed), and a generator being closed
(``GeneratorExit``) does not release its slot.
"""

from __future__ import annotations

from types import TracebackType

import simpy


class SlotRequest(simpy.Event):
    """A request for a slot; use it as ``with slots.request() as req: yield req``."""

    def __init__(self, slots: WorkerSlots) -> None:
        super().__init__(slots.env)
        self.slots = slots
        slots.queue.append(self)
        slots._offer()

    def __enter__(self) -> SlotRequest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self.triggered:  # left before it was granted: withdraw it
            self.slots.queue.remove(self)
        if exc_type is not GeneratorExit:
            self.slots.release(self)


class WorkerSlots:
    """A counting pool of ``capacity`` slots (see the module docstring)."""

    def __init__(self, env: simpy.Environment, capacity: int = 1) -> None:
        if capacity <= 0:
            raise ValueError('"capacity" must be > 0.')
        self.env = env
        self.capacity = capacity
        self.users: list[SlotRequest] = []
        self.queue: list[SlotRequest] = []

    @property
    def count(self) -> int:
        """Slots in use."""
        return len(self.users)

    def request(self) -> SlotRequest:
        return SlotRequest(self)

    def release(self, request: SlotRequest) -> simpy.Event:
        """Give ``request``'s slot back (a no-op for one never granted); returns the release event."""
        try:
            self.users.remove(request)
        except ValueError:
            pass
        released = simpy.Event(self.env)
        released.callbacks.append(self._on_release)
        return released.succeed()

    def _on_release(self, _event: simpy.Event) -> None:
        self._offer()

    def _offer(self) -> None:
        """Grant the head of the queue if a slot is free (only the head: ``simpy.Resource`` does the same)."""
        queue = self.queue
        if queue and len(self.users) < self.capacity:
            head = queue.pop(0)
            self.users.append(head)
            head.succeed()
