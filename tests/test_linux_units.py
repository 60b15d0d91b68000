"""Pieces of the Linux runtime without containers: json-file log lines, paths, mounts, lookup, the watcher."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from simulator.runtime.linux import jsonlog
from simulator.runtime.linux import syscalls as sc
from simulator.runtime.linux.process import ExecError, lookup
from simulator.runtime.linux.rootfs import overlay_options, parse_options, secure_join
from simulator.runtime.linux.state import ProcessDir, write_json_atomic
from simulator.runtime.linux.watcher import ProcessWatcher
from simulator.runtime.protocol import ExitStatus


def test_json_file_lines_match_dockers_format() -> None:
    raw = jsonlog.encode(1, b"hi\nthere", ns=1_700_000_000_120_000_000)
    lines = raw.decode().splitlines()
    assert json.loads(lines[0]) == {"log": "hi\n", "stream": "stdout", "time": "2023-11-14T22:13:20.12Z"}
    assert json.loads(lines[1])["log"] == "there"
    assert jsonlog.rfc3339nano(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"
    assert jsonlog.decode(lines[0].encode())[:2] == (1, b"hi\n")


def test_log_tail_returns_only_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    entry = jsonlog.encode(2, b"\xffbinary\n")
    log.write_bytes(entry[:10])
    tail = jsonlog.LogTail(os.fspath(log))
    assert list(tail.read()) == []
    log.write_bytes(entry)
    assert list(tail.read()) == [(2, b"\xffbinary\n")]


def test_secure_join_stays_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "escape").symlink_to("/etc")
    (root / "up").symlink_to("../../..")
    assert secure_join(str(root), "/escape/passwd") == f"{root}/etc/passwd"
    assert secure_join(str(root), "/up/x") == f"{root}/x"
    assert secure_join(str(root), "/../../etc") == f"{root}/etc"


def test_mount_options_and_overlay_order(tmp_path: Path) -> None:
    flags, propagation, data = parse_options(["nosuid", "ro", "rbind", "rprivate", "mode=755"])
    assert flags == sc.MS_NOSUID | sc.MS_RDONLY | sc.MS_BIND | sc.MS_REC
    assert propagation == sc.MS_PRIVATE | sc.MS_REC
    assert data == ["mode=755"]
    top, bottom = tmp_path / "top", tmp_path / "bottom"
    assert overlay_options([top, bottom], tmp_path / "u", tmp_path / "w").startswith(
        f"lowerdir={top}:{bottom},upperdir="
    )


def test_lookup_uses_dockers_words(tmp_path: Path) -> None:
    with pytest.raises(ExecError) as missing:
        lookup("nosuch", [f"PATH={tmp_path}"])
    assert (missing.value.code, missing.value.message) == (
        127,
        'exec: "nosuch": executable file not found in $PATH',
    )
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(ExecError) as denied:
        lookup(str(plain), [])
    assert denied.value.code == 126 and "permission denied" in denied.value.message
    assert lookup("sh", ["PATH=/nonexistent:/bin"]) == "/bin/sh"


def test_syscall_errors_name_the_call(tmp_path: Path) -> None:
    with pytest.raises(OSError) as err:
        sc.umount2(tmp_path / "not-mounted")
    assert str(err.value).startswith("[Errno") and "umount2(" in str(err.value)
    assert sc.clone_flag_names(sc.CLONE_NEWPID | sc.CLONE_NEWNS) == "CLONE_NEWPID|CLONE_NEWNS"
    assert sc.cap_mask(list(sc.DOCKER_DEFAULT_CAPS)) == 0xA80425FB


def test_watcher_reports_the_exit_when_exit_json_lands_and_reaps_its_shim(tmp_path: Path) -> None:
    """The exit is known from exit.json while the shim still runs; the shim is collected after."""
    pdir = ProcessDir(tmp_path)
    pdir.log.write_bytes(jsonlog.encode(1, b"hello\n"))
    shim = subprocess.Popen(["sleep", "30"])  # stands in for a shim that is slow to exit
    outputs: list[tuple[int, bytes]] = []
    exits: list[ExitStatus] = []
    reported = threading.Event()

    def on_exit(status: ExitStatus) -> None:
        exits.append(status)
        reported.set()

    watcher = ProcessWatcher(pdir, shim.pid, lambda s, d: outputs.append((s, d)), on_exit)
    watcher.start()
    try:
        with pdir.log.open("ab") as log:
            log.write(jsonlog.encode(2, b"bye\n"))
        write_json_atomic(pdir.exit_json, {"code": 3, "signal": 0, "oom_killed": False})
        assert reported.wait(timeout=10)
        assert shim.poll() is None  # reported while the "shim" is still alive
        assert exits == [ExitStatus(code=3, oom_killed=False, signal=0, error="")]
        assert outputs == [(1, b"hello\n"), (2, b"bye\n")]
    finally:
        shim.kill()
        watcher.join(timeout=10)
    assert not watcher.is_alive()
    # The watcher collected the child it was following: no zombie is left behind.
    with pytest.raises(ChildProcessError):
        os.waitpid(shim.pid, os.WNOHANG)
