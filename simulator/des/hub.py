"""The built-in simulated Docker Hub: real image documents for the official images.

``docker pull nginx`` in the simulated world talks to this catalog. Every
image is made of real bytes: gzipped layer tars, a config whose digest is the
image ID, an OCI manifest and an index with one ``linux/amd64`` entry, so the
daemon's content-addressable store, digests and shared layers behave exactly
as with Docker Hub. Blobs are tiny; their descriptors carry the modelled
sizes (:data:`~simulator.model.image.ANNOTATION_DOWNLOAD_SIZE`,
:data:`~simulator.model.image.ANNOTATION_UNPACKED_SIZE`) that drive bandwidth
and ``docker images`` SIZE.

Building is deterministic (same bytes and digests on every run and machine)
and lazy: importing this module builds nothing; the first question to the
catalog builds every image once (a few tens of milliseconds).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from simulator.des.hub_catalog import ALL_IMAGES, ImageRecipe, LayerRecipe
from simulator.model.digest import sha256_digest
from simulator.model.image import (
    ANNOTATION_DOWNLOAD_SIZE,
    ANNOTATION_UNPACKED_SIZE,
    MEDIA_TYPE_OCI_CONFIG,
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_OCI_LAYER_GZIP,
    MEDIA_TYPE_OCI_MANIFEST,
    Descriptor,
    build_image_config,
    build_index,
    build_manifest,
    canonical_json,
    history_entry,
)
from simulator.model.layer import build_layer_tar, gzip_layer

PLATFORM: Mapping[str, str] = {"architecture": "amd64", "os": "linux"}
"""The one platform every simulated image is published for."""

_BUILDKIT = "buildkit.dockerfile.v0"


@dataclass(frozen=True, slots=True)
class HubLayer:
    """One layer blob as the Hub serves it.

    Attributes:
        blob: the gzipped tar (the bytes a registry serves).
        digest: ``sha256:`` of ``blob``.
        diff_id: ``sha256:`` of the uncompressed tar.
        download_size: modelled compressed size in bytes.
        unpacked_size: modelled extracted size in bytes.
        created_by: the Dockerfile step that made it (``docker history``).
    """

    blob: bytes
    digest: str
    diff_id: str
    download_size: int
    unpacked_size: int
    created_by: str

    @property
    def size(self) -> int:
        """Real size of the blob in bytes."""
        return len(self.blob)

    @property
    def descriptor(self) -> Descriptor:
        """The manifest's descriptor of this layer, with the modelled sizes."""
        annotations = {
            ANNOTATION_DOWNLOAD_SIZE: str(self.download_size),
            ANNOTATION_UNPACKED_SIZE: str(self.unpacked_size),
        }
        return Descriptor(MEDIA_TYPE_OCI_LAYER_GZIP, self.digest, self.size, annotations)


@dataclass(frozen=True, slots=True)
class HubImage:
    """One image (for ``linux/amd64``) of one repository, with all its documents.

    Attributes:
        repo: normalised repository path (``library/nginx``).
        tags: every tag pointing at this image.
        manifest: the OCI manifest bytes.
        manifest_digest: ``sha256:`` of ``manifest``.
        config: the image config bytes.
        config_digest: ``sha256:`` of ``config``: the image ID.
        layers: the layers, bottom first.
        index: the OCI index bytes (what a tag resolves to on the real Hub).
        index_digest: ``sha256:`` of ``index``: the digest ``docker pull`` prints.
    """

    repo: str
    tags: tuple[str, ...]
    manifest: bytes
    manifest_digest: str
    config: bytes
    config_digest: str
    layers: tuple[HubLayer, ...]
    index: bytes
    index_digest: str

    @property
    def id(self) -> str:
        """The image ID (the config digest)."""
        return self.config_digest

    @property
    def manifest_media_type(self) -> str:
        """Media type of :attr:`manifest`."""
        return MEDIA_TYPE_OCI_MANIFEST

    @property
    def index_media_type(self) -> str:
        """Media type of :attr:`index`."""
        return MEDIA_TYPE_OCI_INDEX

    @property
    def config_document(self) -> dict[str, Any]:
        """The parsed config."""
        doc: dict[str, Any] = json.loads(self.config)
        return doc

    @property
    def download_size(self) -> int:
        """Modelled bytes a pull with an empty cache transfers."""
        return sum(layer.download_size for layer in self.layers)

    @property
    def unpacked_size(self) -> int:
        """Modelled size ``docker images`` shows."""
        return sum(layer.unpacked_size for layer in self.layers)


def normalize_repository(repo: str) -> str:
    """Return the Hub path of a repository: ``nginx`` and ``docker.io/library/nginx`` give ``library/nginx``."""
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if repo.startswith(prefix):
            repo = repo[len(prefix) :]
    return repo if "/" in repo else f"library/{repo}"


def _merged_settings(recipe: ImageRecipe) -> dict[str, Any]:
    """The image's config settings: its own over its base's, as a Dockerfile inherits them."""
    merged = _merged_settings(recipe.base) if recipe.base else {}
    own = recipe.settings
    for key, value in own.items():
        if key == "env":
            env = {item.split("=", 1)[0]: item for item in merged.get("env", [])}
            env.update({item.split("=", 1)[0]: item for item in value})
            merged["env"] = list(env.values())
        elif key in ("exposed_ports", "volumes"):
            merged[key] = sorted({*merged.get(key, ()), *value})
        elif key == "labels":
            merged["labels"] = {**merged.get("labels", {}), **value}
        else:
            merged[key] = value
    if "entrypoint" in own and "cmd" not in own:
        merged["cmd"] = None  # Docker: ENTRYPOINT resets the inherited CMD
    return merged


def _json_words(words: Sequence[str]) -> str:
    return "[" + " ".join(json.dumps(w) for w in words) + "]"


def _directives(recipe: ImageRecipe) -> tuple[list[str], list[str]]:
    """History lines of the empty-layer instructions: (before the layers, after them)."""
    own = recipe.settings
    before = [f"LABEL {k}={v}" for k, v in sorted(own.get("labels", {}).items())]
    before += [f"ENV {item}" for item in own.get("env", []) if recipe.base is not None]
    after: list[str] = []
    if "working_dir" in own:
        after.append(f"WORKDIR {own['working_dir']}")
    if "volumes" in own:
        after.append(f"VOLUME [{' '.join(own['volumes'])}]")
    if "exposed_ports" in own:
        after.append("EXPOSE map[" + " ".join(f"{p}:{{}}" for p in own["exposed_ports"]) + "]")
    if "stop_signal" in own:
        after.append(f"STOPSIGNAL {own['stop_signal']}")
    if "entrypoint" in own:
        after.append(f"ENTRYPOINT {_json_words(own['entrypoint'])}")
    if own.get("cmd") is not None:
        after.append(f"CMD {_json_words(own['cmd'])}")
    return before, after


def _history(recipe: ImageRecipe) -> list[dict[str, Any]]:
    history = _history(recipe.base) if recipe.base else []
    before, after = _directives(recipe)
    comment = _BUILDKIT if recipe.base is not None else None
    for line in before:
        history.append(history_entry(line, empty_layer=True, comment=comment, created=recipe.created))
    for layer in recipe.layers:
        history.append(history_entry(layer.created_by, comment=comment, created=layer.created))
    for line in after:
        history.append(history_entry(line, empty_layer=True, comment=comment, created=recipe.created))
    return history


def _all_layers(recipe: ImageRecipe) -> tuple[LayerRecipe, ...]:
    return (_all_layers(recipe.base) if recipe.base else ()) + recipe.layers


class HubCatalog:
    """The simulated Docker Hub's content, built once on first use.

    Args:
        recipes: the images to publish (default: every official image csim knows).
    """

    def __init__(self, recipes: Iterable[ImageRecipe] = ALL_IMAGES) -> None:
        self._recipes = tuple(recipes)
        self._lock = threading.Lock()
        self._built = False
        self._layers: dict[int, HubLayer] = {}
        self._blobs: dict[str, bytes] = {}
        self._images: dict[str, dict[str, HubImage]] = {}
        self._by_digest: dict[tuple[str, str], HubImage] = {}

    def repositories(self) -> list[str]:
        """Every repository path, sorted (``library/alpine``...)."""
        self._build()
        return sorted(self._images)

    def tags(self, repo: str) -> list[str]:
        """The tags of ``repo``, sorted; empty for an unknown repository."""
        self._build()
        return sorted(self._images.get(normalize_repository(repo), {}))

    def images(self) -> list[HubImage]:
        """Every distinct image, in catalog order."""
        self._build()
        seen: dict[str, HubImage] = {}
        for tags in self._images.values():
            for image in tags.values():
                seen.setdefault(image.manifest_digest, image)
        return list(seen.values())

    def resolve(self, repo: str, tag_or_digest: str = "latest") -> HubImage | None:
        """Find an image by tag, or by its manifest or index digest.

        Args:
            repo: repository path (``library/nginx``; ``nginx`` is accepted too).
            tag_or_digest: a tag (``1.27-alpine``) or ``sha256:...``.

        Returns:
            The image, or None when the repository or reference is unknown.
        """
        self._build()
        repo = normalize_repository(repo)
        if ":" in tag_or_digest:
            return self._by_digest.get((repo, tag_or_digest))
        return self._images.get(repo, {}).get(tag_or_digest)

    def blob(self, digest: str) -> bytes | None:
        """Return any content by digest: layer blob, config, manifest or index."""
        self._build()
        return self._blobs.get(digest)

    def _build(self) -> None:
        if self._built:
            return
        with self._lock:
            if not self._built:
                for recipe in self._recipes:
                    self._add(recipe)
                self._built = True

    def _layer(self, recipe: LayerRecipe) -> HubLayer:
        layer = self._layers.get(id(recipe))
        if layer is not None:
            return layer
        tar = build_layer_tar(recipe.entries())
        blob = gzip_layer(tar)
        digest = sha256_digest(blob)
        if digest in self._blobs:
            raise RuntimeError(f"two layer recipes build the same blob {digest}: {recipe.created_by}")
        layer = HubLayer(
            blob=blob,
            digest=digest,
            diff_id=sha256_digest(tar),
            download_size=recipe.download_size,
            unpacked_size=recipe.unpacked_size,
            created_by=recipe.created_by,
        )
        self._layers[id(recipe)] = layer
        self._blobs[digest] = blob
        return layer

    def _store(self, data: bytes) -> str:
        digest = sha256_digest(data)
        self._blobs[digest] = data
        return digest

    def _add(self, recipe: ImageRecipe) -> None:
        layers = tuple(self._layer(layer) for layer in _all_layers(recipe))
        settings = _merged_settings(recipe)
        config_doc = build_image_config(
            diff_ids=[layer.diff_id for layer in layers],
            history=_history(recipe),
            created=recipe.created,
            **settings,
        )
        config = canonical_json(config_doc)
        config_digest = self._store(config)
        config_desc = Descriptor(MEDIA_TYPE_OCI_CONFIG, config_digest, len(config))
        manifest = canonical_json(build_manifest(config_desc, [x.descriptor for x in layers]))
        manifest_digest = self._store(manifest)
        entry = Descriptor(MEDIA_TYPE_OCI_MANIFEST, manifest_digest, len(manifest), platform=PLATFORM)
        index = canonical_json(build_index([entry]))
        index_digest = self._store(index)
        image = HubImage(
            repo=recipe.repo,
            tags=recipe.tags,
            manifest=manifest,
            manifest_digest=manifest_digest,
            config=config,
            config_digest=config_digest,
            layers=layers,
            index=index,
            index_digest=index_digest,
        )
        tags = self._images.setdefault(recipe.repo, {})
        for tag in recipe.tags:
            if tag in tags:
                raise RuntimeError(f"tag {recipe.repo}:{tag} is defined twice")
            tags[tag] = image
        self._by_digest[(recipe.repo, manifest_digest)] = image
        self._by_digest[(recipe.repo, index_digest)] = image


@cache
def default_hub() -> HubCatalog:
    """The shared catalog (built on first question, then cached for the process)."""
    return HubCatalog()
