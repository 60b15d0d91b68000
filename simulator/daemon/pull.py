"""``docker pull``: resolve a reference, fetch missing layers (three at a time),
verify them, extract in order, and say so in Docker's progress messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import simpy

from simulator.daemon.core import DaemonCore, Proc
from simulator.model.digest import sha256_digest, short_id
from simulator.model.errors import DockerError, InvalidParameter, NotFound
from simulator.model.image import (
    INDEX_MEDIA_TYPES,
    Descriptor,
    image_record_from_manifest,
    manifest_config,
    manifest_layers,
    parse_json_document,
)
from simulator.model.reference import Reference, normalize
from simulator.trace.tracer import SpanContext

Emit = Callable[[dict[str, Any]], None]


class RegistrySource(Protocol):
    """Where pulls come from: the simulated hub, or a real registry over HTTP."""

    def fetch_manifest(self, ref: Reference, parent: SpanContext) -> Proc:
        """Returns ``(manifest_bytes, media_type, digest)``; raises NotFound like Docker."""
        ...

    def fetch_blob(
        self,
        ref: Reference,
        desc: Descriptor,
        parent: SpanContext,
        progress: Callable[[int], None],
        label: str,
    ) -> Proc:
        """Returns the blob's bytes; calls ``progress(bytes_so_far)`` as they arrive."""
        ...


def human_size(n: float) -> str:
    """go-units HumanSize (decimal, 4 significant digits), as progress bars print it."""
    units = ["B", "kB", "MB", "GB", "TB"]
    size = float(n)
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.4g}{units[i]}"


def progress_bar(current: int, total: int) -> str:
    """jsonmessage's ``JSONProgress.String`` for a known total."""
    total = max(total, 1)
    current = min(current, total)
    width = 50
    bars = int(width * current / total)
    bar = "=" * bars + ">" + " " * max(width - bars - 1, 0)
    numbers = f"{human_size(current):>8}/{human_size(total)}"
    return f"[{bar[:width]}] {numbers}"


def pull_reference(from_image: str, tag: str) -> Reference:
    """Combine ``fromImage`` and ``tag`` as the pull endpoint does."""
    text = from_image
    if tag:
        text = f"{from_image}@{tag}" if tag.startswith("sha256:") else f"{from_image}:{tag}"
    return normalize(text)


class PullMixin(DaemonCore):
    """Image pull."""

    def pull_image(self, parent: SpanContext, ref: Reference, emit: Emit) -> Proc:
        """Pull ``ref``; ``emit`` receives Docker's JSON progress messages."""
        ctx = self.span("ImagePull", parent, ref=str(ref))
        try:
            yield from self._pull(ctx, ref, emit)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx)

    def _pull(self, ctx: SpanContext, ref: Reference, emit: Emit) -> Proc:
        if self.registry is None:
            raise NotFound(f"pull access denied for {ref.familiar_name()}, repository does not exist")
        source: RegistrySource = self.registry
        manifest_bytes, media_type, manifest_digest = yield from source.fetch_manifest(ref, ctx)
        manifest = parse_json_document(manifest_bytes)
        top_bytes = manifest_bytes
        if media_type in INDEX_MEDIA_TYPES or manifest.get("manifests"):
            chosen = None
            for m in manifest.get("manifests", []):
                plat = m.get("platform") or {}
                if plat.get("os", "linux") == "linux" and plat.get("architecture", "amd64") == "amd64":
                    chosen = Descriptor.from_dict(m)
                    break
            if chosen is None:
                raise NotFound("no matching manifest for linux/amd64 in the manifest list entries")
            child_ref = Reference(ref.domain, ref.path, None, chosen.digest)
            manifest_bytes, media_type, _ = yield from source.fetch_manifest(child_ref, ctx)
            manifest = parse_json_document(manifest_bytes)
        repo_path = ref.path if ref.domain == "docker.io" else ref.name
        emit({"status": f"Pulling from {repo_path}", "id": ref.tag or ref.digest or "latest"})
        canonical = f"{ref.name}@{manifest_digest}"
        existing = None
        for img in self.images.images.values():
            if canonical in img.repo_digests:
                existing = img
        if existing is not None:
            if ref.tag:
                self.images.set_ref(ref, existing.id)
            emit({"status": f"Digest: {manifest_digest}"})
            emit({"status": f"Status: Image is up to date for {ref.familiar_string()}"})
            self.event("image", "pull", ref.familiar_string(), name=ref.familiar_string())
            return existing
        config_desc = manifest_config(manifest)
        config_bytes = yield from source.fetch_blob(ref, config_desc, ctx, lambda n: None, "config")
        if sha256_digest(config_bytes) != config_desc.digest:
            raise InvalidParameter(f"image config verification failed for digest {config_desc.digest}")
        config = parse_json_document(config_bytes, "image config")
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        layers = manifest_layers(manifest)
        if len(diff_ids) != len(layers):
            raise InvalidParameter("layers from manifest don't match image configuration")
        missing: list[int] = []
        for i, (desc, diff_id) in enumerate(zip(layers, diff_ids, strict=True)):
            lid = short_id(desc.digest)
            if self.images.layer_known(diff_id) or self.images.content.has(desc.digest):
                emit({"status": "Already exists", "progressDetail": {}, "id": lid})
            else:
                emit({"status": "Pulling fs layer", "progressDetail": {}, "id": lid})
                missing.append(i)
        blobs: dict[int, bytes] = {}
        done: dict[int, simpy.Event] = {i: self.env.event() for i in missing}
        for i in missing:
            self.env.process(self._download(ctx, source, ref, layers[i], i, len(layers), emit, blobs, done[i]))
        for i in missing:
            yield done[i]
            failure = done[i].value
            if isinstance(failure, DockerError):
                raise failure
            desc = layers[i]
            lid = short_id(desc.digest)
            size = desc.annotation_int("io.csim.unpacked-size", desc.size)
            ext = self.tracer.start("dockerd", f"extract layer {i + 1}/{len(layers)}", ctx, bytes=size)
            steps = 3
            for s in range(1, steps + 1):
                yield self.env.timeout(size / self.params.extract_rate / steps)
                cur = desc.download_size * s // steps
                emit(
                    {
                        "status": "Extracting",
                        "progressDetail": {"current": cur, "total": desc.download_size},
                        "progress": progress_bar(cur, desc.download_size),
                        "id": lid,
                    }
                )
            self.images.content.put(blobs[i], desc.digest)
            self.tracer.end(ext)
            emit({"status": "Pull complete", "progressDetail": {}, "id": lid})
        self.images.ensure_config_blob(config_bytes)
        if not self.images.content.has(manifest_digest):
            self.images.content.put(top_bytes, manifest_digest)
        child_digest = sha256_digest(manifest_bytes)
        if not self.images.content.has(child_digest):
            self.images.content.put(manifest_bytes, child_digest)
        record = image_record_from_manifest(manifest, config_bytes, manifest_digest)
        from dataclasses import replace

        record = replace(record, repo_digests=(canonical,))
        record = self.images.add(record, self.now())
        previous = self.images.set_ref(ref, record.id) if ref.tag else None
        emit({"status": f"Digest: {manifest_digest}"})
        emit({"status": f"Status: Downloaded newer image for {ref.familiar_string()}"})
        self.event("image", "pull", ref.familiar_string(), name=ref.familiar_string())
        if previous and previous != record.id:
            self.event("image", "untag", previous, name=previous)
        return record

    def _download(
        self,
        ctx: SpanContext,
        source: RegistrySource,
        ref: Reference,
        desc: Descriptor,
        index: int,
        count: int,
        emit: Emit,
        blobs: dict[int, bytes],
        done: simpy.Event,
    ) -> Proc:
        lid = short_id(desc.digest)
        req = self.download_slots.request()
        if not req.triggered:
            emit({"status": "Waiting", "progressDetail": {}, "id": lid})
        yield req
        try:
            total = desc.download_size
            last = [-1]

            def progress(n: int) -> None:
                if n == last[0]:
                    return
                last[0] = n
                emit(
                    {
                        "status": "Downloading",
                        "progressDetail": {"current": n, "total": total},
                        "progress": progress_bar(n, total),
                        "id": lid,
                    }
                )

            data = yield from source.fetch_blob(ref, desc, ctx, progress, f"Pull layer {index + 1}/{count}")
            emit({"status": "Verifying Checksum", "progressDetail": {}, "id": lid})
            if sha256_digest(data) != desc.digest:
                raise InvalidParameter(f"filesystem layer verification failed for digest {desc.digest}")
            emit({"status": "Download complete", "progressDetail": {}, "id": lid})
            blobs[index] = data
            done.succeed()
        except DockerError as err:
            done.succeed(err)
        finally:
            self.download_slots.release(req)
