"""The bundle's config.json: Docker's defaults, valid against the OCI runtime-spec schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shared_vectors import VECTORS

from simulator.model.errors import InvalidParameter
from simulator.runtime.oci.spec import (
    DEFAULT_CAPABILITIES,
    MASKED_PATHS,
    READONLY_PATHS,
    build_oci_config,
    parse_oci_config,
    resolve_user,
)
from simulator.runtime.protocol import ContainerSpec, MountSpec, ProcessSpec

SCHEMA_DIR = VECTORS / "oci-runtime-spec/schema"


def _validator() -> Any:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for path in SCHEMA_DIR.glob("*.json"):
        contents = json.loads(path.read_text())
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT4)))
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = json.loads((SCHEMA_DIR / "config-schema.json").read_text())
    return jsonschema.Draft4Validator(schema, registry=registry)


@pytest.fixture(scope="module")
def validator() -> Any:
    return _validator()


def _spec(**kw: Any) -> ContainerSpec:
    base: dict[str, Any] = {
        "id": "a" * 64,
        "name": "web",
        "hostname": "a" * 12,
        "layers": (),
        "process": ProcessSpec(args=("sh", "-c", "echo hi"), env=("FOO=bar",), cwd="/tmp"),
    }
    base.update(kw)
    return ContainerSpec(**base)


@pytest.mark.parametrize("path", sorted((SCHEMA_DIR / "test/config/good").glob("*.json")), ids=lambda p: p.name)
def test_good_examples_validate(validator: Any, path: Path) -> None:
    validator.validate(json.loads(path.read_text()))


@pytest.mark.parametrize("path", sorted((SCHEMA_DIR / "test/config/bad").glob("*.json")), ids=lambda p: p.name)
def test_bad_examples_fail(validator: Any, path: Path) -> None:
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError:
        return  # invalid JSON is "bad" before the schema is reached
    assert list(validator.iter_errors(document)), f"{path.name} should not validate"


def test_docker_defaults(validator: Any) -> None:
    config = build_oci_config(_spec(), cgroups_path="/csim/abc")
    validator.validate(config)
    assert config["ociVersion"] == "1.0.2"
    process = config["process"]
    assert process["args"] == ["sh", "-c", "echo hi"]
    assert process["cwd"] == "/tmp"
    assert process["env"][0].startswith("PATH=")
    assert "FOO=bar" in process["env"]
    assert process["noNewPrivileges"] is True
    assert process["user"] == {"uid": 0, "gid": 0}
    for key in ("bounding", "effective", "permitted"):
        assert process["capabilities"][key] == list(DEFAULT_CAPABILITIES)
    assert len(DEFAULT_CAPABILITIES) == 14
    assert "CAP_SYS_ADMIN" not in DEFAULT_CAPABILITIES
    assert process["rlimits"][0]["type"] == "RLIMIT_NOFILE"
    linux = config["linux"]
    assert linux["maskedPaths"] == list(MASKED_PATHS)
    assert "/proc/kcore" in linux["maskedPaths"]
    assert linux["readonlyPaths"] == list(READONLY_PATHS)
    assert "/proc/sys" in linux["readonlyPaths"]
    assert [n["type"] for n in linux["namespaces"]] == [
        "mount",
        "network",
        "uts",
        "pid",
        "ipc",
        "cgroup",
    ]
    assert linux["cgroupsPath"] == "/csim/abc"
    assert "memory" not in linux["resources"]
    destinations = [m["destination"] for m in config["mounts"]]
    assert destinations == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/sys",
        "/sys/fs/cgroup",
        "/dev/mqueue",
        "/dev/shm",
    ]
    assert "ro" in config["mounts"][3]["options"]
    assert config["root"] == {"path": "rootfs", "readonly": False}
    assert config["hostname"] == "a" * 12
    assert {d["path"] for d in linux["devices"]} >= {"/dev/null", "/dev/zero", "/dev/tty"}


def test_limits_mounts_and_netns(validator: Any) -> None:
    spec = _spec(
        memory=16 * 1024 * 1024,
        nano_cpus=1_500_000_000,
        pids_limit=10,
        readonly_rootfs=True,
        mounts=(
            MountSpec("bind", "/srv/data", "/data", read_only=True),
            MountSpec("volume", "/var/lib/csim/volumes/v/_data", "/v"),
            MountSpec("tmpfs", "", "/scratch"),
        ),
        process=ProcessSpec(args=("top",), user="1000:1000", tty=True),
    )
    config = build_oci_config(
        spec,
        "/abs/rootfs",
        netns_path="/run/netns/csim-x",
        hostname_path="/s/hostname",
        hosts_path="/s/hosts",
        resolv_conf_path="/s/resolv.conf",
    )
    validator.validate(config)
    resources = config["linux"]["resources"]
    assert resources["memory"] == {"limit": 16 * 1024 * 1024}
    assert resources["cpu"] == {"quota": 150_000, "period": 100_000}
    assert resources["pids"] == {"limit": 10}
    assert {"type": "network", "path": "/run/netns/csim-x"} in config["linux"]["namespaces"]
    assert config["process"]["terminal"] is True
    assert "TERM=xterm" in config["process"]["env"]
    assert config["process"]["user"] == {"uid": 1000, "gid": 1000}
    assert config["root"] == {"path": "/abs/rootfs", "readonly": True}
    by_dest = {m["destination"]: m for m in config["mounts"]}
    assert by_dest["/etc/hosts"]["source"] == "/s/hosts"
    assert by_dest["/etc/hostname"]["type"] == "bind"
    assert by_dest["/data"]["options"] == ["rbind", "rprivate", "ro"]
    assert by_dest["/v"]["options"][-1] == "rw"
    assert by_dest["/scratch"]["type"] == "tmpfs"


def test_host_network_has_no_network_namespace(validator: Any) -> None:
    config = build_oci_config(_spec(network_mode="host"))
    validator.validate(config)
    assert "network" not in [n["type"] for n in config["linux"]["namespaces"]]


def test_user_names_need_passwd(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter) as err:
        build_oci_config(_spec(process=ProcessSpec(args=("sh",), user="nobody")))
    assert err.value.message == "unable to find user nobody: no matching entries in passwd file"
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nnobody:x:65534:65533::/:/bin/false\n")
    (tmp_path / "etc/group").write_text("root:x:0:\nstaff:x:50:\n")
    assert resolve_user("nobody", tmp_path) == (65534, 65533)
    assert resolve_user("nobody:staff", tmp_path) == (65534, 50)
    assert resolve_user("7", tmp_path) == (7, 7)
    assert resolve_user("", tmp_path) == (0, 0)
    with pytest.raises(InvalidParameter, match="unable to find group wheel"):
        resolve_user("root:wheel", tmp_path)


def test_parse_round_trip() -> None:
    spec = _spec(
        memory=1 << 24,
        nano_cpus=500_000_000,
        pids_limit=20,
        mounts=(MountSpec("bind", "/srv", "/srv", read_only=True),),
        stop_signal=2,
    )
    config = build_oci_config(spec, netns_path="/run/netns/n", hosts_path="/h")
    parsed = parse_oci_config(json.loads(json.dumps(config)), spec.id)
    assert parsed.rootfs == "rootfs"
    assert parsed.spec.process.args == spec.process.args
    assert parsed.spec.process.cwd == "/tmp"
    assert parsed.spec.memory == spec.memory
    assert parsed.spec.nano_cpus == spec.nano_cpus
    assert parsed.spec.pids_limit == 20
    assert parsed.spec.mounts == spec.mounts
    assert parsed.spec.stop_signal == 2
    assert parsed.spec.hostname == spec.hostname
    assert parsed.spec.name == "web"
    assert parsed.namespaces["network"] == "/run/netns/n"
    assert parsed.masked_paths == MASKED_PATHS
    assert parsed.no_new_privileges is True
    assert parsed.capabilities == DEFAULT_CAPABILITIES


def test_parse_minimal_example_needs_args() -> None:
    minimal = json.loads((SCHEMA_DIR / "test/config/good/minimal.json").read_text())
    with pytest.raises(InvalidParameter, match=r"process\.args"):
        parse_oci_config(minimal)
    example = json.loads((SCHEMA_DIR / "test/config/good/spec-example.json").read_text())
    parsed = parse_oci_config(example, "x")
    assert parsed.spec.process.args == ("sh",)
    assert parsed.uid == 1 and parsed.gid == 1
    assert parsed.spec.network_mode == "none"


def test_user_lookup_never_leaves_the_rootfs(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "passwd").write_text("evil:x:4242:4242::/:/bin/sh\n")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "real").write_text("app:x:1000:1000::/:/bin/sh\n")
    # an absolute link restarts at the container root, `..` stops there
    (root / "etc/passwd").symlink_to(str(host / "passwd"))
    with pytest.raises(InvalidParameter):
        resolve_user("evil", root)
    (root / "etc/passwd").unlink()
    (root / "etc/passwd").symlink_to("../../../../real")
    assert resolve_user("app", root) == (1000, 1000)
    (root / "etc/passwd").unlink()
    (root / "etc/passwd").symlink_to("/real")
    assert resolve_user("app", root) == (1000, 1000)
    (root / "etc/passwd").unlink()
    (root / "etc/passwd").symlink_to("/etc/passwd")  # a loop
    with pytest.raises(InvalidParameter, match="too many levels"):
        resolve_user("app", root)
