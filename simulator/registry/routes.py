"""Map a ``/v2/...`` request path onto the endpoint it names.

Repository names contain slashes, so the endpoint is recognised from the end
of the path (``.../manifests/<ref>``, ``.../blobs/uploads/<uuid>``) and the
rest is the name. The raw request target is parsed, before any URL
normalisation could fold ``a/../b`` into ``b``: a name with ``..`` must be
refused, not silently redirected to another repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

BASE = "base"
CATALOG = "catalog"
TAGS = "tags"
MANIFEST = "manifest"
UPLOADS = "uploads"
UPLOAD = "upload"
BLOB = "blob"

METHODS: dict[str, frozenset[str]] = {
    BASE: frozenset({"GET", "HEAD"}),
    CATALOG: frozenset({"GET"}),
    TAGS: frozenset({"GET"}),
    MANIFEST: frozenset({"GET", "HEAD", "PUT", "DELETE"}),
    UPLOADS: frozenset({"POST"}),
    UPLOAD: frozenset({"GET", "PATCH", "PUT", "DELETE"}),
    BLOB: frozenset({"GET", "HEAD", "DELETE"}),
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Route:
    """An endpoint with its repository name and argument (reference, digest or uuid)."""

    kind: str
    name: str = ""
    arg: str = ""


def parse_route(raw_target: str) -> Route | None:
    """Recognise the endpoint of a raw request target (path and optional query).

    Args:
        raw_target: the request line's target, undecoded (``/v2/a/b/blobs/sha256:..?x=1``).

    Returns:
        The route, or None when the path is not part of the ``/v2/`` API. The
        name is returned unvalidated; the caller checks it.
    """
    path = raw_target.split("?", 1)[0].split("#", 1)[0]
    if path in ("/v2", "/v2/"):
        return Route(BASE)
    if not path.startswith("/v2/"):
        return None
    parts = [unquote(p) for p in path[len("/v2/") :].split("/")]
    if parts in (["_catalog"], ["_catalog", ""]):
        return Route(CATALOG)

    def name(count: int) -> str:
        return "/".join(parts[: len(parts) - count])

    if len(parts) >= 3 and parts[-2:] == ["tags", "list"]:
        return Route(TAGS, name(2))
    if len(parts) >= 3 and parts[-2] == "manifests" and parts[-1]:
        return Route(MANIFEST, name(2), parts[-1])
    if len(parts) >= 4 and parts[-3:] == ["blobs", "uploads", ""]:
        return Route(UPLOADS, name(3))
    if len(parts) >= 3 and parts[-2:] == ["blobs", "uploads"]:
        return Route(UPLOADS, name(2))
    if len(parts) >= 4 and parts[-3:-1] == ["blobs", "uploads"]:
        return Route(UPLOAD, name(3), parts[-1])
    if len(parts) >= 3 and parts[-2] == "blobs" and parts[-1]:
        return Route(BLOB, name(2), parts[-1])
    return None
