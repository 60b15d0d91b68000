"""docker save / docker load tarballs: docker-archive (classic and Docker 25) and OCI archives."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.daemon.archive import ArchiveImage, load_archive, save_archive_bytes
from simulator.model.digest import sha256_digest, sha256_hex
from simulator.model.errors import InvalidParameter
from simulator.model.image import build_image_config, canonical_json
from simulator.model.layer import LayerEntry, build_layer_tar, gzip_layer


def _image(*files: tuple[str, str], tags: tuple[str, ...] = ("demo:1",)) -> ArchiveImage:
    layers = [build_layer_tar([LayerEntry.file(name, data)]) for name, data in files]
    config = build_image_config(diff_ids=[sha256_digest(x) for x in layers], cmd=["sh"])
    return ArchiveImage(canonical_json(config), layers, list(tags))


def _tarball(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


def test_save_load_round_trip() -> None:
    base = _image(("etc/os", "csim"), ("bin/app", "x"), tags=("demo:1", "registry:5000/x/demo:2"))
    other = _image(("etc/os", "csim"), tags=())  # shares its first layer with `base`
    data = save_archive_bytes([base, other])
    assert save_archive_bytes([base, other]) == data  # reproducible
    loaded = load_archive(data)
    assert [i.id for i in loaded] == [base.id, other.id]
    assert loaded[0].layers == base.layers
    assert loaded[0].repo_tags == ["demo:1", "registry:5000/x/demo:2"]
    assert loaded[1].repo_tags == []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        repositories = json.loads(tar.extractfile("repositories").read())  # type: ignore[union-attr]
    # the shared layer is stored once
    assert names.count(f"blobs/sha256/{sha256_hex(base.layers[0])}") == 1
    assert {"oci-layout", "index.json", "manifest.json", "repositories"} <= set(names)
    assert manifest[0]["Config"] == f"blobs/sha256/{base.id.split(':')[1]}"
    assert manifest[0]["RepoTags"] == ["demo:1", "registry:5000/x/demo:2"]
    assert manifest[1]["RepoTags"] is None
    notes = [m.get("annotations", {}) for m in index["manifests"]]
    assert notes[0] == {
        "io.containerd.image.name": "docker.io/library/demo:1",
        "org.opencontainers.image.ref.name": "1",
    }
    assert repositories["demo"]["1"] == sha256_hex(base.layers[-1])


def test_classic_docker_archive_with_linked_layers() -> None:
    image = _image(("a", "1"), ("b", "2"))
    config_name = f"{sha256_hex(image.config)}.json"
    files = {
        config_name: image.config,
        "l1/layer.tar": image.layers[0],
        "l1/VERSION": b"1.0",
        "l1/json": b"{}",
        "l2/layer.tar": gzip_layer(image.layers[1]),  # some tools write gzip layers
        "manifest.json": json.dumps(
            [
                {
                    "Config": config_name,
                    "RepoTags": ["demo:1"],
                    "Layers": ["l1/layer.tar", "l2/layer.tar"],
                },
                {
                    "Config": config_name,
                    "RepoTags": ["demo:again"],
                    "Layers": ["l3/layer.tar", "./l2/layer.tar"],
                },
            ]
        ).encode(),
        "repositories": b'{"demo":{"1":"l2"}}',
    }
    data = _tarball(files, links={"l3/layer.tar": "../l1/layer.tar"})
    first, second = load_archive(data)
    assert first.id == second.id == image.id
    assert first.layers == second.layers == image.layers
    assert second.repo_tags == ["demo:again"]


def _oci_layout(image: ArchiveImage, index_entries: list[dict[str, Any]]) -> dict[str, bytes]:
    config_d = {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": image.id,
        "size": len(image.config),
    }
    blobs = {image.id: image.config}
    layer_ds = []
    for layer in image.layers:
        gz = gzip_layer(layer)
        blobs[sha256_digest(gz)] = gz
        layer_ds.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": sha256_digest(gz),
                "size": len(gz),
            }
        )
    manifest = json.dumps({"schemaVersion": 2, "config": config_d, "layers": layer_ds}).encode()
    blobs[sha256_digest(manifest)] = manifest
    files = {f"blobs/sha256/{d.split(':')[1]}": b for d, b in blobs.items()}
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    for entry in index_entries:
        entry.setdefault("digest", sha256_digest(manifest))
        entry.setdefault("size", len(manifest))
        entry.setdefault("mediaType", "application/vnd.oci.image.manifest.v1+json")
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": index_entries}).encode()
    return files


def test_oci_archive_names() -> None:
    image = _image(("a", "1"))
    files = _oci_layout(
        image,
        [
            {"annotations": {"org.opencontainers.image.ref.name": "latest"}},
            {"annotations": {"org.opencontainers.image.ref.name": "quay.io/org/app:v2"}},
            {
                "annotations": {
                    "io.containerd.image.name": "docker.io/library/alpine:3.19",
                    "org.opencontainers.image.ref.name": "3.19",
                }
            },
        ],
    )
    (loaded,) = load_archive(_tarball(files))
    assert loaded.id == image.id
    assert loaded.layers == image.layers  # gzip layers come back uncompressed
    assert loaded.repo_tags == ["quay.io/org/app:v2", "alpine:3.19"]
    (bare,) = load_archive(
        _tarball(_oci_layout(image, [{"annotations": {"org.opencontainers.image.ref.name": "latest"}}]))
    )
    assert bare.repo_tags == [] and bare.ref_name == "latest"


def test_oci_archive_picks_this_platform_from_an_index() -> None:
    from simulator.daemon.archive import host_platform

    image = _image(("a", "1"))
    files = _oci_layout(image, [])
    manifest_name = next(n for n, b in files.items() if b.startswith(b'{"schemaVersion": 2, "config"'))
    os_name, arch = host_platform()
    nested = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + "0" * 64,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "s390x"},
                },
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + manifest_name.split("/")[-1],
                    "size": len(files[manifest_name]),
                    "platform": {"os": os_name, "architecture": arch},
                },
            ],
        }
    ).encode()
    files[f"blobs/sha256/{sha256_hex(nested)}"] = nested
    files["index.json"] = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "digest": sha256_digest(nested),
                    "size": len(nested),
                    "annotations": {"io.containerd.image.name": "docker.io/library/multi:latest"},
                }
            ],
        }
    ).encode()
    (loaded,) = load_archive(_tarball(files))
    assert loaded.id == image.id and loaded.repo_tags == ["multi:latest"]


def test_load_errors_are_docker_worded() -> None:
    image = _image(("a", "1"))
    bad = ArchiveImage(image.config, [build_layer_tar([LayerEntry.file("a", "tampered")])], ["x:1"])
    name = f"{sha256_hex(image.config)}.json"
    data = _tarball(
        {
            name: image.config,
            "l/layer.tar": bad.layers[0],
            "manifest.json": json.dumps([{"Config": name, "RepoTags": [], "Layers": ["l/layer.tar"]}]).encode(),
        }
    )
    with pytest.raises(InvalidParameter, match=r'invalid diffID for layer 0: expected "sha256:'):
        load_archive(data)
    with pytest.raises(InvalidParameter, match="layers length mismatch: expected 1, got 0"):
        ArchiveImage(image.config, [], []).verify()
    with pytest.raises(InvalidParameter, match=r"no manifest\.json"):
        load_archive(_tarball({"hello": b"x"}))
    with pytest.raises(InvalidParameter, match="invalid archive"):
        load_archive(b"not a tarball at all" * 50)
    with pytest.raises(InvalidParameter, match="not found in the archive"):
        load_archive(_tarball({"manifest.json": b'[{"Config": "missing.json", "Layers": []}]'}))


def test_load_from_path(tmp_path: Path) -> None:
    image = _image(("a", "1"))
    path = tmp_path / "img.tar"
    path.write_bytes(save_archive_bytes([image]))
    assert load_archive(path)[0].id == image.id
    with path.open("rb") as f:
        assert load_archive(f)[0].repo_tags == ["demo:1"]


# -- against a real dockerd --------------------------------------------------------------


def _docker(sock: str, *args: str, timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "-H", f"unix://{sock}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kw,
    )


@pytest.fixture(scope="module")
def dockerd() -> Iterator[str]:
    """A private Debian dockerd in a temp dir; yields its socket path."""
    if os.geteuid() != 0:
        pytest.skip("a private dockerd needs root")
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        pytest.skip("dockerd or the docker CLI is not installed")
    base = Path(tempfile.mkdtemp(prefix="csim-dockerd-"))
    sock = str(base / "d.sock")
    log = (base / "log").open("w")
    proc = subprocess.Popen(
        [
            "dockerd", "--data-root", str(base / "data"), "--exec-root", str(base / "exec"),
            "-H", f"unix://{sock}", "--pidfile", str(base / "pid"), "--bridge=none",
            "--iptables=false", "--ip-masq=false",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(150):
            if proc.poll() is not None:
                pytest.skip(f"dockerd exited: {(base / 'log').read_text()[-500:]}")
            if os.path.exists(sock) and _docker(sock, "version", timeout=5).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.skip("dockerd did not come up in 15 s")
        yield sock
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        subprocess.run(["umount", "-R", str(base / "data")], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.real
@pytest.mark.slow
def test_real_docker_loads_and_runs_our_archive(dockerd: str, tmp_path: Path) -> None:
    from simulator.daemon.bootstrap import bootstrap_busybox, find_busybox

    if find_busybox() is None:
        pytest.skip("no busybox binary to build the image from")
    image = bootstrap_busybox(tag="csimtest/busybox:save")
    path = tmp_path / "bb.tar"
    path.write_bytes(save_archive_bytes([image]))
    loaded = _docker(dockerd, "load", "-i", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "Loaded image: csimtest/busybox:save" in loaded.stdout
    inspect = _docker(dockerd, "image", "inspect", "-f", "{{.Id}}", "csimtest/busybox:save")
    assert inspect.stdout.strip() == image.id
    run = _docker(dockerd, "run", "--rm", "--network", "none", "csimtest/busybox:save", "echo", "hi")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "hi\n"


@pytest.mark.real
@pytest.mark.slow
def test_images_saved_by_real_docker_load_here(dockerd: str, tmp_path: Path) -> None:
    from simulator.daemon.content import ContentStore
    from simulator.daemon.layers import LayerUnpacker

    rootfs = {
        "bin/hello.sh": b"#!/bin/sh\necho hello\n",
        "etc/os-release": b"NAME=csim-import\n",
    }
    src = tmp_path / "rootfs.tar"
    src.write_bytes(_tarball(rootfs))
    imported = _docker(dockerd, "import", "-c", 'CMD ["/bin/hello.sh"]', str(src), "imported/thing:v1")
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "saved.tar"
    saved = _docker(dockerd, "save", "-o", str(out), "imported/thing:v1")
    assert saved.returncode == 0, saved.stderr
    (image,) = load_archive(out)
    assert image.repo_tags == ["imported/thing:v1"]
    image_id = _docker(dockerd, "image", "inspect", "-f", "{{.Id}}", "imported/thing:v1").stdout
    assert image.id == image_id.strip()
    assert json.loads(image.config)["config"]["Cmd"] == ["/bin/hello.sh"]
    unpacker = LayerUnpacker(tmp_path / "layers", ContentStore(tmp_path / "content"))
    root = unpacker.unpacked_path(unpacker.add_tar(image.layers[0]))
    assert (root / "etc/os-release").read_text() == "NAME=csim-import\n"
    # and what we re-save still loads into the real Docker under a new name
    image.repo_tags = ["imported/thing:resaved"]
    again = tmp_path / "again.tar"
    again.write_bytes(save_archive_bytes([image]))
    reloaded = _docker(dockerd, "load", "-i", str(again))
    assert reloaded.returncode == 0, reloaded.stderr
    assert _docker(dockerd, "image", "inspect", "-f", "{{.Id}}", "imported/thing:resaved").stdout.strip() == image.id
