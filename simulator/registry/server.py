"""The registry's HTTP server: dispatch, auth, read-only mode, lifecycle.

``make_app`` builds the aiohttp application the tests drive directly;
``serve`` runs it on a loopback address until told to stop; ``run_registry``
is the blocking entry point behind ``csim registry``, which prints one start
line and stops cleanly on SIGINT or SIGTERM. Every failure leaves as the
spec's JSON error document; no traceback reaches a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TextIO

from aiohttp import web

from simulator.model.errors import InvalidParameter, Unavailable
from simulator.registry import auth, blob_handlers, errors, manifest_handlers, names, routes
from simulator.registry.storage import RegistryStorage

log = logging.getLogger(__name__)

Handler = Callable[[web.Request, RegistryStorage, str, str], Awaitable[web.StreamResponse]]

STORAGE_KEY = web.AppKey("registry_storage", RegistryStorage)
DEFAULT_ADDR = "127.0.0.1:5000"
API_VERSION = "registry/2.0"

_HANDLERS: dict[tuple[str, str], Handler] = {
    (routes.BASE, "GET"): manifest_handlers.base,
    (routes.CATALOG, "GET"): manifest_handlers.catalog,
    (routes.TAGS, "GET"): manifest_handlers.list_tags,
    (routes.MANIFEST, "GET"): manifest_handlers.get_manifest,
    (routes.MANIFEST, "PUT"): manifest_handlers.put_manifest,
    (routes.MANIFEST, "DELETE"): manifest_handlers.delete_manifest,
    (routes.UPLOADS, "POST"): blob_handlers.start_upload,
    (routes.UPLOAD, "GET"): blob_handlers.upload_status,
    (routes.UPLOAD, "PATCH"): blob_handlers.patch_upload,
    (routes.UPLOAD, "PUT"): blob_handlers.finish_upload,
    (routes.UPLOAD, "DELETE"): blob_handlers.cancel_upload,
    (routes.BLOB, "GET"): blob_handlers.get_blob,
    (routes.BLOB, "DELETE"): blob_handlers.delete_blob,
}


def error_response(exc: errors.RegistryError) -> web.Response:
    """The spec's JSON error document for ``exc``."""
    return web.Response(
        status=exc.status,
        body=json.dumps(exc.body()).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=exc.headers,
    )


def make_app(
    storage: RegistryStorage,
    *,
    read_only: bool = False,
    users: Mapping[str, str] | None = None,
) -> web.Application:
    """Build the registry application.

    Args:
        storage: where blobs, manifests and uploads live.
        read_only: refuse every write with 405 UNSUPPORTED (as distribution's
            read-only maintenance mode does).
        users: user name to secret (see ``auth``); when given, every request
            needs HTTP basic credentials, else 401 UNAUTHORIZED.
    """
    user_table = dict(users) if users is not None else None

    async def dispatch(request: web.Request) -> web.StreamResponse:
        try:
            if (
                user_table is not None
                and auth.check_authorization(request.headers.get("Authorization"), user_table) is None
            ):
                raise errors.RegistryError(
                    errors.UNAUTHORIZED,
                    headers={"WWW-Authenticate": f'Basic realm="{auth.REALM}"'},
                )
            route = routes.parse_route(request.raw_path)
            if route is None:
                raise web.HTTPNotFound()
            if route.name:
                names.check_repository_name(route.name)
            method = "GET" if request.method == "HEAD" else request.method
            handler = _HANDLERS.get((route.kind, method))
            if handler is None or request.method not in routes.METHODS[route.kind]:
                raise errors.RegistryError(errors.UNSUPPORTED, {"method": request.method}, status=405)
            if read_only and request.method in routes.WRITE_METHODS:
                raise errors.RegistryError(errors.UNSUPPORTED, message="registry is in read-only mode")
            return await handler(request, storage, route.name, route.arg)
        except errors.RegistryError as exc:
            return error_response(exc)
        except web.HTTPException:
            raise
        except ConnectionError:
            # The client went away mid-body; what it sent was rolled back. The
            # answer will most likely never arrive, but it must not be a 500.
            log.info("registry request %s %s cut off by the client", request.method, request.path)
            return error_response(errors.RegistryError(errors.BLOB_UPLOAD_INVALID, "request body cut off"))
        except Exception:
            log.exception("registry request %s %s failed", request.method, request.path)
            return error_response(errors.RegistryError(errors.UNKNOWN))

    async def add_version_header(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Docker-Distribution-API-Version"] = API_VERSION

    app = web.Application()
    app[STORAGE_KEY] = storage
    app.router.add_route("*", "/{tail:.*}", dispatch)
    app.on_response_prepare.append(add_version_header)
    return app


def parse_addr(addr: str, *, allow_remote: bool = False) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:5000``, ``localhost:0``) and check it is loopback.

    Raises:
        InvalidParameter: malformed address, or not loopback without ``allow_remote``.
    """
    host, sep, port_text = addr.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise InvalidParameter(f"invalid registry address {addr!r}: expected HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    if not allow_remote and host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise InvalidParameter(
                f"refusing to listen on {addr}: not a loopback address (csim keeps its registry on this machine)"
            )
    return host, int(port_text)


async def serve(
    addr: str,
    root: Path,
    *,
    read_only: bool = False,
    users: Mapping[str, str] | None = None,
    allow_remote: bool = False,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the registry until ``stop`` is set (or the task is cancelled).

    Args:
        addr: ``HOST:PORT`` to listen on; port 0 picks a free one.
        root: the storage directory.
        read_only: refuse writes.
        users: basic-auth users (see ``make_app``).
        allow_remote: permit a non-loopback address.
        stop: set it to shut down; None serves until cancelled.
        on_ready: called with the base URL (``http://127.0.0.1:5000``) once listening.

    Raises:
        InvalidParameter: bad or non-loopback address.
        Unavailable: the address cannot be bound (in use, no permission).
    """
    host, port = parse_addr(addr, allow_remote=allow_remote)
    storage = RegistryStorage(root)
    storage.purge_uploads()
    runner = web.AppRunner(
        make_app(storage, read_only=read_only, users=users),
        handle_signals=False,
        access_log=None,
        # After an early refusal (413, 416) aiohttp drains the unread body; a
        # client that hangs up meanwhile is not noticed, so keep the drain short.
        lingering_time=1.0,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            raise Unavailable(f"cannot listen on {addr}: {exc.strerror or exc}") from None
        addresses = runner.addresses
        sockname = addresses[0] if addresses else (host, port)
        shown = f"[{sockname[0]}]" if ":" in str(sockname[0]) else str(sockname[0])
        if on_ready is not None:
            on_ready(f"http://{shown}:{sockname[1]}")
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()


def run_registry(
    addr: str = DEFAULT_ADDR,
    root: Path | None = None,
    *,
    read_only: bool = False,
    users: Mapping[str, str] | None = None,
    allow_remote: bool = False,
    out: TextIO | None = None,
) -> int:
    """Run the registry in the foreground until SIGINT or SIGTERM.

    Args:
        addr: ``HOST:PORT`` (loopback unless ``allow_remote``).
        root: storage directory; defaults to ``~/.local/share/csim/registry``.
        read_only: refuse writes.
        users: basic-auth users.
        allow_remote: permit a non-loopback address.
        out: where the start and stop lines go (stdout by default).

    Returns:
        The exit status (0 after a clean stop).

    Raises:
        InvalidParameter, Unavailable: the registry could not start.
    """
    stream = out or sys.stdout
    storage_root = root or Path.home() / ".local" / "share" / "csim" / "registry"

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)

        def ready(url: str) -> None:
            mode = ", read-only" if read_only else ""
            secured = ", basic auth" if users is not None else ""
            print(
                f"csim registry listening on {url} (storage {storage_root}{mode}{secured}); Ctrl-C to stop",
                file=stream,
                flush=True,
            )

        try:
            await serve(
                addr,
                storage_root,
                read_only=read_only,
                users=users,
                allow_remote=allow_remote,
                stop=stop,
                on_ready=ready,
            )
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    asyncio.run(main())
    print("csim registry stopped", file=stream, flush=True)
    return 0
