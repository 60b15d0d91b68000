"""The simulated Docker Hub: determinism, valid documents, shared layers, runnable images."""

from __future__ import annotations

import json
import posixpath
import subprocess
import sys

import pytest
from _oci_schema import errors

from simulator.des.hub import HubCatalog, HubImage, default_hub
from simulator.model.digest import sha256_digest
from simulator.model.image import image_record_from_manifest
from simulator.model.layer import LayerEntry, executable_program, gunzip_layer, read_layer_tar

OFFICIAL = (
    "busybox",
    "alpine",
    "debian",
    "ubuntu",
    "python",
    "node",
    "nginx",
    "httpd",
    "redis",
    "postgres",
)
ALL_IMAGES = default_hub().images()


def _image(ref: str) -> HubImage:
    repo, _, tag = ref.partition(":")
    image = default_hub().resolve(repo, tag or "latest")
    assert image is not None, ref
    return image


def _rootfs(image: HubImage) -> dict[str, LayerEntry]:
    """Apply the layers bottom-up like overlayfs: later layers win, whiteouts delete."""
    files: dict[str, LayerEntry] = {}
    for layer in image.layers:
        for entry in read_layer_tar(gunzip_layer(layer.blob)):
            if entry.kind == "whiteout":
                gone = entry.path
                files = {p: e for p, e in files.items() if p != gone and not p.startswith(gone + "/")}
            elif entry.kind != "opaque":
                files[entry.path] = entry
    return files


def _resolve(files: dict[str, LayerEntry], path: str) -> LayerEntry | None:
    """Follow symlinks (also in parent directories) and hard links, as the kernel would."""
    parts = [p for p in path.split("/") if p]
    current: list[str] = []
    for _hop in range(40):
        if not parts:
            break
        current.append(parts.pop(0))
        entry = files.get("/".join(current))
        if entry is None:
            return None
        if entry.kind == "symlink":
            base = [] if entry.target.startswith("/") else current[:-1]
            target = posixpath.normpath("/".join([*base, entry.target])).strip("/")
            parts = [p for p in target.split("/") if p] + parts
            current = []
    entry = files.get("/".join(current))
    if entry is not None and entry.kind == "hardlink":
        return files.get(entry.target)
    return entry


def _which(files: dict[str, LayerEntry], env: list[str], program: str) -> LayerEntry | None:
    if "/" in program:
        return _resolve(files, program)
    path = dict(item.split("=", 1) for item in env).get("PATH", "")
    for folder in path.split(":"):
        found = _resolve(files, f"{folder}/{program}")
        if found is not None:
            return found
    return None


def _runnable(files: dict[str, LayerEntry], entry: LayerEntry | None) -> bool:
    if entry is None or entry.kind != "file" or not entry.mode & 0o111:
        return False
    if executable_program(entry.data) is not None:
        return True
    if entry.data.startswith(b"#!/bin/sh\n"):
        return _runnable(files, _resolve(files, "bin/sh"))
    return False


def test_catalog_has_the_official_images_with_several_tags() -> None:
    hub = default_hub()
    repos = hub.repositories()
    for name in OFFICIAL:
        assert f"library/{name}" in repos
        assert "latest" in hub.tags(name)
    assert {"alpine", "1.27", "1.27.2"} <= set(hub.tags("library/nginx"))
    assert {"3.12-slim", "3.12-alpine", "slim"} <= set(hub.tags("python"))
    assert hub.resolve("nginx", "no-such-tag") is None
    assert hub.resolve("library/nosuchimage") is None
    assert hub.tags("nosuchimage") == []


def test_build_is_deterministic_across_catalogs_and_processes() -> None:
    fresh = HubCatalog()
    for image in ALL_IMAGES:
        again = fresh.resolve(image.repo, image.tags[0])
        assert again is not None
        assert again.manifest == image.manifest and again.index_digest == image.index_digest
        assert [x.blob for x in again.layers] == [x.blob for x in image.layers]
    code = "from simulator.des.hub import default_hub; print(default_hub().resolve('nginx').index_digest)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _image("nginx").index_digest


def test_import_builds_nothing() -> None:
    code = "import simulator.des.hub as h; print(h.default_hub.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


@pytest.mark.parametrize("image", ALL_IMAGES, ids=lambda i: f"{i.repo}:{i.tags[0]}")
def test_documents_are_valid_and_content_addressed(image: HubImage) -> None:
    hub = default_hub()
    config = json.loads(image.config)
    manifest = json.loads(image.manifest)
    assert errors("config-schema.json", config) == []
    assert errors("image-manifest-schema.json", manifest) == []
    assert errors("image-index-schema.json", json.loads(image.index)) == []
    assert image.id == sha256_digest(image.config) == manifest["config"]["digest"]
    assert [x.diff_id for x in image.layers] == config["rootfs"]["diff_ids"]
    non_empty = [h for h in config["history"] if not h.get("empty_layer")]
    assert len(non_empty) == len(image.layers)
    for data in (image.config, image.manifest, image.index, *(x.blob for x in image.layers)):
        assert hub.blob(sha256_digest(data)) == data
    for layer, desc in zip(image.layers, manifest["layers"], strict=True):
        assert sha256_digest(gunzip_layer(layer.blob)) == layer.diff_id
        assert int(desc["annotations"]["io.csim.download-size"]) == layer.download_size
        assert int(desc["annotations"]["io.csim.unpacked-size"]) == layer.unpacked_size
        assert layer.size < 100_000  # real blobs stay tiny
    assert hub.resolve(image.repo, image.manifest_digest) is image
    assert hub.resolve(image.repo, image.index_digest) is image
    record = image_record_from_manifest(manifest, image.config, image.manifest_digest)
    assert record.size == image.unpacked_size


def test_base_layers_are_shared_by_digest() -> None:
    slim = _image("debian:bookworm-slim").layers[0].digest
    for ref in ("nginx", "httpd", "redis", "postgres", "python:3.12-slim", "node:20-slim"):
        assert _image(ref).layers[0].digest == slim, ref
    alpine = _image("alpine").layers[0].digest
    for ref in ("nginx:alpine", "redis:alpine", "python:3.12-alpine", "node:20-alpine"):
        assert _image(ref).layers[0].digest == alpine, ref
    bookworm = [x.digest for x in _image("debian:bookworm").layers]
    buildpack = [x.digest for x in _image("buildpack-deps:bookworm").layers]
    assert buildpack[:1] == bookworm
    assert [x.digest for x in _image("node:20").layers][:4] == buildpack
    assert [x.digest for x in _image("python:3.12").layers][:4] == buildpack
    assert _image("alpine").layers[0].digest != _image("alpine:3.19").layers[0].digest


def test_modelled_sizes_are_realistic() -> None:
    expected_mb = {
        "busybox": 4.3,
        "alpine": 7.8,
        "debian:bookworm-slim": 74.8,
        "ubuntu": 78.1,
        "nginx": 192,
        "nginx:alpine": 47,
        "redis": 117,
        "postgres": 435,
        "python:3.12-slim": 125,
        "node:20": 1100,
    }
    for ref, size in expected_mb.items():
        assert abs(_image(ref).unpacked_size / 1e6 - size) / size < 0.1, ref
    assert 6 <= len(_image("nginx").layers) <= 8
    assert _image("nginx").download_size < _image("nginx").unpacked_size


@pytest.mark.parametrize("image", ALL_IMAGES, ids=lambda i: f"{i.repo}:{i.tags[0]}")
def test_every_image_can_run_its_command(image: HubImage) -> None:
    files = _rootfs(image)
    settings = json.loads(image.config)["config"]
    assert _runnable(files, _resolve(files, "/bin/sh"))
    argv = (settings.get("Entrypoint") or []) + (settings.get("Cmd") or [])
    assert argv, "image has no command"
    assert _runnable(files, _which(files, settings["Env"], argv[0])), argv
    for folder in ("tmp", "root", "proc", "dev", "sys", "etc", "home", "var"):
        assert files[folder].kind == "dir", folder
    assert "etc/hostname" not in files
    passwd = files["etc/passwd"].data.decode()
    assert passwd.startswith("root:x:0:0:") and "nobody:x:65534:" in passwd


def test_busybox_applets_are_hard_links_to_busybox() -> None:
    files = _rootfs(_image("busybox"))
    for applet in ("sh", "ls", "[", "wget", "stress", "httpd"):
        link = files[f"bin/{applet}"]
        assert link.kind == "hardlink" and link.target == "bin/busybox"
    assert executable_program(files["bin/busybox"].data) == "busybox"


def test_distribution_files_match_reality() -> None:
    alpine = _rootfs(_image("alpine"))
    assert b"ID=alpine" in alpine["etc/os-release"].data
    assert alpine["bin/sh"].target == "/bin/busybox"
    debian = _rootfs(_image("debian:bookworm-slim"))
    assert b"VERSION_CODENAME=bookworm" in debian["etc/os-release"].data
    assert debian["bin"].kind == "symlink"  # merged /usr
    assert _resolve(debian, "/bin/ps") is None  # Debian's image has no procps
    assert executable_program(_resolve(debian, "/bin/ls").data) == "coreutils"  # type: ignore[union-attr]
    ubuntu = _rootfs(_image("ubuntu"))
    assert _resolve(ubuntu, "/usr/bin/ps") is not None
    assert "ubuntu:x:1000:" in ubuntu["etc/passwd"].data.decode()


def test_server_images_serve_their_real_pages_and_users() -> None:
    nginx = _rootfs(_image("nginx"))
    assert b"<h1>Welcome to nginx!</h1>" in nginx["usr/share/nginx/html/index.html"].data
    assert "nginx:x:101:101:" in nginx["etc/passwd"].data.decode()
    assert nginx["var/log/nginx/access.log"].target == "/dev/stdout"
    httpd = _rootfs(_image("httpd"))
    page = httpd["usr/local/apache2/htdocs/index.html"].data
    assert page == b"<html><body><h1>It works!</h1></body></html>\n"
    assert "www-data:x:33:33:" in httpd["etc/passwd"].data.decode()
    assert "redis:x:999:" in _rootfs(_image("redis"))["etc/passwd"].data.decode()
    postgres = _rootfs(_image("postgres"))
    assert "postgres:x:999:" in postgres["etc/passwd"].data.decode()
    entry = postgres["usr/local/bin/docker-entrypoint.sh"].data.decode()
    assert entry.startswith("#!/bin/sh\nset -e\n") and 'exec "$@"' in entry
    assert "POSTGRES_PASSWORD" in entry


@pytest.mark.parametrize(
    ("ref", "entrypoint", "cmd", "extra"),
    [
        (
            "nginx",
            ["/docker-entrypoint.sh"],
            ["nginx", "-g", "daemon off;"],
            {"StopSignal": "SIGQUIT", "ExposedPorts": {"80/tcp": {}}},
        ),
        (
            "postgres",
            ["docker-entrypoint.sh"],
            ["postgres"],
            {"StopSignal": "SIGINT", "ExposedPorts": {"5432/tcp": {}}},
        ),
        (
            "redis",
            ["docker-entrypoint.sh"],
            ["redis-server"],
            {"WorkingDir": "/data", "Volumes": {"/data": {}}},
        ),
        (
            "httpd",
            None,
            ["httpd-foreground"],
            {"StopSignal": "SIGWINCH", "WorkingDir": "/usr/local/apache2"},
        ),
        ("python:3.12-slim", None, ["python3"], {}),
        ("node:20", ["docker-entrypoint.sh"], ["node"], {}),
        ("busybox", None, ["sh"], {}),
        ("alpine", None, ["/bin/sh"], {}),
        ("debian", None, ["bash"], {}),
        ("ubuntu", None, ["/bin/bash"], {}),
    ],
)
def test_configs_match_docker_hub(
    ref: str, entrypoint: list[str] | None, cmd: list[str], extra: dict[str, object]
) -> None:
    settings = json.loads(_image(ref).config)["config"]
    assert settings.get("Entrypoint") == entrypoint
    assert settings["Cmd"] == cmd
    for key, value in extra.items():
        assert settings[key] == value
    assert any(item.startswith("PATH=/") for item in settings["Env"])
