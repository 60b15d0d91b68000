"""Word expansion for the virtual ``sh``: parameters, ``$(...)``, arithmetic, splitting, globs.

Also opens redirections (``>``, ``>>``, ``<``, ``2>&1``, here-documents),
because their targets are expanded words and their errors are the shell's
(``sh: can't create /x: Read-only file system``).
"""

from __future__ import annotations

import ast as pyast
import fnmatch
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulator.runtime.sim import shell_syntax as sx
from simulator.runtime.sim.procfs import read_special
from simulator.runtime.sim.streams import BufferOutput, BytesInput, FileOutput, NullOutput
from simulator.runtime.sim.vfs import FsError

if TYPE_CHECKING:
    from simulator.runtime.sim.process import Process

_GLOB = set("*?[")


class ShellError(Exception):
    """An expansion or redirection error the shell prints as ``sh: <message>``."""


class Expander:
    """The expansion half of the shell (mixed into :class:`Shell`)."""

    vars: dict[str, str]
    exported: set[str]
    positional: list[str]
    name: str
    shell_pid: int
    last_bg: int

    def __init__(self, proc: Process) -> None:
        self.proc = proc
        self.status = 0
        self.cmdsub_status: int | None = None
        self.interactive_mode = False

    # -- variables ------------------------------------------------------------
    def get_var(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.shell_pid)
        if name == "#":
            return str(len(self.positional))
        if name == "!":
            return str(self.last_bg) if self.last_bg else ""
        if name == "0":
            return self.name
        if name.isdigit():
            idx = int(name)
            return self.positional[idx - 1] if idx <= len(self.positional) else None
        if name in ("@", "*"):
            return " ".join(self.positional)
        if name == "-":
            return "e" if getattr(self, "errexit", False) else ""
        if name == "PWD":
            return self.proc.cwd
        return self.vars.get(name)

    def set_var(self, name: str, value: str) -> None:
        self.vars[name] = value
        if name in self.exported:
            self.proc.env[name] = value

    def user_name(self, uid: int) -> str:
        try:
            passwd = self.proc.fs.read("/etc/passwd").decode(errors="replace")
        except FsError:
            passwd = ""
        for line in passwd.splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[2] == str(uid):
                return fields[0]
        return "root" if uid == 0 else str(uid)

    # -- words --------------------------------------------------------------
    def expand_words(self, words: list[sx.Word]) -> Generator[simpy.Event, Any, list[str]]:
        out: list[str] = []
        for word in words:
            fields = yield from self._expand(word, split=True)
            out.extend(fields)
        return out

    def expand_string(self, word: sx.Word) -> Generator[simpy.Event, Any, str]:
        fields = yield from self._expand(word, split=False)
        return "".join(fields)

    def expand_pattern(self, word: sx.Word) -> Generator[simpy.Event, Any, str]:
        """A case pattern: quoted parts match literally."""
        out: list[str] = []
        for part in word.parts:
            text = yield from self._part_text(part)
            quoted = (isinstance(part, sx.Lit) and part.quoted) or getattr(part, "quoted", False)
            out.append(_escape_glob(text) if quoted else text)
        return "".join(out)

    def _part_text(self, part: sx.Part) -> Generator[simpy.Event, Any, str]:
        if isinstance(part, sx.Lit):
            return part.text
        if isinstance(part, sx.Param):
            return (yield from self._param(part))
        if isinstance(part, sx.CmdSub):
            return (yield from self.command_substitution(part.body))
        expr = yield from self.expand_string(part.expr)
        return str(self.arithmetic(expr))

    def _expand(self, word: sx.Word, split: bool) -> Generator[simpy.Event, Any, list[str]]:
        # Segments: (text, quoted, splittable); None marks a "$@" field break.
        fields: list[str] = []
        cur: list[str] = []
        cur_pattern: list[str] = []
        has_content = False
        globbable = False
        ifs = self.vars.get("IFS", " \t\n")
        for part in word.parts:
            if isinstance(part, sx.Param) and part.name == "@" and part.quoted and not part.op:
                for k, arg in enumerate(self.positional):
                    if k:
                        fields.append("".join(cur))
                        cur, cur_pattern = [], []
                    cur.append(arg)
                    cur_pattern.append(_escape_glob(arg))
                    has_content = True
                if not self.positional and len(word.parts) == 1:
                    return []
                continue
            text = yield from self._part_text(part)
            quoted = part.quoted
            if quoted or isinstance(part, sx.Lit) or not split:
                cur.append(text)
                cur_pattern.append(text if not quoted and isinstance(part, sx.Lit)
                                   else _escape_glob(text))  # fmt: skip
                has_content = has_content or quoted or bool(text)
                if isinstance(part, sx.Lit) and not quoted and _GLOB & set(text):
                    globbable = True
                continue
            # unquoted expansion: field splitting
            pieces = _split_ifs(text, ifs)
            if not pieces:
                continue
            if text[:1] in ifs and (cur or has_content):
                fields.append("".join(cur))
                cur, cur_pattern = [], []
            for k, piece in enumerate(pieces):
                if k:
                    fields.append("".join(cur))
                    cur, cur_pattern = [], []
                cur.append(piece)
                cur_pattern.append(piece)
                if _GLOB & set(piece):
                    globbable = True
                has_content = True
            if text[-1:] in ifs:
                fields.append("".join(cur))
                cur, cur_pattern = [], []
                has_content = False
        if cur or has_content:
            fields.append("".join(cur))
        if split and globbable and len(fields) == 1:
            matches = self.glob("".join(cur_pattern))
            if matches:
                return matches
        return fields

    def glob(self, pattern: str) -> list[str]:
        """Pathname expansion against the container's filesystem (sorted, no dotfiles)."""
        absolute = pattern.startswith("/")
        comps = [c for c in pattern.split("/") if c]
        results = ["/" if absolute else ""]
        fs = self.proc.fs
        for comp in comps:
            nxt: list[str] = []
            for base in results:
                if not _GLOB & set(comp):
                    lit = _unescape_glob(comp)
                    cand = f"{base.rstrip('/')}/{lit}" if base else lit
                    if fs.exists(cand, self.proc.cwd) or fs.resolve(cand, self.proc.cwd, False)[1]:
                        nxt.append(cand)
                    continue
                try:
                    names = fs.listdir(base or ".", self.proc.cwd)
                except FsError:
                    continue
                for entry in names:
                    if entry.startswith(".") and not comp.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(entry, comp):
                        nxt.append(f"{base.rstrip('/')}/{entry}" if base else entry)
            results = nxt
            if not results:
                return []
        return sorted(results)

    def _param(self, part: sx.Param) -> Generator[simpy.Event, Any, str]:
        value = self.get_var(part.name)
        op = part.op
        if op == "#len":
            return str(len(value or ""))
        if not op:
            if value is None and getattr(self, "nounset", False):
                raise ShellError(f"{part.name}: parameter not set")
            return value or ""
        arg = ""
        if part.arg is not None:
            arg = yield from self.expand_string(part.arg)
        unset = value is None or (op.startswith(":") and value == "")
        base = op.lstrip(":")
        if base == "-":
            return arg if unset else value or ""
        if base == "=":
            if unset:
                self.set_var(part.name, arg)
                return arg
            return value or ""
        if base == "+":
            return "" if unset else arg
        if base == "?":
            if unset:
                raise ShellError(f"{part.name}: {arg or 'parameter not set'}")
            return value or ""
        text = value or ""
        pattern = ""
        if part.arg is not None:
            pattern = yield from self.expand_pattern(part.arg)
        if op in ("#", "##"):
            rng = range(len(text) + 1) if op == "#" else range(len(text), -1, -1)
            for k in rng:
                if fnmatch.fnmatchcase(text[:k], pattern):
                    return text[k:]
            return text
        rng = range(len(text), -1, -1) if op == "%" else range(len(text) + 1)
        for k in rng:
            if fnmatch.fnmatchcase(text[k:], pattern):
                return text[:k]
        return text

    def command_substitution(self, body: sx.Sequence) -> Generator[simpy.Event, Any, str]:
        buf = BufferOutput(self.proc.kernel.params.max_output)
        fds = {**self.proc.fds, 1: buf}
        program = self.subshell_program(body, True)  # type: ignore[attr-defined]
        child = self.proc.spawn(list(self.proc.argv), program, fds=fds)
        code: int = yield from self.proc.wait_child(child)
        self.cmdsub_status = code
        self.status = code
        return bytes(buf.data).decode(errors="replace").rstrip("\n")

    def arithmetic(self, expr: str) -> int:
        text = expr.strip() or "0"
        try:
            tree = pyast.parse(
                text.replace("&&", " and ").replace("||", " or ").replace("!=", "\0")
                .replace("!", " not ").replace("\0", "!="), mode="eval")  # fmt: skip
            return int(self._arith(tree.body))
        except (SyntaxError, ValueError, ZeroDivisionError, TypeError) as exc:
            raise ShellError(f"arithmetic syntax error: {expr}") from exc

    def _arith(self, node: pyast.AST) -> int:
        if isinstance(node, pyast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, pyast.Name):
            raw = self.get_var(node.id) or "0"
            return int(raw) if raw.lstrip("-").isdigit() else 0
        if isinstance(node, pyast.UnaryOp):
            val = self._arith(node.operand)
            if isinstance(node.op, pyast.USub):
                return -val
            if isinstance(node.op, pyast.Not):
                return int(not val)
            return val
        if isinstance(node, pyast.BinOp):
            a, b = self._arith(node.left), self._arith(node.right)
            ops: dict[type, Any] = {pyast.Add: lambda: a + b, pyast.Sub: lambda: a - b,
                                    pyast.Mult: lambda: a * b, pyast.Mod: lambda: _cmod(a, b),
                                    pyast.Div: lambda: _cdiv(a, b), pyast.FloorDiv: lambda: _cdiv(a, b),
                                    pyast.Pow: lambda: a ** min(b, 64)}  # fmt: skip
            fn = ops.get(type(node.op))
            if fn is None:
                raise ValueError("operator")
            return int(fn())
        if isinstance(node, pyast.BoolOp):
            vals = [self._arith(v) for v in node.values]
            return int(all(vals) if isinstance(node.op, pyast.And) else any(vals))
        if isinstance(node, pyast.Compare) and len(node.ops) == 1:
            a, b = self._arith(node.left), self._arith(node.comparators[0])
            cmp = {pyast.Lt: a < b, pyast.LtE: a <= b, pyast.Gt: a > b, pyast.GtE: a >= b,
                   pyast.Eq: a == b, pyast.NotEq: a != b}  # fmt: skip
            return int(cmp.get(type(node.ops[0]), False))
        raise ValueError("expression")

    # -- redirections --------------------------------------------------------
    def redirected(
        self, redirects: list[sx.Redirect], fds: dict[int, Any]
    ) -> Generator[simpy.Event, Any, dict[int, Any]]:
        if not redirects:
            return fds
        out = dict(fds)
        proc = self.proc
        for redirect in redirects:
            target = yield from self.expand_string(redirect.target)
            op = redirect.op
            if op == "<<":
                out[redirect.fd] = BytesInput(target.encode())
            elif op in (">&", "<&"):
                if target == "-":
                    out.pop(redirect.fd, None)
                elif target.isdigit():
                    if int(target) not in out:
                        raise ShellError(f"{target}: Bad file descriptor")
                    out[redirect.fd] = out[int(target)]
                else:
                    out[redirect.fd] = self._open_write(target, False, out)
                    if redirect.fd == 1 and op == ">&":
                        out[2] = out[1]
            elif op in (">", ">|", ">>"):
                out[redirect.fd] = self._open_write(target, op == ">>", out)
            else:
                special = read_special(proc, target)
                if special is not None:
                    out[redirect.fd] = BytesInput(special)
                    continue
                try:
                    data = proc.fs.read(target, proc.cwd)
                except FsError as exc:
                    raise ShellError(f"can't open '{target}': {exc.strerror}") from None
                out[redirect.fd] = BytesInput(data)
        return out

    def _open_write(self, path: str, append: bool, fds: dict[int, Any]) -> Any:
        if path == "/dev/null":
            return NullOutput()
        for prefix, fd in (("/dev/stdout", 1), ("/dev/stderr", 2), ("/proc/self/fd/1", 1),
                           ("/proc/self/fd/2", 2), ("/dev/tty", 1)):  # fmt: skip
            if path == prefix:
                return fds.get(fd, NullOutput())
        proc = self.proc
        try:
            canon, node = proc.fs.resolve(path, proc.cwd)
            if node is not None and node.kind == "dir":
                raise FsError("EISDIR")
            if node is None or not append:
                proc.fs.write(path, b"", proc.cwd, uid=proc.uid, gid=proc.gid)
        except FsError as exc:
            raise ShellError(f"can't create {path}: {exc.strerror}") from None
        return FileOutput(proc.fs, canon, "/", proc.uid, proc.gid)


def _split_ifs(text: str, ifs: str) -> list[str]:
    if not ifs:
        return [text] if text else []
    out: list[str] = []
    cur = ""
    for ch in text:
        if ch in ifs:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def _escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in _GLOB else c for c in text)


def _unescape_glob(text: str) -> str:
    for c in _GLOB:
        text = text.replace(f"[{c}]", c)
    return text


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cmod(a: int, b: int) -> int:
    return a - _cdiv(a, b) * b
