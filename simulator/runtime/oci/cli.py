"""The OCI runtime command line (``create|start|state|kill|delete``) for the built-in runtime.

runc is one implementation of a small contract: given a bundle (a directory
with ``config.json`` and a root filesystem), ``create`` sets the container up
and parks its init just before ``execve``; ``start`` releases it; ``state``
prints the OCI state document; ``kill`` signals the init; ``delete`` removes
what ``create`` made. These functions give csim's built-in runtime the same
contract, so ``csim runtime create --bundle DIR ID`` behaves as
``runc create --bundle DIR ID`` does. The parked init waits on a FIFO
(``exec.fifo``, as runc's), opened read-write so that reading it blocks.

The CLI wiring (argument parsing, printing) lives with the CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from simulator.model.errors import Conflict, InvalidParameter, NotFound
from simulator.runtime.linux import shim
from simulator.runtime.linux.cgroups import CgroupManager, CgroupResources
from simulator.runtime.linux.process import ExecError
from simulator.runtime.linux.state import ProcessDir, read_json, write_json_atomic

OCI_VERSION = "1.0.2"
_STOP_WAIT_SECONDS = 5.0


def _dir(state_root: Path, container_id: str) -> Path:
    return Path(state_root) / container_id


def _record(state_root: Path, container_id: str) -> dict[str, Any]:
    record = read_json(_dir(state_root, container_id) / "state.json")
    if record is None:
        raise NotFound(f"container does not exist: {container_id}")
    return record


def parse_signal(value: str | int) -> int:
    """``9``, ``KILL`` or ``SIGKILL`` -> 9 (runc's ``kill`` accepts all three)."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    name = str(value).upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise InvalidParameter(f"invalid signal: {value}") from None


def _resources(config: dict[str, Any]) -> CgroupResources:
    res = (config.get("linux") or {}).get("resources") or {}
    cpu = res.get("cpu") or {}
    quota, period = int(cpu.get("quota") or 0), int(cpu.get("period") or 100_000)
    return CgroupResources(
        memory=int((res.get("memory") or {}).get("limit") or 0),
        nano_cpus=quota * 1_000_000_000 // period if quota > 0 else 0,
        pids_limit=int((res.get("pids") or {}).get("limit") or 0),
    )


def oci_create(
    bundle: Path, container_id: str, state_root: Path, cgroups: CgroupManager | None = None
) -> dict[str, Any]:
    """``create --bundle DIR ID``: set up everything, park the init before execve.

    Returns the OCI state (``status`` ``created``).

    Raises:
        Conflict: the id is taken.
        InvalidParameter: the bundle is unusable or the process cannot start.
    """
    bundle = Path(bundle).resolve()
    cdir = _dir(state_root, container_id)
    if cdir.exists():
        raise Conflict(f"container with id exists: {container_id}")
    try:
        config = json.loads((bundle / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise InvalidParameter(f"cannot read {bundle}/config.json: {exc}") from None
    root = (config.get("root") or {}).get("path")
    if not root or not (config.get("process") or {}).get("args"):
        raise InvalidParameter("invalid OCI config: root.path and process.args are required")
    rootfs = (bundle / root).resolve()
    manager = cgroups or CgroupManager.for_host()
    cdir.mkdir(parents=True)
    fifo = cdir / "exec.fifo"
    os.mkfifo(fifo, 0o600)
    group = manager.cgroup(container_id)
    gate = -1
    try:
        group = manager.create(container_id, _resources(config))
        gate = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
        os.set_inheritable(gate, True)
        launch = shim.Launch(
            container_id=container_id,
            proc_dir=ProcessDir(cdir / "init"),
            config=config,
            process=config["process"],
            rootfs=os.fspath(rootfs),
            cgroup=group,
            gate_fd=gate,
        )
        started = shim.spawn(launch, lambda _message: None)
    except ExecError as exc:
        group.remove()
        shutil.rmtree(cdir, ignore_errors=True)
        raise InvalidParameter(exc.message) from None
    except BaseException:
        group.remove()
        shutil.rmtree(cdir, ignore_errors=True)
        raise
    finally:
        if gate >= 0:
            os.close(gate)
    record = {
        "ociVersion": OCI_VERSION,
        "id": container_id,
        "pid": started.pid,
        "shim": started.shim_pid,
        "bundle": os.fspath(bundle),
        "annotations": config.get("annotations") or {},
        "started": False,
    }
    write_json_atomic(cdir / "state.json", record)
    return oci_state(container_id, state_root)


def oci_start(container_id: str, state_root: Path) -> None:
    """``start ID``: let the parked init execve its process."""
    record = _record(state_root, container_id)
    if oci_state(container_id, state_root)["status"] != "created":
        raise Conflict(f"cannot start a container that is not created: {container_id}")
    cdir = _dir(state_root, container_id)
    fd = os.open(cdir / "exec.fifo", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        os.write(fd, b"1")
    finally:
        os.close(fd)
    record["started"] = True
    write_json_atomic(cdir / "state.json", record)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def oci_state(container_id: str, state_root: Path) -> dict[str, Any]:
    """``state ID``: the OCI state document (see the runtime spec's state-schema.json)."""
    record = _record(state_root, container_id)
    finished = (_dir(state_root, container_id) / "init" / "exit.json").exists()
    pid = int(record.get("pid", 0))
    status = "running" if record.get("started") else "created"
    if finished or not _running(pid):
        status = "stopped"
    state: dict[str, Any] = {
        "ociVersion": record["ociVersion"],
        "id": container_id,
        "status": status,
        "bundle": record["bundle"],
        "annotations": record.get("annotations") or {},
    }
    if status != "stopped":
        state["pid"] = pid
    return state


def oci_kill(container_id: str, state_root: Path, sig: str | int = "SIGTERM") -> None:
    """``kill ID [SIGNAL]``: signal the init."""
    state = oci_state(container_id, state_root)
    if state["status"] not in ("created", "running"):
        raise Conflict("container not running")
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(state["pid"]), parse_signal(sig))


def oci_delete(
    container_id: str,
    state_root: Path,
    force: bool = False,
    cgroups: CgroupManager | None = None,
) -> None:
    """``delete [--force] ID``: remove the container (its bundle is left alone)."""
    record = _record(state_root, container_id)
    status = oci_state(container_id, state_root)["status"]
    if status == "running" and not force:
        raise Conflict(f"cannot delete container {container_id} that is not stopped: running")
    manager = cgroups or CgroupManager.for_host()
    group = manager.cgroup(container_id)
    group.kill_all()
    deadline = time.monotonic() + _STOP_WAIT_SECONDS
    while _running(int(record.get("shim", 0))) and time.monotonic() < deadline:
        time.sleep(0.002)
    group.remove()
    shutil.rmtree(_dir(state_root, container_id), ignore_errors=True)
