"""``docker save`` and ``docker load``: images as one tarball.

An image can travel without a registry as a tar archive. Two formats are in
use and this module reads both and writes the one every Docker loads:

* **docker-archive** (``docker save``): ``manifest.json`` lists, per image,
  the config file, the layer tars bottom first and the ``RepoTags``. Before
  Docker 25 the layers sit in ``<id>/layer.tar`` next to ``<id>/json`` and a
  ``repositories`` file; since Docker 25 the same ``manifest.json`` points
  into an OCI image layout (``blobs/sha256/<hex>``) that shares the tarball.
* **OCI archive** (``skopeo``, ``buildah``, ``docker save`` with the
  containerd store): ``oci-layout`` + ``index.json`` whose descriptors carry
  the image name in ``org.opencontainers.image.ref.name`` (and containerd's
  ``io.containerd.image.name``).

csim writes the Docker 25 form — ``manifest.json`` and ``repositories`` *and*
an OCI layout — so the result loads into old and new Dockers and into OCI
tools alike. Everything is held as bytes: configs, uncompressed layer tars and
``name:tag`` strings (:class:`ArchiveImage`); the daemon stores them.
"""

from __future__ import annotations

import io
import json
import platform
import posixpath
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from simulator.model.digest import sha256_digest, sha256_hex
from simulator.model.errors import InvalidParameter
from simulator.model.image import (
    INDEX_MEDIA_TYPES,
    MEDIA_TYPE_OCI_CONFIG,
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_OCI_LAYER,
    MEDIA_TYPE_OCI_MANIFEST,
    Descriptor,
    build_manifest,
    canonical_json,
    parse_json_document,
)
from simulator.model.layer import LAYER_MTIME, gunzip_layer

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
_MAX_LINK_HOPS = 16


@dataclass(slots=True)
class ArchiveImage:
    """One image as it travels in a tarball.

    Attributes:
        config: the exact image config bytes (their digest is the image ID).
        layers: uncompressed layer tars, bottom first (their digests are the diff IDs).
        repo_tags: familiar ``name:tag`` references (``busybox:latest``).
        ref_name: an OCI archive's bare ``ref.name`` when it names no repository.
    """

    config: bytes
    layers: list[bytes]
    repo_tags: list[str] = field(default_factory=list)
    ref_name: str = ""

    @property
    def id(self) -> str:
        """The image ID: ``sha256:`` of the config bytes."""
        return sha256_digest(self.config)

    @property
    def config_document(self) -> dict[str, Any]:
        """The parsed config."""
        return parse_json_document(self.config, "image config")

    @property
    def diff_ids(self) -> list[str]:
        """The config's ``rootfs.diff_ids``."""
        rootfs = self.config_document.get("rootfs") or {}
        return [str(d) for d in rootfs.get("diff_ids") or []]

    def verify(self) -> None:
        """Check the layers against the config's diff IDs (Docker's load errors).

        Raises:
            InvalidParameter: on a count or digest mismatch.
        """
        diff_ids = self.diff_ids
        if len(diff_ids) != len(self.layers):
            raise InvalidParameter(
                f"invalid manifest, layers length mismatch: expected {len(diff_ids)}, got {len(self.layers)}"
            )
        for i, (want, layer) in enumerate(zip(diff_ids, self.layers, strict=True)):
            got = sha256_digest(layer)
            if got != want:
                raise InvalidParameter(f'invalid diffID for layer {i}: expected "{want}", got "{got}"')


# -- reading -----------------------------------------------------------------------------


class _Tarball:
    """Random access to the regular files of a tarball, by normalised name."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self._tar = tar
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in tar.getmembers():
            self._members[posixpath.normpath(member.name.lstrip("/"))] = member

    def has(self, name: str) -> bool:
        return posixpath.normpath(name.lstrip("/")) in self._members

    def read(self, name: str) -> bytes:
        key = posixpath.normpath(name.lstrip("/"))
        for _ in range(_MAX_LINK_HOPS):
            member = self._members.get(key)
            if member is None:
                raise InvalidParameter(f"invalid archive: {name} not found in the archive")
            if member.issym() or member.islnk():
                # Docker 25 links repeated layer.tar files to the first copy.
                base = posixpath.dirname(key) if member.issym() else ""
                key = posixpath.normpath(posixpath.join(base, member.linkname).lstrip("/"))
                continue
            stream = self._tar.extractfile(member)
            if stream is None:
                raise InvalidParameter(f"invalid archive: {name} is not a file")
            return stream.read()
        raise InvalidParameter(f"invalid archive: too many links for {name}")

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidParameter(f"invalid archive: {name}: {exc}") from exc

    def blob(self, digest: str) -> bytes:
        algorithm, _, encoded = digest.partition(":")
        data = self.read(f"blobs/{algorithm}/{encoded}")
        if sha256_digest(data) != digest:
            raise InvalidParameter(f"invalid archive: blob {digest} does not match its digest")
        return data


def _uncompressed(layer: bytes) -> bytes:
    return gunzip_layer(layer) if layer[:2] == b"\x1f\x8b" else layer


def load_archive(source: Path | IO[bytes] | bytes) -> list[ArchiveImage]:
    """Read the images of a docker-archive or OCI-archive tarball.

    Args:
        source: a path, an open binary file, or the tarball's bytes.

    Returns:
        The images, each verified against its config's diff IDs.

    Raises:
        InvalidParameter: for a tarball that is neither format or is corrupt.
    """
    fileobj: IO[bytes]
    if isinstance(source, bytes):
        fileobj = io.BytesIO(source)
    elif isinstance(source, Path):
        fileobj = source.open("rb")
    else:
        fileobj = source
    try:
        try:
            tar = tarfile.open(fileobj=fileobj, mode="r:*")  # noqa: SIM115 (closed below)
        except tarfile.TarError as exc:
            raise InvalidParameter(f"invalid archive: {exc}") from exc
        with tar:
            ball = _Tarball(tar)
            if ball.has("manifest.json"):
                images = _read_docker_archive(ball)
            elif ball.has("index.json"):
                images = _read_oci_archive(ball)
            else:
                raise InvalidParameter("invalid archive: no manifest.json (docker-archive) or index.json (OCI archive)")
    finally:
        if isinstance(source, Path):
            fileobj.close()
    for image in images:
        image.verify()
    return images


def _read_docker_archive(ball: _Tarball) -> list[ArchiveImage]:
    manifest = ball.json("manifest.json")
    if not isinstance(manifest, list):
        raise InvalidParameter("invalid archive: manifest.json is not a list")
    images = []
    for entry in manifest:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise InvalidParameter("invalid archive: manifest.json entry without Config")
        config = ball.read(entry["Config"])
        layers = [_uncompressed(ball.read(str(p))) for p in entry.get("Layers") or []]
        tags = [str(t) for t in entry.get("RepoTags") or []]
        images.append(ArchiveImage(config, layers, tags))
    return images


def host_platform() -> tuple[str, str]:
    """This machine's (os, architecture) in OCI terms."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(machine, machine)
    return "linux", arch


def _read_oci_archive(ball: _Tarball) -> list[ArchiveImage]:
    index = ball.json("index.json")
    if not isinstance(index, dict):
        raise InvalidParameter("invalid archive: index.json is not an object")
    by_config: dict[str, ArchiveImage] = {}
    for raw in index.get("manifests") or []:
        desc = Descriptor.from_dict(raw)
        manifest = _resolve_manifest(ball, desc)
        config_desc = Descriptor.from_dict(manifest["config"])
        image = by_config.get(config_desc.digest)
        if image is None:
            layers = [
                _uncompressed(ball.blob(Descriptor.from_dict(layer).digest)) for layer in manifest.get("layers") or []
            ]
            image = ArchiveImage(ball.blob(config_desc.digest), layers)
            by_config[config_desc.digest] = image
        tag, ref_name = _tag_of(desc.annotations)
        if tag and tag not in image.repo_tags:
            image.repo_tags.append(tag)
        elif ref_name and not image.ref_name:
            image.ref_name = ref_name
    return list(by_config.values())


def _resolve_manifest(ball: _Tarball, desc: Descriptor) -> dict[str, Any]:
    """Follow an index down to the image manifest for this machine's platform."""
    for _ in range(_MAX_LINK_HOPS):
        document = parse_json_document(ball.blob(desc.digest))
        if desc.media_type not in INDEX_MEDIA_TYPES and "manifests" not in document:
            if "config" not in document:
                raise InvalidParameter(f"invalid archive: {desc.digest} is not an image manifest")
            return document
        os_name, arch = host_platform()
        candidates = [Descriptor.from_dict(m) for m in document.get("manifests") or []]
        present = [c for c in candidates if ball.has(f"blobs/sha256/{c.digest.partition(':')[2]}")]
        matching = [
            c
            for c in present
            if c.platform is not None and c.platform.get("os") == os_name and c.platform.get("architecture") == arch
        ]
        if matching:
            desc = matching[0]
        elif len(present) == 1 and (present[0].platform or {}).get("os") != "unknown":
            desc = present[0]
        else:
            raise InvalidParameter(f"no matching manifest for {os_name}/{arch} in the manifest list entries")
    raise InvalidParameter("invalid archive: index nesting too deep")


def _tag_of(annotations: Mapping[str, str]) -> tuple[str, str]:
    """Return (familiar name:tag, bare ref name) from index annotations."""
    from simulator.model.reference import ReferenceError_, parse_normalized_named

    full = annotations.get(CONTAINERD_NAME) or ""
    ref_name = annotations.get(REF_NAME) or ""
    if not full and (":" in ref_name or "/" in ref_name):
        full = ref_name
    if not full:
        return "", ref_name
    try:
        ref = parse_normalized_named(full).with_default_tag()
    except (ReferenceError_, InvalidParameter):
        return "", ref_name
    if ref.tag is None:
        return "", ref_name
    return ref.familiar_string().split("@", 1)[0], ref_name


# -- writing -----------------------------------------------------------------------------


def save_archive(images: Sequence[ArchiveImage], out: IO[bytes]) -> None:
    """Write ``images`` as a docker-archive tarball with an OCI layout inside (Docker 25 form).

    The output is reproducible: same images, same bytes.

    Args:
        images: what to save; layers shared between images are written once.
        out: a binary stream to write the tarball to.
    """
    files: dict[str, bytes] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
    manifest: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    index_entries: list[dict[str, Any]] = []
    for image in images:
        image.verify()
        config = image.config_document
        config_desc = Descriptor.for_content(MEDIA_TYPE_OCI_CONFIG, image.config)
        files[_blob_name(config_desc.digest)] = image.config
        layer_descs = []
        for layer in image.layers:
            desc = Descriptor.for_content(MEDIA_TYPE_OCI_LAYER, layer)
            files[_blob_name(desc.digest)] = layer
            layer_descs.append(desc)
        manifest_bytes = canonical_json(build_manifest(config_desc, layer_descs))
        manifest_desc = Descriptor.for_content(MEDIA_TYPE_OCI_MANIFEST, manifest_bytes)
        files[_blob_name(manifest_desc.digest)] = manifest_bytes
        manifest.append(
            {
                "Config": _blob_name(config_desc.digest),
                "RepoTags": list(image.repo_tags) or None,
                "Layers": [_blob_name(d.digest) for d in layer_descs],
            }
        )
        platform_ = {"architecture": str(config.get("architecture", "")), "os": "linux"}
        top = sha256_hex(image.layers[-1]) if image.layers else sha256_hex(image.config)
        for tag in image.repo_tags:
            name, _, version = tag.rpartition(":")
            repositories.setdefault(name, {})[version] = top
            full = _full_name(tag)
            index_entries.append(
                {
                    **manifest_desc.to_dict(),
                    "annotations": {CONTAINERD_NAME: full, REF_NAME: version},
                    "platform": platform_,
                }
            )
        if not image.repo_tags:
            index_entries.append({**manifest_desc.to_dict(), "platform": platform_})
    index = {"schemaVersion": 2, "mediaType": MEDIA_TYPE_OCI_INDEX, "manifests": index_entries}
    files["index.json"] = json.dumps(index).encode()
    files["manifest.json"] = json.dumps(manifest).encode()
    if repositories:
        files["repositories"] = json.dumps(repositories).encode()
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, LAYER_MTIME
            tar.addfile(info)
        for name in sorted(files, key=lambda n: (not n.startswith("blobs/"), n)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, LAYER_MTIME
            tar.addfile(info, io.BytesIO(files[name]))


def save_archive_bytes(images: Sequence[ArchiveImage]) -> bytes:
    """Return the tarball :func:`save_archive` writes."""
    buf = io.BytesIO()
    save_archive(images, buf)
    return buf.getvalue()


def _blob_name(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def _full_name(tag: str) -> str:
    from simulator.model.reference import ReferenceError_, parse_normalized_named

    try:
        return str(parse_normalized_named(tag))
    except (ReferenceError_, InvalidParameter):
        return tag
