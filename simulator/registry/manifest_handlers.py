"""The manifest, tag-list and catalog endpoints.

Manifests are small (capped at 4 MiB, like distribution's newer releases), so
they are read whole, validated, and answered with their stored media type and
``Docker-Content-Digest``. Lists are sorted and paginated with ``n`` and
``last``; a truncated page carries an RFC 5988 ``Link`` to the next one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.registry import errors, manifests
from simulator.registry.storage import RegistryStorage


def _json(data: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def paginate(request: web.Request, items: list[str], path: str) -> tuple[list[str], dict[str, str]]:
    """Cut a sorted list to the page ``n``/``last`` ask for.

    Returns:
        The page and the response headers (a ``Link`` when more remain).

    Raises:
        RegistryError: PAGINATION_NUMBER_INVALID when ``n`` is not a
            non-negative integer.
    """
    last = request.query.get("last")
    if last:
        items = [i for i in items if i > last]
    raw_n = request.query.get("n")
    if raw_n is None:
        return items, {}
    try:
        n = int(raw_n)
    except ValueError:
        n = -1
    if n < 0:
        raise errors.RegistryError(errors.PAGINATION_NUMBER_INVALID, {"n": raw_n})
    if n == 0 or len(items) <= n:
        return items[:n], {}
    page = items[:n]
    link = f'<{path}?n={n}&last={quote(page[-1], safe="")}>; rel="next"'
    return page, {"Link": link}


async def get_manifest(request: web.Request, storage: RegistryStorage, name: str, reference: str) -> web.StreamResponse:
    """GET/HEAD a manifest by tag or digest."""
    stored = storage.get_manifest(name, reference)
    return web.Response(
        body=stored.body,
        headers={
            "Content-Type": stored.media_type,
            "Docker-Content-Digest": stored.digest,
            "ETag": f'"{stored.digest}"',
        },
    )


async def put_manifest(request: web.Request, storage: RegistryStorage, name: str, reference: str) -> web.StreamResponse:
    """PUT a manifest: 201 with its digest, after checking what it references."""
    declared = request.content_length
    if declared is not None and declared > manifests.MAX_MANIFEST_SIZE:
        raise errors.RegistryError(errors.TOO_LARGE, {"limit": manifests.MAX_MANIFEST_SIZE})
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > manifests.MAX_MANIFEST_SIZE:
            raise errors.RegistryError(errors.TOO_LARGE, {"limit": manifests.MAX_MANIFEST_SIZE})
    loop = asyncio.get_running_loop()
    stored = await loop.run_in_executor(
        None,
        storage.put_manifest,
        name,
        reference,
        bytes(body),
        request.headers.get("Content-Type"),
    )
    return web.Response(
        status=201,
        headers={
            "Location": f"/v2/{name}/manifests/{stored.digest}",
            "Docker-Content-Digest": stored.digest,
            "Content-Length": "0",
        },
    )


async def delete_manifest(
    request: web.Request, storage: RegistryStorage, name: str, reference: str
) -> web.StreamResponse:
    """DELETE a tag, or a manifest by digest (and its tags): 202."""
    storage.delete_manifest(name, reference)
    return web.Response(status=202, headers={"Content-Length": "0"})


async def list_tags(request: web.Request, storage: RegistryStorage, name: str, _: str) -> web.StreamResponse:
    """GET the repository's tags, paginated."""
    page, headers = paginate(request, storage.list_tags(name), f"/v2/{name}/tags/list")
    return _json({"name": name, "tags": page}, headers)


async def catalog(request: web.Request, storage: RegistryStorage, _name: str, _arg: str) -> web.StreamResponse:
    """GET the repository list, paginated."""
    page, headers = paginate(request, storage.repositories(), "/v2/_catalog")
    return _json({"repositories": page}, headers)


async def base(request: web.Request, storage: RegistryStorage, _name: str, _arg: str) -> web.StreamResponse:
    """GET /v2/: the API version check."""
    return _json({})
