"""Shared pieces for the registry tests: a live server on an ephemeral port,
a raw HTTP helper, and builders for small images.

The server runs in a background thread with its own event loop, so tests can
talk to it with plain sockets, ``http.client``, the synchronous
``RegistryClient`` and external tools (skopeo) alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.registry import manifests
from simulator.registry.server import serve


class RegistryThread:
    """A csim registry serving ``root`` on 127.0.0.1:<ephemeral> from a thread."""

    def __init__(
        self,
        root: Path,
        *,
        read_only: bool = False,
        users: Mapping[str, str] | None = None,
        addr: str = "127.0.0.1:0",
    ) -> None:
        self.root = root
        self.addr = addr
        self.url = ""
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._run, args=(read_only, users), daemon=True, name="csim-registry-test"
        )

    def _run(self, read_only: bool, users: Mapping[str, str] | None) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(url: str) -> None:
                self.url = url
                self._ready.set()

            await serve(
                self.addr,
                self.root,
                read_only=read_only,
                users=users,
                stop=self._stop,
                on_ready=ready,
            )

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def start(self) -> RegistryThread:
        self._thread.start()
        assert self._ready.wait(10), "registry did not start"
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "registry did not stop"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def hostport(self) -> str:
        return self.url.split("://", 1)[1]


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def error_codes(self) -> list[str]:
        return [e["code"] for e in self.json()["errors"]]


def http_call(
    reg: RegistryThread,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on a fresh connection; ``path`` is sent as-is (no normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(reg: RegistryThread, repo: str, data: bytes) -> str:
    """Monolithic upload; returns the digest."""
    digest = sha256(data)
    reply = http_call(reg, "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", data)
    assert reply.status == 201, reply.body
    return digest


def image_manifest(config: bytes, layers: list[bytes], media_type: str = manifests.OCI_MANIFEST) -> bytes:
    """A schema-2 image manifest for the given config and layer contents."""
    docker = media_type == manifests.DOCKER_MANIFEST
    layer_type = (
        "application/vnd.docker.image.rootfs.diff.tar.gzip" if docker else "application/vnd.oci.image.layer.v1.tar"
    )
    config_type = (
        "application/vnd.docker.container.image.v1+json" if docker else "application/vnd.oci.image.config.v1+json"
    )
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": layer_type, "digest": sha256(layer), "size": len(layer)} for layer in layers],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def index_manifest(children: list[bytes], media_type: str = manifests.OCI_INDEX) -> bytes:
    child_type = manifests.DOCKER_MANIFEST if media_type == manifests.DOCKER_MANIFEST_LIST else manifests.OCI_MANIFEST
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {
                "mediaType": child_type,
                "digest": sha256(child),
                "size": len(child),
                "platform": {"architecture": "amd64", "os": "linux"},
            }
            for child in children
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def push_image(reg: RegistryThread, repo: str, tag: str, layers: list[bytes]) -> tuple[bytes, str]:
    """Push config, layers and an OCI manifest; returns (manifest, digest)."""
    upload(reg, repo, CONFIG)
    for layer in layers:
        upload(reg, repo, layer)
    body = image_manifest(CONFIG, layers)
    reply = http_call(
        reg,
        "PUT",
        f"/v2/{repo}/manifests/{tag}",
        body,
        {"Content-Type": manifests.OCI_MANIFEST},
    )
    assert reply.status == 201, reply.body
    return body, reply.headers["Docker-Content-Digest"]


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RegistryThread]:
    reg = RegistryThread(tmp_path / "registry").start()
    try:
        yield reg
    finally:
        reg.stop()


def test_helpers_start_and_stop_a_registry(tmp_path: Path) -> None:
    reg = RegistryThread(tmp_path / "r").start()
    try:
        assert reg.url.startswith("http://127.0.0.1:")
        assert http_call(reg, "GET", "/v2/").status == 200
    finally:
        reg.stop()
    assert (tmp_path / "r" / "blobs").is_dir()
