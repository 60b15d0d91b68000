"""Push to and pull from a real registry over HTTP, on the simulated backend.

A csim registry runs on 127.0.0.1 with an ephemeral port. The world's daemon
pushes (only the blobs the registry lacks), forgets the image, pulls it back
(only the layers it lacks) and runs it; the sim kernel runs the hub's virtual
programs, which the layers carry as real tars. Debian's docker-registry
(distribution 2.8) must serve the same image with identical results.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_registry_helpers import RegistryThread, registry

from simulator.daemon.archive import ArchiveImage
from simulator.daemon.push import seed_registry
from simulator.daemon.registry_source import RegistryRouter, is_http_domain
from simulator.des.world import World
from simulator.model.digest import sha256_digest
from simulator.model.reference import normalize
from simulator.registry.client import RegistryClient

__all__ = ["registry"]

DOCKER_REGISTRY = shutil.which("docker-registry")


def layer_tar(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    return raw.getvalue()


def add_layer_image(world: Any, base: str, tag: str, files: dict[str, bytes]) -> str:
    """Store ``base`` plus one layer holding ``files`` under ``tag``; returns the image id."""
    daemon = world.daemon
    image = daemon.images.get(base)
    tars = [daemon.images.layer_tar(d) for d in image.diff_ids]
    top = layer_tar(files)
    config = json.loads(bytes(image.config_bytes))
    config["rootfs"]["diff_ids"] = [*image.diff_ids, sha256_digest(top)]
    config["history"] = [*config.get("history", []), {"created_by": "COPY files /"}]
    record, _ = daemon.add_archive_image(ArchiveImage(json.dumps(config).encode(), [*tars, top], [tag]))
    return str(record.id)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


@pytest.fixture
def world() -> World:
    w = World()
    assert w.run_cli(["pull", "busybox"]).exit_code == 0
    return w


def test_push_rmi_pull_run_transfers_only_missing_layers(world: World, registry: RegistryThread) -> None:
    app = f"{registry.hostport}/demo/app:1"
    image_id = add_layer_image(world, "busybox", app, {"hello.txt": b"hello from the registry\n"})
    base_diff, top_diff = world.daemon.images.get(app).diff_ids

    pushed = world.run_cli(["push", app])
    assert pushed.exit_code == 0, pushed.stderr
    out = lines(pushed.stdout)
    assert out[0] == f"The push refers to repository [{registry.hostport}/demo/app]"
    assert out[1:3] == [f"{top_diff[7:19]}: Preparing", f"{base_diff[7:19]}: Preparing"]
    assert sorted(out[3:5]) == sorted([f"{top_diff[7:19]}: Pushed", f"{base_diff[7:19]}: Pushed"])
    assert out[5].startswith("1: digest: sha256:")
    digest = out[5].split()[2]
    client = RegistryClient(registry.url)
    manifest = client.get_manifest("demo/app", "1")
    assert manifest.digest == digest and out[5].endswith(f"size: {len(manifest.body)}")

    again = world.run_cli(["push", app])
    assert sorted(lines(again.stdout)[3:5]) == sorted(
        [f"{top_diff[7:19]}: Layer already exists", f"{base_diff[7:19]}: Layer already exists"]
    )
    assert lines(again.stdout)[5] == out[5]

    removed = world.run_cli(["rmi", app])
    assert f"Deleted: {image_id}" in removed.stdout
    assert world.daemon.images.find(app) is None

    pulled = world.run_cli(["pull", app])
    assert pulled.exit_code == 0, pulled.stderr
    got = lines(pulled.stdout)
    layers = json.loads(manifest.body)["layers"]
    base_blob, top_blob = (la["digest"][7:19] for la in layers)
    assert got[0] == f"1: Pulling from {registry.hostport}/demo/app"
    assert f"{base_blob}: Already exists" in got
    assert f"{top_blob}: Pull complete" in got and f"{base_blob}: Pull complete" not in got
    assert f"Digest: {digest}" in got
    assert f"Status: Downloaded newer image for {app}" in got
    assert world.daemon.images.get(app).id == image_id

    blob_spans = [
        s for s in world.bus.spans() if s.name.startswith("Pull layer") and s.attrs.get("host") == registry.hostport
    ]
    assert [s.attrs["digest"] for s in blob_spans] == [layers[1]["digest"]]
    span = blob_spans[0]
    assert span.attrs["bytes"] == layers[1]["size"]
    assert span.attrs["measured_s"] > 0 and span.attrs["predicted_s"] > 0
    # The simulated backend keeps the model's time on its timeline.
    assert span.duration == pytest.approx(span.attrs["predicted_s"], abs=1e-5)

    ran = world.run_cli(["run", "--rm", app, "cat", "/hello.txt"])
    assert (ran.exit_code, ran.stdout) == (0, "hello from the registry\n")
    ran = world.run_cli(["run", "--rm", app, "echo", "hi"])
    assert (ran.exit_code, ran.stdout) == (0, "hi\n")


def test_push_reports_aux_and_records_the_repo_digest(world: World, registry: RegistryThread) -> None:
    app = f"{registry.hostport}/demo/aux"
    world.run_cli(["tag", "busybox", app])
    resp = world.api("POST", "/images/" + app + "/push", {"tag": "latest"})
    assert resp.status == 200
    aux = [m["aux"] for m in resp.body if "aux" in m]
    assert len(aux) == 1 and aux[0]["Tag"] == "latest"
    assert aux[0]["Size"] == len(RegistryClient(registry.url).get_manifest("demo/aux", "latest").body)
    inspect = world.api("GET", f"/images/{app}/json").body
    assert f"{app}@{aux[0]['Digest']}" in inspect["RepoDigests"]
    pushes = [e for e in world.events.events() if e.action == "push"]
    assert [e.actor_id for e in pushes] == [f"{app}:latest"]


def test_push_mounts_a_layer_from_another_repository(world: World, registry: RegistryThread) -> None:
    world.run_cli(["tag", "busybox", f"{registry.hostport}/demo/base:1"])
    world.run_cli(["tag", "busybox", f"{registry.hostport}/demo/copy:1"])
    assert world.run_cli(["push", f"{registry.hostport}/demo/base:1"]).exit_code == 0
    out = world.run_cli(["push", f"{registry.hostport}/demo/copy:1"])
    assert ": Mounted from demo/base" in out.stdout
    assert RegistryClient(registry.url).list_tags("demo/copy") == ["1"]


def test_a_pulled_hub_image_keeps_its_manifest_digest(world: World, registry: RegistryThread) -> None:
    hub_digest = world.daemon.images.get("busybox").manifest_digest
    world.run_cli(["tag", "busybox", f"{registry.hostport}/library/busybox"])
    out = world.run_cli(["push", f"{registry.hostport}/library/busybox"])
    assert out.stdout.startswith("Using default tag: latest\n")
    index = json.loads(world.daemon.images.content.get(hub_digest))
    assert f"latest: digest: {index['manifests'][0]['digest']} " in out.stdout


def test_push_errors_are_dockers(world: World, registry: RegistryThread) -> None:
    missing = world.run_cli(["push", f"{registry.hostport}/nope:1"])
    assert missing.exit_code == 1
    assert missing.stdout == f"The push refers to repository [{registry.hostport}/nope]\n"
    assert missing.stderr == f"An image does not exist locally with the tag: {registry.hostport}/nope\n"
    hub = world.run_cli(["push", "busybox"])
    assert hub.exit_code == 1 and "denied: requested access to the resource is denied" in hub.stderr


def test_pull_errors_are_plain_http_errors(world: World, registry: RegistryThread) -> None:
    unknown = world.run_cli(["pull", f"{registry.hostport}/demo/none:2"])
    assert unknown.exit_code == 1
    assert unknown.stderr == (
        f"Error response from daemon: manifest for {registry.hostport}/demo/none:2 not found: "
        "manifest unknown: manifest unknown\n"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = world.run_cli(["pull", f"127.0.0.1:{port}/demo/app:1"])
    assert down.exit_code == 1 and "connection refused" in down.stderr
    assert "Traceback" not in down.stderr


def test_router_sends_each_reference_to_its_registry(world: World) -> None:
    router = world.daemon.registry
    assert isinstance(router, RegistryRouter)
    assert router.route(normalize("busybox"))[0] is router.hub
    assert router.route(normalize("localhost:5000/demo/app:1"))[0] is router.http
    assert router.route(normalize("localhost/demo/app"))[0] is router.http
    assert router.route(normalize("10.0.0.1:443/x"))[0] is router.http
    linux = RegistryRouter(router.http, default_registry="127.0.0.1:5000", fallback=object())
    source, routed = linux.route(normalize("busybox"))
    assert source is linux.http and str(routed) == "127.0.0.1:5000/library/busybox:latest"
    assert linux.route(normalize("ghcr.io/x/y"))[0] is linux.fallback
    assert not is_http_domain("docker.io") and is_http_domain("registry.local", frozenset({"registry.local"}))


def test_seed_pushes_busybox_for_a_fresh_machine(registry: RegistryThread) -> None:
    from simulator.daemon.bootstrap import find_busybox

    if find_busybox() is None:
        pytest.skip("no busybox binary on this host")
    out = io.StringIO()
    assert seed_registry(registry.hostport, out) == [f"{registry.hostport}/library/busybox:latest"]
    assert out.getvalue().startswith(f"The push refers to repository [{registry.hostport}/library/busybox]")
    again = io.StringIO()
    seed_registry(registry.hostport, again)
    assert ": Layer already exists" in again.getvalue()
    w = World()
    pulled = w.run_cli(["pull", f"{registry.hostport}/library/busybox"])
    assert pulled.exit_code == 0 and "Digest: sha256:" in pulled.stdout


@pytest.fixture
def distribution(tmp_path: Path) -> Iterator[str]:
    """Debian's docker-registry on a loopback port; yields ``host:port``."""
    if DOCKER_REGISTRY is None:
        pytest.skip("docker-registry (distribution) is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "distribution.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'distribution'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        [DOCKER_REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
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
        proc.wait(10)


def test_csim_registry_and_distribution_serve_the_same_image(
    world: World, registry: RegistryThread, distribution: str
) -> None:
    results = []
    for host in (registry.hostport, distribution):
        app = f"{host}/demo/app:1"
        add_layer_image(world, "busybox", app, {"hello.txt": b"same everywhere\n"})
        assert world.run_cli(["push", app]).exit_code == 0
        fresh = World()
        pulled = fresh.run_cli(["pull", app])
        assert pulled.exit_code == 0, pulled.stderr
        image = fresh.daemon.images.get(app)
        ran = fresh.run_cli(["run", "--rm", app, "cat", "/hello.txt"])
        # Layers download on threads and finish in any order: compare the lines, not their order.
        status = sorted(line.replace(host, "HOST") for line in lines(pulled.stdout))
        results.append((image.id, image.manifest_digest, [la.blob_digest for la in image.layers], status, ran.stdout))
    assert results[0] == results[1]
    assert results[0][4] == "same everywhere\n"
