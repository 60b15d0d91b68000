"""The daemon's ear on a shim: forward its log, notice its exit.

A shim is the daemon's child only until the daemon restarts (then it is
init's), so ``waitpid`` cannot be relied on to tell when it ends;
``pidfd_open`` can, for any process, as a pollable file descriptor. Output
arrives through the json-file log the shim appends to, watched with inotify.
One thread per process polls both and hands every chunk and the final exit
status to callbacks; the runtime wraps those in ``post`` so they run on the
world thread. The exit is reported as soon as the shim has written
``exit.json`` (as containerd's shim publishes a task-exit event before it
ends); the shim's own end is the fallback when it dies without one.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from collections.abc import Callable

from simulator.runtime.linux import syscalls as sc
from simulator.runtime.linux.jsonlog import LogTail
from simulator.runtime.linux.shim import SHIM_EXIT_SECONDS, reap
from simulator.runtime.linux.state import ProcessDir, read_json
from simulator.runtime.protocol import ExitStatus

_IDLE_MS = 1000


def exit_status(pdir: ProcessDir) -> ExitStatus | None:
    """The status a shim recorded in ``exit.json``, or None if there is none."""
    record = read_json(pdir.exit_json)
    if record is None:
        return None
    return ExitStatus(
        code=int(record.get("code", 255)),
        oom_killed=bool(record.get("oom_killed", False)),
        signal=int(record.get("signal", 0)),
        error=str(record.get("error", "")),
    )


class ProcessWatcher(threading.Thread):
    """Follows one shim until it exits.

    Args:
        pdir: the process's state directory.
        shim_pid: the shim to wait for.
        on_output: called with (stream, bytes) for every logged chunk.
        on_exit: called once with the exit status.
        offset: where in the log to start (the end, when re-attaching).
    """

    def __init__(
        self,
        pdir: ProcessDir,
        shim_pid: int,
        on_output: Callable[[int, bytes], None],
        on_exit: Callable[[ExitStatus], None],
        offset: int = 0,
    ) -> None:
        super().__init__(name=f"shim-watch-{shim_pid}", daemon=True)
        self.pdir = pdir
        self.shim_pid = shim_pid
        self.on_output = on_output
        self.on_exit = on_exit
        self.tail = LogTail(os.fspath(pdir.log), offset)
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Stop watching (the shim keeps running); used when the runtime shuts down."""
        self._stopping.set()

    def _forward(self) -> None:
        for stream, data in self.tail.read():
            self.on_output(stream, data)

    def run(self) -> None:
        try:
            pidfd = sc.pidfd_open(self.shim_pid)
        except OSError:
            pidfd = -1  # already gone
        inotify = sc.inotify_init()
        try:
            self._follow(pidfd, inotify)
            if not self._stopping.is_set():
                self._forward()
                status = exit_status(self.pdir) or ExitStatus(
                    code=255, error="shim exited without recording an exit status"
                )
                self.on_exit(status)
            # Closing an inotify descriptor waits for an SRCU grace period (about
            # 10 ms): done after the exit is reported, off the path of `docker wait`.
            os.close(inotify)
            inotify = -1
            if pidfd >= 0 and not reap(self.shim_pid):
                # Our child still runs. Even when no longer following (runtime shut
                # down), wait for it to end so it does not stay a zombie of this process.
                select.select([pidfd], [], [], None if self._stopping.is_set() else SHIM_EXIT_SECONDS)
                reap(self.shim_pid)
        finally:
            if inotify >= 0:
                os.close(inotify)
            if pidfd >= 0:
                os.close(pidfd)

    def _follow(self, pidfd: int, inotify: int) -> None:
        """Forward output until the shim has recorded the exit (or died, or we stop)."""
        with contextlib.suppress(OSError):
            sc.inotify_add_watch(inotify, self.pdir.log, sc.IN_MODIFY)
        with contextlib.suppress(OSError):
            # exit.json is renamed into place once the process is reaped and its
            # output logged: the exit is known before the shim has finished exiting.
            sc.inotify_add_watch(inotify, self.pdir.path, sc.IN_MOVED_TO)
        poller = select.poll()
        poller.register(inotify, select.POLLIN)
        if pidfd >= 0:
            poller.register(pidfd, select.POLLIN)
        self._forward()
        while pidfd >= 0 and not self._stopping.is_set() and not self.pdir.exit_json.exists():
            ready = {fd for fd, _ in poller.poll(_IDLE_MS)}
            if inotify in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(inotify, 65536)
            self._forward()
            if pidfd in ready:
                return
