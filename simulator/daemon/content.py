"""The content store: every blob (config, manifest, layer) on disk, named by its digest.

dockerd (through containerd) keeps image content in a content-addressable
store: a blob's file name is the SHA-256 of its bytes, so the same layer
pulled for two images is stored once and a corrupt download cannot hide
under a good name. csim keeps that store as an OCI image layout
(``oci-layout``, ``blobs/sha256/<hex>``, ``index.json``) so other tools can
read it, and both backends use it.

Writes are crash-safe: bytes go to a temporary file in the blob directory,
are fsynced, verified against the expected digest, and only then renamed to
their final name. A reader therefore sees a whole, verified blob or nothing;
temporaries left by a crash are removed when the store is opened again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from simulator.model.digest import SHA256, validate_digest
from simulator.model.errors import InvalidParameter, NotFound

OCI_LAYOUT_VERSION = "1.0.0"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
_TMP_PREFIX = ".ingest-"
_CHUNK = 1 << 20


class DigestMismatch(InvalidParameter):
    """Bytes that do not hash to the digest they were announced with (containerd's words)."""

    def __init__(self, actual: str, expected: str) -> None:
        super().__init__(f"unexpected commit digest {actual}, expected {expected}: failed precondition")
        self.actual = actual
        self.expected = expected


def _check_sha256(digest: str) -> str:
    """Validate ``digest`` and return its hex part (which becomes a file name)."""
    validate_digest(digest)
    algorithm, _, encoded = digest.partition(":")
    if algorithm != SHA256:
        raise InvalidParameter("unsupported digest algorithm")
    return encoded


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """A blob being streamed in: ``write`` chunks, the store commits it on close.

    Attributes:
        expected: the digest the bytes must hash to (None: whatever they hash to).
        size: bytes written so far.
    """

    def __init__(self, file: IO[bytes], expected: str | None) -> None:
        self._file = file
        self._hash = hashlib.sha256()
        self.expected = expected
        self.size = 0

    def write(self, data: bytes) -> int:
        """Append ``data`` to the blob; returns its length."""
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)
        return len(data)

    @property
    def digest(self) -> str:
        """The digest of the bytes written so far."""
        return f"{SHA256}:{self._hash.hexdigest()}"


class ContentStore:
    """An OCI image layout directory holding blobs by digest.

    Args:
        root: the layout directory; created when missing.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs" / SHA256
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        layout = self.root / "oci-layout"
        if not layout.exists():
            self._write_atomic(layout, json.dumps({"imageLayoutVersion": OCI_LAYOUT_VERSION}))
        if not (self.root / "index.json").exists():
            self._write_index([])
        for stale in self.blobs.glob(f"{_TMP_PREFIX}*"):
            # A crash between create and rename leaves these; never visible as blobs.
            stale.unlink(missing_ok=True)
        for stale in self.root.glob(".tmp-*"):
            stale.unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------

    def path(self, digest: str) -> Path:
        """Where the blob ``digest`` lives (whether or not it exists).

        Raises:
            InvalidParameter: for a malformed or non-sha256 digest.
        """
        return self.blobs / _check_sha256(digest)

    def has(self, digest: str) -> bool:
        """Return True when the blob is stored."""
        return self.path(digest).is_file()

    def _existing(self, digest: str) -> Path:
        path = self.path(digest)
        if not path.is_file():
            raise NotFound(f"content digest {digest}: not found")
        return path

    def get(self, digest: str) -> bytes:
        """Return the bytes of a blob.

        Raises:
            NotFound: ``content digest <digest>: not found``.
        """
        return self._existing(digest).read_bytes()

    def open(self, digest: str) -> IO[bytes]:
        """Open a blob for reading (the caller closes it).

        Raises:
            NotFound: ``content digest <digest>: not found``.
        """
        return self._existing(digest).open("rb")

    def size(self, digest: str) -> int:
        """Return a blob's size in bytes.

        Raises:
            NotFound: ``content digest <digest>: not found``.
        """
        return self._existing(digest).stat().st_size

    def digests(self) -> list[str]:
        """Return every stored blob's digest, sorted."""
        return sorted(f"{SHA256}:{p.name}" for p in self.blobs.iterdir() if not p.name.startswith("."))

    # -- writing -------------------------------------------------------------------

    def put(self, data: bytes, expected: str | None = None) -> str:
        """Store ``data`` and return its digest.

        Args:
            data: the blob's bytes.
            expected: the digest announced for them, checked before anything is stored.

        Raises:
            DigestMismatch: when ``data`` does not hash to ``expected``.
        """
        with self.writer(expected) as w:
            w.write(data)
        return w.digest

    @contextlib.contextmanager
    def writer(self, expected_digest: str | None = None) -> Iterator[BlobWriter]:
        """Stream a blob in; it becomes visible only once complete and verified.

        Example::

            with store.writer("sha256:...") as w:
                for chunk in response:
                    w.write(chunk)

        If the block raises, or the bytes do not match, nothing is stored.

        Raises:
            DigestMismatch: when the bytes written do not hash to ``expected_digest``.
        """
        if expected_digest is not None:
            _check_sha256(expected_digest)
        fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=self.blobs)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as file:
                writer = BlobWriter(file, expected_digest)
                yield writer
                file.flush()
                os.fsync(file.fileno())
            digest = writer.digest
            if expected_digest is not None and digest != expected_digest:
                raise DigestMismatch(digest, expected_digest)
            final = self.path(digest)
            if final.is_file():
                tmp.unlink()
            else:
                os.chmod(tmp, 0o644)
                os.replace(tmp, final)
                _fsync_dir(self.blobs)
        finally:
            tmp.unlink(missing_ok=True)

    def delete(self, digest: str) -> None:
        """Remove a blob.

        Raises:
            NotFound: ``content digest <digest>: not found``.
        """
        self._existing(digest).unlink()

    # -- index.json ----------------------------------------------------------------

    def index(self) -> dict[str, Any]:
        """Return the layout's ``index.json`` document."""
        data = json.loads((self.root / "index.json").read_text())
        return data if isinstance(data, dict) else {"schemaVersion": 2, "manifests": []}

    def set_ref(self, descriptor: Mapping[str, Any], ref_name: str | None = None) -> None:
        """Record a manifest in ``index.json`` (replacing one with the same ref name).

        Args:
            descriptor: the manifest's OCI descriptor (mediaType, digest, size).
            ref_name: ``org.opencontainers.image.ref.name`` for it, e.g.
                ``docker.io/library/busybox:latest``.
        """
        entry = dict(descriptor)
        if ref_name is not None:
            notes = dict(entry.get("annotations") or {})
            notes["org.opencontainers.image.ref.name"] = ref_name
            entry["annotations"] = notes
        with self._lock:
            manifests = [
                m
                for m in self.index().get("manifests", [])
                if not (ref_name is not None and _ref_name(m) == ref_name)
                and not (ref_name is None and m.get("digest") == entry.get("digest"))
            ]
            manifests.append(entry)
            self._write_index(manifests)

    def remove_ref(self, ref_name: str | None = None, digest: str | None = None) -> None:
        """Drop index entries with this ref name, or for this manifest digest."""
        with self._lock:
            manifests = [
                m
                for m in self.index().get("manifests", [])
                if not (ref_name is not None and _ref_name(m) == ref_name)
                and not (digest is not None and m.get("digest") == digest)
            ]
            self._write_index(manifests)

    def _write_index(self, manifests: list[dict[str, Any]]) -> None:
        index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests}
        self._write_atomic(self.root / "index.json", json.dumps(index, indent=2))

    def _write_atomic(self, path: Path, text: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)


def _ref_name(descriptor: Mapping[str, Any]) -> str | None:
    notes = descriptor.get("annotations") or {}
    name = notes.get("org.opencontainers.image.ref.name")
    return name if isinstance(name, str) else None
