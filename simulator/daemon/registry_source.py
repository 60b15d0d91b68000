"""Pulls from real registries over HTTP, without ever blocking the world's thread.

The daemon's pull and push are SimPy processes; a registry transfer is real
work that takes real time. ``Handoff`` runs each blocking call of the
synchronous ``RegistryClient`` on a worker thread and completes a SimPy event
through the world's thread-safe ``post``; progress travels the same way, so
the world only ever sees it from its own thread. ``HttpRegistrySource`` is
the ``RegistrySource`` the pull drives; ``RegistryRouter`` picks a source per
reference: ``host:port/...``, ``localhost/...`` and configured registries go
over HTTP, Docker Hub names go to the simulated hub (sim backend) or to the
default local registry (linux backend, ``CSIM_REGISTRY``).

Every transfer emits a ``registry`` span whose attributes carry what was
measured (``bytes``, ``measured_s``) beside what the model predicts for it
(``predicted_s``, from ``HubParams``). On the real backend the span's own
duration is the wall-clock one; on the simulated backend the span lasts the
predicted time, so the timeline stays the model's and the measurement rides
along.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import simpy

from simulator.daemon.core import Proc
from simulator.model.errors import DockerError, InvalidParameter, NotFound
from simulator.model.image import Descriptor
from simulator.model.reference import Reference
from simulator.trace.tracer import SpanContext, Tracer

if TYPE_CHECKING:
    from simulator.des.params import HubParams
    from simulator.registry.client import RegistryClient

T = TypeVar("T")
Post = Callable[[Callable[[], None]], None]

PROGRESS_STEPS = 50  # progress messages per blob, at most (one per 2%)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


class Handoff:
    """Blocking calls on worker threads whose results complete SimPy events.

    Args:
        env: the world's environment (touched only from the world's thread).
        post: runs a callable on the world's thread; safe from any thread.
    """

    def __init__(self, env: simpy.Environment, post: Post) -> None:
        self.env = env
        self.post = post
        self.pending = 0  # calls in flight; changed only on the world's thread

    def run(self, fn: Callable[[], T], name: str = "csim-registry") -> simpy.Event:
        """Start ``fn()`` on a thread; the event succeeds with its result or fails with its error."""
        event = self.env.event()
        self.pending += 1

        def complete(ok: bool, value: Any) -> None:
            self.pending -= 1
            if ok:
                event.succeed(value)
            else:
                event.fail(value)

        def work() -> None:
            try:
                result: Any = fn()
                ok = True
            except BaseException as err:  # every failure goes back to the waiting process
                result, ok = err, False
            self.post(lambda: complete(ok, result))

        threading.Thread(target=work, name=name, daemon=True).start()
        return event

    def throttled(self, report: Callable[[int], None], total: int) -> Callable[[int, int | None], None]:
        """A thread-side progress callback that posts ``report(n)`` at most ``PROGRESS_STEPS`` times."""
        step = max(total // PROGRESS_STEPS, 1)
        last = [-step]

        def callback(done: int, _total: int | None) -> None:
            if done - last[0] >= step or done >= total:
                last[0] = done
                self.post(lambda: report(done))

        return callback


@dataclass(frozen=True, slots=True)
class Measured:
    """What a transfer did on the wire."""

    value: Any
    seconds: float
    nbytes: int


def registry_error(ref: Reference, err: DockerError) -> DockerError:
    """Docker's words for a registry's refusal of a manifest (``notFoundError``)."""
    code = getattr(getattr(err, "code", None), "code", "")
    if code in ("MANIFEST_UNKNOWN", "NAME_UNKNOWN", "DENIED"):
        what = code.lower().replace("_", " ")
        return NotFound(f"manifest for {ref.familiar_string()} not found: {what}: {err.message}")
    return err


class HttpRegistrySource:
    """``RegistrySource`` over the OCI distribution API (plain HTTP: loopback registries).

    Args:
        env: the world's environment.
        tracer: where ``registry`` spans go.
        handoff: runs the blocking client calls on threads.
        hub: the modelled bandwidth and round trip (for ``predicted_s``).
        realtime: True when the world's clock is the wall clock (the span's
            own duration is then the measurement); False on the simulated
            backend (the span then lasts the predicted time).
    """

    def __init__(
        self,
        env: simpy.Environment,
        tracer: Tracer,
        handoff: Handoff,
        hub: HubParams | None = None,
        realtime: bool = False,
    ) -> None:
        from simulator.des.params import HubParams

        self.env = env
        self.tracer = tracer
        self.handoff = handoff
        self.hub = hub or HubParams()
        self.realtime = realtime
        self.active = 0  # blob transfers in flight (the model shares bandwidth among them)
        self._clients: dict[str, RegistryClient] = {}
        self._lock = threading.Lock()

    # -- plumbing --------------------------------------------------------------------
    def client(self, host: str) -> RegistryClient:
        """The (thread-safe) client of one registry host."""
        from simulator.registry.client import RegistryClient

        with self._lock:
            found = self._clients.get(host)
            if found is None:
                found = self._clients[host] = RegistryClient(f"http://{host}", timeout=60.0)
            return found

    def predicted(self, nbytes: int, sharing: int = 1) -> float:
        """The model's time for a transfer of ``nbytes`` with ``sharing`` transfers in flight."""
        return self.hub.rtt + nbytes / (self.hub.bandwidth / max(sharing, 1))

    def call(
        self,
        host: str,
        label: str,
        parent: SpanContext,
        fn: Callable[[RegistryClient], T],
        *,
        size: Callable[[T], int] = lambda _: 0,
        expected_bytes: int = 0,
        sharing: int = 1,
        **attrs: Any,
    ) -> Proc:
        """Run ``fn(client)`` on a thread inside a ``registry`` span; returns its result.

        The span gets ``bytes``, ``measured_s`` and ``predicted_s``. On the
        simulated backend the process also waits out the predicted time, so
        the span shows the model's duration.
        """
        client = self.client(host)
        ctx = self.tracer.start("registry", label, parent, host=host, **attrs)
        start = self.env.now

        def timed() -> Measured:
            t0 = time.monotonic()
            try:
                value = fn(client)
            except DockerError:
                raise
            except Exception as err:  # a local disk or a malformed answer: still a value
                raise DockerError(f"{label}: {err}", 500) from None
            return Measured(value, time.monotonic() - t0, size(value))

        try:
            measured: Measured = yield self.handoff.run(timed, name=f"csim-registry {label}")
        except DockerError as err:
            self.tracer.end(ctx, status=err.status, error=err.message)
            raise
        predicted = self.predicted(measured.nbytes or expected_bytes, sharing)
        if not self.realtime:
            yield self.env.timeout(max(0.0, predicted - (self.env.now - start)))
        self.tracer.end(
            ctx,
            status=200,
            bytes=measured.nbytes,
            measured_s=round(measured.seconds, 6),
            predicted_s=round(predicted, 6),
        )
        return measured.value

    # -- RegistrySource --------------------------------------------------------------
    def check(self, ref: Reference, parent: SpanContext) -> Proc:
        """Resolve the manifest before streaming, so a missing image is a plain HTTP error."""
        target = ref.digest or ref.tag or "latest"
        found = yield from self.call(
            ref.domain,
            f"HEAD /v2/{ref.path}/manifests/{target}",
            parent,
            lambda c: c.head_manifest(ref.path, target),
        )
        if found is None:
            raise NotFound(f"manifest for {ref.familiar_string()} not found: manifest unknown: manifest unknown")

    def fetch_manifest(self, ref: Reference, parent: SpanContext) -> Proc:
        """``(manifest_bytes, media_type, digest)``, its digest verified by the client."""
        target = ref.digest or ref.tag or "latest"
        try:
            fetched = yield from self.call(
                ref.domain,
                f"GET /v2/{ref.path}/manifests/{target}",
                parent,
                lambda c: c.get_manifest(ref.path, target),
                size=lambda m: len(m.body),
            )
        except DockerError as err:
            raise registry_error(ref, err) from None
        return fetched.body, fetched.media_type, fetched.digest

    def fetch_blob(
        self,
        ref: Reference,
        desc: Descriptor,
        parent: SpanContext,
        progress: Callable[[int], None],
        label: str,
    ) -> Proc:
        """The blob's bytes, downloaded on a thread and verified against ``desc.digest``."""
        total = max(desc.size, 0)
        shown = desc.download_size  # the pull's progress bar counts in these units
        report = self.handoff.throttled(lambda n: progress(n * shown // max(total, 1)), total)

        def download(c: RegistryClient) -> bytes:
            scratch = Path(tempfile.mkdtemp(prefix="csim-pull-"))
            try:
                dest = scratch / "blob"
                c.get_blob(ref.path, desc.digest, dest, report)
                return dest.read_bytes()
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

        self.active += 1
        try:
            data: bytes = yield from self.call(
                ref.domain,
                label,
                parent,
                download,
                size=len,
                expected_bytes=total,
                sharing=self.active,
                digest=desc.digest,
                expected=total,
            )
        except DockerError as err:
            if getattr(getattr(err, "code", None), "code", "") == "DIGEST_INVALID":
                raise InvalidParameter(f"filesystem layer verification failed for digest {desc.digest}") from None
            raise
        finally:
            self.active -= 1
        return data


def is_http_domain(domain: str, configured: frozenset[str] = frozenset()) -> bool:
    """Whether a reference's registry is reached over plain HTTP (a local or ``host:port`` one)."""
    return ":" in domain or domain in LOCAL_HOSTS or domain in configured


class RegistryRouter:
    """The ``RegistrySource`` the daemon holds: one source per kind of reference.

    Args:
        http: the HTTP source (local and ``host:port`` registries).
        hub: the simulated Docker Hub, for docker.io names on the sim backend.
        default_registry: ``HOST:PORT`` that docker.io names go to instead
            (the linux backend's ``CSIM_REGISTRY``).
        fallback: where everything else goes (the linux backend's offline
            refusal); the hub when not given.
    """

    def __init__(
        self,
        http: HttpRegistrySource,
        hub: Any = None,
        default_registry: str | None = None,
        fallback: Any = None,
    ) -> None:
        self.http = http
        self.hub = hub
        self.default_registry = default_registry or None
        self.fallback = fallback if fallback is not None else hub
        configured = {default_registry} if default_registry else set()
        self.configured = frozenset(configured)

    @classmethod
    def from_environment(cls, http: HttpRegistrySource, hub: Any = None, fallback: Any = None) -> RegistryRouter:
        """A router whose default registry comes from ``CSIM_REGISTRY`` (``127.0.0.1:5000``)."""
        return cls(http, hub, os.environ.get("CSIM_REGISTRY") or None, fallback)

    def route(self, ref: Reference) -> tuple[Any, Reference]:
        """The source for ``ref`` and the reference as that source must see it."""
        if ref.domain == "docker.io" and self.default_registry:
            return self.http, Reference(self.default_registry, ref.path, ref.tag, ref.digest)
        if is_http_domain(ref.domain, self.configured):
            return self.http, ref
        if self.hub is not None and ref.domain == "docker.io":
            return self.hub, ref
        return self.fallback, ref

    def is_http(self, ref: Reference) -> bool:
        return self.route(ref)[0] is self.http

    def check(self, ref: Reference, parent: SpanContext) -> Proc:
        source, routed = self.route(ref)
        if source is None:
            raise NotFound(f"pull access denied for {ref.familiar_name()}, repository does not exist")
        if hasattr(source, "check"):
            yield from source.check(routed, parent)

    def fetch_manifest(self, ref: Reference, parent: SpanContext) -> Proc:
        source, routed = self.route(ref)
        if source is None:
            raise NotFound(f"pull access denied for {ref.familiar_name()}, repository does not exist")
        result = yield from source.fetch_manifest(routed, parent)
        return result

    def fetch_blob(
        self,
        ref: Reference,
        desc: Descriptor,
        parent: SpanContext,
        progress: Callable[[int], None],
        label: str,
    ) -> Proc:
        source, routed = self.route(ref)
        data = yield from source.fetch_blob(routed, desc, parent, progress, label)
        return data
