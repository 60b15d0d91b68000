"""Interop with tools nobody here wrote: skopeo and Debian's docker-registry.

skopeo (containers/image) pushes and pulls through the csim registry with
its own upload strategy; docker-registry (distribution 2.8) serves the same
image, and the csim client must read identical manifests and blobs from both.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_registry_helpers import RegistryThread, registry

from simulator.registry import manifests
from simulator.registry.client import RegistryClient

__all__ = ["registry"]

SKOPEO = shutil.which("skopeo")
DOCKER_REGISTRY = shutil.which("docker-registry")
needs_skopeo = pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed")
needs_distribution = pytest.mark.skipif(
    DOCKER_REGISTRY is None, reason="docker-registry (distribution) is not installed"
)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A gzipped layer tar and its diff ID."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), _digest(tar_bytes)


def make_oci_layout(path: Path, tag: str = "1") -> str:
    """Write a two-layer OCI image layout; returns its manifest digest."""
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        digest = _digest(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest

    layers = [_layer({"hello.txt": b"hello from csim\n"}), _layer({"etc/motd": b"motd\n" * 100})]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff for _, diff in layers]},
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": manifests.OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": put(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": put(blob),
                    "size": len(blob),
                }
                for blob, _ in layers
            ],
        },
        separators=(",", ":"),
    ).encode()
    manifest_digest = put(manifest)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": manifests.OCI_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (path / "index.json").write_text(json.dumps(index))
    return manifest_digest


def skopeo(*args: str) -> str:
    assert SKOPEO is not None
    done = subprocess.run(
        [SKOPEO, "--insecure-policy", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def distribution(tmp_path: Path) -> Iterator[str]:
    """Debian's docker-registry on a loopback port; yields ``host:port``."""
    assert DOCKER_REGISTRY is not None
    port = _free_port()
    config = tmp_path / "distribution.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'distribution'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        [DOCKER_REGISTRY, "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                RegistryClient(f"127.0.0.1:{port}", timeout=2).ping()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@needs_skopeo
def test_skopeo_round_trip_keeps_digests(registry: RegistryThread, tmp_path: Path) -> None:
    src = tmp_path / "src"
    manifest_digest = make_oci_layout(src)
    dest = f"docker://{registry.hostport}/x:1"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{src}:1", dest)

    raw = skopeo("inspect", "--tls-verify=false", "--raw", dest)
    assert _digest(raw.encode()) == manifest_digest
    assert RegistryClient(registry.url).get_manifest("x", "1").digest == manifest_digest

    back = tmp_path / "back"
    skopeo("copy", "--src-tls-verify=false", dest, f"oci:{back}:1")
    index = json.loads((back / "index.json").read_text())
    assert index["manifests"][0]["digest"] == manifest_digest
    for blob in (src / "blobs" / "sha256").iterdir():
        assert (back / "blobs" / "sha256" / blob.name).read_bytes() == blob.read_bytes()


@needs_skopeo
def test_skopeo_pushes_docker_schema2(registry: RegistryThread, tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_oci_layout(src)
    dest = f"docker://{registry.hostport}/converted:1"
    skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2", f"oci:{src}:1", dest)
    fetched = RegistryClient(registry.url).get_manifest("converted", "1")
    assert fetched.media_type == manifests.DOCKER_MANIFEST
    assert json.loads(fetched.body)["mediaType"] == manifests.DOCKER_MANIFEST
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{registry.hostport}/converted"))
    assert tags["Tags"] == ["1"]


@needs_skopeo
@needs_distribution
def test_same_image_from_csim_and_distribution(registry: RegistryThread, distribution: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    manifest_digest = make_oci_layout(src)
    skopeo("copy", "--dest-tls-verify=false", f"oci:{src}:1", f"docker://{distribution}/demo/app:1")
    # registry to registry: skopeo pulls from distribution and pushes to csim.
    skopeo(
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        f"docker://{distribution}/demo/app:1",
        f"docker://{registry.hostport}/demo/app:1",
    )
    theirs = RegistryClient(distribution)
    ours = RegistryClient(registry.url)
    m_theirs = theirs.get_manifest("demo/app", "1")
    m_ours = ours.get_manifest("demo/app", "1")
    assert m_theirs == m_ours
    assert m_ours.digest == manifest_digest
    doc = json.loads(m_ours.body)
    for desc in [doc["config"], *doc["layers"]]:
        a, b = tmp_path / "a", tmp_path / "b"
        assert theirs.get_blob("demo/app", desc["digest"], a) == desc["size"]
        assert ours.get_blob("demo/app", desc["digest"], b) == desc["size"]
        assert a.read_bytes() == b.read_bytes()
    assert ours.list_tags("demo/app") == theirs.list_tags("demo/app") == ["1"]


@needs_distribution
def test_csim_client_pushes_to_distribution(distribution: str, tmp_path: Path) -> None:
    """The client's POST/PATCH/PUT flow and mounts work against distribution too."""
    c = RegistryClient(distribution)
    layer = b"layer pushed by csim" * 1000
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    assert c.push_blob("base", _digest(layer), layer) == "pushed"
    assert c.push_blob("base", _digest(layer), layer) == "exists"
    assert c.push_blob("app", _digest(layer), layer, mount_from="base") == "mounted"
    assert c.push_blob("app", _digest(config), config, chunk_size=16) == "pushed"
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": manifests.DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": _digest(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    assert c.put_manifest("app", "v1", body, manifests.DOCKER_MANIFEST) == _digest(body)
    assert c.get_manifest("app", "v1") == (body, manifests.DOCKER_MANIFEST, _digest(body))
    c.get_blob("app", _digest(layer), tmp_path / "l")
    assert (tmp_path / "l").read_bytes() == layer
