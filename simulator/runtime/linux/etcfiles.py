"""The three files Docker writes for every container and bind-mounts over ``/etc``."""

from __future__ import annotations

from pathlib import Path

from simulator.runtime.protocol import ContainerSpec

_HOSTS_HEADER = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""
_FALLBACK_DNS = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"


def hosts(spec: ContainerSpec) -> str:
    """``/etc/hosts``: localhost lines, ``--add-host`` entries, then the container's own IPs."""
    lines = [_HOSTS_HEADER]
    for entry in spec.extra_hosts:
        name, _, ip = entry.partition(":")
        lines.append(f"{ip}\t{name}\n")
    for endpoint in spec.endpoints:
        lines.append(f"{endpoint.ip}\t{spec.hostname}\n")
    return "".join(lines)


def resolv_conf(host_file: Path = Path("/etc/resolv.conf")) -> str:
    """The host's resolv.conf without loopback resolvers (unreachable from a netns)."""
    try:
        text = host_file.read_text()
    except OSError:
        text = ""
    kept = [line for line in text.splitlines() if not _loopback_resolver(line)]
    if not any(line.startswith("nameserver") for line in kept):
        return "\n".join(kept) + ("\n" if kept else "") + _FALLBACK_DNS
    return "\n".join(kept) + "\n"


def _loopback_resolver(line: str) -> bool:
    fields = line.split()
    return len(fields) > 1 and fields[0] == "nameserver" and fields[1].startswith(("127.", "::1"))


def write(directory: Path, spec: ContainerSpec) -> dict[str, Path]:
    """Write hostname, hosts and resolv.conf into ``directory``; their paths by name."""
    files = {
        "hostname": f"{spec.hostname}\n",
        "hosts": hosts(spec),
        "resolv.conf": resolv_conf(),
    }
    paths: dict[str, Path] = {}
    for name, text in files.items():
        path = directory / name
        path.write_text(text)
        paths[name] = path
    return paths
