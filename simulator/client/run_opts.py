"""The docker CLI's own checks of ``run``/``create`` flags, before any request (cli/opts, go-connections/nat).

Two kinds, as in docker: a flag value that does not parse is a flag error
(``invalid argument "1x" for "-m, --memory" flag: ...``, raised here as
``argparse.ArgumentTypeError`` from a ``type=`` function); a value that
parses but makes no sense together is the command's error
(``docker: invalid containerPort: abc``), raised as ``OptionError``.
"""

from __future__ import annotations

import argparse
import ipaddress
from typing import Any

from simulator.client.units import parse_size

PROTOCOLS = ("tcp", "udp", "sctp")


class OptionError(ValueError):
    """A run/create option the docker CLI refuses (``docker: <message>``, exit 125)."""


# -- type= functions: flag errors -------------------------------------------------
def memory_bytes(text: str) -> int:
    """``-m 512m``: go-units ``RAMInBytes``."""
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f'invalid argument "{text}": {err}') from None


def nano_cpus(text: str) -> int:
    """``--cpus 1.5``: a rational number of CPUs, in billionths."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'invalid argument "{text}": failed to parse {text} as a rational number'
        ) from None
    return round(value * 1e9)


def env_value(text: str) -> str:
    """``-e KEY=value`` (or ``-e KEY``, which the daemon reads as unset)."""
    if not text or text.startswith("="):
        raise argparse.ArgumentTypeError(f'invalid argument "{text}": invalid environment variable: {text}')
    return text


# -- semantic checks ------------------------------------------------------------------
def parse_restart_policy(policy: str) -> dict[str, Any]:
    """``--restart on-failure:3`` as the API's ``RestartPolicy`` (the daemon judges the name)."""
    name, colon, count = policy.partition(":")
    if colon and not name:
        raise OptionError("invalid restart policy format: no policy provided before colon")
    retries = 0
    if count:
        try:
            retries = int(count)
        except ValueError:
            raise OptionError("invalid restart policy format: maximum retry count must be an integer") from None
    return {"Name": name, "MaximumRetryCount": retries}


def _port_range(text: str) -> tuple[int, int]:
    start, dash, end = text.partition("-")
    first = _port_number(start)
    last = _port_number(end) if dash else first
    if last < first:
        raise ValueError(f"invalid range specified for the port: {text}")
    return first, last


def _port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(text)
    return int(text)


def _split_proto(raw: str) -> tuple[str, str]:
    port, slash, proto = raw.partition("/")
    if not raw or not port:
        return "", ""
    return (proto or "tcp") if slash else "tcp", port


def parse_port_spec(spec: str) -> list[tuple[str, dict[str, str]]]:
    """``-p [ip:][hostPort:]containerPort[/proto]`` as (``80/tcp``, binding) pairs, ranges expanded."""
    parts = spec.split(":")
    if len(parts) == 1:
        ip, host, container = "", "", parts[0]
    elif len(parts) == 2:
        ip, host, container = "", parts[0], parts[1]
    else:
        ip, host, container = ":".join(parts[:-2]), parts[-2], parts[-1]
    proto, container = _split_proto(container)
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise OptionError(f"invalid IP address: {ip}") from None
    if not container:
        raise OptionError(f"no port specified: {spec}<empty>")
    try:
        first, last = _port_range(container)
    except ValueError:
        raise OptionError(f"invalid containerPort: {container}") from None
    host_first = host_last = 0
    if host:
        try:
            host_first, host_last = _port_range(host)
        except ValueError:
            raise OptionError(f"invalid hostPort: {host}") from None
    if host and last - first != host_last - host_first and last != first:
        raise OptionError(f"invalid ranges specified for container and host Ports: {container} and {host}")
    if proto.lower() not in PROTOCOLS:
        raise OptionError(f"invalid proto: {proto}")
    out = []
    for i in range(last - first + 1):
        host_port = str(host_first + i) if host else ""
        if first == last and host_first != host_last:
            host_port = f"{host_first}-{host_last}"  # a dynamic host port within the range
        out.append((f"{first + i}/{proto.lower()}", {"HostIp": ip, "HostPort": host_port}))
    return out


def check_volume_spec(spec: str) -> None:
    """``-v``: the CLI refuses an empty spec and an empty section between colons."""
    if not spec:
        raise OptionError("invalid empty volume spec")
    if len(spec) > 2 and "" in spec.split(":"):
        raise OptionError(f"invalid spec: {spec}: empty section between colons")
