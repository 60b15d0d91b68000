"""An in-memory content store for worlds that persist nothing (tests, benchmarks, demos)."""

from __future__ import annotations

from simulator.model.digest import sha256_digest
from simulator.model.errors import InvalidParameter, NotFound


class MemoryContentStore:
    """Blobs by digest in a dict, with the same verification as the on-disk store."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def has(self, digest: str) -> bool:
        return digest in self._blobs

    def put(self, data: bytes, expected: str | None = None) -> str:
        digest = sha256_digest(data)
        if expected is not None and expected != digest:
            raise InvalidParameter(f"digest mismatch: expected {expected}, got {digest}")
        self._blobs[digest] = data
        return digest

    def get(self, digest: str) -> bytes:
        try:
            return self._blobs[digest]
        except KeyError:
            raise NotFound(f"content {digest}: not found") from None

    def delete(self, digest: str) -> None:
        self._blobs.pop(digest, None)

    def digests(self) -> list[str]:
        return sorted(self._blobs)
