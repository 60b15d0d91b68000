"""The content store: blobs by digest in an OCI image layout, verified and crash-safe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.daemon.content import ContentStore, DigestMismatch
from simulator.model.digest import sha256_digest
from simulator.model.errors import InvalidParameter, NotFound


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    return ContentStore(tmp_path / "content")


def test_layout_files(store: ContentStore) -> None:
    assert json.loads((store.root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert store.index()["manifests"] == []
    assert store.index()["schemaVersion"] == 2
    assert store.digests() == []


def test_put_get_and_friends(store: ContentStore) -> None:
    digest = store.put(b"hello")
    assert digest == sha256_digest(b"hello")
    assert store.has(digest)
    assert store.get(digest) == b"hello"
    assert store.size(digest) == 5
    assert store.path(digest) == store.root / "blobs/sha256" / digest.split(":")[1]
    with store.open(digest) as f:
        assert f.read() == b"hello"
    assert store.digests() == [digest]
    # the same bytes again: one blob
    assert store.put(b"hello", expected=digest) == digest
    assert store.digests() == [digest]
    store.delete(digest)
    assert not store.has(digest)


def test_missing_blob_is_docker_worded(store: ContentStore) -> None:
    missing = sha256_digest(b"nope")
    for call in (store.get, store.size, store.delete, store.open):
        with pytest.raises(NotFound) as err:
            call(missing)
        assert err.value.message == f"content digest {missing}: not found"
        assert err.value.status == 404


def test_mismatch_stores_nothing(store: ContentStore) -> None:
    wrong = sha256_digest(b"other")
    with pytest.raises(DigestMismatch) as err:
        store.put(b"hello", expected=wrong)
    assert err.value.message == (
        f"unexpected commit digest {sha256_digest(b'hello')}, expected {wrong}: failed precondition"
    )
    assert err.value.status == 400
    assert store.digests() == []
    assert list((store.root / "blobs/sha256").iterdir()) == []


def test_bad_digests_never_become_paths(store: ContentStore) -> None:
    with pytest.raises(InvalidParameter, match="invalid checksum digest"):
        store.path("sha256:../../etc/passwd")
    with pytest.raises(InvalidParameter, match="unsupported digest algorithm"):
        store.path("sha512:" + "a" * 128)
    with pytest.raises(InvalidParameter):
        store.has("sha256:" + "A" * 64)


def test_streaming_writer_is_invisible_until_verified(store: ContentStore) -> None:
    data = bytes(range(256)) * 5000
    digest = sha256_digest(data)
    with store.writer(digest) as w:
        for i in range(0, len(data), 4096):
            w.write(data[i : i + 4096])
            assert not store.has(digest)
            assert store.digests() == []
    assert w.size == len(data)
    assert store.get(digest) == data
    assert oct(store.path(digest).stat().st_mode & 0o777) == "0o644"


def test_writer_failure_leaves_nothing(store: ContentStore) -> None:
    with pytest.raises(RuntimeError), store.writer() as w:
        w.write(b"partial")
        raise RuntimeError("network dropped")
    assert store.digests() == []
    assert list((store.root / "blobs/sha256").iterdir()) == []


def test_crash_leftovers_are_cleaned_on_open(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "c")
    good = store.put(b"kept")
    # what a kill -9 in the middle of a write leaves behind
    (store.blobs / ".ingest-abc123").write_bytes(b"half a blob")
    (store.root / ".tmp-xyz").write_text("{")
    reopened = ContentStore(tmp_path / "c")
    assert reopened.digests() == [good]
    assert not (store.blobs / ".ingest-abc123").exists()
    assert not (store.root / ".tmp-xyz").exists()


def test_index_refs(store: ContentStore) -> None:
    manifest = b'{"schemaVersion":2}'
    digest = store.put(manifest)
    desc = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": len(manifest),
    }
    store.set_ref(desc, "docker.io/library/busybox:latest")
    store.set_ref(desc, "docker.io/library/busybox:1")
    store.set_ref(desc, "docker.io/library/busybox:latest")  # replaces, not duplicates
    names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in store.index()["manifests"]]
    assert names == ["docker.io/library/busybox:1", "docker.io/library/busybox:latest"]
    store.remove_ref("docker.io/library/busybox:1")
    assert len(store.index()["manifests"]) == 1
    store.remove_ref(digest=digest)
    assert store.index()["manifests"] == []
    # the file on disk is a valid OCI index
    on_disk = json.loads((store.root / "index.json").read_text())
    assert on_disk["mediaType"] == "application/vnd.oci.image.index.v1+json"
