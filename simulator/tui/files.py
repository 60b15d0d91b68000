"""What a layer or a container's writable layer changed, as a dive-like list of A/C/D paths.

An image layer's tar only lists the paths it writes and the whiteouts it
leaves; whether a written path is *added* or *changed* depends on the layers
under it, the way dive works it out. A container's changes come ready-made
from ``GET /containers/{id}/changes``. Both become ``FileRow`` lists the file
view draws. Nothing here imports Textual; reads go through the backend (a
layer's files via csim's read-only ``GET /csim/layers/{diff_id}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.tui.backend import BackendError

if TYPE_CHECKING:
    from simulator.tui.backend import Backend
    from simulator.tui.snapshot import ImageView, WorldSnapshot

__all__ = [
    "KIND_COLOURS",
    "FileRow",
    "FileSource",
    "LayerFiles",
    "container_changes",
    "file_sources",
    "layer_changes",
]

KIND_COLOURS: dict[str, str] = {"A": "#38b000", "C": "#ffb000", "D": "#e5383b"}
"""A added (green), C changed (yellow), D deleted (red), as ``docker diff`` letters."""

_DOCKER_KINDS = {0: "C", 1: "A", 2: "D"}


@dataclass(frozen=True, slots=True)
class FileRow:
    """One changed path."""

    kind: str
    path: str
    size: int = 0
    type: str = "file"


@dataclass(frozen=True, slots=True)
class FileSource:
    """Something whose files can be listed: an image layer or a container's upper layer.

    Attributes:
        key: ``layer:<image id>:<index>`` or ``container:<id>``.
        label: what the list shows.
    """

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class LayerFiles:
    """A layer's own entries (from ``GET /csim/layers``)."""

    entries: tuple[tuple[str, str, int, bool], ...]
    """``(path, type, size, deleted)``."""
    truncated: bool = False


def file_sources(snapshot: WorldSnapshot) -> list[FileSource]:
    """Containers first (their upper layers), then every image's layers, base first."""
    sources = [FileSource(f"container:{c.id}", f"▣ {c.name}  ({c.state})") for c in snapshot.containers]
    for image in snapshot.images:
        for i, layer in enumerate(image.layers):
            short = layer.diff_id.removeprefix("sha256:")[:8]
            sources.append(FileSource(f"layer:{image.id}:{i}", f"≡ {image.label}  {i + 1}/{len(image.layers)} {short}"))
    return sources


def read_layer(backend: Backend, diff_id: str) -> LayerFiles:
    """One layer's entries.

    Raises:
        BackendError: when the daemon cannot list it (an older daemon, or no such layer).
    """
    reply = backend.api("GET", f"/csim/layers/{diff_id}")
    body = reply.body
    if reply.status != 200 or not isinstance(body, Mapping):
        message = body.get("message") if isinstance(body, Mapping) else body
        raise BackendError(f"{reply.status}: {message}")
    entries = []
    for row in body.get("Files") or []:
        if isinstance(row, Mapping):
            entries.append(
                (
                    str(row.get("Path", "")),
                    str(row.get("Type", "")),
                    int(row.get("Size") or 0),
                    bool(row.get("Deleted")),
                )
            )
    return LayerFiles(tuple(entries), bool(body.get("Truncated")))


def layer_changes(lower: list[LayerFiles], layer: LayerFiles) -> list[FileRow]:
    """``layer``'s paths as A/C/D against the layers under it (``lower``, base first).

    A directory that already existed below is left out (it is only a parent
    of what changed), as ``docker diff`` prints the changed files.
    """
    present: set[str] = set()
    for below in lower:
        for path, _type, _size, deleted in below.entries:
            if deleted:
                gone = path.rstrip("/")
                present = {p for p in present if p != gone and not p.startswith(gone + "/")} if gone != "." else set()
            else:
                present.add(path)
    rows = []
    for path, type_, size, deleted in layer.entries:
        if deleted:
            rows.append(FileRow("D", "/" + path.lstrip("/"), 0, type_))
        elif path in present:
            if type_ != "dir":
                rows.append(FileRow("C", "/" + path, size, type_))
        else:
            rows.append(FileRow("A", "/" + path, size, type_))
    return rows


def container_changes(body: Any) -> list[FileRow]:
    """``GET /containers/{id}/changes`` rows (``Kind`` 0 C, 1 A, 2 D) as file rows."""
    rows = []
    for row in body or []:
        if isinstance(row, Mapping):
            kind = _DOCKER_KINDS.get(row.get("Kind", -1), "?")
            rows.append(FileRow(kind, str(row.get("Path", ""))))
    return rows


def read_source(
    backend: Backend, key: str, images: tuple[ImageView, ...], cache: dict[str, LayerFiles]
) -> list[FileRow]:
    """The rows for one ``FileSource`` key; ``cache`` keeps layers by diff id (they never change).

    Raises:
        BackendError: when the backend cannot answer (shown, not raised further).
    """
    kind, _, rest = key.partition(":")
    if kind == "container":
        reply = backend.api("GET", f"/containers/{rest}/changes")
        if reply.status != 200:
            message = reply.body.get("message") if isinstance(reply.body, Mapping) else reply.body
            raise BackendError(str(message))
        return container_changes(reply.body)
    image_id, _, index_text = rest.rpartition(":")
    image = next((i for i in images if i.id == image_id), None)
    if image is None or not index_text.isdigit() or int(index_text) >= len(image.layers):
        raise BackendError(f"no such layer: {key}")
    index = int(index_text)
    lists = []
    for layer in image.layers[: index + 1]:
        if layer.diff_id not in cache:
            cache[layer.diff_id] = read_layer(backend, layer.diff_id)
        lists.append(cache[layer.diff_id])
    return layer_changes(lists[:-1], lists[-1])
