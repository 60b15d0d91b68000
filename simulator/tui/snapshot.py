"""The world as the state panels draw it, read from the Engine API only.

After each request completes the TUI keeps one ``WorldSnapshot`` (containers,
images with their layers, networks, volumes), so that the timeline cursor can
show the world as it was. Between two snapshots the container states are
replayed from Docker events (``create``, ``start``, ``die``, ``destroy``...),
which is how stepping back through ``run`` shows a container going from
running to created to not existing. Nothing here imports Textual.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from simulator.trace.events import DockerEvent

if TYPE_CHECKING:
    from simulator.tui.backend import Backend

__all__ = [
    "CONTAINER_STATES",
    "ContainerView",
    "ImageView",
    "LayerView",
    "NetworkView",
    "WorldSnapshot",
    "apply_events",
    "last_transition",
    "layer_share_counts",
    "take_snapshot",
]

CONTAINER_STATES: tuple[str, ...] = (
    "created",
    "running",
    "paused",
    "restarting",
    "removing",
    "exited",
    "dead",
)
"""Docker's seven status words, in lifecycle order."""

# Docker event action -> the state the container is in afterwards.
_EVENT_STATE: dict[str, str] = {
    "create": "created",
    "start": "running",
    "restart": "running",
    "unpause": "running",
    "pause": "paused",
    "die": "exited",
    "oom": "exited",
}


@dataclass(frozen=True, slots=True)
class ContainerView:
    """One row of ``docker ps -a``, as the containers panel draws it."""

    id: str
    name: str
    image: str
    state: str
    status: str
    ports: str = ""
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    """Named volumes mounted (``docker ps``'s Mounts of type volume)."""


@dataclass(frozen=True, slots=True)
class LayerView:
    """One layer of an image: its diff id and what made it."""

    diff_id: str
    size: int | None
    created_by: str = ""


@dataclass(frozen=True, slots=True)
class ImageView:
    """One image with its layers, base layer first."""

    id: str
    tags: tuple[str, ...]
    size: int
    layers: tuple[LayerView, ...]

    @property
    def label(self) -> str:
        return self.tags[0] if self.tags else self.id.removeprefix("sha256:")[:12]


@dataclass(frozen=True, slots=True)
class NetworkView:
    """One network: name, driver and subnet."""

    name: str
    driver: str = ""
    subnet: str = ""


@dataclass(frozen=True, slots=True)
class WorldSnapshot:
    """Containers, images, networks and volumes at one moment.

    Attributes:
        event_seq: how many Docker events the TUI had received when this was
            taken; events after it are not yet reflected.
    """

    containers: tuple[ContainerView, ...] = ()
    images: tuple[ImageView, ...] = ()
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    event_seq: int = 0
    network_views: tuple[NetworkView, ...] = ()

    def container(self, name_or_id: str) -> ContainerView | None:
        for c in self.containers:
            if name_or_id in (c.name, c.id) or (len(name_or_id) >= 4 and c.id.startswith(name_or_id)):
                return c
        return None


def _ports(raw: Any) -> str:
    out = []
    for port in raw or []:
        if not isinstance(port, Mapping):
            continue
        private, proto = port.get("PrivatePort"), port.get("Type", "tcp")
        public = port.get("PublicPort")
        out.append(f"{public}->{private}/{proto}" if public else f"{private}/{proto}")
    return ", ".join(out)


def _container(raw: Mapping[str, Any]) -> ContainerView:
    names = raw.get("Names") or [""]
    return ContainerView(
        id=str(raw.get("Id", "")),
        name=str(names[0]).lstrip("/"),
        image=str(raw.get("Image", "")),
        state=str(raw.get("State", "")),
        status=str(raw.get("Status", "")),
        ports=_ports(raw.get("Ports")),
        networks=tuple(str(n) for n in ((raw.get("NetworkSettings") or {}).get("Networks") or {})),
        volumes=tuple(
            str(m.get("Name", ""))
            for m in raw.get("Mounts") or ()
            if isinstance(m, Mapping) and m.get("Type") == "volume" and m.get("Name")
        ),
    )


def _network(raw: Mapping[str, Any]) -> NetworkView:
    configs = (raw.get("IPAM") or {}).get("Config") or []
    subnet = next((str(c.get("Subnet", "")) for c in configs if isinstance(c, Mapping) and c.get("Subnet")), "")
    return NetworkView(str(raw.get("Name", "")), str(raw.get("Driver", "")), subnet)


def _layers(inspect: Any, history: Any) -> tuple[LayerView, ...]:
    diff_ids = []
    if isinstance(inspect, Mapping):
        diff_ids = list((inspect.get("RootFS") or {}).get("Layers") or [])
    entries = list(reversed(history)) if isinstance(history, list) else []
    sized = [e for e in entries if isinstance(e, Mapping) and int(e.get("Size") or 0) > 0]
    if len(sized) == len(diff_ids):
        return tuple(
            LayerView(str(d), int(e.get("Size") or 0), str(e.get("CreatedBy", "")))
            for d, e in zip(diff_ids, sized, strict=True)
        )
    return tuple(LayerView(str(d), None) for d in diff_ids)


def take_snapshot(backend: Backend, event_seq: int = 0) -> WorldSnapshot:
    """Read the world through the Engine API.

    Raises:
        simulator.tui.backend.BackendError: when the backend cannot be reached.
    """
    containers = backend.api("GET", "/containers/json", {"all": "1"}).body or []
    images_raw = backend.api("GET", "/images/json").body or []
    images = []
    for raw in images_raw:
        image_id = str(raw.get("Id", ""))
        inspect = backend.api("GET", f"/images/{image_id}/json").body
        history = backend.api("GET", f"/images/{image_id}/history").body
        tags = tuple(t for t in raw.get("RepoTags") or () if t != "<none>:<none>")
        images.append(ImageView(image_id, tags, int(raw.get("Size") or 0), _layers(inspect, history)))
    networks = backend.api("GET", "/networks").body or []
    volumes_body = backend.api("GET", "/volumes").body or {}
    volumes = volumes_body.get("Volumes") or [] if isinstance(volumes_body, Mapping) else []
    return WorldSnapshot(
        containers=tuple(_container(c) for c in containers if isinstance(c, Mapping)),
        images=tuple(sorted(images, key=lambda i: i.label)),
        networks=tuple(str(n.get("Name", "")) for n in networks if isinstance(n, Mapping)),
        network_views=tuple(_network(n) for n in networks if isinstance(n, Mapping)),
        volumes=tuple(str(v.get("Name", "")) for v in volumes if isinstance(v, Mapping)),
        event_seq=event_seq,
    )


def apply_events(
    base: WorldSnapshot,
    events: Iterable[DockerEvent],
    known: WorldSnapshot | None = None,
) -> WorldSnapshot:
    """``base`` with the container events replayed on it.

    Args:
        base: the state before the events.
        events: container events, oldest first; other types are ignored.
        known: a later snapshot to borrow details (ports, image) from for
            containers created by these events.
    """
    rows: dict[str, ContainerView] = {c.id: c for c in base.containers}
    images = list(base.images)
    for event in events:
        if event.type == "image" and event.action == "pull" and known is not None:
            images += [i for i in known.images if i not in images and _names(i, event.actor_id)]
        if event.type != "container":
            continue
        cid = event.actor_id
        if event.action == "destroy":
            rows.pop(cid, None)
            continue
        new_state = _EVENT_STATE.get(event.action.split(":", 1)[0])
        if new_state is None:
            continue
        row = rows.get(cid)
        if row is None:
            later = known.container(cid) if known is not None else None
            row = later or ContainerView(
                id=cid,
                name=event.attributes.get("name", cid[:12]),
                image=event.attributes.get("image", ""),
                state=new_state,
                status="",
            )
        status = new_state.capitalize()
        if new_state == "exited":
            status = f"Exited ({event.attributes.get('exitCode', '0')})"
        elif new_state == "running":
            status = "Up"
        rows[cid] = replace(row, state=new_state, status=status)
    return replace(
        base,
        containers=tuple(rows.values()),
        images=tuple(sorted(images, key=lambda i: i.label)),
    )


def _names(image: ImageView, reference: str) -> bool:
    """Whether ``image`` carries ``reference`` (``nginx``, ``nginx:latest``, ``docker.io/...``)."""
    wanted = reference.removeprefix("docker.io/").removeprefix("library/")
    if ":" not in wanted.rsplit("/", 1)[-1] and "@" not in wanted:
        wanted += ":latest"
    return wanted in image.tags


def layer_share_counts(images: Iterable[ImageView]) -> Counter[str]:
    """How many images use each layer (diff id)."""
    counts: Counter[str] = Counter()
    for image in images:
        counts.update({layer.diff_id for layer in image.layers})
    return counts


_ACTION_STATE = {
    "create": "created",
    "start": "running",
    "restart": "running",
    "unpause": "running",
    "pause": "paused",
    "die": "exited",
    "destroy": "removed",
}


def last_transition(name: str, events: list[DockerEvent]) -> tuple[str, str] | None:
    """The container's last two distinct states from its events (``removed`` before its first), if any."""
    states: list[str] = []
    for event in events:
        if event.type != "container" or event.attributes.get("name") != name:
            continue
        new = _ACTION_STATE.get(event.action)
        if new is not None and (not states or states[-1] != new):
            states.append(new)
    if len(states) >= 2:
        return states[-2], states[-1]
    if states:
        return "removed", states[-1]
    return None
