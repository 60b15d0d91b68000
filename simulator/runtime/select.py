"""Several OCI runtimes behind one daemon: ``docker run --runtime runc``.

The seed notes make the point that runc is the default runtime, not the only
one. ``RuntimeSet`` gives the daemon one ``Runtime`` that hands each container
to the runtime it was created with (the built-in one, ``runc`` or ``crun``)
and remembers the choice for every later call about that container.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.model.errors import InvalidParameter
from simulator.runtime.protocol import ContainerSpec, Proc, ProcessIO, ProcessRow, ProcessSpec, ResourceUsage
from simulator.trace.tracer import SpanContext


class RuntimeSet:
    """Routes every call about a container to the runtime that created it."""

    def __init__(self, default: str, runtimes: dict[str, Any]) -> None:
        if default not in runtimes:
            raise ValueError(f"default runtime {default!r} is not among {sorted(runtimes)}")
        self.default = default
        self.runtimes = dict(runtimes)
        self.name = str(getattr(runtimes[default], "name", default))
        self._owner: dict[str, str] = {}

    def names(self) -> list[str]:
        return sorted(self.runtimes)

    def check(self, name: str) -> str:
        """The runtime's name, or Docker's 400 for one the daemon does not know."""
        name = name or self.default
        if name not in self.runtimes:
            raise InvalidParameter(f"unknown or invalid runtime name: {name}")
        return name

    def assign(self, container_id: str, name: str) -> None:
        """Record which runtime owns a container (a restored daemon learns it from its state)."""
        self._owner[container_id] = self.check(name)

    def of(self, container_id: str) -> Any:
        return self.runtimes[self._owner.get(container_id, self.default)]

    # -- the Runtime protocol ---------------------------------------------------------------
    def create(self, spec: ContainerSpec, parent: SpanContext) -> Proc:
        self.assign(spec.id, spec.runtime)
        result = yield from self.of(spec.id).create(spec, parent)
        return result

    def start(self, container_id: str, io: ProcessIO, parent: SpanContext, replay_until: float = -1.0) -> Proc:
        result = yield from self.of(container_id).start(container_id, io, parent, replay_until)
        return result

    def kill(self, container_id: str, signal: int) -> None:
        self.of(container_id).kill(container_id, signal)

    def pause(self, container_id: str, parent: SpanContext) -> Proc:
        yield from self.of(container_id).pause(container_id, parent)

    def resume(self, container_id: str, parent: SpanContext) -> Proc:
        yield from self.of(container_id).resume(container_id, parent)

    def delete(self, container_id: str, parent: SpanContext) -> Proc:
        yield from self.of(container_id).delete(container_id, parent)
        self._owner.pop(container_id, None)

    def exec(self, container_id: str, process: ProcessSpec, io: ProcessIO, parent: SpanContext) -> Proc:
        result = yield from self.of(container_id).exec(container_id, process, io, parent)
        return result

    def changes(self, container_id: str) -> list[tuple[str, str]]:
        result: list[tuple[str, str]] = self.of(container_id).changes(container_id)
        return result

    def top(self, container_id: str) -> list[ProcessRow]:
        result: list[ProcessRow] = self.of(container_id).top(container_id)
        return result

    def stats(self, container_id: str) -> ResourceUsage:
        result: ResourceUsage = self.of(container_id).stats(container_id)
        return result

    def export_upper(self, container_id: str) -> bytes:
        result: bytes = self.of(container_id).export_upper(container_id)
        return result

    def read_file(self, container_id: str, path: str) -> bytes | None:
        result: bytes | None = self.of(container_id).read_file(container_id, path)
        return result

    # -- backend extras (live restore, networks, snapshots) --------------------------------------
    def restore(
        self, container_ids: list[str], io_for: Callable[[str], ProcessIO | None] | None = None
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, runtime in self.runtimes.items():
            mine = [cid for cid in container_ids if self._owner.get(cid, self.default) == name]
            if mine:
                found.update(runtime.restore(mine, io_for))
        return found

    def close(self) -> None:
        for runtime in self.runtimes.values():
            close = getattr(runtime, "close", None)
            if callable(close):
                close()

    def __getattr__(self, attr: str) -> Any:
        """Other backend methods: routed by a leading container id, else the default runtime's."""
        target = getattr(self.runtimes[self.default], attr)
        if not callable(target):
            return target

        def route(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], str) and args[0] in self._owner:
                return getattr(self.of(args[0]), attr)(*args, **kwargs)
            return target(*args, **kwargs)

        return route
