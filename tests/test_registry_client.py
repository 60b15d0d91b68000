"""The synchronous RegistryClient against a live csim registry."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from test_registry_helpers import (
    CONFIG,
    RegistryThread,
    image_manifest,
    push_image,
    registry,
    sha256,
)

from simulator.model.errors import Unavailable
from simulator.registry import errors, manifests
from simulator.registry.auth import hash_password
from simulator.registry.client import RegistryClient

__all__ = ["registry"]


@pytest.fixture
def client(registry: RegistryThread) -> RegistryClient:
    return RegistryClient(registry.url)


def test_push_blob_reports_pushed_exists_mounted(client: RegistryClient, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    digest = sha256(data)
    source = tmp_path / "layer"
    source.write_bytes(data)
    seen: list[tuple[int, int | None]] = []
    assert client.push_blob("lib/base", digest, source, progress_cb=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (300_000, 300_000)
    assert client.push_blob("lib/base", digest, source) == "exists"
    assert client.push_blob("app", digest, data, mount_from="lib/base") == "mounted"
    assert client.blob_exists("app", digest)
    # Mount from a repo that lacks it: the client uploads instead.
    other = b"not in base"
    assert client.push_blob("app", sha256(other), other, mount_from="lib/base") == "pushed"


def test_chunked_push_and_verified_download(client: RegistryClient, tmp_path: Path) -> None:
    data = os.urandom(1_000_003)
    digest = sha256(data)
    assert client.push_blob("r", digest, data, chunk_size=256 * 1024) == "pushed"
    assert client.blob_size("r", digest) == len(data)
    dest = tmp_path / "out" / "blob"
    dest.parent.mkdir()
    progress: list[int] = []
    assert client.get_blob("r", digest, dest, lambda d, _t: progress.append(d)) == len(data)
    assert dest.read_bytes() == data
    assert progress[-1] == len(data)
    assert list(dest.parent.iterdir()) == [dest]


def test_push_with_wrong_digest_is_refused(client: RegistryClient) -> None:
    with pytest.raises(errors.RegistryError) as info:
        client.push_blob("r", sha256(b"promised"), b"delivered")
    assert info.value.code.code == "DIGEST_INVALID"
    assert info.value.status == 400
    assert not client.blob_exists("r", sha256(b"delivered"))


def test_get_blob_detects_corruption_and_leaves_no_file(
    registry: RegistryThread, client: RegistryClient, tmp_path: Path
) -> None:
    data = b"original content"
    digest = sha256(data)
    client.push_blob("r", digest, data)
    # Simulate disk rot under the registry: same size, different bytes.
    stored = next(p for p in (registry.root / "blobs").rglob("*") if p.is_file())
    stored.write_bytes(b"corrupt content!")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(errors.RegistryError, match="digest mismatch"):
        client.get_blob("r", digest, out / "blob")
    assert list(out.iterdir()) == []


def test_get_unknown_blob_raises_blob_unknown(client: RegistryClient, tmp_path: Path) -> None:
    with pytest.raises(errors.RegistryError) as info:
        client.get_blob("r", sha256(b"nothing"), tmp_path / "x")
    assert (info.value.status, info.value.code.code) == (404, "BLOB_UNKNOWN")
    assert info.value.message == "blob unknown to registry"


def test_manifest_round_trip(client: RegistryClient) -> None:
    layer = b"layer"
    client.push_blob("app", sha256(CONFIG), CONFIG)
    client.push_blob("app", sha256(layer), layer)
    body = image_manifest(CONFIG, [layer], manifests.DOCKER_MANIFEST)
    digest = client.put_manifest("app", "1.0", body, manifests.DOCKER_MANIFEST)
    assert digest == sha256(body)
    fetched_body, media_type, fetched_digest = client.get_manifest("app", "1.0")
    assert (fetched_body, media_type, fetched_digest) == (body, manifests.DOCKER_MANIFEST, digest)
    assert client.get_manifest("app", digest).body == body
    assert client.head_manifest("app", "1.0") == (manifests.DOCKER_MANIFEST, digest, len(body))
    assert client.head_manifest("app", "nope") is None
    client.delete_manifest("app", "1.0")
    with pytest.raises(errors.RegistryError) as info:
        client.get_manifest("app", "1.0")
    assert info.value.code.code == "MANIFEST_UNKNOWN"


def test_put_manifest_with_missing_blob(client: RegistryClient) -> None:
    body = image_manifest(CONFIG, [])
    with pytest.raises(errors.RegistryError) as info:
        client.put_manifest("app", "v1", body, manifests.OCI_MANIFEST)
    assert info.value.code.code == "MANIFEST_BLOB_UNKNOWN"
    assert info.value.detail == sha256(CONFIG)


def test_list_tags_follows_pagination(registry: RegistryThread, client: RegistryClient) -> None:
    body, _ = push_image(registry, "app", "t00", [])
    for i in range(1, 12):
        client.put_manifest("app", f"t{i:02d}", body, manifests.OCI_MANIFEST)
    expected = [f"t{i:02d}" for i in range(12)]
    assert client.list_tags("app") == expected
    assert client.list_tags("app", page_size=5) == expected
    assert client.catalog(page_size=1) == ["app"]
    with pytest.raises(errors.RegistryError) as info:
        client.list_tags("ghost")
    assert info.value.code.code == "NAME_UNKNOWN"


def test_invalid_repository_name_is_refused_before_sending(client: RegistryClient) -> None:
    with pytest.raises(errors.RegistryError) as info:
        client.list_tags("a/../b")
    assert info.value.code.code == "NAME_INVALID"


def test_client_is_usable_from_several_threads(client: RegistryClient) -> None:
    blobs = [os.urandom(50_000 + i) for i in range(6)]
    results: list[str] = []
    lock = threading.Lock()

    def push(data: bytes) -> None:
        outcome = client.push_blob("par", sha256(data), data)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=push, args=(b,)) for b in blobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == ["pushed"] * 6
    assert all(client.blob_exists("par", sha256(b)) for b in blobs)


def test_stale_keepalive_connection_is_replaced(tmp_path: Path) -> None:
    reg = RegistryThread(tmp_path / "root").start()
    c = RegistryClient(reg.url)
    try:
        c.ping()  # leaves a keep-alive connection open
    finally:
        reg.stop()  # ... which the server now closes
    again = RegistryThread(tmp_path / "root", addr=reg.hostport).start()
    try:
        c.ping()
        assert c.push_blob("r", sha256(b"after restart"), b"after restart") == "pushed"
    finally:
        c.close()
        again.stop()


def test_unreachable_registry_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unavailable) as info:
        RegistryClient(f"127.0.0.1:{port}").ping()
    assert info.value.message == f'Get "http://127.0.0.1:{port}/v2/": connect: connection refused'
    assert info.value.status == 503


def test_client_basic_auth(tmp_path: Path) -> None:
    reg = RegistryThread(tmp_path / "root", users={"u": hash_password("p")}).start()
    try:
        with pytest.raises(errors.RegistryError) as info:
            RegistryClient(reg.url).ping()
        assert (info.value.status, info.value.code.code) == (401, "UNAUTHORIZED")
        authed = RegistryClient(reg.url, username="u", password="p")
        authed.ping()
        assert authed.push_blob("r", sha256(b"x"), b"x") == "pushed"
    finally:
        reg.stop()
