"""Real container networks through the csim command line (root): bridges, veths, names, -p.

Each command is a fresh `csim --backend linux` process, as a student types
them, so every piece of network state must survive between processes: the
pinned namespaces, the endpoint records, the /etc/hosts files, the port proxy.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simulator.runtime.linux.network import DEFAULT_BRIDGE, RULE_PRIORITY, bridge_name, veth_name

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux"),
]

Csim = Callable[..., subprocess.CompletedProcess[str]]
WEB = "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"


@pytest.fixture
def csim(tmp_path: Path) -> Iterator[Csim]:
    env = {**os.environ, "CSIM_STATE": str(tmp_path / "state"), "CSIM_BACKEND": "linux"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "simulator", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    yield run
    ids = run("ps", "-aq").stdout.split()
    if ids:
        run("rm", "-f", *ids)
    names = [line.split()[1] for line in run("network", "ls").stdout.splitlines()[1:] if line.split()]
    for name in names:
        if name not in ("bridge", "host", "none"):
            assert run("network", "rm", name).returncode == 0, f"network {name} left behind"


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout.strip()


def inspect(csim: Csim, ref: str, template: str) -> str:
    return ok(csim("inspect", "-f", template, ref))


def wget(csim: Csim, url: str, network: str = "bridge") -> tuple[int, str]:
    """Fetch ``url`` from a throwaway busybox on ``network``: (wget's exit code, body)."""
    r = csim("run", "--rm", "--network", network, "busybox", "sh", "-c", f"wget -qO- {url}; echo rc=$?")
    lines = ok(r).splitlines()
    return int(lines[-1].removeprefix("rc=")), "\n".join(lines[:-1])


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def bridge_ports(bridge: str) -> list[str]:
    brif = Path("/sys/class/net", bridge, "brif")
    return sorted(p.name for p in brif.iterdir()) if brif.is_dir() else []


def test_names_resolve_on_a_user_defined_network(csim: Csim) -> None:
    ok(csim("network", "create", "app"))
    web = ok(csim("run", "-d", "--network", "app", "--name", "web", "busybox", "sh", "-c", WEB))
    assert wget(csim, "http://web/", "app") == (0, f"hello from {web[:12]}")
    assert wget(csim, f"http://{web[:12]}/", "app")[0] == 0  # the short id is a name too
    ip = inspect(csim, "web", "{{.NetworkSettings.Networks.app.IPAddress}}")
    mac = inspect(csim, "web", "{{.NetworkSettings.Networks.app.MacAddress}}")
    inside = ok(csim("exec", "web", "ip", "-o", "-4", "addr", "show", "eth0"))
    assert f"inet {ip}/16" in inside
    assert mac in ok(csim("exec", "web", "cat", "/sys/class/net/eth0/address"))
    route = ok(csim("exec", "web", "ip", "route"))
    gateway = inspect(csim, "web", "{{.NetworkSettings.Networks.app.Gateway}}")
    assert f"default via {gateway} dev eth0" in route


def test_default_bridge_reaches_by_ip_only(csim: Csim, tmp_path: Path) -> None:
    web = ok(csim("run", "-d", "--name", "web", "busybox", "sh", "-c", WEB))
    ip = inspect(csim, "web", "{{.NetworkSettings.IPAddress}}")
    assert ip.startswith("172.17.")
    assert wget(csim, f"http://{ip}/") == (0, f"hello from {web[:12]}")
    code, _ = wget(csim, "http://web/")
    assert code != 0  # no name service on the default bridge, as in Docker
    bridge = endpoint_record(csim, tmp_path, "web", "bridge")["bridge"]
    assert bridge == DEFAULT_BRIDGE or bridge.startswith(f"{DEFAULT_BRIDGE}-")  # see ContainerNetworks.bridge_for
    cid = inspect(csim, "web", "{{.Id}}")
    network_id = inspect(csim, "web", "{{.NetworkSettings.Networks.bridge.NetworkID}}")
    assert veth_name(cid, network_id) in bridge_ports(bridge)


def endpoint_record(csim: Csim, tmp_path: Path, ref: str, network: str) -> dict[str, str]:
    """What the runtime recorded about a container's endpoint (``net/ep-<id>.json``)."""
    cid = inspect(csim, ref, "{{.Id}}")
    network_id = inspect(csim, ref, f"{{{{.NetworkSettings.Networks.{network}.NetworkID}}}}")
    path = tmp_path / "state" / "linux" / "containers" / cid / "net" / f"ep-{network_id}.json"
    data: dict[str, str] = json.loads(path.read_text())
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        return str(response.read().decode())


def test_published_port_is_reachable_from_the_host(csim: Csim) -> None:
    port = free_port()
    web = ok(csim("run", "-d", "-p", f"127.0.0.1:{port}:80", "--name", "web", "busybox", "sh", "-c", WEB))
    assert fetch(port) == f"hello from {web[:12]}\n"
    assert fetch(port) == fetch(port)  # one proxy, many connections
    assert f"127.0.0.1:{port}->80/tcp" in ok(csim("ps"))
    clash = csim("run", "-d", "-p", f"127.0.0.1:{port}:80", "busybox", "sleep", "60")
    assert clash.returncode != 0
    assert f"Bind for 127.0.0.1:{port} failed: port is already allocated" in clash.stderr
    ok(csim("stop", "-t", "1", "web"))
    with pytest.raises(urllib.error.URLError):
        fetch(port)
    ok(csim("start", "web"))
    assert fetch(port).startswith("hello from")


def test_disconnect_cuts_it_and_connect_restores(csim: Csim) -> None:
    ok(csim("network", "create", "app"))
    ok(csim("run", "-d", "--network", "app", "--name", "web", "busybox", "sh", "-c", WEB))
    ok(csim("run", "-d", "--network", "app", "--name", "client", "busybox", "sleep", "300"))
    ip = inspect(csim, "web", "{{.NetworkSettings.Networks.app.IPAddress}}")
    assert csim("exec", "client", "wget", "-qO-", "http://web/").returncode == 0
    ok(csim("network", "disconnect", "app", "web"))
    assert "web" not in ok(csim("exec", "client", "cat", "/etc/hosts"))
    assert csim("exec", "client", "wget", "-qO-", "http://web/").returncode != 0
    # A vanished address is silence, not a refusal: give up after 2 s, as a student would.
    assert csim("exec", "client", "timeout", "2", "wget", "-qO-", f"http://{ip}/").returncode != 0
    assert ok(csim("exec", "web", "ip", "-o", "link")).count(": eth") == 0  # only lo is left
    ok(csim("network", "connect", "app", "web"))
    assert csim("exec", "client", "wget", "-qO-", "http://web/").returncode == 0


def test_a_second_network_is_eth1(csim: Csim) -> None:
    ok(csim("network", "create", "front"))
    ok(csim("network", "create", "back"))
    ok(csim("run", "-d", "--network", "front", "--name", "api", "busybox", "sh", "-c", WEB))
    ok(csim("network", "connect", "back", "api"))
    links = ok(csim("exec", "api", "ip", "-o", "link"))
    assert "eth0" in links and "eth1" in links
    assert wget(csim, "http://api/", "back")[0] == 0
    assert wget(csim, "http://api/", "front")[0] == 0


def test_rm_leaves_no_veth_bridge_port_or_netns(csim: Csim, tmp_path: Path) -> None:
    ok(csim("network", "create", "app"))
    port = free_port()
    cid = ok(csim("run", "-d", "--network", "app", "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c", WEB))
    network_id = inspect(csim, cid, "{{.NetworkSettings.Networks.app.NetworkID}}")
    veth, bridge = veth_name(cid, network_id), bridge_name("app", network_id)
    netns_file = tmp_path / "state" / "linux" / "containers" / cid / "netns"
    ns_inode = netns_file.stat().st_ino
    proxy = json.loads((netns_file.parent / "net" / f"proxy-{network_id}.json").read_text())
    assert link_exists(veth) and bridge_ports(bridge) == [veth]
    assert ns_inode in netns_inodes_in_use()
    ok(csim("rm", "-f", cid))
    assert not link_exists(veth)
    assert bridge_ports(bridge) == []
    assert not netns_file.exists()
    assert ns_inode not in netns_inodes_in_use()
    assert not Path(f"/proc/{proxy['pid']}").exists() or _zombie(proxy["pid"])
    with pytest.raises(urllib.error.URLError):
        fetch(port)


def netns_inodes_in_use() -> set[int]:
    """Every network namespace a process or a mount still holds."""
    found: set[int] = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                found.add(os.stat(proc / "ns" / "net").st_ino)
            except OSError:
                continue
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if "nsfs" in fields and fields[3].startswith("net:["):
            found.add(int(fields[3][5:-1]))
    return found


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_network_rm_removes_the_bridge_and_its_rule(csim: Csim) -> None:
    network_id = ok(csim("network", "create", "app"))
    bridge = bridge_name("app", network_id)
    assert link_exists(bridge)
    assert Path(f"/proc/sys/net/ipv4/conf/{bridge}/forwarding").read_text().strip() == "0"
    assert bridge in prohibit_rules()
    ok(csim("network", "rm", "app"))
    assert not link_exists(bridge)
    assert bridge not in prohibit_rules()


def prohibit_rules() -> list[str]:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return [
            str(r.get_attr("FRA_IIFNAME"))
            for r in ipr.get_rules(family=socket.AF_INET)
            if r.get_attr("FRA_PRIORITY") == RULE_PRIORITY
        ]


def test_nothing_is_routed_off_the_machine(csim: Csim, tmp_path: Path) -> None:
    """Ask the kernel's routing decision for a container's packet; nothing is sent anywhere."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    ok(csim("run", "-d", "--name", "box", "busybox", "sleep", "300"))
    ip = inspect(csim, "box", "{{.NetworkSettings.IPAddress}}")
    bridge = endpoint_record(csim, tmp_path, "box", "bridge")["bridge"]
    forwarding = Path(f"/proc/sys/net/ipv4/conf/{bridge}/forwarding")
    with IPRoute() as ipr:
        index = ipr.link_lookup(ifname=bridge)[0]
        # Layer 1: the bridge does not forward at all.
        with pytest.raises(NetlinkError) as refused:
            ipr.route("get", dst="198.51.100.7", src=ip, iif=index)
        assert refused.value.code == errno.EHOSTUNREACH
        # Layer 2: even with forwarding switched on (as enabling ip_forward host-wide
        # does), the prohibit rule refuses. Only the routing decision is asked.
        assert forwarding.read_text().strip() == "0"
        forwarding.write_text("1")
        try:
            with pytest.raises(NetlinkError) as refused:
                ipr.route("get", dst="198.51.100.7", src=ip, iif=index)
            assert refused.value.code == errno.EACCES
        finally:
            forwarding.write_text("0")
        # The host itself stays reachable (the local table comes before the rule).
        host = ipr.route("get", dst="172.17.0.1", src=ip, iif=index)[0]
        assert host["type"] == 2  # RTN_LOCAL
    # No NAT: the host has no masquerade rule for the container range.
    assert "MASQUERADE" not in subprocess.run(["iptables-save"], capture_output=True, text=True, check=False).stdout


def test_none_has_only_lo_and_host_shares_the_hosts_stack(csim: Csim) -> None:
    none = ok(csim("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"))
    assert none.count("\n") == 0 and "lo:" in none and "LOWER_UP" in none
    host_links = ok(csim("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"))
    assert set(host_links.split()) == set(os.listdir("/sys/class/net"))


def test_trace_shows_the_kernel_work_of_a_join(csim: Csim, tmp_path: Path) -> None:
    ok(csim("network", "create", "app"))
    ok(csim("run", "-d", "--network", "app", "--name", "web", "busybox", "sleep", "300"))
    deadline = time.monotonic() + 5
    trace = tmp_path / "state" / "linux" / "trace.jsonl"
    while not trace.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    names = [json.loads(line).get("name", "") for line in trace.read_text().splitlines() if line.strip()]
    assert "network join app" in names
    assert any(n.startswith("ip link add vcsim") and "type veth peer eth0" in n for n in names)
    assert any(n.startswith("setns(") for n in names)
