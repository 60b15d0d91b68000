"""Registries of simulated programs and the helpers every program uses.

``PROGRAMS`` maps the names of the executable contract (``nginx``,
``python3``...) to programs; ``APPLETS`` maps command names to programs for
the multi-call binaries (``busybox``, ``coreutils``) that dispatch on
``argv[0]``; ``BUILTIN_PURE`` holds the side-effect-free commands the shell
also runs without forking (``echo``, ``test``, ``printf``...).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from simulator.runtime.sim.process import Process, Program
from simulator.runtime.sim.procfs import read_special
from simulator.runtime.sim.vfs import FsError

Gen = Generator[simpy.Event, Any, int]
Emit = Callable[[bytes], None]
Pure = Callable[[list[str], Emit, Emit], int]

PROGRAMS: dict[str, Program] = {}
APPLETS: dict[str, Program] = {}
BUILTIN_PURE: dict[str, Pure] = {}


def program(*names: str) -> Callable[[Program], Program]:
    """Register a program under executable-contract names (and as applets)."""

    def register(fn: Program) -> Program:
        for name in names:
            PROGRAMS[name] = fn
        return fn

    return register


def applet(*names: str) -> Callable[[Program], Program]:
    def register(fn: Program) -> Program:
        for name in names:
            APPLETS[name] = fn
        return fn

    return register


def pure(*names: str) -> Callable[[Pure], Pure]:
    """Register a pure command as a shell builtin and as an applet."""

    def register(fn: Pure) -> Pure:
        def run(proc: Process) -> Gen:
            install_file_probe(proc)
            code = fn(proc.argv, proc.out, proc.err)
            return code
            yield  # pragma: no cover

        for name in names:
            BUILTIN_PURE[name] = fn
            APPLETS[name] = run
        return fn

    return register


def not_simulated(name: str) -> Program:
    def run(proc: Process) -> Gen:
        proc.err(f"{proc.argv[0] if proc.argv else name}: csim does not simulate '{name}'\n")
        return 126
        yield  # pragma: no cover

    return run


def applet_name(proc: Process) -> str:
    return proc.argv[0].rsplit("/", 1)[-1] if proc.argv else "?"


def read_path(proc: Process, path: str) -> bytes:
    """A file as a program reads it (``/proc``, ``/etc/hosts`` included). Raises FsError."""
    special = read_special(proc, path)
    if special is not None:
        return special
    return bytes(proc.fs.read(path, proc.cwd))


def read_inputs(proc: Process, files: list[str]) -> Generator[simpy.Event, Any, list[tuple[str, bytes | None]]]:
    """Contents of ``files`` (stdin for none or ``-``); None where the file cannot be read."""
    out: list[tuple[str, bytes | None]] = []
    for name in files or ["-"]:
        if name == "-":
            data = yield from proc.read_all(0)
            out.append((name, data))
            continue
        try:
            out.append((name, read_path(proc, name)))
        except FsError as exc:
            proc.err(f"{applet_name(proc)}: {name}: {exc.strerror}\n")
            out.append((name, None))
    return out


def split_opts(argv: list[str], with_value: str = "") -> tuple[dict[str, str], list[str]]:
    """Short options (``-la``, ``-n 3``, ``-n3``) and operands, stopping at ``--``."""
    opts: dict[str, str] = {}
    rest: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit():
            j = 1
            while j < len(arg):
                c = arg[j]
                if c in with_value:
                    value = arg[j + 1 :]
                    if not value and i + 1 < len(argv):
                        i += 1
                        value = argv[i]
                    opts[c] = value
                    break
                opts[c] = ""
                j += 1
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def parse_size(text: str) -> int:
    """``64M``, ``1g``, ``512k``, ``100`` → bytes."""
    t = text.strip().upper().removesuffix("B")
    mult = 1
    if t and t[-1] in "KMGT":
        mult = 1024 ** ("KMGT".index(t[-1]) + 1)
        t = t[:-1]
    try:
        return int(float(t) * mult)
    except ValueError:
        return -1


def install_file_probe(proc: Process) -> None:
    """Let ``test -f``/``-d``... look at ``proc``'s filesystem (calls are synchronous)."""
    from simulator.runtime.sim.programs.text import set_file_probe

    def probe(op: str, path: str) -> bool:
        try:
            if op in "Lh":
                node = proc.fs.resolve(path, proc.cwd, follow=False)[1]
                return node is not None and node.kind == "symlink"
            if read_special(proc, path) is not None:
                return op in "erfws"
            node = proc.fs.resolve(path, proc.cwd)[1]
        except FsError:
            return False
        if node is None:
            return False
        checks = {"e": True, "f": node.kind == "file", "d": node.kind == "dir",
                  "r": True, "w": True, "x": bool(node.mode & 0o111), "s": node.size > 0,
                  "u": bool(node.mode & 0o4000), "g": bool(node.mode & 0o2000),
                  "k": bool(node.mode & 0o1000)}  # fmt: skip
        return bool(checks.get(op, False))

    set_file_probe(probe)
