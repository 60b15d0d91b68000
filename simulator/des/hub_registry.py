"""The simulated Docker Hub as a registry the daemon pulls from.

Blobs come from the built-in catalog; the time they take comes from the
modelled bandwidth, shared fairly by every download in flight, so three
parallel layer downloads each go at a third of the speed.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from simulator.daemon.core import Proc
from simulator.des.hub import HubCatalog
from simulator.des.params import HubParams
from simulator.model.errors import NotFound
from simulator.model.image import Descriptor
from simulator.model.reference import Reference
from simulator.trace.tracer import SpanContext, Tracer


class SimHubRegistry:
    """``RegistrySource`` over the catalog, for docker.io references."""

    def __init__(self, env: simpy.Environment, tracer: Tracer, hub: HubCatalog, params: HubParams) -> None:
        self.env = env
        self.tracer = tracer
        self.hub = hub
        self.params = params
        self.active = 0

    def _image(self, ref: Reference) -> object:
        if ref.domain != "docker.io":
            raise NotFound(
                f'Get "https://{ref.domain}/v2/": dial tcp: lookup {ref.domain.split(":")[0]}: '
                "no such host (the simulated world only reaches Docker Hub)"
            )
        repo = ref.path
        if repo not in self.hub.repositories():
            raise NotFound(
                f"pull access denied for {ref.familiar_name()}, repository does not exist or may "
                "require 'docker login': denied: requested access to the resource is denied"
            )
        image = self.hub.resolve(repo, ref.digest or ref.tag or "latest")
        if image is None:
            raise NotFound(f"manifest for {ref.familiar_string()} not found: manifest unknown: manifest unknown")
        return image

    def check(self, ref: Reference, parent: SpanContext) -> Proc:
        """Resolve before streaming, so a missing image is a plain HTTP error."""
        ctx = self.tracer.start("registry", f"HEAD /v2/{ref.path}/manifests/{ref.tag or ref.digest}", parent)
        yield self.env.timeout(self.params.rtt)
        try:
            self._image(ref)
        except NotFound as err:
            self.tracer.end(ctx, status=404, error=err.message)
            raise
        self.tracer.end(ctx, status=200)

    def fetch_manifest(self, ref: Reference, parent: SpanContext) -> Proc:
        target = ref.digest or ref.tag or "latest"
        ctx = self.tracer.start("registry", f"GET /v2/{ref.path}/manifests/{target}", parent)
        yield self.env.timeout(self.params.rtt)
        try:
            image = self._image(ref)
        except NotFound as err:
            self.tracer.end(ctx, status=404, error=err.message)
            raise
        from simulator.des.hub import HubImage

        assert isinstance(image, HubImage)
        if ref.digest == image.manifest_digest:
            self.tracer.end(ctx, status=200, bytes=len(image.manifest))
            return image.manifest, image.manifest_media_type, image.manifest_digest
        self.tracer.end(ctx, status=200, bytes=len(image.index))
        return image.index, image.index_media_type, image.index_digest

    def fetch_blob(
        self,
        ref: Reference,
        desc: Descriptor,
        parent: SpanContext,
        progress: Callable[[int], None],
        label: str,
    ) -> Proc:
        data = self.hub.blob(desc.digest)
        if data is None:
            raise NotFound(f"blob unknown: {desc.digest}")
        total = desc.download_size
        ctx = self.tracer.start("registry", label, parent, digest=desc.digest, bytes=total)
        yield self.env.timeout(self.params.rtt / 2)
        self.active += 1
        try:
            done = 0
            chunks = max(1, self.params.chunks) if total > 64 * 1024 else 1
            for i in range(1, chunks + 1):
                target = total * i // chunks
                rate = self.params.bandwidth / max(self.active, 1)
                yield self.env.timeout((target - done) / rate)
                done = target
                progress(done)
        finally:
            self.active -= 1
        self.tracer.end(ctx, status=200)
        return data
