"""The blob endpoints: fetch, delete, and the upload protocol.

Uploads follow the OCI distribution spec: ``POST`` opens a session (or, with
``?digest=``, uploads monolithically; with ``?mount=&from=``, links a blob
from another repository), ``PATCH`` appends a chunk (``Content-Range`` must
start where the session ends, else 416) or streams without one, ``PUT
?digest=`` appends an optional last chunk and commits. Bodies stream to disk
in bounded pieces; a blob becomes visible only after its digest checks out.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from simulator.registry import digests, errors
from simulator.registry.storage import RegistryStorage
from simulator.registry.uploads import BlobUpload

CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/(\d+|\*))?$")


def _blob_location(name: str, digest: str) -> str:
    return f"/v2/{name}/blobs/{digest}"


def _upload_headers(upload: BlobUpload) -> dict[str, str]:
    # distribution reports "0-0" for an empty session, "0-<last byte>" otherwise.
    return {
        "Location": f"/v2/{upload.repo}/blobs/uploads/{upload.uuid}",
        "Range": f"0-{max(upload.size - 1, 0)}",
        "Docker-Upload-UUID": upload.uuid,
    }


def _still_open(storage: RegistryStorage, upload: BlobUpload) -> None:
    # A request that waited for the lock may find the session committed or cancelled.
    if not storage.is_open(upload):
        raise errors.RegistryError(errors.BLOB_UPLOAD_UNKNOWN, {"uuid": upload.uuid})


def _check_range(request: web.Request, size: int) -> None:
    """Refuse an unsatisfiable ``Range`` with 416 and ``Content-Range: bytes */size``."""
    if "Range" not in request.headers:
        return
    try:
        rng = request.http_range
    except ValueError:
        satisfiable = False
    else:
        start = rng.start or 0
        satisfiable = (start < size) if start >= 0 else size > 0
    if not satisfiable:
        raise errors.RegistryError(
            errors.RANGE_INVALID,
            {"range": request.headers["Range"], "size": size},
            headers={"Content-Range": f"bytes */{size}"},
        )


def _blob_unknown(digest: str) -> errors.RegistryError:
    return errors.RegistryError(errors.BLOB_UNKNOWN, digest)


async def get_blob(request: web.Request, storage: RegistryStorage, name: str, digest: str) -> web.StreamResponse:
    """GET/HEAD a blob; ``Range`` gives 206, an unsatisfiable range 416."""
    digests.parse_digest(digest)
    size = storage.stat_blob(name, digest)
    if size is None:
        raise _blob_unknown(digest)
    _check_range(request, size)
    headers = {
        "Content-Type": "application/octet-stream",
        "Docker-Content-Digest": digest,
        "Cache-Control": "max-age=31536000",
    }
    # FileResponse streams with sendfile and implements Range / If-Range / 416.
    return web.FileResponse(storage.blob_path(digest), chunk_size=CHUNK, headers=headers)


async def delete_blob(request: web.Request, storage: RegistryStorage, name: str, digest: str) -> web.StreamResponse:
    """DELETE a blob from the repository: 202, or 404 BLOB_UNKNOWN."""
    digests.parse_digest(digest)
    if not storage.delete_blob(name, digest):
        raise _blob_unknown(digest)
    return web.Response(status=202, headers={"Content-Length": "0"})


def _parse_content_range(value: str) -> tuple[int, int]:
    match = _CONTENT_RANGE.match(value.strip())
    if not match or int(match.group(1)) > int(match.group(2)):
        raise errors.RegistryError(errors.RANGE_INVALID, value, status=416)
    return int(match.group(1)), int(match.group(2))


async def _receive(request: web.Request, upload: BlobUpload, ranged: bool) -> int:
    """Append the request body to the session; all of it or none of it.

    Args:
        ranged: honour ``Content-Range`` (PATCH and the last PUT chunk).

    Returns:
        The number of bytes appended.
    """
    expected = request.content_length
    content_range = request.headers.get("Content-Range") if ranged else None
    if content_range:
        start, end = _parse_content_range(content_range)
        if start != upload.size:
            raise errors.RegistryError(
                errors.RANGE_INVALID,
                {"range": content_range, "size": upload.size},
                headers=_upload_headers(upload),
            )
        if expected is not None and expected != end - start + 1:
            raise errors.RegistryError(errors.SIZE_INVALID, {"content_length": expected, "range": content_range})
        expected = end - start + 1
    with upload.writer() as writer:
        async for chunk in request.content.iter_chunked(CHUNK):
            writer.write(chunk)
        if expected is not None and writer.written != expected:
            # Raising inside the block rolls the chunk back.
            raise errors.RegistryError(errors.SIZE_INVALID, {"expected": expected, "received": writer.written})
    return writer.written


async def _commit(storage: RegistryStorage, upload: BlobUpload, digest: str | None) -> web.Response:
    if not digest:
        storage.cancel_upload(upload)
        raise errors.RegistryError(errors.DIGEST_INVALID, message="digest missing")
    try:
        digests.parse_digest(digest)
    except errors.RegistryError:
        storage.cancel_upload(upload)
        raise
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, storage.commit_upload, upload, digest)
    return web.Response(
        status=201,
        headers={
            "Location": _blob_location(upload.repo, digest),
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        },
    )


async def start_upload(request: web.Request, storage: RegistryStorage, name: str, _: str) -> web.StreamResponse:
    """POST: mount, monolithic upload, or a new session (202)."""
    mount = request.query.get("mount")
    if mount:
        digests.parse_digest(mount)
        source = request.query.get("from", "")
        if source and storage.mount_blob(name, mount, source):
            return web.Response(
                status=201,
                headers={
                    "Location": _blob_location(name, mount),
                    "Docker-Content-Digest": mount,
                    "Content-Length": "0",
                },
            )
    digest = request.query.get("digest")
    if digest is not None:
        digests.parse_digest(digest)
    upload = storage.start_upload(name)
    if digest is None:
        return web.Response(status=202, headers={**_upload_headers(upload), "Content-Length": "0"})
    async with upload.lock:
        try:
            await _receive(request, upload, ranged=False)
        except BaseException:
            storage.cancel_upload(upload)
            raise
        return await _commit(storage, upload, digest)


async def upload_status(
    request: web.Request, storage: RegistryStorage, name: str, upload_id: str
) -> web.StreamResponse:
    """GET an upload's progress: 204 with ``Range``."""
    upload = storage.get_upload(name, upload_id)
    return web.Response(status=204, headers=_upload_headers(upload))


async def patch_upload(request: web.Request, storage: RegistryStorage, name: str, upload_id: str) -> web.StreamResponse:
    """PATCH a chunk (with ``Content-Range``) or a stream (without): 202."""
    upload = storage.get_upload(name, upload_id)
    async with upload.lock:
        _still_open(storage, upload)
        await _receive(request, upload, ranged=True)
        return web.Response(status=202, headers={**_upload_headers(upload), "Content-Length": "0"})


async def finish_upload(
    request: web.Request, storage: RegistryStorage, name: str, upload_id: str
) -> web.StreamResponse:
    """PUT ?digest=: append the optional last chunk, verify and publish: 201."""
    upload = storage.get_upload(name, upload_id)
    async with upload.lock:
        _still_open(storage, upload)
        await _receive(request, upload, ranged=True)
        return await _commit(storage, upload, request.query.get("digest"))


async def cancel_upload(
    request: web.Request, storage: RegistryStorage, name: str, upload_id: str
) -> web.StreamResponse:
    """DELETE an upload session: 204."""
    upload = storage.get_upload(name, upload_id)
    async with upload.lock:
        _still_open(storage, upload)
        storage.cancel_upload(upload)
    return web.Response(status=204, headers={"Content-Length": "0"})
