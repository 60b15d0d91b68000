"""Network applets: wget, ping, nslookup, redis-cli between containers.

Names resolve through the daemon's :class:`NetworkView` (Docker's DNS rules:
container names resolve on user-defined networks only); the peer container
answers through the listener its server program registered with the kernel.
Errors use busybox's words (``wget: bad address 'x'``, ``Connection refused``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.runtime.sim.kernel import Container, HttpRequest, HttpResponse
from simulator.runtime.sim.process import Process
from simulator.runtime.sim.programs.base import Gen, applet, program, split_opts
from simulator.runtime.sim.vfs import FsError

_UNREACHABLE_DELAY = 3.0  # ARP gives up after ~3 s on a bridge


def parse_url(url: str) -> tuple[str, int, str] | None:
    rest = url
    default_port = 80
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
        if scheme not in ("http", "https"):
            return None
        default_port = 443 if scheme == "https" else 80
    hostport, slash, path = rest.partition("/")
    host, colon, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    if not host:
        return None
    try:
        port_num = int(port) if colon else default_port
    except ValueError:
        return None
    return host, port_num, "/" + path if slash else "/"


def connect(
    proc: Process, host: str, port: int, tool: str
) -> Generator[simpy.Event, Any, tuple[Container, str] | None]:
    """Resolve and reach ``host:port``; prints the tool's error and returns None on failure."""
    ip = proc.kernel.resolve(proc.container, host)
    if ip is None:
        proc.err(f"{tool}: bad address '{host}'\n")
        return None
    peer = proc.kernel.peer(proc.container, ip)
    if peer is None:
        yield from proc.sleep(_UNREACHABLE_DELAY)
        proc.err(f"{tool}: can't connect to remote host ({ip}): Host is unreachable\n")
        return None
    if port not in peer.listeners:
        yield from proc.sleep(proc.kernel.params.network_rtt)
        proc.err(f"{tool}: can't connect to remote host ({ip}): Connection refused\n")
        return None
    if peer.frozen:
        yield from proc.wait_event(peer.thawed)
    yield from proc.sleep(proc.kernel.params.network_rtt)
    return peer, ip


@applet("wget")
def wget(proc: Process) -> Gen:
    opts, urls = split_opts(proc.argv, "OoTU")
    if not urls:
        proc.err("BusyBox v1.37.0 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...\n")
        return 1
    quiet = "q" in opts
    code = 0
    for url in urls:
        parsed = parse_url(url)
        if parsed is None:
            proc.err(f"wget: not an http or ftp url: {url}\n")
            code = 1
            continue
        host, port, path = parsed
        if not quiet:
            proc.err(f"Connecting to {host}{'' if port == 80 else f':{port}'} ")
        reached = yield from connect(proc, host, port, "wget")
        if reached is None:
            code = 1
            continue
        peer, ip = reached
        if not quiet:
            proc.err(f"({ip}:{port})\n")
        response = request(proc, peer, port, "GET", path)
        if response.status >= 400 or response.status == 0:
            if response.status == 0:
                proc.err("wget: error getting response: Connection reset by peer\n")
            else:
                proc.err(f"wget: server returned error: HTTP/1.1 {response.status} {response.reason}\n")
            code = 1
            continue
        target = opts.get("O") or (path.rstrip("/").rsplit("/", 1)[-1] or "index.html")
        if target == "-":
            proc.out(response.body)
            continue
        try:
            proc.fs.write(target, response.body, proc.cwd, uid=proc.uid, gid=proc.gid)
        except FsError as exc:
            proc.err(f"wget: can't open '{target}': {exc.strerror}\n")
            code = 1
            continue
        if not quiet:
            size = len(response.body)
            proc.err(f"saving to '{target}'\n{target[:20]:<20} 100% |{'*' * 31}| {size:>5}  0:00:00 ETA\n"
                     f"'{target}' saved\n")  # fmt: skip
    return code


def request(proc: Process, peer: Container, port: int, method: str, path: str) -> HttpResponse:
    listener = peer.listeners[port]
    if listener.handler is None:
        return HttpResponse(0, "")
    client_ip = proc.kernel.own_ip(proc.container) if peer is not proc.container else "127.0.0.1"
    return listener.handler(HttpRequest(method, path, client_ip))


@applet("ping")
def ping(proc: Process) -> Gen:
    opts, hosts = split_opts(proc.argv, "cWwis")
    if not hosts:
        proc.err("Usage: ping [OPTIONS] HOST\n")
        return 1
    host = hosts[0]
    count = int(opts["c"]) if opts.get("c", "").isdigit() else 1_000_000
    ip = proc.kernel.resolve(proc.container, host)
    if ip is None:
        proc.err(f"ping: bad address '{host}'\n")
        return 1
    proc.out(f"PING {host} ({ip}): 56 data bytes\n")
    rtt_ms = proc.kernel.params.network_rtt * 1000
    times: list[float] = []
    sent = 0
    for seq in range(count):
        sent += 1
        peer = proc.kernel.peer(proc.container, ip)
        if peer is not None and not peer.frozen:
            t = rtt_ms * (1 + (seq % 7) * 0.05)
            times.append(t)
            proc.out(f"64 bytes from {ip}: seq={seq} ttl=64 time={t:.3f} ms\n")
        if seq + 1 < count:
            yield from proc.sleep(1.0)
    proc.out(f"\n--- {host} ping statistics ---\n")
    loss = (sent - len(times)) * 100 // sent
    proc.out(f"{sent} packets transmitted, {len(times)} packets received, {loss}% packet loss\n")
    if times:
        avg = sum(times) / len(times)
        proc.out(f"round-trip min/avg/max = {min(times):.3f}/{avg:.3f}/{max(times):.3f} ms\n")
        return 0
    return 1


@applet("nslookup")
def nslookup(proc: Process) -> Gen:
    _, args = split_opts(proc.argv)
    if not args:
        proc.err("Usage: nslookup HOST [DNS_SERVER]\n")
        return 1
    name = args[0]
    user_defined = proc.container.spec.network_mode not in ("bridge", "host", "none", "default")
    server = "127.0.0.11" if user_defined else "10.0.2.3"
    proc.out(f"Server:\t\t{server}\nAddress:\t{server}:53\n\n")
    yield from proc.sleep(proc.kernel.params.network_rtt)
    ip = proc.kernel.resolve(proc.container, name)
    if ip is None:
        proc.out(f"** server can't find {name}: NXDOMAIN\n\n")
        return 1
    proc.out(f"Non-authoritative answer:\nName:\t{name}\nAddress: {ip}\n\n")
    return 0


@program("redis-cli")
def redis_cli(proc: Process) -> Gen:
    opts, args = split_opts(proc.argv, "hpa")
    host = opts.get("h", "127.0.0.1")
    port = int(opts.get("p", "6379") or 6379)
    ip = proc.kernel.resolve(proc.container, host)
    peer = proc.kernel.peer(proc.container, ip) if ip else None
    if peer is None or port not in peer.listeners:
        reason = "Name or service not known" if ip is None else "Connection refused"
        proc.err(f"Could not connect to Redis at {host}:{port}: {reason}\n")
        return 1
    yield from proc.sleep(proc.kernel.params.network_rtt)
    store: dict[str, str] = peer.listeners[port].owner.__dict__.setdefault("redis_data", {})
    cmd = list(args)
    if not cmd or cmd[0].upper() == "PING":
        proc.out("PONG\n")
    elif cmd[0].upper() == "SET" and len(cmd) >= 3:
        store[cmd[1]] = cmd[2]
        proc.out("OK\n")
    elif cmd[0].upper() == "GET" and len(cmd) >= 2:
        value = store.get(cmd[1])
        proc.out(f'"{value}"\n' if value is not None else "(nil)\n")
    elif cmd[0].upper() == "INCR" and len(cmd) >= 2:
        store[cmd[1]] = str(int(store.get(cmd[1], "0")) + 1)
        proc.out(f"(integer) {store[cmd[1]]}\n")
    else:
        proc.out(f"(error) ERR unknown command '{cmd[0]}'\n")
    return 0
