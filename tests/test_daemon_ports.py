"""Published ports: fixed, ephemeral and ranged host ports, clashes, and release on stop."""

from __future__ import annotations

import pytest

from simulator.daemon.ports import EPHEMERAL, PortAllocated, allocate
from simulator.des.world import World


def _b(host_port: str = "", ip: str = "") -> list[dict[str, str]]:
    return [{"HostIp": ip, "HostPort": host_port}]


def test_fixed_ephemeral_and_ranged_ports() -> None:
    got = allocate({"80/tcp": _b("8080"), "81/tcp": _b(), "90/udp": _b("9000-9001", "127.0.0.1")}, [])
    assert got == {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
        "81/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(EPHEMERAL[0])}],
        "90/udp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}],
    }
    again = allocate({"81/tcp": _b(), "90/udp": _b("9000-9001", "127.0.0.1")}, [got])
    assert again["81/tcp"][0]["HostPort"] == str(EPHEMERAL[0] + 1)
    assert again["90/udp"][0]["HostPort"] == "9001"
    with pytest.raises(PortAllocated, match=r"^Bind for 127.0.0.1:9000-9001 failed: port is already allocated$"):
        allocate({"90/udp": _b("9000-9001", "127.0.0.1")}, [got, again])


def test_any_address_clashes_with_every_address_and_protocols_are_apart() -> None:
    held = [{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}]
    with pytest.raises(PortAllocated, match=r"Bind for 0\.0\.0\.0:8080 failed"):
        allocate({"80/tcp": _b("8080")}, held)
    assert allocate({"80/tcp": _b("8080", "127.0.0.2")}, held)["80/tcp"][0]["HostPort"] == "8080"
    assert allocate({"80/udp": _b("8080")}, held)["80/udp"][0]["HostPort"] == "8080"


def test_a_taken_port_fails_the_start_and_stopping_frees_it(world: World) -> None:
    assert world.run_cli(["run", "-d", "-p", "8080:80", "--name", "a1", "nginx"]).exit_code == 0
    clash = world.run_cli(["run", "-d", "-p", "8080:80", "--name", "a2", "nginx"])
    assert clash.exit_code == 125
    assert "driver failed programming external connectivity on endpoint a2 (" in clash.stderr
    assert "): Bind for 0.0.0.0:8080 failed: port is already allocated\n\nRun 'csim run --help'" in clash.stderr
    state = world.run_cli(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "a2"]).stdout
    assert state == "created 128\n"  # never ran, as in docker
    world.run_cli(["stop", "a1"])
    assert world.run_cli(["inspect", "-f", "{{json .NetworkSettings.Ports}}", "a1"]).stdout == '{"80/tcp":null}\n'
    assert world.run_cli(["start", "a2"]).exit_code == 0
    assert world.run_cli(["port", "a2"]).stdout == "80/tcp -> 0.0.0.0:8080\n"
    world.run_cli(["run", "-d", "-p", "80", "--name", "e1", "busybox", "sleep", "99"])
    assert world.run_cli(["ps", "-f", "name=e1", "--format", "{{.Ports}}"]).stdout == "0.0.0.0:32768->80/tcp\n"
