"""The embedded world on disk: ``csim run -d ...`` in one process, ``csim ps`` in the next.

The daemon's records go to ``state.json`` (written to a temp file, fsynced,
renamed); blobs to an OCI content store beside it. World time advances by
the wall time that passed between two commands. A corrupt state file is
moved aside with a message, never silently dropped.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from pathlib import Path
from typing import IO, Any

from simulator.daemon.containers import Container
from simulator.des.world import DEFAULT_EPOCH, World
from simulator.model.network import Network
from simulator.model.volume import Volume
from simulator.trace.jsonl import dumps_spans, loads_spans

STATE_FILE = "state.json"
BACKUP_FILE = "state.json.bak"
TRACE_FILE = "trace.jsonl"
FORMAT = 1
MAX_SPANS_KEPT = 20_000


def reset_state(directory: Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)


def _content(directory: Path) -> Any:
    from simulator.daemon.content import ContentStore

    return ContentStore(directory / "content")


def _new_world(directory: Path, seed: int, backend: str, **kwargs: Any) -> World:
    if backend == "linux":
        from simulator.des.linux_world import LinuxWorld

        return LinuxWorld(directory, seed=seed)
    return World(seed=seed, content=_content(directory), **kwargs)


def load_world(directory: Path, seed: int = 0, messages: IO[str] | None = None, backend: str = "sim") -> World:
    """The world saved in ``directory`` (or a new one), its clock moved on by the wall time that passed."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / STATE_FILE
    data: dict[str, Any] | None = None
    if path.exists():
        try:
            data = _read_state(path)
        except (ValueError, UnicodeDecodeError) as err:
            aside = directory / f"{STATE_FILE}.corrupt-{int(time.time())}"
            path.rename(aside)
            data = _last_good(directory)
            if messages is not None:
                outcome = (
                    f"the previous good state ({BACKUP_FILE}) was restored"
                    if data is not None
                    else "a new world was started"
                )
                messages.write(
                    f"csim: the state file {path} could not be read ({err}); it was moved to "
                    f"{aside} and {outcome}. Blobs in {directory / 'content'} are kept.\n"
                )
    if data is None:
        return _new_world(directory, seed, backend, epoch=time.time())
    if backend == "linux":
        from simulator.des.linux_world import LinuxWorld

        linux = LinuxWorld(directory, seed=seed, epoch=float(data["epoch"]))
        restore(linux, data)
        _load_trace(linux, directory, data)
        return linux
    world = _new_world(
        directory, seed, backend, epoch=float(data.get("epoch", DEFAULT_EPOCH)), initial_time=float(data["now"])
    )
    restore(world, data)
    _load_trace(world, directory, data)
    elapsed = max(0.0, time.time() - float(data["wall"]))
    catch_up = float(data["now"]) + elapsed - float(world.env.now)  # restarting the containers took some
    if catch_up > 0:
        world.advance(catch_up)
    return world


def _read_state(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("unknown state format")
    return data


def _last_good(directory: Path) -> dict[str, Any] | None:
    """The state saved before the last one, if it reads cleanly."""
    backup = directory / BACKUP_FILE
    try:
        return _read_state(backup) if backup.exists() else None
    except (ValueError, UnicodeDecodeError):
        return None


def _load_trace(world: World, directory: Path, data: dict[str, Any]) -> None:
    trace_path = directory / TRACE_FILE
    if not trace_path.exists():
        return
    try:
        for span in loads_spans(trace_path.read_text(encoding="utf-8")):
            world.bus(span)
    except ValueError:
        pass
    world.tracer._next_span = max((sp.span_id for sp in world.bus.spans()), default=0) + 1
    world.tracer._next_trace = int(data.get("next_trace", 1))


def restore(world: World, data: dict[str, Any]) -> None:
    d = world.daemon
    d.images.load_dict(data["images"])
    d.id_counter = int(data["id_counter"])
    state = data["rng"]
    d.rng.setstate((state[0], tuple(state[1]), state[2]))
    d.networks = {n["name"]: Network.from_dict(n) for n in data["networks"]}
    d.volumes = {v["name"]: Volume.from_dict(v) for v in data["volumes"]}
    for ev in data.get("events", []):
        world.events.log(ev["type"], ev["action"], ev["actor"], ev["attrs"], time_ns=ev["time_ns"])
    if getattr(world, "realtime", False):
        _restore_linux(world, data)
        return
    snapshots = data.get("runtime", {})
    world.runtime.volumes.restore({k: base64.b64decode(v) for k, v in snapshots.get("volumes", {}).items()})
    uppers = snapshots.get("uppers", {})
    running = []
    for raw in data["containers"]:
        c = Container.from_dict(raw)
        d.containers.add(c)
        if c.runtime_created:
            proc = world.env.process(world.runtime.create(d._spec(c), _ctx(world)))
            world.run_until(proc)
            if c.id in uppers:
                world.runtime.restore_container(c.id, base64.b64decode(uppers[c.id]))
        if c.state.running and not c.state.restarting:
            running.append(c)
    # Each running container's init is re-run now; the world runs until every one has
    # started again, so a command right after the load (an exec) finds them running.
    for proc in [world.env.process(_resume(world, c)) for c in running]:
        world.run_until(proc)
    world.settle()


def _restore_linux(world: World, data: dict[str, Any]) -> None:
    """Live restore: re-attach to the shims of containers that kept running while no daemon was."""
    from simulator.runtime.protocol import ExitStatus, ProcessIO

    d = world.daemon
    containers = [Container.from_dict(raw) for raw in data["containers"]]
    for c in containers:
        d.containers.add(c)
        _reload_logs(world, c)

    def io_for(cid: str) -> ProcessIO:
        c = d.containers.get(cid)
        io = ProcessIO(world.env, lambda stream, chunk: d.record_output(c, stream, chunk))
        d._io[cid] = io
        return io

    assign = getattr(world.runtime, "assign", None)
    if callable(assign):
        for c in containers:
            assign(c.id, str(c.host_config.get("Runtime") or ""))
    running = [c.id for c in containers if c.state.running and not c.state.restarting]
    found = world.runtime.restore([c.id for c in containers if c.runtime_created], io_for)
    for c in containers:
        result = found.get(c.id)
        if c.id not in running:
            continue
        if isinstance(result, ExitStatus) or result is None:
            status = result or ExitStatus(code=255, error="container process is gone")
            world.env.process(d._handle_exit(c, status))
        else:
            d._handles[c.id] = result
            world.env.process(d._monitor(c, result.exited))
    world.runtime.reap_orphans({c.id for c in containers})
    world.settle()


def _reload_logs(world: World, c: Container) -> None:
    """On the real backend the shim's json-file log is the record: read it back in full."""
    from simulator.client.units import parse_rfc3339nano
    from simulator.daemon.containers import LogEntry
    from simulator.runtime.linux.jsonlog import decode

    path = world.container_log(c.id)  # type: ignore[attr-defined]
    if not path.exists():
        return
    entries = []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            stream, chunk, stamp = decode(line)
        except ValueError:
            continue
        when = (parse_rfc3339nano(stamp) or world.daemon.epoch) - world.daemon.epoch
        entries.append(LogEntry(when, "stderr" if stream == 2 else "stdout", chunk))
    c.logs = entries[-world.daemon.params.log_lines_kept :]


def _ctx(world: World) -> Any:
    return world.tracer.start("dockerd", "live restore", None)


def _resume(world: World, c: Container) -> Any:
    """Re-run a container that was running when the world was saved, without repeating its output."""
    from simulator.runtime.protocol import ProcessIO

    d = world.daemon
    ran = float(world.env.now) - float(c.state.started_at or world.env.now)
    io = ProcessIO(
        world.env,
        lambda stream, data: d.record_output(c, stream, data),
        open_stdin=bool(c.config.get("OpenStdin")),
    )
    d._io[c.id] = io
    for name in c.networks:
        net = d.networks.get(name)
        if net is not None and c.id not in net.endpoints:
            pass
    handle = yield from world.runtime.start(c.id, io, _ctx(world), float(world.env.now) + ran)
    d._handles[c.id] = handle
    c.state.pid = handle.pid
    if c.state.paused:
        yield from world.runtime.pause(c.id, _ctx(world))
    world.env.process(d._monitor(c, handle.exited))


def save_world(world: World, directory: Path) -> None:
    if not getattr(world, "realtime", False):
        world.settle()  # what is due now happens before the save: a replay skips all of it (``_resume``)
    d = world.daemon
    runtime = world.runtime
    snapshot = (
        {}
        if getattr(world, "realtime", False)
        else {
            "volumes": {k: base64.b64encode(v).decode() for k, v in runtime.volumes.snapshot().items()},
            "uppers": {
                c.id: base64.b64encode(runtime.snapshot_container(c.id)).decode()
                for c in d.containers.all()
                if c.runtime_created
            },
        }
    )
    data = {
        "format": FORMAT,
        "now": float(world.env.now),
        "wall": time.time(),
        "epoch": d.epoch,
        "id_counter": d.id_counter,
        "rng": list(d.rng.getstate()),
        "next_trace": world.tracer._next_trace,
        "images": d.images.to_dict(),
        "containers": [c.to_dict() for c in d.containers.all()],
        "networks": [n.to_dict() for n in d.networks.values()],
        "volumes": [v.to_dict() for v in d.volumes.values()],
        "events": [
            {
                "type": e.type,
                "action": e.action,
                "actor": e.actor_id,
                "attrs": e.attributes,
                "time_ns": e.time_ns,
            }
            for e in world.events.events()
        ],
        "runtime": snapshot,
    }
    directory.mkdir(parents=True, exist_ok=True)
    current = directory / STATE_FILE
    if current.exists():
        os.replace(current, directory / BACKUP_FILE)  # keep the last good state, should this one break
    _atomic_write(current, json.dumps(data, separators=(",", ":")))
    spans = world.bus.spans()[-MAX_SPANS_KEPT:]
    _atomic_write(directory / TRACE_FILE, dumps_spans(spans))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
