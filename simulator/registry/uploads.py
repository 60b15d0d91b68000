"""Blob upload sessions: bytes arriving in pieces, hashed as they land.

An upload is a directory under ``uploads/`` holding the bytes received so far
and a small ``info.json`` naming its repository. Each request appends through
an ``UploadWriter``: if the request is cut off half-way (a client that
declared 1 GB and vanished), the file is truncated back and the running hash
restored, so the session stays exactly at its last complete chunk and no
partial data ever counts. Nothing here is visible as a blob until storage
commits it under its verified digest.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from simulator.registry import digests


@dataclass(eq=False)
class BlobUpload:
    """One upload session.

    Attributes:
        uuid: the session id (the ``Docker-Upload-UUID`` header).
        repo: the repository the upload belongs to.
        directory: where its bytes and info live.
        size: bytes accepted so far (the next chunk must start here).
        sha256: running hash of those bytes, or None when unknown (a session
            resumed after a restart is re-hashed from disk at commit).
        lock: serialises requests on the same session.
    """

    uuid: str
    repo: str
    directory: Path
    size: int = 0
    sha256: Any = field(default_factory=hashlib.sha256)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def data_path(self) -> Path:
        """The file holding the received bytes."""
        return self.directory / "data"

    def writer(self) -> UploadWriter:
        """Open the session for appending one chunk (use as a context manager)."""
        return UploadWriter(self)

    def digest(self, algorithm: str) -> str:
        """The digest of everything received, reusing the running hash when it is current."""
        if algorithm == "sha256" and self.sha256 is not None:
            return f"sha256:{self.sha256.hexdigest()}"
        return digests.digest_file(self.data_path, algorithm)


class UploadWriter:
    """Appends one request's bytes to a session; rolls back unless committed.

    On leaving the ``with`` block normally the chunk counts; on any exception
    (including cancellation) the file is cut back to where the chunk began.
    """

    def __init__(self, upload: BlobUpload) -> None:
        self._upload = upload
        self._start = upload.size
        self._hash_before = upload.sha256.copy() if upload.sha256 is not None else None
        self._file: IO[bytes] | None = None
        self.written = 0

    def __enter__(self) -> UploadWriter:
        self._file = self._upload.data_path.open("r+b")
        self._file.seek(self._start)
        self._file.truncate()
        return self

    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` and feed it to the running hash."""
        assert self._file is not None
        self._file.write(chunk)
        if self._upload.sha256 is not None:
            self._upload.sha256.update(chunk)
        self.written += len(chunk)
        self._upload.size = self._start + self.written

    def rollback(self) -> None:
        """Forget this chunk: truncate the file and restore the hash."""
        if self._file is not None and not self._file.closed:
            self._file.truncate(self._start)
        else:
            os.truncate(self._upload.data_path, self._start)
        self._upload.size = self._start
        self._upload.sha256 = self._hash_before
        self.written = 0

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._file is not None
        try:
            if exc_type is not None:
                self.rollback()
        finally:
            self._file.close()
