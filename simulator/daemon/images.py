"""dockerd's image store: references to image ids, image records, layers by diff id.

Blobs (configs, manifests, layers) live in the content store; this module
keeps what Docker keeps in ``repositories.json`` and ``imagedb``: which
references point at which image, and what each image is made of.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from simulator.model.digest import sha256_digest
from simulator.model.errors import Conflict, InvalidParameter, NotFound
from simulator.model.image import ImageRecord, LayerRecord
from simulator.model.layer import gunzip_layer
from simulator.model.reference import Reference, normalize, parse_any_reference


class BlobStore(Protocol):
    """The part of the content store the image service needs."""

    def has(self, digest: str) -> bool: ...

    def put(self, data: bytes, expected: str | None = None) -> str: ...

    def get(self, digest: str) -> bytes: ...

    def delete(self, digest: str) -> None: ...


def _image_to_dict(image: ImageRecord) -> dict[str, Any]:
    return {
        "id": image.id,
        "manifest_digest": image.manifest_digest,
        "layers": [
            [la.diff_id, la.blob_digest, la.blob_size, la.unpacked_size, la.download_size] for la in image.layers
        ],
        "repo_digests": list(image.repo_digests),
    }


class ImageService:
    """Images by id and by reference, with Docker's lookup and conflict rules."""

    def __init__(self, content: BlobStore) -> None:
        self.content = content
        self.images: dict[str, ImageRecord] = {}
        self.refs: dict[str, str] = {}  # "docker.io/library/nginx:latest" -> image id
        self.created_at: dict[str, float] = {}  # image id -> world time it appeared

    # -- persistence ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "images": [_image_to_dict(i) for i in self.images.values()],
            "refs": dict(self.refs),
            "created_at": dict(self.created_at),
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        from simulator.model.image import parse_json_document

        for item in data.get("images", []):
            config_bytes = self.content.get(item["id"])
            layers = tuple(LayerRecord(*row) for row in item["layers"])
            self.images[item["id"]] = ImageRecord(
                id=item["id"],
                config=parse_json_document(config_bytes, "image config"),
                config_bytes=config_bytes,
                manifest_digest=item.get("manifest_digest"),
                layers=layers,
                repo_digests=tuple(item.get("repo_digests", ())),
            )
        self.refs = {k: v for k, v in data.get("refs", {}).items() if v in self.images}
        self.created_at = dict(data.get("created_at", {}))

    # -- adding -------------------------------------------------------------
    def add(self, image: ImageRecord, now: float) -> ImageRecord:
        """Store an image record (its config blob must already be in the content store)."""
        existing = self.images.get(image.id)
        if existing is not None:
            digests = tuple(dict.fromkeys(existing.repo_digests + image.repo_digests))
            image = replace(existing, repo_digests=digests)
        self.images[image.id] = image
        self.created_at.setdefault(image.id, now)
        return image

    def set_ref(self, ref: Reference, image_id: str) -> str | None:
        """Point ``ref`` at ``image_id``; returns the id it pointed at before, if any."""
        key = str(ref)
        previous = self.refs.get(key)
        self.refs[key] = image_id
        return previous

    # -- lookup -------------------------------------------------------------
    def layer_known(self, diff_id: str) -> bool:
        return any(diff_id in img.diff_ids for img in self.images.values())

    def blob_for_diff_id(self, diff_id: str) -> LayerRecord | None:
        """A layer record for ``diff_id``, preferring one whose blob the store holds.

        A layer can be known by two blobs (the plain tar loaded locally, the gzip
        a registry served); a pull that found it ``Already exists`` records the
        registry's blob without fetching it.
        """
        found = None
        for img in self.images.values():
            for layer in img.layers:
                if layer.diff_id == diff_id:
                    if self.content.has(layer.blob_digest):
                        return layer
                    found = found or layer
        return found

    def layer_tar(self, diff_id: str) -> bytes:
        """The uncompressed tar of a layer (the runtime protocol's ``LayerStore``)."""
        layer = self.blob_for_diff_id(diff_id)
        if layer is None:
            raise NotFound(f"layer does not exist: {diff_id}")
        blob = self.content.get(layer.blob_digest)
        if blob[:2] == b"\x1f\x8b":
            return gunzip_layer(blob)
        return blob

    def find(self, name: str) -> ImageRecord | None:
        """Resolve a name as typed: full or short id, ``sha256:`` id, or a reference."""
        if not name:
            return None
        if name.startswith("sha256:") and name in self.images:
            return self.images[name]
        bare = name.removeprefix("sha256:")
        if 1 <= len(bare) <= 64 and all(c in "0123456789abcdef" for c in bare):
            matches = [i for iid, i in self.images.items() if iid[7:].startswith(bare)]
            if len(matches) == 1 and (len(bare) >= 12 or name.startswith("sha256:")):
                return matches[0]
            if len(matches) == 1:
                # A short hex string may also be a repository name (``abc``).
                try:
                    ref = normalize(name)
                except InvalidParameter:
                    return matches[0]
                return self.images.get(self.refs.get(str(ref), ""), matches[0])
        try:
            parsed = parse_any_reference(name)
        except InvalidParameter:
            return None
        if not isinstance(parsed, Reference):
            return self.images.get(parsed.digest)
        ref = parsed.with_default_tag() if parsed.domain else normalize(name)
        if ref.digest:
            for img in self.images.values():
                canonical = f"{ref.name}@{ref.digest}"
                if canonical in img.repo_digests:
                    return img
            return None
        image_id = self.refs.get(str(ref))
        return self.images.get(image_id) if image_id else None

    def get(self, name: str) -> ImageRecord:
        image = self.find(name)
        if image is None:
            raise NotFound(f"No such image: {familiar_for_error(name)}")
        return image

    def tags_of(self, image_id: str) -> list[str]:
        return sorted(k for k, v in self.refs.items() if v == image_id and "@" not in k)

    def repo_tags(self, image_id: str) -> list[str]:
        """Familiar ``name:tag`` strings, as ``RepoTags`` shows them."""
        return [normalize(k).familiar_string() for k in self.tags_of(image_id)]

    def repo_digests(self, image_id: str) -> list[str]:
        image = self.images[image_id]
        out = []
        for d in image.repo_digests:
            name, _, digest = d.partition("@")
            out.append(f"{normalize(name).familiar_name()}@{digest}")
        return out

    def all(self) -> list[ImageRecord]:
        return sorted(self.images.values(), key=lambda i: (-self.created_at.get(i.id, 0.0), i.id))

    # -- removal -----------------------------------------------------------
    def untag(self, ref_key: str) -> None:
        self.refs.pop(ref_key, None)

    def delete_image(self, image_id: str) -> list[str]:
        """Forget an image and its blobs no other image uses; returns deleted layer diff ids."""
        image = self.images.pop(image_id)
        self.created_at.pop(image_id, None)
        for key in [k for k, v in self.refs.items() if v == image_id]:
            del self.refs[key]
        still_used = {la.blob_digest for img in self.images.values() for la in img.layers}
        deleted: list[str] = []
        for layer in image.layers:
            if layer.blob_digest not in still_used and self.content.has(layer.blob_digest):
                self.content.delete(layer.blob_digest)
                deleted.append(layer.diff_id)
        if self.content.has(image_id):
            self.content.delete(image_id)
        return deleted

    def ensure_config_blob(self, config_bytes: bytes) -> str:
        digest = sha256_digest(config_bytes)
        if not self.content.has(digest):
            self.content.put(config_bytes, digest)
        return digest


def familiar_for_error(name: str) -> str:
    """How Docker names a missing image in ``No such image: X``: familiar, ``:latest`` added."""
    try:
        parsed = parse_any_reference(name)
    except InvalidParameter:
        return name
    if not isinstance(parsed, Reference):
        return name
    if not parsed.domain:
        return name
    return parsed.with_default_tag().familiar_string()


def rmi_conflict(ref_text: str, container_short: str, image_short: str, running: bool) -> Conflict:
    """Docker's conflict when an image is used by a container."""
    if running:
        return Conflict(
            f"conflict: unable to delete {image_short} (cannot be forced) - image is being used "
            f"by running container {container_short}"
        )
    return Conflict(
        f'conflict: unable to remove repository reference "{ref_text}" (must force) - '
        f"container {container_short} is using its referenced image {image_short}"
    )
