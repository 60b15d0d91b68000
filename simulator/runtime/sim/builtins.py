"""Shell builtins: the commands ``sh`` runs itself because they change the shell.

(``cd``, ``export``, ``exit``, ``trap``, ``read``, ``wait``, ``exec``...).
Pure builtins shared with applets (``echo``, ``test``, ``printf``) live in
:mod:`simulator.runtime.sim.programs.text`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulator.runtime.sim.vfs import FsError

if TYPE_CHECKING:
    from simulator.runtime.sim.shell import Shell

Gen = Generator[simpy.Event, Any, int]
Builtin = Callable[["Shell", list[str], dict[int, Any]], Gen]
BUILTINS: dict[str, Builtin] = {}


def builtin(*names: str) -> Callable[[Builtin], Builtin]:
    def register(fn: Builtin) -> Builtin:
        for name in names:
            BUILTINS[name] = fn
        return fn

    return register


def _err(sh: Shell, fds: dict[int, Any], text: str) -> None:
    sh.write_fd(fds, 2, f"{sh.name}: {text}\n".encode())


@builtin(":")
def b_colon(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    return 0
    yield  # pragma: no cover


@builtin("cd")
def b_cd(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    target = argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/")
    if target == "-":
        target = sh.vars.get("OLDPWD", sh.proc.cwd)
    proc = sh.proc
    try:
        canon, node = proc.fs.resolve(target, proc.cwd)
        if node is None:
            raise FsError("ENOENT")
        if node.kind != "dir":
            raise FsError("ENOTDIR")
    except FsError as exc:
        _err(sh, fds, f"cd: can't cd to {target}: {exc.strerror}")
        return 2 if not sh.interactive_mode else 1
    sh.vars["OLDPWD"] = proc.cwd
    proc.cwd = canon
    sh.set_var("PWD", canon)
    return 0
    yield  # pragma: no cover


@builtin("export", "readonly", "local")
def b_export(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    names = [a for a in argv[1:] if a != "-p"]
    if not names and argv[0] == "export":
        out = "".join(f"export {k}='{sh.vars[k]}'\n" for k in sorted(sh.exported) if k in sh.vars)
        sh.write_fd(fds, 1, out.encode())
        return 0
    for arg in names:
        name, eq, value = arg.partition("=")
        if eq:
            sh.vars[name] = value
        if argv[0] == "export":
            sh.exported.add(name)
            if name in sh.vars:
                sh.proc.env[name] = sh.vars[name]
    return 0
    yield  # pragma: no cover


@builtin("unset")
def b_unset(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    for name in argv[1:]:
        if name in ("-v", "-f"):
            continue
        sh.vars.pop(name, None)
        sh.exported.discard(name)
        sh.proc.env.pop(name, None)
        sh.funcs.pop(name, None)
    return 0
    yield  # pragma: no cover


@builtin("set")
def b_set(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    args = argv[1:]
    if not args:
        out = "".join(f"{k}='{v}'\n" for k, v in sorted(sh.vars.items()))
        sh.write_fd(fds, 1, out.encode())
        return 0
    while args and args[0][:1] in ("-", "+") and args[0] != "--":
        flag = args.pop(0)
        on = flag[0] == "-"
        if "e" in flag:
            sh.errexit = on
        if "u" in flag:
            sh.nounset = on  # type: ignore[attr-defined]
        if flag[1:] == "o" and args:
            opt = args.pop(0)
            if opt == "errexit":
                sh.errexit = on
    if args and args[0] == "--":
        args = args[1:]
        sh.positional = args
    elif args:
        sh.positional = args
    return 0
    yield  # pragma: no cover


@builtin("shift")
def b_shift(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.positional):
        return 1
    sh.positional = sh.positional[n:]
    return 0
    yield  # pragma: no cover


@builtin("exit")
def b_exit(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    from simulator.runtime.sim.shell import ShellExit

    code = sh.status
    if len(argv) > 1:
        try:
            code = int(argv[1])
        except ValueError:
            _err(sh, fds, f"exit: Illegal number: {argv[1]}")
            code = 2
    raise ShellExit(code & 0xFF)
    yield  # pragma: no cover


@builtin("return")
def b_return(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    from simulator.runtime.sim.shell import FuncReturn

    raise FuncReturn(int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else sh.status)
    yield  # pragma: no cover


@builtin("break", "continue")
def b_break(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    from simulator.runtime.sim.shell import LoopControl

    levels = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    raise LoopControl(argv[0], max(1, levels))
    yield  # pragma: no cover


@builtin("trap")
def b_trap(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    from simulator.runtime.sim.shell import signal_number

    args = argv[1:]
    if not args:
        lines = [f"trap -- '{a}' {_signame(s)}\n" for s, a in sorted(sh.traps.items())]
        if sh.exit_trap:
            lines.insert(0, f"trap -- '{sh.exit_trap}' EXIT\n")
        sh.write_fd(fds, 1, "".join(lines).encode())
        return 0
    if len(args) == 1 or (signal_number(args[0]) is not None and args[0] != "-"):
        action, sigs = ("-", args) if len(args) == 1 or args[0].isdigit() else (args[0], args[1:])
    else:
        action, sigs = args[0], args[1:]
    for name in sigs:
        sig = signal_number(name)
        if sig is None:
            _err(sh, fds, f"trap: {name}: bad trap")
            return 1
        sh.set_trap(action, sig)
    return 0
    yield  # pragma: no cover


def _signame(sig: int) -> str:
    from simulator.runtime.sim.shell import _SIGNAMES

    for name, num in _SIGNAMES.items():
        if num == sig:
            return name
    return str(sig)


@builtin("read")
def b_read(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    args = argv[1:]
    raw = False
    prompt = ""
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt == "-r":
            raw = True
        elif opt == "-p" and args:
            prompt = args.pop(0)
    if prompt:
        sh.write_fd(fds, 2, prompt.encode())
    saved = sh.proc.fds
    sh.proc.fds = fds
    try:
        line = yield from sh.proc.readline(0)
    finally:
        sh.proc.fds = saved
    names = args or ["REPLY"]
    if line is None:
        for name in names:
            sh.set_var(name, "")
        return 1
    text = line.decode(errors="replace").rstrip("\n")
    if not raw:
        text = text.replace("\\", "")
    if names == ["REPLY"]:
        sh.set_var("REPLY", text)
        return 0
    pieces = text.split(None, len(names) - 1)
    for k, name in enumerate(names):
        sh.set_var(name, pieces[k] if k < len(pieces) else "")
    return 0


@builtin("wait")
def b_wait(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    pids = [int(a) for a in argv[1:] if a.isdigit()]
    code: int = yield from sh.wait_jobs(pids)
    return code


@builtin("exec")
def b_exec(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    from simulator.runtime.sim.shell import ShellExit, exec_in_place

    if len(argv) == 1:
        sh.proc.fds = dict(fds)  # exec >file: redirect the shell itself
        return 0
    found = sh.resolve_program(argv[1:], fds)
    if isinstance(found, int):
        raise ShellExit(found, run_traps=False)
    program, args = found
    yield from sh.proc.cpu(sh.proc.kernel.params.builtin_cost)
    code = yield from exec_in_place(sh.proc, program, args, sh.child_env([]), fds)
    raise ShellExit(code, run_traps=False)


@builtin("eval")
def b_eval(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    code: int = yield from sh.eval_string(" ".join(argv[1:]))
    return code


@builtin(".", "source")
def b_source(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    if len(argv) < 2:
        return 0
    try:
        source = sh.proc.fs.read(argv[1], sh.proc.cwd).decode(errors="replace")
    except FsError as exc:
        _err(sh, fds, f"{argv[0]}: can't open '{argv[1]}': {exc.strerror}")
        return 2
    code: int = yield from sh.eval_string(source)
    return code


@builtin("command", "type")
def b_command(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    from simulator.runtime.sim.kernel import ExecError
    from simulator.runtime.sim.programs import BUILTIN_PURE

    args = argv[1:]
    verbose = argv[0] == "type"
    if args and args[0] in ("-v", "-V"):
        verbose = True
        args = args[1:]
    if not verbose:
        code: int = yield from sh.run_command(args, [], fds, False) if args else _zero()
        return code
    status = 0
    for name in args:
        if name in BUILTINS or name in BUILTIN_PURE or name in sh.funcs:
            text = name if argv[0] == "command" else f"{name} is a shell builtin"
        else:
            try:
                path = sh.proc.kernel.find_executable(sh.proc.fs, name, sh.vars.get("PATH", ""),
                                                      sh.proc.cwd)  # fmt: skip
            except ExecError:
                if argv[0] == "type":
                    sh.write_fd(fds, 1, f"{name}: not found\n".encode())
                status = 1
                continue
            text = path if argv[0] == "command" else f"{name} is {path}"
        sh.write_fd(fds, 1, f"{text}\n".encode())
    return status


def _zero() -> Gen:
    return 0
    yield  # pragma: no cover


@builtin("umask")
def b_umask(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    if len(argv) == 1:
        sh.write_fd(fds, 1, b"0022\n")
    return 0
    yield  # pragma: no cover


@builtin("pwd")
def b_pwd(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    sh.write_fd(fds, 1, f"{sh.proc.cwd}\n".encode())
    return 0
    yield  # pragma: no cover


@builtin("kill")
def b_kill(sh: Shell, argv: list[str], fds: dict[int, Any]) -> Gen:
    from simulator.runtime.sim.programs.system import kill_command

    out: list[bytes] = []
    code = kill_command(sh.proc, argv, out.append)
    sh.write_fd(fds, 2, b"".join(out))
    return code
    yield  # pragma: no cover
