"""The virtual ``sh``: a busybox-like shell interpreting :mod:`shell_syntax` trees.

External commands become child processes found on ``PATH`` in the
container's filesystem (``sh: foo: not found``, exit 127); like busybox ash,
``sh -c`` execs its last simple command in place, so ``sh -c 'sleep 9'``
shows ``sleep 9`` as PID 1. A trapped signal runs its trap after the
foreground command finishes (or at once inside ``wait``). With a TTY and no
script the shell is interactive: it prints busybox's ``/ # `` prompt and reads
stdin line by line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Generator
from typing import Any

import simpy

from simulator.runtime.sim import shell_syntax as ast
from simulator.runtime.sim.expand import Expander, ShellError
from simulator.runtime.sim.kernel import ExecError
from simulator.runtime.sim.process import IGNORE, Process, Program, Terminated
from simulator.runtime.sim.programs import BUILTIN_PURE
from simulator.runtime.sim.programs.base import install_file_probe
from simulator.runtime.sim.streams import (
    BytesInput,
    IoInput,
    Pipe,
    PipeReader,
    PipeWriter,
)

Gen = Generator[simpy.Event, Any, int]
_SIGNAMES = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "PIPE": 13,
             "ALRM": 14, "TERM": 15, "CHLD": 17, "CONT": 18, "WINCH": 28}  # fmt: skip


class ShellExit(Exception):
    def __init__(self, code: int, run_traps: bool = True) -> None:
        super().__init__(code)
        self.code = code
        self.run_traps = run_traps


class LoopControl(Exception):
    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.levels = levels


class FuncReturn(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class WaitInterrupted(Exception):
    def __init__(self, signal: int) -> None:
        super().__init__(signal)
        self.signal = signal


class Shell(Expander):
    """One shell's state (a subshell gets a copy) and its interpreter."""

    def __init__(self, proc: Process, name: str, args: list[str]) -> None:
        super().__init__(proc)
        self.name = name
        self.positional = list(args)
        self.vars: dict[str, str] = dict(proc.env)
        self.exported: set[str] = set(proc.env)
        self.vars.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        self.vars.setdefault("PWD", proc.cwd)
        self.vars.setdefault("IFS", " \t\n")
        self.funcs: dict[str, ast.Node] = {}
        self.traps: dict[int, str] = {}
        self.exit_trap: str | None = None
        self.pending_traps: list[int] = []
        self.errexit = False
        self.cond_depth = 0
        self.shell_pid = proc.pid
        self.last_bg = 0
        self.jobs: list[Process] = []
        self.in_wait = False
        self.exec_target: ast.Node | None = None
        self.iterations = 0
        self.style = "busybox"

    # -- subshells --------------------------------------------------------
    def clone_for(self, proc: Process) -> Shell:
        sub = Shell.__new__(Shell)
        sub.__dict__.update(self.__dict__)
        sub.proc = proc
        sub.vars = dict(self.vars)
        sub.exported = set(self.exported)
        sub.funcs = dict(self.funcs)
        sub.positional = list(self.positional)
        sub.traps = {s: a for s, a in self.traps.items() if a == ""}
        sub.exit_trap = None
        sub.pending_traps = []
        sub.jobs = []
        sub.exec_target = None
        for sig, action in sub.traps.items():
            proc.on_signal(sig, IGNORE if action == "" else None)
        return sub

    def subshell_program(self, node: ast.Node, exec_last: bool) -> Program:
        def run(proc: Process) -> Gen:
            sub = self.clone_for(proc)
            if exec_last:
                sub.exec_target = node
            try:
                code = yield from sub.execute(node, proc.fds)
            except ShellExit as exc:
                code = exc.code
            except (LoopControl, FuncReturn):
                code = sub.status
            return code

        return run

    # -- top level --------------------------------------------------------
    def run_script(self, source: str, exec_last: bool = False) -> Gen:
        """Parse and run a whole script; returns the exit status (runs the EXIT trap)."""
        try:
            try:
                tree = ast.parse(source)
            except ast.Incomplete:
                raise ShellExit(self._syntax_error("unexpected end of file")) from None
            except ast.ShellSyntaxError as exc:
                raise ShellExit(self._syntax_error(str(exc))) from None
            if exec_last and tree.items and not tree.items[-1][1]:
                self.exec_target = tree.items[-1][0]
            self.status = yield from self.execute(tree, self.proc.fds)
        except ShellExit as exc:
            self.status = exc.code
            if not exc.run_traps:
                return exc.code
        except (LoopControl, FuncReturn):
            pass
        return (yield from self.finish())

    def finish(self) -> Gen:
        if self.exit_trap:
            trap, self.exit_trap = self.exit_trap, None
            try:
                yield from self.eval_string(trap)
            except ShellExit as exc:
                self.status = exc.code
        return self.status

    def _syntax_error(self, message: str) -> int:
        self.proc.err(f"{self.name}: syntax error: {message}\n")
        return 2

    def eval_string(self, source: str) -> Gen:
        try:
            tree = ast.parse(source)
        except (ast.Incomplete, ast.ShellSyntaxError) as exc:
            return self._syntax_error(str(exc) or "unexpected end of file")
        code: int = yield from self.execute(tree, self.proc.fds)
        return code

    def interactive(self, prompt_style: str) -> Gen:
        """Read commands line by line from stdin (with a prompt when ``prompt_style``)."""
        buf = ""
        while True:
            yield from self.run_traps()
            if prompt_style:
                self.proc.out(self.prompt(prompt_style) if not buf else "> ")
            line = yield from self.proc.readline(0)
            if line is None:
                if prompt_style == "bash":
                    self.proc.out("exit\n")
                break
            buf += line.decode(errors="replace")
            try:
                tree = ast.parse(buf)
            except ast.Incomplete:
                continue
            except ast.ShellSyntaxError as exc:
                buf = ""
                self.status = self._syntax_error(str(exc))
                continue
            buf = ""
            try:
                self.status = yield from self.execute(tree, self.proc.fds)
            except ShellExit as exc:
                self.status = exc.code
                if not exc.run_traps:
                    return exc.code
                break
            except (LoopControl, FuncReturn):
                pass
        return (yield from self.finish())

    def prompt(self, style: str) -> str:
        cwd = self.proc.cwd
        home = self.vars.get("HOME", "")
        shown = "~" + cwd[len(home) :] if home and home != "/" and (
            cwd == home or cwd.startswith(home + "/")) else cwd  # fmt: skip
        mark = "#" if self.proc.uid == 0 else "$"
        if style == "bash":
            user = self.user_name(self.proc.uid)
            return f"{user}@{self.proc.container.hostname}:{shown}{mark} "
        if style == "dash":
            return f"{mark} "
        return f"{shown} {mark} "

    # -- traps ------------------------------------------------------------
    def _trap_handler(self, signal: int) -> int | None:
        self.pending_traps.append(signal)
        if self.in_wait:
            raise WaitInterrupted(signal)
        return None

    def run_traps(self) -> Generator[simpy.Event, Any, None]:
        while self.pending_traps:
            sig = self.pending_traps.pop(0)
            action = self.traps.get(sig)
            if action:
                saved = self.status
                yield from self.eval_string(action)
                self.status = saved

    # -- execution ----------------------------------------------------------
    def execute(self, node: ast.Node, fds: dict[int, Any]) -> Gen:
        handler = getattr(self, f"_exec_{type(node).__name__.lower()}")
        code: int = yield from handler(node, fds)
        self.status = code
        return code

    def _exec_sequence(self, node: ast.Sequence, fds: dict[int, Any]) -> Gen:
        code = self.status
        for item, background in node.items:
            if background:
                child = self.proc.spawn(
                    list(self.proc.argv), self.subshell_program(item, True),
                    fds={**fds, 0: BytesInput(b"")} if not isinstance(fds.get(0), BytesInput)
                    else fds)  # fmt: skip
                self.jobs.append(child)
                self.last_bg = child.pid
                code = 0
            else:
                code = yield from self.execute(item, fds)
            self.status = code
            yield from self.run_traps()
        return code

    def _exec_andor(self, node: ast.AndOr, fds: dict[int, Any]) -> Gen:
        self.cond_depth += 1
        try:
            code: int = yield from self.execute(node.first, fds)
        finally:
            self.cond_depth -= 1
        for i, (op, rhs) in enumerate(node.rest):
            if (op == "&&") != (code == 0):
                continue
            last = i == len(node.rest) - 1
            if not last:
                self.cond_depth += 1
            try:
                code = yield from self.execute(rhs, fds)
            finally:
                if not last:
                    self.cond_depth -= 1
        return code

    def _exec_pipeline(self, node: ast.Pipeline, fds: dict[int, Any]) -> Gen:
        if node.negate:
            self.cond_depth += 1
        try:
            if len(node.commands) == 1:
                code: int = yield from self.execute(node.commands[0], fds)
            else:
                code = yield from self._run_pipeline(node.commands, fds)
        finally:
            if node.negate:
                self.cond_depth -= 1
        if node.negate:
            return 0 if code else 1
        self._check_errexit(code)
        return code

    def _run_pipeline(self, commands: list[ast.Node], fds: dict[int, Any]) -> Gen:
        stages: list[Process] = []
        reader: PipeReader | None = None
        for i, cmd in enumerate(commands):
            stage_fds = dict(fds)
            owned: list[Any] = []
            if reader is not None:
                stage_fds[0] = reader
                owned.append(reader)
            if i < len(commands) - 1:
                pipe = Pipe(self.proc.env_sim)
                writer = PipeWriter(pipe)
                stage_fds[1] = writer
                owned.append(writer)
                reader = PipeReader(pipe)
            child = self.proc.spawn(list(self.proc.argv), self.subshell_program(cmd, True), fds=stage_fds)
            child.owned.extend(owned)
            stages.append(child)
        code = 0
        for child in stages:
            code = yield from self.wait_foreground(child)
        return code

    def wait_foreground(self, child: Process) -> Gen:
        code: int = yield from self.proc.wait_child(child)
        return code

    def _exec_group(self, node: ast.Group, fds: dict[int, Any]) -> Gen:
        fds = yield from self.redirected(node.redirects, fds)
        if node.subshell:
            child = self.proc.spawn(list(self.proc.argv),
                                    self.subshell_program(node.body, False), fds=fds)  # fmt: skip
            code: int = yield from self.wait_foreground(child)
            return code
        code = yield from self.execute(node.body, fds)
        return code

    def _exec_if(self, node: ast.If, fds: dict[int, Any]) -> Gen:
        fds = yield from self.redirected(node.redirects, fds)
        for cond, body in node.clauses:
            self.cond_depth += 1
            try:
                ok = yield from self.execute(cond, fds)
            finally:
                self.cond_depth -= 1
            if ok == 0:
                code: int = yield from self.execute(body, fds)
                return code
        if node.orelse is not None:
            code = yield from self.execute(node.orelse, fds)
            return code
        return 0

    def _tick(self) -> Generator[simpy.Event, Any, None]:
        self.iterations += 1
        if self.iterations > self.proc.kernel.params.max_loop_iterations:
            self.proc.err(f"{self.name}: loop limit reached\n")
            raise ShellExit(2)
        yield from self.proc.cpu(self.proc.kernel.params.builtin_cost)

    def _loop_body(
        self, body: ast.Node, fds: dict[int, Any], code: int
    ) -> Generator[simpy.Event, Any, tuple[int, bool]]:
        """One pass of a loop's body: its exit code (``code`` when cut short) and whether to leave."""
        try:
            return (yield from self.execute(body, fds)), False
        except LoopControl as ctl:
            if ctl.levels > 1:  # `break 2`: the enclosing loop handles the rest
                raise LoopControl(ctl.kind, ctl.levels - 1) from None
            return code, ctl.kind == "break"

    def _exec_loop(self, node: ast.Loop, fds: dict[int, Any]) -> Gen:
        fds = yield from self.redirected(node.redirects, fds)
        code = 0
        while True:
            yield from self._tick()
            self.cond_depth += 1
            try:
                cond = yield from self.execute(node.cond, fds)
            finally:
                self.cond_depth -= 1
            if (cond == 0) == node.until:
                break
            code, leave = yield from self._loop_body(node.body, fds, code)
            if leave:
                break
        return code

    def _exec_for(self, node: ast.For, fds: dict[int, Any]) -> Gen:
        fds = yield from self.redirected(node.redirects, fds)
        if node.items is None:
            values = list(self.positional)
        else:
            values = yield from self.expand_words(node.items)
        code = 0
        for value in values:
            yield from self._tick()
            self.vars[node.var] = value
            code, leave = yield from self._loop_body(node.body, fds, code)
            if leave:
                break
        return code

    def _exec_case(self, node: ast.Case, fds: dict[int, Any]) -> Gen:
        fds = yield from self.redirected(node.redirects, fds)
        subject = yield from self.expand_string(node.word)
        for patterns, body in node.items:
            for pat in patterns:
                pattern = yield from self.expand_pattern(pat)
                if fnmatch.fnmatchcase(subject, pattern):
                    code: int = yield from self.execute(body, fds)
                    return code
        return 0

    def _exec_funcdef(self, node: ast.FuncDef, fds: dict[int, Any]) -> Gen:
        self.funcs[node.name] = node.body
        return 0
        yield  # pragma: no cover

    def _check_errexit(self, code: int) -> None:
        if code and self.errexit and self.cond_depth == 0:
            raise ShellExit(code)

    # -- simple commands --------------------------------------------------
    def _exec_simple(self, node: ast.Simple, fds: dict[int, Any]) -> Gen:
        self.cmdsub_status = None
        try:
            argv = yield from self.expand_words(node.words)
            assigns = []
            for name, word in node.assigns:
                value = yield from self.expand_string(word)
                assigns.append((name, value))
        except ShellError as exc:
            self.proc.err(f"{self.name}: {exc}\n")
            if not self.interactive_mode:
                raise ShellExit(1) from None
            return 1
        try:
            cmd_fds = yield from self.redirected(node.redirects, fds)
        except ShellError as exc:
            self.proc.err(f"{self.name}: {exc}\n")
            self._check_errexit(1)
            return 1
        if not argv:
            for name, value in assigns:
                self.set_var(name, value)
            code = self.cmdsub_status or 0
            self._check_errexit(code)
            return code
        code = yield from self.run_command(argv, assigns, cmd_fds, node is self.exec_target)
        self._check_errexit(code)
        return code

    def run_command(self, argv: list[str], assigns: list[tuple[str, str]], fds: dict[int, Any], in_place: bool) -> Gen:
        name = argv[0]
        func = self.funcs.get(name)
        if func is not None:
            saved = self.positional
            self.positional = argv[1:]
            try:
                code: int = yield from self.execute(func, fds)
            except FuncReturn as ret:
                code = ret.code
            finally:
                self.positional = saved
            return code
        from simulator.runtime.sim.builtins import BUILTINS

        builtin = BUILTINS.get(name)
        if builtin is not None:
            for var, value in assigns:
                self.set_var(var, value)
            code = yield from builtin(self, argv, fds)
            return code
        pure = BUILTIN_PURE.get(name)
        if pure is not None:
            out: list[bytes] = []
            err: list[bytes] = []
            install_file_probe(self.proc)
            code = pure(argv, out.append, err.append)
            self.write_fd(fds, 1, b"".join(out))
            self.write_fd(fds, 2, b"".join(err))
            return code
        return (yield from self.run_external(argv, assigns, fds, in_place))

    def write_fd(self, fds: dict[int, Any], fd: int, data: bytes) -> None:
        stream = fds.get(fd)
        if data and stream is not None and not self.proc.output_exhausted:
            self.proc.out_bytes += len(data)
            stream.write(data)

    def child_env(self, assigns: list[tuple[str, str]]) -> dict[str, str]:
        env = {k: self.vars[k] for k in sorted(self.exported) if k in self.vars}
        env.update(assigns)
        return env

    def resolve_program(self, argv: list[str], fds: dict[int, Any]) -> tuple[Program, list[str]] | int:
        kernel, proc = self.proc.kernel, self.proc
        name = argv[0]
        try:
            path = kernel.find_executable(proc.fs, name, self.vars.get("PATH", ""), proc.cwd)
            return kernel.load(proc.fs, path, argv, proc.cwd)
        except ExecError as exc:
            if exc.errno == "ENOEXEC":
                return script_program(exc.path), argv
            if exc.errno == "EACCES":
                self.write_fd(fds, 2, f"{self.name}: {name}: Permission denied\n".encode())
                return 126
            if exc.errno == "APPLET":
                self.write_fd(fds, 2, f"{name}: applet not found\n".encode())
                return 127
            if self.style == "bash":
                message = f"{self.name}: line 1: {name}: command not found\n"
            else:
                message = f"{self.name}: {name}: not found\n"
            self.write_fd(fds, 2, message.encode())
            return 127

    def run_external(self, argv: list[str], assigns: list[tuple[str, str]], fds: dict[int, Any], in_place: bool) -> Gen:
        found = self.resolve_program(argv, fds)
        if isinstance(found, int):
            return found
        program, argv = found
        yield from self.proc.cpu(self.proc.kernel.params.fork_exec)
        env = self.child_env(assigns)
        if in_place and not self.traps and not self.exit_trap:
            code = yield from exec_in_place(self.proc, program, argv, env, fds)
            raise ShellExit(code, run_traps=False)
        child = self.proc.spawn(argv, program, fds=fds, env=env)
        code = yield from self.wait_foreground(child)
        return code

    def wait_jobs(self, pids: list[int]) -> Gen:
        """The ``wait`` builtin: interruptible by a trapped signal (128 + signal)."""
        code = 0
        self.in_wait = True
        try:
            for job in list(self.jobs):
                if pids and job.pid not in pids:
                    continue
                code = yield from self.proc.wait_child(job)
                self.jobs.remove(job)
        except WaitInterrupted as exc:
            return 128 + exc.signal
        finally:
            self.in_wait = False
        return code

    def set_trap(self, action: str, sig: int) -> None:
        if sig == 0:
            self.exit_trap = action or None
            return
        if action == "-":
            self.traps.pop(sig, None)
            self.proc.on_signal(sig, None)
        elif action == "":
            self.traps[sig] = ""
            self.proc.on_signal(sig, IGNORE)
        else:
            self.traps[sig] = action
            self.proc.on_signal(sig, self._trap_handler)


def exec_in_place(proc: Process, program: Program, argv: list[str], env: dict[str, str], fds: dict[int, Any]) -> Gen:
    """execve: the process keeps its pid and descriptors and becomes ``argv``."""
    proc.argv = argv
    proc.env = env
    proc.fds = fds
    proc.handlers = {s: h for s, h in proc.handlers.items() if h == IGNORE}
    code: int = yield from program(proc)
    return code


def script_program(path: str) -> Program:
    """A file without ``#!`` run by the shell as a script (ENOEXEC fallback)."""

    def run(proc: Process) -> Gen:
        return (yield from sh_main(proc, script=path))

    return run


def sh_main(proc: Process, script: str | None = None) -> Gen:
    """``sh [-e] [-c CMD [NAME [ARGS]] | SCRIPT [ARGS]]``."""
    argv = proc.argv
    prog = argv[0].rsplit("/", 1)[-1] if argv else "sh"
    style = "bash" if prog == "bash" else ("dash" if prog == "dash" else "busybox")
    name = "sh" if style == "busybox" else prog
    errexit = False
    command: str | None = None
    rest: list[str] = []
    args = argv[1:] if script is None else [script, *argv[1:]]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-c" and command is None:
            if i + 1 >= len(args):
                proc.err(f"{name}: -c requires an argument\n")
                return 2
            command = args[i + 1]
            i += 2
            continue
        if arg.startswith("-") and len(arg) > 1 and arg != "--" and command is None and not rest:
            errexit = errexit or "e" in arg[1:]
            i += 1
            continue
        rest = args[i:]
        break
    if command is not None:
        shell = Shell(proc, rest[0] if rest else name, rest[1:])
        shell.style = style
        shell.errexit = errexit
        return (yield from shell.run_script(command, exec_last=True))
    if rest:
        path = rest[0]
        try:
            source = proc.fs.read(path, proc.cwd).decode(errors="replace")
        except Exception:
            proc.err(f"{name}: can't open '{path}': No such file or directory\n")
            return 127 if style != "busybox" else 2
        shell = Shell(proc, path, rest[1:])
        shell.style = style
        shell.errexit = errexit
        return (yield from shell.run_script(source))
    shell = Shell(proc, name, [])
    shell.style = style
    shell.errexit = errexit
    stdin = proc.fds.get(0)
    tty = isinstance(stdin, IoInput) and stdin.tty
    shell.interactive_mode = tty
    return (yield from shell.interactive(style if tty else ""))


def signal_number(text: str) -> int | None:
    t = text.upper().removeprefix("SIG")
    if t.isdigit():
        return int(t)
    if t == "EXIT":
        return 0
    return _SIGNAMES.get(t)


__all__ = ["Shell", "ShellExit", "Terminated", "sh_main", "signal_number"]
