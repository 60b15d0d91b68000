"""``docker load`` and ``docker save``: images in and out of tarballs, and the bootstrap image."""

from __future__ import annotations

from typing import Any

from simulator.daemon.archive import ArchiveImage
from simulator.daemon.core import DaemonCore, Proc
from simulator.model.digest import sha256_digest
from simulator.model.errors import DockerError
from simulator.model.image import ImageRecord, LayerRecord, parse_json_document
from simulator.model.reference import normalize
from simulator.trace.tracer import SpanContext


class ImageArchiveMixin(DaemonCore):
    """Load, save, and import images that arrive without a registry."""

    def add_archive_image(self, image: ArchiveImage) -> tuple[ImageRecord, list[str]]:
        """Store one image from a tarball; returns the record and the tags it received."""
        image.verify()
        config = parse_json_document(image.config, "image config")
        layers = []
        for diff_id, tar in zip(image.diff_ids, image.layers, strict=True):
            blob_digest = sha256_digest(tar)
            if not self.images.content.has(blob_digest):
                self.images.content.put(tar, blob_digest)
            layers.append(LayerRecord(diff_id, blob_digest, len(tar), len(tar), len(tar)))
        self.images.ensure_config_blob(image.config)
        record = ImageRecord(image.id, config, image.config, None, tuple(layers))
        record = self.images.add(record, self.now())
        tagged = []
        for tag in image.repo_tags:
            ref = normalize(tag)
            previous = self.images.set_ref(ref, record.id)
            if previous and previous != record.id:
                self.event("image", "untag", previous, name=previous)
            tagged.append(ref.familiar_string())
        return record, tagged

    def load_images(self, parent: SpanContext, images: list[ArchiveImage]) -> Proc:
        """``POST /images/load``: the lines ``docker load`` prints."""
        ctx = self.span("ImageLoad", parent, images=len(images))
        lines: list[str] = []
        try:
            for image in images:
                record, tagged = self.add_archive_image(image)
                yield self.work(self.params.op)
                if tagged:
                    lines.extend(f"Loaded image: {t}" for t in tagged)
                else:
                    lines.append(f"Loaded image ID: {record.id}")
                self.event("image", "load", record.id, name=record.id)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx)
        return lines

    def archive_images(self, names: list[str]) -> list[ArchiveImage]:
        """The images ``docker save`` writes, with the tags the names select."""
        out: list[ArchiveImage] = []
        for name in names:
            image = self.images.get(name)
            layers = [self.images.layer_tar(diff_id) for diff_id in image.diff_ids]
            tags: list[str] = []
            try:
                ref = normalize(name)
                if self.images.refs.get(str(ref)) == image.id:
                    tags = [ref.familiar_string()]
            except DockerError:
                pass
            if not tags and not name.startswith("sha256:"):
                tags = self.images.repo_tags(image.id)
            out.append(ArchiveImage(bytes(image.config_bytes), layers, tags))
        return out

    def has_image(self, name: str) -> bool:
        return self.images.find(name) is not None

    def image_config(self, name: str) -> dict[str, Any]:
        return dict(self.images.get(name).config)
