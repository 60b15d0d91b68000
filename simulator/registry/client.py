"""A small synchronous client for the OCI distribution API.

The daemon pulls and pushes with it. It is synchronous on purpose, built on
``http.client``: the daemon runs real work (a layer download) on worker
threads outside its SimPy world and completes events from there, so a
blocking call per layer, one keep-alive connection per thread, is the
simplest fit and needs no event loop. Bodies stream in 1 MiB pieces; nothing
reads a whole blob into memory. Every blob and manifest fetched is checked
against its digest before the caller sees it.

Failures are values: a registry's JSON error becomes ``RegistryError`` (its
code, message, detail and status), an unreachable registry ``Unavailable``
worded like Docker (``Get "http://...": connect: connection refused``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import io
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple
from urllib.parse import quote, urljoin, urlsplit

from simulator.model.errors import Unavailable
from simulator.registry import digests, errors, manifests, names

ProgressCallback = Callable[[int, int | None], None]
PushResult = Literal["pushed", "exists", "mounted"]

BLOCK = 1 << 20
MAX_REDIRECTS = 3
MAX_PAGES = 10_000
_ERROR_BODY_LIMIT = 64 * 1024
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class FetchedManifest(NamedTuple):
    """A manifest as the registry served it (unpacks as ``body, media_type, digest``)."""

    body: bytes
    media_type: str
    digest: str


class _ProgressReader:
    """A file-like view of at most ``limit`` bytes of ``source`` that reports progress."""

    def __init__(self, source: IO[bytes], limit: int, done: int, total: int, cb: ProgressCallback | None) -> None:
        self._source = source
        self._left = limit
        self._done = done
        self._total = total
        self._cb = cb

    def read(self, size: int = -1) -> bytes:
        want = self._left if size < 0 else min(size, self._left)
        data = self._source.read(want) if want > 0 else b""
        self._left -= len(data)
        self._done += len(data)
        if data and self._cb is not None:
            self._cb(self._done, self._total)
        return data


class RegistryClient:
    """Talks to one registry (``http://127.0.0.1:5000``).

    Safe to share between threads: each thread gets its own connections.

    Args:
        base_url: scheme, host and port of the registry.
        username: basic-auth user, sent with every request when given.
        password: basic-auth password.
        timeout: socket timeout in seconds.
    """

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        if "://" not in base_url:
            base_url = "http://" + base_url
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._auth: str | None = None
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            self._auth = f"Basic {token}"
        self._local = threading.local()

    # -- plumbing ------------------------------------------------------------

    def _connections(self) -> dict[str, http.client.HTTPConnection]:
        conns: dict[str, http.client.HTTPConnection] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = {}
            self._local.conns = conns
        return conns

    def _connection(self, scheme: str, netloc: str) -> tuple[http.client.HTTPConnection, bool]:
        key = f"{scheme}://{netloc}"
        conns = self._connections()
        conn = conns.get(key)
        if conn is not None:
            return conn, True
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = cls(netloc, timeout=self.timeout, blocksize=BLOCK)
        conns[key] = conn
        return conn, False

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = self._connections().pop(f"{scheme}://{netloc}", None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close this thread's connections."""
        for conn in self._connections().values():
            conn.close()
        self._connections().clear()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path)

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | _ProgressReader | None = None,
        rewind: Callable[[], _ProgressReader] | None = None,
    ) -> http.client.HTTPResponse:
        """Send one request; the caller must read or close the response.

        A request on a reused keep-alive connection that the server had
        already closed is retried once on a fresh one (``rewind`` rebuilds
        a streamed body for that).
        """
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        all_headers = {"User-Agent": "csim-registry-client/1", **(headers or {})}
        if self._auth is not None:
            all_headers["Authorization"] = self._auth
        if body is None and method in ("POST", "PUT", "PATCH"):
            all_headers.setdefault("Content-Length", "0")
        for attempt in (1, 2):
            conn, reused = self._connection(parts.scheme, parts.netloc)
            try:
                conn.request(method, target, body=body, headers=all_headers)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(parts.scheme, parts.netloc)
                retry = reused and attempt == 1 and (not isinstance(body, _ProgressReader) or rewind)
                if not retry:
                    raise self._unavailable(method, url, exc) from None
                if isinstance(body, _ProgressReader) and rewind is not None:
                    body = rewind()
            except OSError as exc:
                self._drop(parts.scheme, parts.netloc)
                raise self._unavailable(method, url, exc) from None
        raise AssertionError("unreachable")

    @staticmethod
    def _unavailable(method: str, url: str, exc: BaseException) -> Unavailable:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        verb = method.capitalize() if method in ("GET", "HEAD") else method
        return Unavailable(f'{verb} "{url}": connect: {reason.lower()}')

    @staticmethod
    def _fail(resp: http.client.HTTPResponse) -> errors.RegistryError:
        raw = resp.read(_ERROR_BODY_LIMIT)
        resp.close()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return errors.error_from_body(resp.status, body)

    def _expect(self, resp: http.client.HTTPResponse, *statuses: int) -> http.client.HTTPResponse:
        if resp.status not in statuses:
            raise self._fail(resp)
        return resp

    def _simple(self, method: str, url: str, *statuses: int, **kw: Any) -> http.client.HTTPResponse:
        resp = self._expect(self._request(method, url, **kw), *statuses)
        resp.read()
        return resp

    @staticmethod
    def _path(repo: str, *rest: str) -> str:
        names.check_repository_name(repo)
        return "/".join(("/v2", repo, *rest))

    # -- API -----------------------------------------------------------------

    def ping(self) -> None:
        """Check the registry speaks ``/v2/`` (and accepts our credentials)."""
        self._simple("GET", self._url("/v2/"), 200)

    def head_manifest(self, repo: str, reference: str) -> tuple[str, str, int] | None:
        """``(media_type, digest, size)`` of a manifest, or None if unknown."""
        resp = self._request(
            "HEAD",
            self._url(self._path(repo, "manifests", reference)),
            headers={"Accept": manifests.ACCEPT},
        )
        resp.read()
        if resp.status == 404:
            return None
        self._expect(resp, 200)
        return (
            resp.getheader("Content-Type", ""),
            resp.getheader("Docker-Content-Digest", ""),
            int(resp.getheader("Content-Length", "0")),
        )

    def get_manifest(self, repo: str, reference: str) -> FetchedManifest:
        """Fetch a manifest by tag or digest and verify its digest.

        Raises:
            RegistryError: MANIFEST_UNKNOWN and other registry errors;
                DIGEST_INVALID when the body does not match the digest asked
                for or announced.
        """
        url = self._url(self._path(repo, "manifests", reference))
        resp = self._expect(self._request("GET", url, headers={"Accept": manifests.ACCEPT}), 200)
        body = resp.read(manifests.MAX_MANIFEST_SIZE + 1)
        resp.read()
        if len(body) > manifests.MAX_MANIFEST_SIZE:
            raise errors.RegistryError(errors.MANIFEST_INVALID, message="manifest too large")
        announced = resp.getheader("Docker-Content-Digest")
        expected = reference if digests.is_digest(reference) else announced
        algorithm = expected.partition(":")[0] if expected else "sha256"
        if algorithm not in digests.ALGORITHMS:
            algorithm = "sha256"
        actual = digests.digest_bytes(body, algorithm)
        if expected and actual != expected:
            raise errors.RegistryError(
                errors.DIGEST_INVALID,
                {"expected": expected, "actual": actual},
                message=f"manifest digest mismatch: expected {expected}, got {actual}",
            )
        media_type = (resp.getheader("Content-Type") or "").split(";")[0].strip()
        if media_type not in manifests.MANIFEST_MEDIA_TYPES:
            media_type = manifests.parse_manifest(body, None).media_type
        return FetchedManifest(body, media_type, actual)

    def put_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        """Push a manifest under a tag or digest; returns its digest."""
        resp = self._simple(
            "PUT",
            self._url(self._path(repo, "manifests", reference)),
            201,
            headers={"Content-Type": media_type, "Content-Length": str(len(body))},
            body=body,
        )
        return resp.getheader("Docker-Content-Digest") or digests.digest_bytes(body)

    def delete_manifest(self, repo: str, reference: str) -> None:
        """Delete a tag, or a manifest by digest."""
        self._simple("DELETE", self._url(self._path(repo, "manifests", reference)), 202)

    def blob_size(self, repo: str, digest: str) -> int | None:
        """The size of a blob in ``repo``, or None when the registry lacks it."""
        resp = self._request("HEAD", self._url(self._path(repo, "blobs", digest)))
        resp.read()
        if resp.status == 404:
            return None
        self._expect(resp, 200)
        return int(resp.getheader("Content-Length", "0"))

    def blob_exists(self, repo: str, digest: str) -> bool:
        """Whether ``repo`` can serve the blob."""
        return self.blob_size(repo, digest) is not None

    def delete_blob(self, repo: str, digest: str) -> None:
        """Delete a blob from ``repo``."""
        self._simple("DELETE", self._url(self._path(repo, "blobs", digest)), 202)

    def get_blob(
        self,
        repo: str,
        digest: str,
        dest: Path,
        progress_cb: ProgressCallback | None = None,
    ) -> int:
        """Download a blob to ``dest``, verified; returns its size.

        The bytes go to a temporary file beside ``dest`` that is renamed into
        place only once the digest matches; on any failure it is removed.

        Raises:
            RegistryError: BLOB_UNKNOWN, or DIGEST_INVALID on a mismatch.
        """
        algorithm, _ = digests.parse_digest(digest)
        url = self._url(self._path(repo, "blobs", digest))
        resp = self._request("GET", url)
        for _ in range(MAX_REDIRECTS):
            if resp.status not in (301, 302, 303, 307, 308):
                break
            resp.read()
            url = urljoin(url, resp.getheader("Location", ""))
            resp = self._request("GET", url)
        self._expect(resp, 200)
        length = resp.getheader("Content-Length")
        total = int(length) if length is not None else None
        partial = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.partial")
        hasher = hashlib.new(algorithm)
        done = 0
        try:
            with partial.open("wb") as out:
                while chunk := resp.read(BLOCK):
                    out.write(chunk)
                    hasher.update(chunk)
                    done += len(chunk)
                    if progress_cb is not None:
                        progress_cb(done, total)
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != digest or (total is not None and done != total):
                raise errors.RegistryError(
                    errors.DIGEST_INVALID,
                    {"expected": digest, "actual": actual},
                    message=f"blob digest mismatch: expected {digest}, got {actual}",
                )
            os.replace(partial, dest)
        except BaseException:
            resp.close()
            partial.unlink(missing_ok=True)
            raise
        return done

    def push_blob(
        self,
        repo: str,
        digest: str,
        source: Path | bytes,
        mount_from: str | None = None,
        *,
        progress_cb: ProgressCallback | None = None,
        chunk_size: int | None = None,
    ) -> PushResult:
        """Upload a blob unless the registry has it; mount it from another repo if possible.

        Args:
            repo: target repository.
            digest: the blob's digest (the registry verifies it).
            source: a file path or the bytes themselves.
            mount_from: a repository on the same registry that may hold the blob.
            progress_cb: called with ``(bytes sent, total)``.
            chunk_size: send in ``Content-Range`` chunks of this size instead of
                one streamed PATCH.

        Returns:
            ``"exists"`` (nothing sent), ``"mounted"`` or ``"pushed"``.
        """
        digests.parse_digest(digest)
        if self.blob_exists(repo, digest):
            return "exists"
        query = f"?mount={quote(digest)}&from={quote(mount_from)}" if mount_from else ""
        resp = self._simple("POST", self._url(self._path(repo, "blobs", "uploads", "") + query), 201, 202)
        if resp.status == 201:
            return "mounted"
        location = self._url(resp.getheader("Location", ""))
        with _open_source(source) as (stream, size):
            step = chunk_size or size or 1
            offset = 0
            while offset < size:
                count = min(step, size - offset)
                start = offset

                def reader(start: int = start, count: int = count) -> _ProgressReader:
                    stream.seek(start)
                    return _ProgressReader(stream, count, start, size, progress_cb)

                headers = {"Content-Type": "application/octet-stream", "Content-Length": str(count)}
                if chunk_size:
                    headers["Content-Range"] = f"{start}-{start + count - 1}"
                resp = self._simple("PATCH", location, 202, headers=headers, body=reader(), rewind=reader)
                location = urljoin(location, resp.getheader("Location", location))
                offset += count
        separator = "&" if "?" in location else "?"
        self._simple("PUT", f"{location}{separator}digest={quote(digest)}", 201)
        return "pushed"

    def _paginated(self, path: str, key: str, page_size: int | None) -> list[str]:
        url = self._url(path + (f"?n={page_size}" if page_size else ""))
        out: list[str] = []
        for _ in range(MAX_PAGES):
            resp = self._expect(self._request("GET", url), 200)
            doc = json.loads(resp.read() or b"{}")
            out.extend(doc.get(key) or [])
            match = _LINK_NEXT.search(resp.getheader("Link", ""))
            if not match:
                return out
            url = urljoin(url, match.group(1))
        return out

    def list_tags(self, repo: str, page_size: int | None = None) -> list[str]:
        """Every tag of ``repo`` (following ``Link`` pagination)."""
        return self._paginated(self._path(repo, "tags", "list"), "tags", page_size)

    def catalog(self, page_size: int | None = None) -> list[str]:
        """Every repository of the registry."""
        return self._paginated("/v2/_catalog", "repositories", page_size)


@contextlib.contextmanager
def _open_source(source: Path | bytes) -> Iterator[tuple[IO[bytes], int]]:
    """Open a path, or wrap bytes, as a seekable stream with its size."""
    if isinstance(source, bytes | bytearray):
        yield io.BytesIO(source), len(source)
        return
    with Path(source).open("rb") as stream:
        yield stream, os.fstat(stream.fileno()).st_size
