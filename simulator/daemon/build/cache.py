"""The legacy builder's cache: an existing child image that ran the same step.

dockerd 20.10 keeps no separate cache database. Before a step it looks at
the images whose parent is the current image and compares their
``container_config`` with the one the step would run: same parent, same
``Cmd`` (for COPY/ADD that text holds the checksum of the copied files,
``#(nop) COPY file:<hex> in /app/``; for RUN it holds the build args,
``|1 V=2 /bin/sh -c ...``), same Env, WorkingDir, Labels... A match is
reused (``---> Using cache``); the first miss makes every later step miss
too, because their parent is new. Since the cache is made of images, it
survives a daemon restart with them, and removing the images empties it.

Public API: :class:`BuildCache` (``probe``, ``remember``), :func:`cache_key`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from simulator.model.image import ImageRecord, canonical_json


class ImageIndex(Protocol):
    """The part of the image service the cache reads."""

    images: dict[str, ImageRecord]
    created_at: dict[str, float]


def cache_key(parent_id: str, container_config: Mapping[str, Any]) -> tuple[str, bytes]:
    """What two steps must share to be the same step (``Hostname`` is not compared)."""
    config = {k: v for k, v in container_config.items() if k != "Hostname"}
    return parent_id, canonical_json(config)


class BuildCache:
    """An index from (parent image, step config) to the newest image built that way.

    Args:
        images: the daemon's image service; indexed once, on first use.
    """

    def __init__(self, images: ImageIndex) -> None:
        self.images = images
        self._index: dict[tuple[str, bytes], str] | None = None

    def _build_index(self) -> dict[tuple[str, bytes], str]:
        index: dict[tuple[str, bytes], str] = {}
        ordered = sorted(self.images.images.values(), key=lambda i: (self.images.created_at.get(i.id, 0.0), i.id))
        for image in ordered:
            key = self._key_of(image)
            if key is not None:
                index[key] = image.id
        return index

    @staticmethod
    def _key_of(image: ImageRecord) -> tuple[str, bytes] | None:
        container_config = image.config.get("container_config")
        if not isinstance(container_config, Mapping) or not container_config.get("Cmd"):
            return None
        return cache_key(str(image.config.get("parent") or ""), container_config)

    def probe(self, parent_id: str, container_config: Mapping[str, Any]) -> ImageRecord | None:
        """The cached image for this step on this parent, if it still exists."""
        if self._index is None:
            self._index = self._build_index()
        image_id = self._index.get(cache_key(parent_id, container_config))
        if image_id is None:
            return None
        return self.images.images.get(image_id)

    def remember(self, image: ImageRecord) -> None:
        """Index an image the build just committed."""
        if self._index is None:
            return
        key = self._key_of(image)
        if key is not None:
            self._index[key] = image.id
