"""Turning a container's changes (or a prepared layer) into a new image, and ``docker build``.

``docker commit`` and every step of the legacy builder do the same thing:
take the parent image, add the layer of what changed (the container's upper
directory, exported as a tar with whiteouts), write a new config whose
history has one more line, and store the result under its content address.
A step that changed no file adds a history line marked ``empty_layer`` and
no layer, which is why ``docker history`` shows ``0B`` for ``ENV`` or ``CMD``.

The builder itself lives in :mod:`simulator.daemon.build.builder`; this mixin
gives it the primitive (:meth:`CommitMixin.commit_image`) and exposes
:meth:`CommitMixin.build_image` as a daemon operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simulator.daemon.core import DaemonCore, Proc
from simulator.model.digest import sha256_digest
from simulator.model.image import (
    ImageRecord,
    LayerRecord,
    canonical_json,
    history_entry,
)
from simulator.model.layer import gzip_layer, read_layer_tar, unpacked_size
from simulator.model.timefmt import format_timestamp_rfc3339nano
from simulator.trace.tracer import SpanContext


class CommitMixin(DaemonCore):
    """Commit a layer on top of an image; run a Dockerfile build."""

    def store_layer(self, layer_tar: bytes) -> LayerRecord | None:
        """Put an uncompressed layer tar in the content store; None if it changes nothing."""
        entries = read_layer_tar(layer_tar)
        if not entries:
            return None
        diff_id = sha256_digest(layer_tar)
        known = self.images.blob_for_diff_id(diff_id)
        if known is not None and self.images.content.has(known.blob_digest):
            return known
        blob = gzip_layer(layer_tar)
        digest = self.images.content.put(blob)
        size = unpacked_size(entries)
        return LayerRecord(diff_id, digest, len(blob), size, len(blob))

    def commit_image(
        self,
        parent_image: ImageRecord | None,
        layer_tar: bytes | None,
        config: Mapping[str, Any],
        container_config: Mapping[str, Any],
        created_by: str,
        *,
        container_id: str = "",
        author: str = "",
        comment: str = "",
    ) -> ImageRecord:
        """Store the image ``parent_image`` + ``layer_tar`` with ``config``; returns its record.

        Args:
            parent_image: the image the step ran on (None for ``FROM scratch``).
            layer_tar: the step's changes; None or an empty tar adds no layer.
            config: the new image's ``config`` object (Env, Cmd, ...).
            container_config: the config of the step's container; the build
                cache compares it (its ``Cmd`` is the step, e.g. ``#(nop) ENV``).
            created_by: the history line (``/bin/sh -c #(nop)  ENV A=b``).
            container_id: the container the step ran in, if any.
            author: ``MAINTAINER``'s value.
            comment: a history comment.
        """
        layer = self.store_layer(layer_tar) if layer_tar else None
        layers = (*(parent_image.layers if parent_image else ()), *([layer] if layer else []))
        created = format_timestamp_rfc3339nano(self.wall())
        parent_config = parent_image.config if parent_image is not None else {}
        history = [dict(h) for h in parent_config.get("history") or []]
        history.append(history_entry(created_by, empty_layer=layer is None, comment=comment, created=created))
        document: dict[str, Any] = {
            "architecture": parent_config.get("architecture", "amd64"),
            "config": dict(config),
            "container_config": dict(container_config),
            "created": created,
            "history": history,
            "os": parent_config.get("os", "linux"),
            "rootfs": {"type": "layers", "diff_ids": [la.diff_id for la in layers]},
        }
        if container_id:
            document["container"] = container_id
        if parent_image is not None:
            document["parent"] = parent_image.id
        author = author or str(parent_config.get("author") or "")
        if author:
            document["author"] = author
        config_bytes = canonical_json(document)
        image_id = self.images.ensure_config_blob(config_bytes)
        record = ImageRecord(image_id, document, config_bytes, None, tuple(layers))
        return self.images.add(record, self.now())

    def build_image(
        self,
        parent: SpanContext,
        context_tar: bytes,
        options: Any,
        emit: Callable[[dict[str, Any]], None],
    ) -> Proc:
        """``POST /build``: run a Dockerfile from a tar context; returns the image id.

        ``options`` is a :class:`simulator.daemon.build.builder.BuildOptions`;
        ``emit`` receives Docker's JSON messages (``stream``, ``aux``).
        Errors raised before the first step (parse errors, a bad target) are
        raised before anything is emitted.
        """
        from simulator.daemon.build.builder import Builder

        builder = Builder(self, options, emit)  # type: ignore[arg-type]
        builder.prepare(context_tar)
        image_id = yield from builder.run(parent)
        return image_id
