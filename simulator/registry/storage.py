"""The registry's content store on disk, crash-safe.

Layout under ``root`` (the same split distribution uses, simplified)::

    blobs/<alg>/<hex[:2]>/<hex>                  verified content, shared by all repos
    uploads/<uuid>/{data,info.json}              sessions in progress
    repositories/<name>/_layers/<alg>/<hex>      "this repo may serve that blob"
    repositories/<name>/_manifests/revisions/<alg>/<hex>   content: media type
    repositories/<name>/_manifests/tags/<tag>    content: manifest digest
    tmp/                                         staging for atomic writes

Every file that becomes visible is written to a temporary name, fsynced and
renamed, then its directory is fsynced: after a crash a path either holds its
full, verified content or does not exist. A blob is visible to a repository
only once its link exists, and the link is written after the blob itself.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from simulator.registry import digests, errors, manifests, names
from simulator.registry.uploads import BlobUpload

_UPLOAD_ID = frozenset("0123456789abcdef-")
STALE_UPLOAD_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """A manifest as stored: raw bytes, media type and digest."""

    body: bytes
    media_type: str
    digest: str


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RegistryStorage:
    """Blobs, uploads, manifests and tags under one root directory.

    Methods are synchronous file operations; the server runs the ones that
    hash or fsync large files in an executor.

    Args:
        root: the store's directory (created if missing).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in ("blobs", "uploads", "repositories", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        # Whatever sat in tmp/ was never renamed into place: a crash left it.
        for leftover in (self.root / "tmp").iterdir():
            leftover.unlink(missing_ok=True)
        self._uploads: dict[str, BlobUpload] = {}

    # -- paths ---------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        """Where the content of ``digest`` lives (whether or not it exists)."""
        algorithm, encoded = digests.parse_digest(digest)
        return self.root / "blobs" / algorithm / encoded[:2] / encoded

    def _repo_dir(self, repo: str) -> Path:
        return self.root / "repositories" / names.check_repository_name(repo)

    def _layer_link(self, repo: str, digest: str) -> Path:
        algorithm, encoded = digests.parse_digest(digest)
        return self._repo_dir(repo) / "_layers" / algorithm / encoded

    def _revision_link(self, repo: str, digest: str) -> Path:
        algorithm, encoded = digests.parse_digest(digest)
        return self._repo_dir(repo) / "_manifests" / "revisions" / algorithm / encoded

    def _tag_link(self, repo: str, tag: str) -> Path:
        return self._repo_dir(repo) / "_manifests" / "tags" / names.check_tag(tag)

    def _atomic_write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.root / "tmp" / uuidlib.uuid4().hex
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    # -- blobs ---------------------------------------------------------------

    def repository_exists(self, repo: str) -> bool:
        """Whether the repository has ever received a blob or manifest."""
        d = self._repo_dir(repo)
        return (d / "_layers").is_dir() or (d / "_manifests").is_dir()

    def stat_blob(self, repo: str, digest: str) -> int | None:
        """The size of a blob the repository may serve, or None."""
        if not self._layer_link(repo, digest).exists():
            return None
        try:
            return self.blob_path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def link_blob(self, repo: str, digest: str) -> None:
        """Make an existing blob visible in ``repo``."""
        link = self._layer_link(repo, digest)
        if not link.exists():
            self._atomic_write(link, digest.encode())

    def delete_blob(self, repo: str, digest: str) -> bool:
        """Remove a blob from ``repo`` (its shared content stays for other repos)."""
        link = self._layer_link(repo, digest)
        if not link.exists():
            return False
        link.unlink()
        _fsync_dir(link.parent)
        return True

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Link a blob of ``from_repo`` into ``repo``; False when the source lacks it."""
        if not names.is_repository_name(from_repo) or self.stat_blob(from_repo, digest) is None:
            return False
        self.link_blob(repo, digest)
        return True

    def _store_content(self, source: Path, digest: str) -> None:
        """Move verified content at ``source`` into the blob store (fsynced)."""
        target = self.blob_path(digest)
        if target.exists():
            source.unlink(missing_ok=True)
            return
        with source.open("rb") as f:
            os.fsync(f.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        _fsync_dir(target.parent)

    def put_blob(self, repo: str, data: bytes, algorithm: str = "sha256") -> str:
        """Store small in-memory content as a blob of ``repo``; returns its digest."""
        digest = digests.digest_bytes(data, algorithm)
        if not self.blob_path(digest).exists():
            tmp = self.root / "tmp" / uuidlib.uuid4().hex
            tmp.write_bytes(data)
            self._store_content(tmp, digest)
        self.link_blob(repo, digest)
        return digest

    # -- uploads -------------------------------------------------------------

    def start_upload(self, repo: str) -> BlobUpload:
        """Open a new, empty upload session for ``repo``."""
        names.check_repository_name(repo)
        upload_id = str(uuidlib.uuid4())
        directory = self.root / "uploads" / upload_id
        directory.mkdir()
        (directory / "data").touch()
        info = {"repo": repo, "started": time.time()}
        (directory / "info.json").write_text(json.dumps(info))
        upload = BlobUpload(upload_id, repo, directory)
        self._uploads[upload_id] = upload
        return upload

    def get_upload(self, repo: str, upload_id: str) -> BlobUpload:
        """The session ``upload_id`` of ``repo``.

        Raises:
            RegistryError: BLOB_UPLOAD_UNKNOWN if there is no such session in that repo.
        """
        unknown = errors.RegistryError(errors.BLOB_UPLOAD_UNKNOWN, {"uuid": upload_id})
        upload = self._uploads.get(upload_id)
        if upload is None:
            if not upload_id or not set(upload_id) <= _UPLOAD_ID or len(upload_id) > 64:
                raise unknown
            directory = self.root / "uploads" / upload_id
            try:
                info = json.loads((directory / "info.json").read_text())
                size = (directory / "data").stat().st_size
            except (OSError, ValueError):
                raise unknown from None
            # Resumed after a restart: the running hash is lost, commit re-reads the file.
            upload = BlobUpload(upload_id, str(info.get("repo")), directory, size, None)
            self._uploads[upload_id] = upload
        if upload.repo != repo:
            raise unknown
        return upload

    def is_open(self, upload: BlobUpload) -> bool:
        """Whether the session has been neither committed nor cancelled."""
        return self._uploads.get(upload.uuid) is upload

    def cancel_upload(self, upload: BlobUpload) -> None:
        """Forget a session and delete its bytes."""
        self._uploads.pop(upload.uuid, None)
        shutil.rmtree(upload.directory, ignore_errors=True)

    def commit_upload(self, upload: BlobUpload, digest: str) -> int:
        """Verify a finished upload against ``digest`` and publish it in its repo.

        Blocking (may hash and fsync a large file): run it in an executor.

        Returns:
            The blob's size.

        Raises:
            RegistryError: DIGEST_INVALID when the content does not match; the
                session is cancelled, as distribution does.
        """
        algorithm, _ = digests.parse_digest(digest)
        actual = upload.digest(algorithm)
        if actual != digest:
            self.cancel_upload(upload)
            raise errors.RegistryError(
                errors.DIGEST_INVALID,
                {"expected": digest, "actual": actual},
            )
        size = upload.size
        self._store_content(upload.data_path, digest)
        self.link_blob(upload.repo, digest)
        self.cancel_upload(upload)
        return size

    def purge_uploads(self, older_than: float = STALE_UPLOAD_SECONDS) -> int:
        """Delete sessions idle for ``older_than`` seconds (or unreadable); returns the count."""
        now = time.time()
        removed = 0
        for directory in (self.root / "uploads").iterdir():
            try:
                idle = now - (directory / "data").stat().st_mtime
            except OSError:
                idle = older_than
            if idle >= older_than:
                self._uploads.pop(directory.name, None)
                shutil.rmtree(directory, ignore_errors=True)
                removed += 1
        return removed

    # -- manifests and tags --------------------------------------------------

    def resolve(self, repo: str, reference: str) -> str | None:
        """The manifest digest a tag or digest names in ``repo``, or None."""
        if digests.is_digest(reference):
            return reference if self._revision_link(repo, reference).exists() else None
        try:
            digest = self._tag_link(repo, reference).read_text().strip()
        except (OSError, errors.RegistryError):
            return None
        return digest if self._revision_link(repo, digest).exists() else None

    def get_manifest(self, repo: str, reference: str) -> StoredManifest:
        """The manifest named by a tag or digest.

        Raises:
            RegistryError: MANIFEST_UNKNOWN.
        """
        digest = self.resolve(repo, reference)
        if digest is not None:
            try:
                media_type = self._revision_link(repo, digest).read_text().strip()
                return StoredManifest(self.blob_path(digest).read_bytes(), media_type, digest)
            except FileNotFoundError:
                pass
        key = "Digest" if digests.is_digest(reference) else "Tag"
        raise errors.RegistryError(errors.MANIFEST_UNKNOWN, {key: reference})

    def put_manifest(self, repo: str, reference: str, body: bytes, content_type: str | None) -> StoredManifest:
        """Validate and store a manifest, tagging it when ``reference`` is a tag.

        Raises:
            RegistryError: MANIFEST_INVALID, TAG_INVALID, DIGEST_INVALID (body
                does not match a digest reference) or MANIFEST_BLOB_UNKNOWN
                (one error per missing blob or child manifest).
        """
        names.check_repository_name(repo)
        by_digest = ":" in reference
        if by_digest:
            algorithm, _ = digests.parse_digest(reference)
            if digests.digest_bytes(body, algorithm) != reference:
                raise errors.RegistryError(errors.DIGEST_INVALID, reference)
        else:
            names.check_tag(reference)
        parsed = manifests.parse_manifest(body, content_type)
        missing = [d for d in parsed.blobs if self.stat_blob(repo, d) is None]
        missing += [d for d in parsed.children if self.resolve(repo, d) is None]
        if missing:
            first, *rest = (errors.RegistryError(errors.MANIFEST_BLOB_UNKNOWN, d) for d in missing)
            first.more = rest
            raise first
        digest = reference if by_digest else digests.digest_bytes(body)
        if not self.blob_path(digest).exists():
            tmp = self.root / "tmp" / uuidlib.uuid4().hex
            tmp.write_bytes(body)
            self._store_content(tmp, digest)
        self._atomic_write(self._revision_link(repo, digest), parsed.media_type.encode())
        if not by_digest:
            self._atomic_write(self._tag_link(repo, reference), digest.encode())
        return StoredManifest(body, parsed.media_type, digest)

    def delete_manifest(self, repo: str, reference: str) -> None:
        """Delete a tag, or a manifest by digest together with every tag pointing at it.

        Raises:
            RegistryError: MANIFEST_UNKNOWN.
        """
        digest = self.resolve(repo, reference)
        if digest is None:
            key = "Digest" if digests.is_digest(reference) else "Tag"
            raise errors.RegistryError(errors.MANIFEST_UNKNOWN, {key: reference})
        tags_dir = self._repo_dir(repo) / "_manifests" / "tags"
        if not digests.is_digest(reference):
            self._tag_link(repo, reference).unlink()
            _fsync_dir(tags_dir)
            return
        for tag_file in list(tags_dir.iterdir()) if tags_dir.is_dir() else []:
            if tag_file.read_text().strip() == digest:
                tag_file.unlink()
        revision = self._revision_link(repo, digest)
        revision.unlink()
        _fsync_dir(revision.parent)

    def list_tags(self, repo: str) -> list[str]:
        """The repository's tags, sorted.

        Raises:
            RegistryError: NAME_UNKNOWN when the repository does not exist.
        """
        if not self.repository_exists(repo):
            raise errors.RegistryError(errors.NAME_UNKNOWN, {"name": repo})
        tags_dir = self._repo_dir(repo) / "_manifests" / "tags"
        if not tags_dir.is_dir():
            return []
        return sorted(p.name for p in tags_dir.iterdir() if names.is_tag(p.name))

    def repositories(self) -> list[str]:
        """Every repository name in the store, sorted."""
        base = self.root / "repositories"
        found: list[str] = []
        pending = [base]
        while pending:
            directory = pending.pop()
            for child in directory.iterdir():
                if not child.is_dir() or child.name.startswith("_"):
                    continue
                if (child / "_layers").is_dir() or (child / "_manifests").is_dir():
                    found.append(child.relative_to(base).as_posix())
                pending.append(child)
        return sorted(found)
