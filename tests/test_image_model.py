"""Digests, reproducible layer tars and OCI image documents (simulator.model)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from typing import Any

import pytest
from _oci_schema import case_is_valid, errors, load_cases

from simulator.model.digest import (
    full_image_id,
    is_full_id,
    sha256_digest,
    short_id,
    validate_digest,
    verify_digest,
)
from simulator.model.errors import InvalidParameter
from simulator.model.image import (
    ANNOTATION_DOWNLOAD_SIZE,
    ANNOTATION_UNPACKED_SIZE,
    MEDIA_TYPE_DOCKER_MANIFEST_LIST,
    MEDIA_TYPE_OCI_CONFIG,
    MEDIA_TYPE_OCI_LAYER_GZIP,
    MEDIA_TYPE_OCI_MANIFEST,
    Descriptor,
    build_image_config,
    build_index,
    build_manifest,
    canonical_json,
    chain_ids,
    history_entry,
    image_record_from_manifest,
)
from simulator.model.layer import (
    LAYER_MTIME,
    LayerEntry,
    build_layer_tar,
    executable_content,
    executable_program,
    gunzip_layer,
    gzip_layer,
    read_layer_tar,
)

EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --- digests ---------------------------------------------------------------


def test_sha256_digest_of_empty_bytes() -> None:
    assert sha256_digest(b"") == EMPTY
    assert verify_digest(b"", EMPTY)
    assert not verify_digest(b"x", EMPTY)


@pytest.mark.parametrize(
    ("digest", "message"),
    [
        ("sha256", "invalid checksum digest format"),
        (":abc", "invalid checksum digest format"),
        ("sha256:", "invalid checksum digest format"),
        ("sha256:abc", "invalid checksum digest length"),
        ("sha256:" + "G" * 64, "invalid checksum digest format"),
        ("sha256:" + "A" * 64, "invalid checksum digest format"),
        ("md5:" + "a" * 32, "unsupported digest algorithm"),
        ("Bad!:xyz", "invalid checksum digest format"),
    ],
)
def test_validate_digest_rejects_with_go_digest_words(digest: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        validate_digest(digest)
    assert info.value.message == message
    assert info.value.status == 400


def test_validate_digest_accepts_sha256_and_sha512() -> None:
    assert validate_digest(EMPTY) == EMPTY
    assert validate_digest("sha512:" + "0" * 128).startswith("sha512:")


def test_short_and_full_ids() -> None:
    assert short_id(EMPTY) == "e3b0c44298fc"
    assert short_id(EMPTY[7:]) == "e3b0c44298fc"
    assert is_full_id(EMPTY) and is_full_id(EMPTY[7:])
    assert not is_full_id("e3b0c44298fc")
    assert not is_full_id("sha256:" + "E" * 64)
    assert full_image_id(EMPTY[7:]) == EMPTY
    with pytest.raises(InvalidParameter):
        full_image_id("e3b0")


# --- layers ----------------------------------------------------------------


def _sample_entries() -> list[LayerEntry]:
    return [
        LayerEntry.executable("/bin/busybox", "busybox"),
        LayerEntry.hardlink("bin/[", "bin/busybox"),
        LayerEntry.symlink("bin/sh", "/bin/busybox"),
        LayerEntry.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        LayerEntry.whiteout("var/cache/old"),
        LayerEntry.opaque("opt/app"),
        LayerEntry.directory("tmp", 0o1777),
    ]


def test_layer_tar_is_reproducible_and_order_independent() -> None:
    entries = _sample_entries()
    first = build_layer_tar(entries)
    assert build_layer_tar(list(reversed(entries))) == first
    assert sha256_digest(build_layer_tar(entries)) == sha256_digest(first)
    assert gzip_layer(first) == gzip_layer(build_layer_tar(entries))


def test_layer_tar_layout_matches_docker_conventions() -> None:
    data = build_layer_tar(_sample_entries())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    # parents implied, whiteouts as .wh. files, hard links after their target
    assert "var" in names and "var/cache" in names and "opt" in names
    assert "var/cache/.wh.old" in names
    assert "opt/app/.wh..wh..opq" in names
    assert names.index("bin/[") > names.index("bin/busybox")
    assert names[-1] == "bin/["
    assert {m.mtime for m in members} == {LAYER_MTIME}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    tmp = next(m for m in members if m.name == "tmp")
    assert tmp.isdir() and tmp.mode == 0o1777
    assert data.endswith(b"\0" * 1024) and len(data) % 512 == 0


def test_read_layer_tar_round_trips_whiteouts_and_links() -> None:
    data = build_layer_tar(_sample_entries())
    entries = read_layer_tar(data)
    by_key = {(e.path, e.kind): e for e in entries}
    assert ("var/cache/old", "whiteout") in by_key
    assert ("opt/app", "opaque") in by_key
    assert by_key[("bin/[", "hardlink")].target == "bin/busybox"
    assert by_key[("bin/sh", "symlink")].target == "/bin/busybox"
    busybox = by_key[("bin/busybox", "file")]
    assert busybox.mode == 0o755 and executable_program(busybox.data) == "busybox"
    assert build_layer_tar(entries) == data


def test_long_paths_use_pax_and_round_trip() -> None:
    long_path = "srv/" + "/".join(["d" * 40] * 5) + "/file.txt"
    data = build_layer_tar([LayerEntry.file(long_path, "x")])
    assert [e.path for e in read_layer_tar(data) if e.kind == "file"] == [long_path]


def test_gzip_layer_is_standard_gzip_with_zero_mtime() -> None:
    tar = build_layer_tar(_sample_entries())
    blob = gzip_layer(tar)
    assert gzip.decompress(blob) == tar
    assert gunzip_layer(blob) == tar
    assert blob[4:8] == b"\0\0\0\0"  # MTIME field
    big = b"a" * 200_000  # spans several stored blocks
    assert gunzip_layer(gzip_layer(big)) == big


def test_gunzip_and_read_reject_garbage() -> None:
    with pytest.raises(InvalidParameter, match="gzip: invalid header"):
        gunzip_layer(b"not gzip")
    with pytest.raises(InvalidParameter, match="unexpected EOF"):
        gunzip_layer(gzip_layer(b"x" * 1000)[:-20])
    with pytest.raises(InvalidParameter, match="archive/tar"):
        read_layer_tar(b"\x01" * 700)


def test_layer_entry_validation() -> None:
    assert LayerEntry.file("/etc//hosts/", "x").path == "etc/hosts"
    with pytest.raises(ValueError, match="invalid layer path"):
        LayerEntry.file("../etc/passwd", "x")
    with pytest.raises(ValueError, match="needs a target"):
        LayerEntry("bin/sh", "symlink")
    with pytest.raises(ValueError, match="duplicate"):
        build_layer_tar([LayerEntry.file("a", "1"), LayerEntry.file("/a", "2")])


def test_executable_contract() -> None:
    assert executable_content("nginx") == b"\x7fELF csim-exec nginx\n"
    assert executable_program(b"\x7fELF csim-exec redis-server\n") == "redis-server"
    assert executable_program(b"#!/bin/sh\necho hi\n") is None


# --- image documents -------------------------------------------------------


def _image() -> tuple[dict[str, Any], bytes, dict[str, Any], bytes]:
    tar = build_layer_tar(_sample_entries())
    blob = gzip_layer(tar)
    config = build_image_config(
        diff_ids=[sha256_digest(tar)],
        history=[history_entry("ADD rootfs.tar /"), history_entry('CMD ["sh"]', empty_layer=True)],
        env=["PATH=/usr/bin:/bin"],
        cmd=["sh"],
        entrypoint=["/entry.sh"],
        working_dir="/srv",
        user="nobody",
        exposed_ports=["80/tcp"],
        volumes=["/data"],
        labels={"maintainer": "csim"},
        stop_signal="SIGQUIT",
    )
    config_bytes = canonical_json(config)
    layer = Descriptor.for_content(
        MEDIA_TYPE_OCI_LAYER_GZIP,
        blob,
        {ANNOTATION_DOWNLOAD_SIZE: "3000000", ANNOTATION_UNPACKED_SIZE: "7000000"},
    )
    manifest = build_manifest(Descriptor.for_content(MEDIA_TYPE_OCI_CONFIG, config_bytes), [layer])
    return config, config_bytes, manifest, canonical_json(manifest)


def test_documents_validate_against_oci_schemas() -> None:
    config, _, manifest, manifest_bytes = _image()
    assert errors("config-schema.json", config) == []
    assert errors("image-manifest-schema.json", manifest) == []
    platform = {"architecture": "amd64", "os": "linux"}
    entry = Descriptor.for_content(MEDIA_TYPE_OCI_MANIFEST, manifest_bytes, platform=platform)
    assert errors("image-index-schema.json", build_index([entry])) == []
    docker_list = build_index([entry], media_type=MEDIA_TYPE_DOCKER_MANIFEST_LIST)
    assert errors("image-index-schema.json", docker_list) == []
    assert errors("content-descriptor.json", entry.to_dict()) == []


def test_config_has_docker_shape() -> None:
    config, _, _, _ = _image()
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["rootfs"]["type"] == "layers"
    settings = config["config"]
    assert settings["ExposedPorts"] == {"80/tcp": {}}
    assert settings["Volumes"] == {"/data": {}}
    assert settings["StopSignal"] == "SIGQUIT" and settings["WorkingDir"] == "/srv"
    assert config["history"][1] == {
        "created": "2024-01-01T00:00:00Z",
        "created_by": 'CMD ["sh"]',
        "empty_layer": True,
    }
    with pytest.raises(InvalidParameter, match="invalid environment variable"):
        build_image_config(diff_ids=[], env=["NOEQUALS"])


def test_canonical_json_is_compact_and_sorted() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": "é", "c": None}]}) == ('{"a":[1,{"c":null,"d":"é"}],"b":1}'.encode())


def test_image_record_id_is_config_digest_and_sizes_are_modelled() -> None:
    _, config_bytes, manifest, manifest_bytes = _image()
    record = image_record_from_manifest(manifest, config_bytes, sha256_digest(manifest_bytes))
    assert record.id == sha256_digest(config_bytes)
    assert record.short_id == record.id[7:19]
    assert record.size == 7_000_000 and record.download_size == 3_000_000
    assert record.layers[0].blob_digest == manifest["layers"][0]["digest"]
    assert record.container_config["Cmd"] == ["sh"]
    assert record.chain_ids == (record.layers[0].diff_id,)
    with pytest.raises(InvalidParameter, match="verification failed"):
        image_record_from_manifest(manifest, config_bytes + b" ")


def test_descriptor_round_trip_and_chain_ids() -> None:
    desc = Descriptor.for_content("text/plain", b"hi", {"k": "v"})
    assert Descriptor.from_dict(json.loads(canonical_json(desc.to_dict()))) == desc
    assert desc.download_size == 2
    with pytest.raises(InvalidParameter):
        Descriptor.from_dict({"mediaType": "text/plain", "digest": EMPTY, "size": "2"})
    a, b = sha256_digest(b"a"), sha256_digest(b"b")
    assert chain_ids([a, b]) == [a, sha256_digest(f"{a} {b}".encode())]


# --- the validator setup itself, on image-spec's own test documents --------


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["id"])
def test_upstream_schema_case(case: dict[str, Any]) -> None:
    assert case_is_valid(case) == case["expected_valid"], case["comment"]
