"""``docker push``: upload only the blobs a registry lacks, then the manifest, in Docker's words.

Each layer is offered to the registry as Docker does it: ``Preparing``; a
HEAD first (``Layer already exists``); a cross-repository mount when another
repository of the same registry is known to hold the blob (``Mounted from
demo/base``); otherwise an upload (``Pushing`` with progress, ``Pushed``).
Then the config blob, the manifest, ``1: digest: sha256:... size: N`` and
the ``aux`` message the CLI reads. Every transfer runs on a worker thread
through the HTTP registry source and emits a ``registry`` span.

The manifest pushed is the one the image was pulled with when the daemon
still has it (so a pulled image keeps its digest); otherwise one is made,
Docker schema 2 with gzip layers, compressed deterministically so pushing
the same image twice sends nothing the second time.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TextIO

import simpy

from simulator.daemon.core import DaemonCore, Proc
from simulator.daemon.pull import progress_bar
from simulator.model.digest import sha256_digest, short_id
from simulator.model.errors import DockerError, Forbidden, InvalidParameter, NotFound
from simulator.model.image import (
    INDEX_MEDIA_TYPES,
    MEDIA_TYPE_DOCKER_CONFIG,
    MEDIA_TYPE_DOCKER_LAYER,
    MEDIA_TYPE_DOCKER_MANIFEST,
    ImageRecord,
    manifest_config,
    manifest_layers,
    parse_json_document,
)
from simulator.model.reference import Reference, normalize
from simulator.trace.tracer import SpanContext

Emit = Callable[[dict[str, Any]], None]

MAX_CONCURRENT_UPLOADS = 5  # dockerd's --max-concurrent-uploads default


@dataclass
class LayerPush:
    """One layer on its way to the registry."""

    diff_id: str
    blob_digest: str  # the local blob: compressed (pulled) or the plain tar (built, loaded)
    compressed: bool
    mount_from: str | None
    digest: str = ""  # what the registry receives (set once the blob is ready)
    size: int = 0
    media_type: str = MEDIA_TYPE_DOCKER_LAYER


def push_reference(name: str, tag: str) -> Reference:
    """The reference ``POST /images/{name}/push?tag=`` names (no tag: every tag, see ``push_image``)."""
    ref = normalize(name)
    if tag:
        ref = normalize(f"{ref.name}:{tag}")
    return ref


def docker_manifest(config_bytes: bytes, layers: list[LayerPush]) -> bytes:
    """A Docker schema 2 manifest, laid out as dockerd writes it (Go's 3-space MarshalIndent)."""
    doc = {
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_DOCKER_MANIFEST,
        "config": {
            "mediaType": MEDIA_TYPE_DOCKER_CONFIG,
            "size": len(config_bytes),
            "digest": sha256_digest(config_bytes),
        },
        "layers": [{"mediaType": la.media_type, "size": la.size, "digest": la.digest} for la in layers],
    }
    return json.dumps(doc, indent=3).encode()


def gzip_layer(tar: bytes) -> bytes:
    """Compress a layer tar reproducibly (no timestamp, no name), as a push sends it."""
    return gzip.compress(tar, compresslevel=6, mtime=0)


class PushMixin(DaemonCore):
    """Image push."""

    def push_image(self, parent: SpanContext, ref: Reference, emit: Emit) -> Proc:
        """Push ``ref`` (a tag; without one, every local tag of the repository)."""
        ctx = self.span("ImagePush", parent, ref=str(ref))
        try:
            emit({"status": f"The push refers to repository [{ref.name}]"})
            if ref.tag or ref.digest:
                yield from self._push_tag(ctx, ref, emit)
            else:
                tags = self._repository_tags(ref)
                if not tags:
                    raise NotFound(f"An image does not exist locally with the tag: {ref.familiar_name()}")
                for tagged in tags:
                    yield from self._push_tag(ctx, tagged, emit)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx)

    def _repository_tags(self, ref: Reference) -> list[Reference]:
        out = []
        for key in sorted(self.images.refs):
            if "@" in key:
                continue
            other = normalize(key)
            if other.name == ref.name:
                out.append(other)
        return out

    def _http_target(self, ctx: SpanContext, ref: Reference) -> Proc:
        """The HTTP source and the reference as the registry sees it; Docker's refusal otherwise."""
        from simulator.daemon.registry_source import RegistryRouter

        router = self.registry
        if isinstance(router, RegistryRouter):
            source, routed = router.route(ref)
            if source is router.http:
                return router.http, routed
            if source is not None and source is not router.hub:
                yield from source.check(ref, ctx)  # the offline refusal, in its own words
        raise Forbidden("denied: requested access to the resource is denied")

    def _push_tag(self, ctx: SpanContext, ref: Reference, emit: Emit) -> Proc:
        image = self.images.find(str(ref))
        if image is None:
            raise NotFound(f"An image does not exist locally with the tag: {ref.familiar_name()}")
        http, routed = yield from self._http_target(ctx, ref)
        host, repo = routed.domain, routed.path
        yield from http.call(host, "GET /v2/", ctx, lambda c: c.ping())
        stored = self._stored_manifest(image)
        plan = [self._plan_layer(image, i, ref, stored) for i in range(len(image.layers))]
        plan.reverse()  # dockerd walks from the top layer down
        for la in plan:
            emit({"status": "Preparing", "progressDetail": {}, "id": short_id(la.diff_id)})
        slots = simpy.Resource(self.env, capacity=MAX_CONCURRENT_UPLOADS)
        procs = [self.env.process(self._push_layer(ctx, http, host, repo, la, slots, emit)) for la in plan]
        failure: DockerError | None = None
        for proc in procs:
            outcome = yield proc
            if isinstance(outcome, DockerError) and failure is None:
                failure = outcome
        if failure is not None:
            raise failure
        plan.reverse()
        config_bytes = bytes(image.config_bytes)
        yield from http.call(
            host,
            "Push config",
            ctx,
            lambda c: c.push_blob(repo, image.id, config_bytes),
            size=lambda r: len(config_bytes) if r == "pushed" else 0,
            digest=image.id,
        )
        if stored is not None and [la.digest for la in plan] == [
            d.digest for d in manifest_layers(parse_json_document(stored[0]))
        ]:
            manifest_bytes, media_type = stored
        else:
            manifest_bytes, media_type = docker_manifest(config_bytes, plan), MEDIA_TYPE_DOCKER_MANIFEST
        tag = ref.tag or ref.digest or "latest"
        target = ref.tag or sha256_digest(manifest_bytes)
        digest = yield from http.call(
            host,
            f"PUT /v2/{repo}/manifests/{target}",
            ctx,
            lambda c: c.put_manifest(repo, target, manifest_bytes, media_type),
            size=lambda _: len(manifest_bytes),
        )
        if not self.images.content.has(digest):
            self.images.content.put(manifest_bytes, digest)
        emit({"status": f"{tag}: digest: {digest} size: {len(manifest_bytes)}"})
        emit({"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest, "Size": len(manifest_bytes)}})
        self.images.add(replace(image, repo_digests=(f"{ref.name}@{digest}",)), self.now())
        self.event("image", "push", ref.familiar_string(), name=ref.familiar_string())
        return digest

    def _stored_manifest(self, image: ImageRecord) -> tuple[bytes, str] | None:
        """The image manifest the image was pulled with, if the daemon still has it."""
        digest = image.manifest_digest
        if not digest or not self.images.content.has(digest):
            return None
        body = self.images.content.get(digest)
        try:
            doc = parse_json_document(body)
            if doc.get("mediaType") in INDEX_MEDIA_TYPES or "manifests" in doc:
                child = None
                for m in doc.get("manifests") or []:
                    plat = m.get("platform") or {}
                    if plat.get("os", "linux") == "linux" and plat.get("architecture", "amd64") == "amd64":
                        child = str(m.get("digest", ""))
                        break
                if not child or not self.images.content.has(child):
                    return None
                body = self.images.content.get(child)
                doc = parse_json_document(body)
            if manifest_config(doc).digest != image.id:
                return None
            layers = manifest_layers(doc)
        except (DockerError, ValueError):
            return None
        if len(layers) != len(image.layers) or not all(self.images.content.has(d.digest) for d in layers):
            return None
        return body, str(doc.get("mediaType") or MEDIA_TYPE_DOCKER_MANIFEST)

    def _plan_layer(
        self, image: ImageRecord, index: int, ref: Reference, stored: tuple[bytes, str] | None
    ) -> LayerPush:
        layer = image.layers[index]
        blob = layer.blob_digest
        compressed = blob != layer.diff_id and self.images.content.has(blob)
        if not self.images.content.has(blob):
            found = self.images.blob_for_diff_id(layer.diff_id)
            blob = found.blob_digest if found is not None else layer.diff_id
            compressed = blob != layer.diff_id
        plan = LayerPush(layer.diff_id, blob, compressed, self._mount_source(layer.diff_id, ref))
        if stored is not None and compressed:
            desc = manifest_layers(parse_json_document(stored[0]))[index]
            if desc.digest == blob:
                plan.media_type = desc.media_type
        return plan

    def _mount_source(self, diff_id: str, ref: Reference) -> str | None:
        """Another repository of the same registry that got this layer from us (Docker's v2 metadata)."""
        for key in sorted(self.images.refs):
            try:
                other = normalize(key.split("@", 1)[0])
            except InvalidParameter:
                continue
            image = self.images.images.get(self.images.refs[key])
            if other.domain == ref.domain and other.path != ref.path and image is not None:
                pushed = any(d.startswith(other.name + "@") for d in image.repo_digests)
                if pushed and diff_id in image.diff_ids:
                    return other.path
        return None

    def _push_layer(
        self,
        ctx: SpanContext,
        http: Any,
        host: str,
        repo: str,
        la: LayerPush,
        slots: simpy.Resource,
        emit: Emit,
    ) -> Proc:
        lid = short_id(la.diff_id)
        req = slots.request()
        if not req.triggered:
            emit({"status": "Waiting", "progressDetail": {}, "id": lid})
        yield req
        content = self.images.content

        def pushing(n: int) -> None:
            emit(
                {
                    "status": "Pushing",
                    "progressDetail": {"current": n, "total": la.size},
                    "progress": progress_bar(n, la.size),
                    "id": lid,
                }
            )

        def upload(c: Any) -> str:
            data = content.get(la.blob_digest)
            if not la.compressed:
                data = gzip_layer(data)
            la.digest, la.size = sha256_digest(data), len(data)
            report = http.handoff.throttled(pushing, la.size)
            result: str = c.push_blob(repo, la.digest, data, la.mount_from, progress_cb=report)
            return result

        try:
            result = yield from http.call(
                host,
                f"Push layer {lid}",
                ctx,
                upload,
                size=lambda r: la.size if r == "pushed" else 0,
                diff_id=la.diff_id,
            )
        except DockerError as err:
            return err
        finally:
            slots.release(req)
        if result == "exists":
            emit({"status": "Layer already exists", "progressDetail": {}, "id": lid})
        elif result == "mounted":
            emit({"status": f"Mounted from {la.mount_from}", "progressDetail": {}, "id": lid})
        else:
            emit({"status": "Pushed", "progressDetail": {}, "id": lid})
        return None


def seed_registry(addr: str, out: TextIO | None = None, repository: str = "library/busybox") -> list[str]:
    """Push the bootstrapped busybox (``simulator.daemon.bootstrap``) to a running registry.

    What ``csim registry --seed`` does, so a fresh machine has something to
    pull: ``docker.io`` names resolve to ``library/...`` on the linux backend's
    default registry (``CSIM_REGISTRY``). Prints Docker's push lines to ``out``.

    Returns:
        The references pushed (``127.0.0.1:5000/library/busybox:latest``).

    Raises:
        DockerError: the registry is unreachable or refused a blob or the manifest.
    """
    from simulator.daemon.bootstrap import bootstrap_busybox
    from simulator.registry.client import RegistryClient

    def say(line: str) -> None:
        if out is not None:
            out.write(line + "\n")
            out.flush()

    host = addr.split("://", 1)[-1].rstrip("/")
    image = bootstrap_busybox()
    client = RegistryClient(f"http://{host}")
    client.ping()
    say(f"The push refers to repository [{host}/{repository}]")
    layers: list[LayerPush] = []
    for diff_id, tar in zip(image.diff_ids, image.layers, strict=True):
        blob = gzip_layer(tar)
        digest = sha256_digest(blob)
        result = client.push_blob(repository, digest, blob)
        say(f"{short_id(diff_id)}: {'Layer already exists' if result == 'exists' else 'Pushed'}")
        layers.append(LayerPush(diff_id, digest, True, None, digest, len(blob)))
    config = bytes(image.config)
    client.push_blob(repository, sha256_digest(config), config)
    manifest = docker_manifest(config, layers)
    digest = client.put_manifest(repository, "latest", manifest, MEDIA_TYPE_DOCKER_MANIFEST)
    say(f"latest: digest: {digest} size: {len(manifest)}")
    return [f"{host}/{repository}:latest"]
