"""The OCI side of the real backend: the runtime CLI contract and runc on the same bundle."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from linux_harness import Layers, World, busybox_layer, is_root, new_id, run_container, spec
from shared_vectors import VECTORS

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not is_root(), reason="needs root: namespaces, overlayfs, cgroups"),
]
SCHEMA = VECTORS / "oci-runtime-spec/schema"


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_layer(tmp_path_factory.mktemp("img") / "layer")


@pytest.fixture
def bundle(tmp_path: Path, layer: Path) -> Path:
    from simulator.runtime.oci.spec import build_oci_config

    path = tmp_path / "bundle"
    shutil.copytree(layer, path / "rootfs", symlinks=True)
    cfg = build_oci_config(spec("x" * 64, ("sh", "-c", "echo started > /tmp/out; sleep 30")))
    (path / "config.json").write_text(json.dumps(cfg))
    return path


def _validate(document: Any, schema_file: str) -> None:
    """Validate against a runtime-spec schema; its relative ``$ref``s ("defs.json#/...") are files beside it."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    def retrieve(uri: str) -> Resource[Any]:
        contents = json.loads((SCHEMA / uri.rsplit("/", 1)[-1]).read_text())
        return Resource.from_contents(contents, default_specification=DRAFT4)

    schema = json.loads((SCHEMA / schema_file).read_text())
    base = f"{SCHEMA.as_uri()}/{schema_file}"
    registry: Registry[Any] = Registry(retrieve=retrieve).with_resource(base, DRAFT4.create_resource(schema))
    Draft4Validator({"$ref": base}, registry=registry).validate(document)


def _validate_state(state: dict[str, Any]) -> None:
    _validate(state, "state-schema.json")


def test_create_start_state_kill_delete(bundle: Path, tmp_path: Path) -> None:
    from simulator.model.errors import Conflict
    from simulator.runtime.oci import cli

    root = tmp_path / "oci-state"
    cid = new_id()
    state = cli.oci_create(bundle, cid, root)
    try:
        _validate_state(state)
        assert state["status"] == "created" and state["pid"] > 0
        assert not (bundle / "rootfs/tmp/out").exists()  # parked before execve
        with pytest.raises(Conflict):
            cli.oci_create(bundle, cid, root)
        cli.oci_start(cid, root)
        deadline = time.monotonic() + 5
        while not (bundle / "rootfs/tmp/out").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (bundle / "rootfs/tmp/out").read_text() == "started\n"
        state = cli.oci_state(cid, root)
        _validate_state(state)
        assert state["status"] == "running"
        with pytest.raises(Conflict):
            cli.oci_delete(cid, root)
        cli.oci_kill(cid, root, "KILL")
        deadline = time.monotonic() + 5
        while cli.oci_state(cid, root)["status"] != "stopped" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cli.oci_state(cid, root)["status"] == "stopped"
    finally:
        cli.oci_delete(cid, root, force=True)
    assert not (root / cid).exists()


def test_bundle_config_validates_against_schema(bundle: Path) -> None:
    _validate(json.loads((bundle / "config.json").read_text()), "config-schema.json")


@pytest.fixture
def world() -> World:
    return World()


def _runtime(world: World, layer: Path, root: Path, binary: str | None) -> Any:
    from simulator.runtime.linux.runtime import LinuxRuntime

    return LinuxRuntime(world.env, world.tracer, Layers({"layer0": layer}), root, world.post, binary)


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_same_bundle_same_output_builtin_and_runc(world: World, layer: Path, tmp_path: Path) -> None:
    script = "echo hi; echo $$; hostname; ls /; id; echo err >&2; exit 3"
    results = []
    for binary in (None, "runc"):
        rt = _runtime(world, layer, tmp_path / f"state-{binary}", binary)
        cid = "c" * 64
        status, out = run_container(world, rt, spec(cid, ("sh", "-c", script)))
        results.append((status.code, out.text(1), out.text(2)))
        rt.reap_orphans(set())
    assert results[0] == results[1]
    assert results[0][0] == 3 and results[0][1].startswith("hi\n1\ncccccccccccc\n")


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_runc_oom_and_exec(world: World, layer: Path, tmp_path: Path) -> None:
    rt = _runtime(world, layer, tmp_path / "state", "runc")
    status, _ = run_container(
        world,
        rt,
        spec(new_id(), ("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"), memory=16 << 20),
    )
    assert (status.code, status.oom_killed) == (137, True)
    rt.reap_orphans(set())


def test_crun_refuses_or_runs(world: World, layer: Path, tmp_path: Path) -> None:
    """crun does not support hybrid cgroup hosts; where it runs, it gives the same output."""
    if shutil.which("crun") is None:
        pytest.skip("crun is not installed")
    from simulator.model.errors import InvalidParameter

    rt = _runtime(world, layer, tmp_path / "state", "crun")
    try:
        status, out = run_container(world, rt, spec(new_id(), ("echo", "hi")))
    except InvalidParameter as exc:
        assert "crun create failed" in exc.message
        hybrid = subprocess.run(["stat", "-fc", "%T", "/sys/fs/cgroup"], capture_output=True, text=True, check=False)
        assert hybrid.stdout.strip() != "cgroup2fs"
    else:
        assert (status.code, out.text(1)) == (0, "hi\n")
    finally:
        rt.reap_orphans(set())
