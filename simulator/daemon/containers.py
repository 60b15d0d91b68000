"""Container records and the name/id/prefix lookup Docker uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.model.errors import Conflict, InvalidParameter, NotFound
from simulator.model.state import ContainerState


@dataclass(slots=True)
class LogEntry:
    """One json-file log record: world time, stream (stdout/stderr), bytes."""

    time: float
    stream: str
    data: bytes


@dataclass(slots=True)
class Container:
    """Everything the daemon keeps about one container.

    ``config`` and ``host_config`` are Docker's own JSON objects (``Config``
    and ``HostConfig`` in inspect), so the API serves them as they are.
    """

    id: str
    name: str
    created: float
    image: str
    image_id: str
    config: dict[str, Any]
    host_config: dict[str, Any]
    path: str
    args: list[str]
    state: ContainerState = field(default_factory=ContainerState)
    restart_count: int = 0
    manually_stopped: bool = False
    has_been_manually_stopped: bool = False
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    logs: list[LogEntry] = field(default_factory=list)
    runtime_created: bool = False
    last_backoff: float = 0.0
    execs: list[str] = field(default_factory=list)
    published: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """The host ports its ``-p`` bindings hold while it runs (``daemon.ports``)."""

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def tty(self) -> bool:
        return bool(self.config.get("Tty"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created,
            "image": self.image,
            "image_id": self.image_id,
            "config": self.config,
            "host_config": self.host_config,
            "path": self.path,
            "args": self.args,
            "state": self.state.to_dict(),
            "restart_count": self.restart_count,
            "manually_stopped": self.manually_stopped,
            "has_been_manually_stopped": self.has_been_manually_stopped,
            "networks": self.networks,
            "mounts": self.mounts,
            "logs": [[e.time, e.stream, e.data.decode("utf-8", "surrogateescape")] for e in self.logs],
            "runtime_created": self.runtime_created,
            "published": self.published,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Container:
        data = dict(data)
        data["state"] = ContainerState.from_dict(data["state"])
        data["logs"] = [LogEntry(t, s, d.encode("utf-8", "surrogateescape")) for t, s, d in data["logs"]]
        return cls(**data)


class ContainerStore:
    """Containers by id, with Docker's lookup order: full id, exact name, unique id prefix."""

    def __init__(self) -> None:
        self._by_id: dict[str, Container] = {}
        self._names: dict[str, str] = {}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, container: Container) -> None:
        self.reserve_name(container.name, container.id)
        self._by_id[container.id] = container

    def remove(self, container: Container) -> None:
        self._by_id.pop(container.id, None)
        if self._names.get(container.name) == container.id:
            del self._names[container.name]

    def reserve_name(self, name: str, cid: str) -> None:
        owner = self._names.get(name)
        if owner is not None and owner != cid:
            raise Conflict(
                f'Conflict. The container name "/{name}" is already in use by container '
                f'"{owner}". You have to remove (or rename) that container to be able to reuse '
                "that name."
            )
        self._names[name] = cid

    def release_name(self, name: str) -> None:
        self._names.pop(name, None)

    def name_taken(self, name: str) -> bool:
        return name in self._names

    def get(self, ref: str) -> Container:
        """Find a container as moby's ``GetContainer`` does, or raise ``No such container``."""
        found = self.find(ref)
        if found is None:
            raise NotFound(f"No such container: {ref}")
        return found

    def find(self, ref: str) -> Container | None:
        if not ref:
            return None
        if ref in self._by_id:
            return self._by_id[ref]
        name = ref.lstrip("/")
        if name in self._names:
            return self._by_id.get(self._names[name])
        matches = [c for cid, c in self._by_id.items() if cid.startswith(ref)]
        if len(matches) > 1:
            raise InvalidParameter(f"multiple IDs found with provided prefix: {ref}")
        return matches[0] if matches else None

    def all(self) -> list[Container]:
        return sorted(self._by_id.values(), key=lambda c: (c.created, c.id))
