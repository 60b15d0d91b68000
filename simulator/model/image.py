"""OCI image documents and the record dockerd keeps for each image.

An image is three kinds of JSON document tied together by digests: an
*index* (manifest list) names one manifest per platform, a *manifest* names
the config and the layer blobs, and the *config* holds what ``docker run``
needs (Env, Cmd, Entrypoint...) plus the ``rootfs.diff_ids`` of the layers.
The image ID is the digest of the config bytes, so two pulls of the same
content always give the same ID.

Documents are plain ``dict`` values built by functions; :func:`canonical_json`
turns one into the exact bytes whose digest names it.

Canonical encoding: compact JSON (separators ``,`` and ``:``), keys sorted,
non-ASCII kept as UTF-8, no trailing newline. Bytes received from elsewhere
(a registry, a ``docker load``) must be kept as received: their digest is
over *those* bytes, never over a re-encoding.

Simulated sizes: a simulated layer's real tar is a few KB, but it stands for
a realistic layer. Its descriptor carries the modelled sizes as annotations
(:data:`ANNOTATION_DOWNLOAD_SIZE`, :data:`ANNOTATION_UNPACKED_SIZE`); the
records below fall back to the real sizes when they are absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.model.digest import sha256_digest, short_id, validate_digest
from simulator.model.errors import InvalidParameter

# OCI image-spec media types.
MEDIA_TYPE_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TYPE_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_TYPE_OCI_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"

# Docker image manifest v2 schema 2 media types.
MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_TYPE_DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_TYPE_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_TYPE_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

MANIFEST_MEDIA_TYPES = frozenset({MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST})
INDEX_MEDIA_TYPES = frozenset({MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST})
CONFIG_MEDIA_TYPES = frozenset({MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_DOCKER_CONFIG})
LAYER_MEDIA_TYPES = frozenset({MEDIA_TYPE_OCI_LAYER, MEDIA_TYPE_OCI_LAYER_GZIP, MEDIA_TYPE_DOCKER_LAYER})

ANNOTATION_DOWNLOAD_SIZE = "io.csim.download-size"
"""Modelled compressed size of a layer in bytes: drives bandwidth and progress bars."""
ANNOTATION_UNPACKED_SIZE = "io.csim.unpacked-size"
"""Modelled extracted size of a layer in bytes: what ``docker images`` SIZE sums."""
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

DEFAULT_CREATED = "2024-01-01T00:00:00Z"
"""Timestamp used when a document needs one and the caller gives none."""


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Return the canonical bytes of a document (compact, sorted keys, UTF-8)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json_document(data: bytes, what: str = "manifest") -> dict[str, Any]:
    """Decode a JSON object received as bytes.

    Raises:
        InvalidParameter: ``<what> invalid: ...`` when the bytes are not a JSON object.
    """
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidParameter(f"{what} invalid: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidParameter(f"{what} invalid: not a JSON object")
    return doc


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A typed pointer to content: media type, digest and size (OCI content descriptor).

    Attributes:
        media_type: what the content is (``MEDIA_TYPE_*``).
        digest: ``sha256:<hex>`` of the content bytes.
        size: length of the content in bytes.
        annotations: free-form string metadata (e.g. the csim modelled sizes).
        platform: ``{"architecture": ..., "os": ...}`` for index entries, else None.
    """

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        validate_digest(self.digest)
        if self.size < 0:
            raise InvalidParameter(f"invalid descriptor size: {self.size}")

    @classmethod
    def for_content(
        cls,
        media_type: str,
        data: bytes,
        annotations: Mapping[str, str] | None = None,
        platform: Mapping[str, str] | None = None,
    ) -> Descriptor:
        """Describe ``data``: digest and size are computed from the bytes."""
        return cls(media_type, sha256_digest(data), len(data), dict(annotations or {}), platform)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Descriptor:
        """Read a descriptor from its JSON form.

        Raises:
            InvalidParameter: when a required field is missing or has the wrong type.
        """
        media_type, digest, size = doc.get("mediaType"), doc.get("digest"), doc.get("size")
        if not isinstance(media_type, str) or not isinstance(digest, str):
            raise InvalidParameter("invalid descriptor: mediaType and digest must be strings")
        if not isinstance(size, int) or isinstance(size, bool):
            raise InvalidParameter("invalid descriptor: size must be an integer")
        annotations = doc.get("annotations") or {}
        platform = doc.get("platform")
        return cls(media_type, digest, size, dict(annotations), platform)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (``annotations``/``platform`` only when present)."""
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        out["size"] = self.size
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = dict(self.platform)
        return out

    def annotation_int(self, key: str, default: int) -> int:
        """Return an integer annotation (such as a modelled size), or ``default``."""
        try:
            return int(self.annotations[key])
        except (KeyError, ValueError):
            return default

    @property
    def download_size(self) -> int:
        """Modelled compressed size: the annotation, else the real size."""
        return self.annotation_int(ANNOTATION_DOWNLOAD_SIZE, self.size)


def history_entry(
    created_by: str,
    *,
    empty_layer: bool = False,
    comment: str | None = None,
    created: str = DEFAULT_CREATED,
) -> dict[str, Any]:
    """Return one ``history`` item of an image config."""
    item: dict[str, Any] = {"created": created, "created_by": created_by}
    if empty_layer:
        item["empty_layer"] = True
    if comment:
        item["comment"] = comment
    return item


def build_image_config(
    *,
    diff_ids: Sequence[str],
    history: Sequence[Mapping[str, Any]] = (),
    env: Sequence[str] | None = None,
    cmd: Sequence[str] | None = None,
    entrypoint: Sequence[str] | None = None,
    working_dir: str = "",
    user: str = "",
    exposed_ports: Iterable[str] = (),
    volumes: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    stop_signal: str = "",
    created: str = DEFAULT_CREATED,
    architecture: str = "amd64",
    os: str = "linux",
    author: str = "",
) -> dict[str, Any]:
    """Return an image config document (OCI ``config.json``, Docker's image JSON).

    Empty settings are left out of ``config`` the way BuildKit writes them, so
    readers should use ``config.get("Cmd")``. Every ``Env`` item must be
    ``KEY=value``.

    Raises:
        InvalidParameter: for a malformed diff ID or an Env item without ``=``.
    """
    for diff_id in diff_ids:
        validate_digest(diff_id)
    for item in env or ():
        if "=" not in item:
            raise InvalidParameter(f"invalid environment variable: {item}")
    settings: dict[str, Any] = {}
    if user:
        settings["User"] = user
    ports = sorted(set(exposed_ports))
    if ports:
        settings["ExposedPorts"] = {port: {} for port in ports}
    if env:
        settings["Env"] = list(env)
    if entrypoint is not None:
        settings["Entrypoint"] = list(entrypoint)
    if cmd is not None:
        settings["Cmd"] = list(cmd)
    mounts = sorted(set(volumes))
    if mounts:
        settings["Volumes"] = {path: {} for path in mounts}
    if working_dir:
        settings["WorkingDir"] = working_dir
    if labels:
        settings["Labels"] = dict(labels)
    if stop_signal:
        settings["StopSignal"] = stop_signal
    config: dict[str, Any] = {
        "architecture": architecture,
        "os": os,
        "created": created,
        "config": settings,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [dict(item) for item in history],
    }
    if author:
        config["author"] = author
    return config


def build_manifest(
    config: Descriptor,
    layers: Sequence[Descriptor],
    *,
    media_type: str = MEDIA_TYPE_OCI_MANIFEST,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return an image manifest naming a config and its layers (bottom first)."""
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config.to_dict(),
        "layers": [layer.to_dict() for layer in layers],
    }
    if annotations:
        manifest["annotations"] = dict(annotations)
    return manifest


def build_index(
    manifests: Sequence[Descriptor],
    *,
    media_type: str = MEDIA_TYPE_OCI_INDEX,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return an image index (manifest list); give each descriptor a ``platform``."""
    index: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [m.to_dict() for m in manifests],
    }
    if annotations:
        index["annotations"] = dict(annotations)
    return index


def manifest_config(manifest: Mapping[str, Any]) -> Descriptor:
    """Return the config descriptor of a manifest.

    Raises:
        InvalidParameter: when the manifest has no valid config descriptor.
    """
    config = manifest.get("config")
    if not isinstance(config, Mapping):
        raise InvalidParameter("manifest invalid: missing config descriptor")
    return Descriptor.from_dict(config)


def manifest_layers(manifest: Mapping[str, Any]) -> list[Descriptor]:
    """Return the layer descriptors of a manifest, bottom layer first.

    Raises:
        InvalidParameter: when ``layers`` is missing or holds an invalid descriptor.
    """
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        raise InvalidParameter("manifest invalid: missing layers")
    return [Descriptor.from_dict(layer) for layer in layers]


def index_manifests(index: Mapping[str, Any]) -> list[Descriptor]:
    """Return the manifest descriptors of an index.

    Raises:
        InvalidParameter: when ``manifests`` is missing or holds an invalid descriptor.
    """
    manifests = index.get("manifests")
    if not isinstance(manifests, list):
        raise InvalidParameter("manifest invalid: missing manifests")
    return [Descriptor.from_dict(m) for m in manifests]


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """Return the chain ID of each layer stack prefix (how layer stores share layers).

    ``ChainID(L0) = DiffID(L0)``, ``ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))``.
    """
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(diff_id if not out else sha256_digest(f"{out[-1]} {diff_id}".encode()))
    return out


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """One layer of a stored image.

    Attributes:
        diff_id: digest of the uncompressed tar (``rootfs.diff_ids``).
        blob_digest: digest of the compressed blob the registry served.
        blob_size: real size of that blob in bytes.
        unpacked_size: modelled extracted size (``docker images`` SIZE sums these).
        download_size: modelled compressed size (what a pull transfers).
    """

    diff_id: str
    blob_digest: str
    blob_size: int
    unpacked_size: int
    download_size: int


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """What dockerd stores for one image.

    Attributes:
        id: the image ID, ``sha256:`` of the config bytes.
        config: the parsed config document.
        config_bytes: the exact config bytes (their digest is ``id``).
        manifest_digest: digest of the manifest it was pulled by, or None if built/loaded.
        layers: the layers, bottom first, matching ``config.rootfs.diff_ids``.
        repo_tags: ``name:tag`` references pointing at it (``nginx:latest``).
        repo_digests: ``name@sha256:...`` references (``nginx@sha256:...``).
    """

    id: str
    config: Mapping[str, Any]
    config_bytes: bytes
    manifest_digest: str | None
    layers: tuple[LayerRecord, ...]
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()

    @property
    def short_id(self) -> str:
        """The 12-hex ID ``docker images`` prints."""
        return short_id(self.id)

    @property
    def size(self) -> int:
        """Modelled size on disk: the sum of the layers' unpacked sizes."""
        return sum(layer.unpacked_size for layer in self.layers)

    @property
    def download_size(self) -> int:
        """Modelled bytes a full pull transfers."""
        return sum(layer.download_size for layer in self.layers)

    @property
    def created(self) -> str:
        """The config's ``created`` timestamp (RFC 3339), or empty."""
        return str(self.config.get("created", ""))

    @property
    def diff_ids(self) -> tuple[str, ...]:
        """The layers' diff IDs, bottom first."""
        return tuple(layer.diff_id for layer in self.layers)

    @property
    def chain_ids(self) -> tuple[str, ...]:
        """The layers' chain IDs, bottom first."""
        return tuple(chain_ids(self.diff_ids))

    @property
    def container_config(self) -> Mapping[str, Any]:
        """The ``config`` object: Env, Cmd, Entrypoint, WorkingDir, User..."""
        settings = self.config.get("config")
        return settings if isinstance(settings, Mapping) else {}


def image_record_from_manifest(
    manifest: Mapping[str, Any],
    config_bytes: bytes,
    manifest_digest: str | None = None,
    unpacked_sizes: Mapping[str, int] | None = None,
) -> ImageRecord:
    """Build the stored record of an image from its manifest and config bytes.

    Modelled sizes come from each layer descriptor's annotations; without them
    the download size is the blob size and the unpacked size is taken from
    ``unpacked_sizes`` (by diff ID) or, failing that, the blob size.

    Raises:
        InvalidParameter: when the config does not match the manifest's config
            digest or its ``rootfs.diff_ids`` do not match the layer count.
    """
    config_desc = manifest_config(manifest)
    image_id = sha256_digest(config_bytes)
    if image_id != config_desc.digest:
        raise InvalidParameter(f"image config verification failed for digest {config_desc.digest}")
    config = parse_json_document(config_bytes, "image config")
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    layer_descs = manifest_layers(manifest)
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_descs):
        raise InvalidParameter("layers from manifest don't match image configuration")
    sizes = unpacked_sizes or {}
    layers = tuple(
        LayerRecord(
            diff_id=str(diff_id),
            blob_digest=desc.digest,
            blob_size=desc.size,
            unpacked_size=desc.annotation_int(ANNOTATION_UNPACKED_SIZE, sizes.get(str(diff_id), desc.size)),
            download_size=desc.download_size,
        )
        for diff_id, desc in zip(diff_ids, layer_descs, strict=True)
    )
    return ImageRecord(image_id, config, config_bytes, manifest_digest, layers)
