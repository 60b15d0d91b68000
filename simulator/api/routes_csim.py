"""csim's own read-only routes: what Docker's API does not expose but a learner wants to see.

Docker answers ``GET /containers/{id}/changes`` for a container's writable
layer, but has no route listing the files of an image layer (``dive`` reads
the image tarball for that). The TUI reads only the API, so csim adds
``GET /csim/layers/{diff_id}``: the paths a layer adds or replaces and the
ones it deletes (whiteouts), read from the layer's tar. It changes nothing.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from typing import Any

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.api.routes_system import instant
from simulator.daemon.core import Proc
from simulator.daemon.daemon import Daemon
from simulator.model.errors import InvalidParameter, NotFound
from simulator.trace.tracer import SpanContext

MAX_FILES = 5000
"""Entries listed per layer; a larger layer answers ``Truncated: true``."""

_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
}


def layer_files(data: bytes, limit: int = MAX_FILES) -> tuple[list[dict[str, Any]], bool]:
    """The entries of a layer tar as ``{"Path", "Type", "Size", "Deleted"}`` rows.

    A whiteout ``dir/.wh.name`` becomes a deleted ``dir/name``; an opaque
    marker ``dir/.wh..wh..opq`` a deleted ``dir/`` (its lower contents hidden).

    Raises:
        InvalidParameter: for bytes that are not a tar.
    """
    rows: list[dict[str, Any]] = []
    truncated = False
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for info in tar:
                if len(rows) >= limit:
                    truncated = True
                    break
                path = info.name.removeprefix("./").rstrip("/")
                if not path:
                    continue
                head, _, base = path.rpartition("/")
                if base == _OPAQUE:
                    rows.append({"Path": (head or ".") + "/", "Type": "opaque", "Size": 0, "Deleted": True})
                elif base.startswith(_WHITEOUT):
                    gone = (head + "/" if head else "") + base[len(_WHITEOUT) :]
                    rows.append({"Path": gone, "Type": "whiteout", "Size": 0, "Deleted": True})
                else:
                    kind = _TYPES.get(info.type, "other")
                    rows.append({"Path": path, "Type": kind, "Size": int(info.size), "Deleted": False})
    except (tarfile.TarError, ValueError) as exc:
        raise InvalidParameter("archive/tar: invalid tar header") from exc
    return rows, truncated


@instant
def layer(d: Daemon, req: ApiRequest, ctx: SpanContext, diff_id: str = "", **_: Any) -> ApiResponse:
    """``GET /csim/layers/{diff_id}``: the files of one layer."""
    if not diff_id.startswith("sha256:"):
        diff_id = "sha256:" + diff_id
    try:
        data = d.images.layer_tar(diff_id)
    except (KeyError, FileNotFoundError) as exc:
        raise NotFound(f"layer does not exist: {diff_id}") from exc
    rows, truncated = layer_files(data)
    return ApiResponse(200, {"DiffID": diff_id, "Files": rows, "Truncated": truncated})


ROUTES: list[tuple[str, str, Callable[..., Proc]]] = [
    ("GET", r"/csim/layers/(?P<diff_id>(sha256:)?[0-9a-f]{64})", layer),
]
