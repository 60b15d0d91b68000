"""``csim daemon``: the Engine API on a socket, in the foreground, like ``dockerd``.

It loads the simulated world from its data root (a restart keeps images,
containers, networks and volumes), runs it on a thread of its own in scaled
real time, and serves the Engine API on unix sockets or loopback TCP so the
real ``docker`` CLI, docker-py and the csim CLI (with ``-H``) drive it. With
``--upstream`` it runs no world at all and instead forwards every request to
a real Docker Engine, tracing each one (proxy mode).

Logs are one readable line per request on stderr. SIGINT or SIGTERM stops
accepting connections, saves the world and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_log = logging.getLogger("csim.daemon")

SAVE_INTERVAL = 5.0  # seconds between saves of a changed world (and one more at shutdown)


def build_daemon_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="csim daemon",
        description="Serve the Docker Engine API from the simulated world (or proxy a real engine).",
    )
    p.add_argument(
        "-H",
        "--host",
        action="append",
        default=[],
        help="where to listen: unix:///path/csim.sock or tcp://127.0.0.1:PORT (repeatable)",
    )
    p.add_argument(
        "--backend",
        default="sim",
        choices=["sim", "linux"],
        help="the world behind the API: sim (simulated) or linux (real containers, needs root)",
    )
    p.add_argument("--data-root", default="", help="where the world is persisted")
    p.add_argument("--speed", type=_speed, default=1.0, help="world seconds per wall second ('inf': no waiting)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--allow-remote", action="store_true", help="allow listening on a non-loopback TCP address")
    p.add_argument(
        "--upstream", default="", help="proxy mode: forward to this engine, e.g. unix:///var/run/docker.sock"
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def _speed(raw: str) -> float:
    value = float(raw)
    if not value > 0 and not math.isinf(value):
        raise argparse.ArgumentTypeError("speed must be positive")
    return value


def default_data_root() -> Path:
    if os.environ.get("CSIM_DAEMON_ROOT"):
        return Path(os.environ["CSIM_DAEMON_ROOT"])
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "csim" / "daemon"


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("aiohttp").setLevel(logging.WARNING)


def run_daemon(args: argparse.Namespace | list[str]) -> int:
    """Run the daemon in the foreground until SIGINT/SIGTERM; returns the exit code."""
    from simulator.api.listeners import HostError, default_host, parse_host

    if not isinstance(args, argparse.Namespace):
        args = build_daemon_parser().parse_args(args)
    _configure_logging(args.log_level)
    try:
        hosts = [parse_host(h, args.allow_remote) for h in (args.host or [default_host()])]
        upstream = parse_host(args.upstream, allow_remote=True) if args.upstream else None
    except HostError as err:
        sys.stderr.write(f"csim daemon: {err}\n")
        return 1
    try:
        if upstream is not None:
            from simulator.api.proxy import run_proxy

            return asyncio.run(run_proxy(upstream, hosts))
        return asyncio.run(_run_world(args, hosts))
    except HostError as err:
        sys.stderr.write(f"csim daemon: {err}\n")
        return 1
    except PermissionError as err:
        sys.stderr.write(f"csim daemon: {err.strerror}: {err.filename}\n")
        return 1


class WorldDaemon:
    """A loaded world, its thread, its API server and its saver: what ``csim daemon`` runs."""

    def __init__(self, world: Any, data_root: Path | None, speed: float = 1.0) -> None:
        from simulator.api.server import WorldApi
        from simulator.api.worldthread import WorldThread

        self.world = world
        self.data_root = data_root
        self.runner = WorldThread(world, speed=speed)
        route_posts = getattr(world, "route_posts", None)
        if callable(route_posts):  # the real backend's threads hand results to this world thread
            route_posts(self.runner.post)
        self.api = WorldApi(self.runner, on_change=self._changed)
        self._dirty = False
        self._save_pending = False
        self._server: Any = None

    def _changed(self) -> None:
        self._dirty = True
        if getattr(self.world, "realtime", False) and not self._save_pending:
            # Real containers outlive the daemon: record every change at once, so a
            # `kill -9` of the daemon loses nothing (Docker writes config.v2.json the same way).
            self._save_pending = True
            try:
                self.runner.post(self._save_soon)
            except Exception:
                self._save_pending = False

    def _save_soon(self) -> None:
        self._save_pending = False
        self.save_now()

    def save_now(self) -> None:
        """On the world thread: write the world to its data root."""
        if self.data_root is None:
            return
        from simulator.des.persist import save_world

        self._dirty = False
        save_world(self.world, self.data_root)

    async def start(self, hosts: list[Any]) -> None:
        from simulator.api.server import ApiServer

        self.runner.start()
        self._server = ApiServer(self.api, hosts)
        try:
            await self._server.start()
        except BaseException:
            self.runner.stop()
            raise

    async def autosave(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL)
            if self._dirty:
                await self._save()

    async def _save(self) -> None:
        try:
            await asyncio.wait_for(asyncio.wrap_future(self.runner.call(self.save_now)), 60)
        except Exception:
            _log.exception("saving the world failed")

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None
        await self._save()
        self.runner.stop()


def load(data_root: Path, seed: int, backend: str = "sim") -> Any:
    from simulator.des.persist import load_world

    class _Log:
        def write(self, text: str) -> None:
            _log.warning(text.strip())

    world = load_world(data_root, seed=seed, messages=_Log(), backend=backend)  # type: ignore[arg-type]
    world.ensure_base_images()
    return world


async def _run_world(args: argparse.Namespace, hosts: list[Any]) -> int:
    data_root = Path(args.data_root) if args.data_root else default_data_root()
    if args.backend == "linux":
        if os.geteuid() != 0:
            sys.stderr.write("csim daemon: the linux backend needs root (namespaces, mounts, cgroups)\n")
            return 1
        data_root = data_root / "linux"
        args.speed = 1.0  # real containers run in real time
    world = load(data_root, args.seed, args.backend)
    daemon = WorldDaemon(world, data_root, speed=args.speed)
    await daemon.start(hosts)
    d = world.daemon
    _log.info(
        "csim daemon %s backend, speed %sx: %d images, %d containers, %d networks, %d volumes from %s",
        args.backend,
        args.speed,
        len(d.images.images),
        len(list(d.containers)),
        len(d.networks),
        len(d.volumes),
        data_root,
    )
    for h in hosts:
        _log.info("API listening on %s   (export DOCKER_HOST=%s)", h, h)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    saver = asyncio.create_task(daemon.autosave())
    await stop.wait()
    _log.info("shutting down: saving the world to %s", data_root)
    saver.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await saver
    await daemon.stop()
    _log.info("stopped")
    return 0


@contextlib.contextmanager
def serve_in_thread(world: Any, hosts: list[Any], speed: float = 1.0, data_root: Path | None = None) -> Iterator[Any]:
    """Serve ``world`` on ``hosts`` from a background event loop (tests, benchmarks, the TUI)."""
    loop = asyncio.new_event_loop()
    daemon = WorldDaemon(world, data_root, speed=speed)
    ready: Any = loop.create_future()

    async def main() -> None:
        try:
            await daemon.start(hosts)
        except BaseException as err:
            ready.set_exception(err)
            return
        ready.set_result(None)
        await asyncio.Event().wait()

    thread = threading.Thread(target=loop.run_forever, name="csim-api", daemon=True)
    thread.start()
    task = asyncio.run_coroutine_threadsafe(main(), loop)
    asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(ready), 30), loop).result()
    try:
        yield daemon
    finally:
        task.cancel()
        asyncio.run_coroutine_threadsafe(daemon.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def main(argv: list[str] | None = None) -> int:
    return run_daemon(build_daemon_parser().parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
