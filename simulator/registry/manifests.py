"""Manifest media types and the checks a registry makes before storing one.

A pushed manifest is the registry's promise that an image can be pulled: it
must parse, declare one of the four schema-2 media types (OCI manifest and
index, Docker manifest and manifest list), and every blob or child manifest
it names must already be in the repository. This module finds what a
manifest references; the server asks storage whether those exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from simulator.registry import digests, errors

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

IMAGE_MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_MEDIA_TYPES = IMAGE_MANIFESTS | INDEXES
# What a client offers in Accept: every type this registry stores.
ACCEPT = ", ".join(sorted(MANIFEST_MEDIA_TYPES))

# Layers that live elsewhere (Windows base layers); distribution does not require them.
_FOREIGN_LAYERS = frozenset(
    {
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)
MAX_MANIFEST_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    """What a registry needs to know about a manifest it is asked to store.

    Attributes:
        media_type: the resolved media type.
        blobs: digests of the config and layers that must exist (image manifests).
        children: digests of the manifests an index points at.
    """

    media_type: str
    blobs: tuple[str, ...]
    children: tuple[str, ...]


def _invalid(detail: str) -> errors.RegistryError:
    return errors.RegistryError(errors.MANIFEST_INVALID, detail)


def _descriptor(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"{where}: descriptor must be an object")
    digest = value.get("digest")
    if not isinstance(digest, str) or not digests.is_digest(digest):
        raise _invalid(f"{where}: invalid digest {digest!r}")
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _invalid(f"{where}: invalid size {size!r}")
    media_type = value.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        raise _invalid(f"{where}: missing mediaType")
    return value


def _resolve_media_type(doc: dict[str, Any], content_type: str | None) -> str:
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType must be a string")
    header = (content_type or "").split(";", 1)[0].strip().lower() or None
    if header in MANIFEST_MEDIA_TYPES:
        if declared is not None and declared != header:
            raise _invalid(f"mediaType {declared} does not match Content-Type {header}")
        return header
    if declared in MANIFEST_MEDIA_TYPES:
        return declared
    if declared is not None:
        raise _invalid(f"unsupported manifest media type {declared}")
    # An OCI document may omit mediaType; its shape tells which one it is.
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc:
        return OCI_MANIFEST
    raise _invalid("cannot tell the manifest media type")


def parse_manifest(body: bytes, content_type: str | None) -> ParsedManifest:
    """Validate a manifest body and list what it references.

    Args:
        body: the raw bytes as pushed (their digest is the manifest digest).
        content_type: the request's Content-Type header, if any.

    Returns:
        The media type and the referenced digests.

    Raises:
        RegistryError: MANIFEST_INVALID when the body is not valid JSON, not a
            schema-2 document, or has malformed descriptors.
    """
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _invalid(f"manifest is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _invalid("manifest must be a JSON object")
    if doc.get("schemaVersion") != 2:
        raise _invalid(f"unsupported schemaVersion {doc.get('schemaVersion')!r}")
    media_type = _resolve_media_type(doc, content_type)
    if media_type in INDEXES:
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise _invalid("manifests must be a list")
        children = tuple(_descriptor(e, f"manifests[{i}]")["digest"] for i, e in enumerate(entries))
        return ParsedManifest(media_type, (), children)
    config = _descriptor(doc.get("config"), "config")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise _invalid("layers must be a list")
    blobs = [config["digest"]]
    for i, layer in enumerate(layers):
        desc = _descriptor(layer, f"layers[{i}]")
        if desc["mediaType"] in _FOREIGN_LAYERS or desc.get("urls"):
            continue
        blobs.append(desc["digest"])
    return ParsedManifest(media_type, tuple(dict.fromkeys(blobs)), ())
