"""Persistent network namespaces, as ``ip netns add`` makes them.

A namespace lives as long as something refers to it: a process inside, an
open file descriptor, or a bind mount of its ``/proc/.../ns/net`` file. The
daemon connects a container to its networks *before* the container's first
process exists (dockerd's ``_connect_networks`` runs before the task
starts), so the namespace cannot be the process's own: it is made at
``create`` time and pinned by a bind mount under the container's directory
(``<state>/<id>/netns``), and the container's init joins it with ``setns``
(the OCI ``linux.namespaces[].path``).

Network namespaces are per *thread*: a thread can enter one, open netlink
sockets there (a socket stays in the namespace it was created in) and come
back, while the rest of the daemon stays where it is. Every namespace switch
here happens on a fresh short-lived thread, so a failure can never leave a
pooled or world thread inside a container's namespace.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from simulator.runtime.linux import syscalls as sc

T = TypeVar("T")
_THREAD_SECONDS = 30.0


def on_fresh_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on a new thread and return its result (or raise its exception)."""
    box: dict[str, T] = {}
    error: list[BaseException] = []

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, name="csim-netns", daemon=True)
    thread.start()
    thread.join(_THREAD_SECONDS)
    if thread.is_alive():
        raise TimeoutError("network namespace work did not finish in time")
    if error:
        raise error[0]
    return box["value"]


def create(path: Path, setup: Callable[[], None] | None = None) -> None:
    """Make a new network namespace pinned at ``path``; run ``setup`` inside it first.

    ``setup`` runs on the thread that owns the new namespace (e.g. to bring
    ``lo`` up). On any failure nothing is left behind.
    """
    path.touch(mode=0o444, exist_ok=False)

    def work() -> None:
        # The thread ends right after: it never needs to go back to the host namespace.
        sc.unshare(sc.CLONE_NEWNET)
        if setup is not None:
            setup()
        sc.mount("/proc/thread-self/ns/net", os.fspath(path), None, sc.MS_BIND)

    try:
        on_fresh_thread(work)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def remove(path: Path) -> None:
    """Unpin the namespace at ``path`` (it dies with its last process) and remove the file."""
    with contextlib.suppress(OSError):
        sc.umount2(os.fspath(path), sc.MNT_DETACH)
    with contextlib.suppress(OSError):
        path.unlink()


def is_pinned(path: Path) -> bool:
    """Is ``path`` a bind-mounted namespace (an nsfs file, not the empty placeholder)?"""
    try:
        return path.stat().st_dev != path.parent.stat().st_dev
    except OSError:
        return False


def inode(path: Path) -> int:
    """The namespace's inode number (what ``/proc/<pid>/ns/net`` links show), or 0."""
    try:
        return path.stat().st_ino if is_pinned(path) else 0
    except OSError:
        return 0


@contextlib.contextmanager
def entered(path: Path) -> Iterator[None]:
    """Put the calling thread in the namespace pinned at ``path``, and back afterwards.

    Use only on a thread of ``on_fresh_thread``. Sockets opened inside stay in
    the namespace after the thread has come back.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            sc.setns(target, sc.CLONE_NEWNET)
        finally:
            os.close(target)
        try:
            yield
        finally:
            sc.setns(home, sc.CLONE_NEWNET)
    finally:
        os.close(home)
