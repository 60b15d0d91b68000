"""Text applets: echo, printf, test, cat, head, tail, wc, grep, cut, sort, uniq, tr, seq..."""

from __future__ import annotations

import re
from collections.abc import Callable

from simulator.runtime.sim.process import Process
from simulator.runtime.sim.programs.base import (
    Emit,
    Gen,
    applet,
    applet_name,
    pure,
    read_inputs,
    split_opts,
)

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "r": "\r", "v": "\v",
            "f": "\f", "e": "\x1b"}  # fmt: skip


def _unescape(text: str) -> tuple[str, bool]:
    """Backslash escapes of ``echo -e``/``printf``; the flag says ``\\c`` stopped output."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "c":
                return "".join(out), True
            if n == "0" or n.isdigit():
                j = i + 2 if n == "0" else i + 1
                digits = ""
                while j < len(text) and len(digits) < 3 and text[j] in "01234567":
                    digits += text[j]
                    j += 1
                out.append(chr(int(digits or "0", 8)))
                i = j
                continue
            if n in _ESCAPES:
                out.append(_ESCAPES[n])
                i += 2
                continue
        out.append(c)
        i += 1
    return "".join(out), False


@pure("echo")
def echo(argv: list[str], out: Emit, err: Emit) -> int:
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        flags = args.pop(0)
        newline = newline and "n" not in flags
        escapes = "e" in flags or (escapes and "E" not in flags)
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        if stop:
            newline = False
    out((text + ("\n" if newline else "")).encode())
    return 0


@pure("printf")
def printf(argv: list[str], out: Emit, err: Emit) -> int:
    if len(argv) < 2:
        err(b"printf: usage: printf FORMAT [ARGUMENT...]\n")
        return 1
    fmt, args = argv[1], argv[2:]
    result: list[str] = []
    first = True
    while first or args:
        first = False
        consumed = 0
        i = 0
        while i < len(fmt):
            c = fmt[i]
            if c == "%" and i + 1 < len(fmt):
                m = re.match(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdifxXoc%b])", fmt[i:])
                if m:
                    flags, width, prec, conv = m.groups()
                    i += m.end()
                    if conv == "%":
                        result.append("%")
                        continue
                    arg = args[consumed] if consumed < len(args) else ""
                    consumed += 1
                    result.append(_format_one(flags, width, prec, conv, arg))
                    continue
            if c == "\\":
                text, _ = _unescape(fmt[i : i + 2])
                result.append(text)
                i += 2
                continue
            result.append(c)
            i += 1
        args = args[consumed:] if consumed else []
    out("".join(result).encode())
    return 0


def _format_one(flags: str, width: str, prec: str | None, conv: str, arg: str) -> str:
    spec = "%" + flags + width + (f".{prec}" if prec is not None else "")
    if conv in "diouxXc":
        try:
            num = int(arg, 0) if arg else 0
        except ValueError:
            num = 0
        return (spec + ("d" if conv == "i" else conv)) % (num if conv != "c" else (arg[:1] or ""))
    if conv == "f":
        try:
            return (spec + "f") % float(arg or 0)
        except ValueError:
            return (spec + "f") % 0.0
    if conv == "b":
        return (spec + "s") % _unescape(arg)[0]
    return (spec + "s") % arg


@pure("true")
def true(argv: list[str], out: Emit, err: Emit) -> int:
    return 0


@pure("false")
def false(argv: list[str], out: Emit, err: Emit) -> int:
    return 1


@pure("test", "[")
def test(argv: list[str], out: Emit, err: Emit) -> int:
    args = argv[1:]
    if argv[0].endswith("["):
        if not args or args[-1] != "]":
            err(b"[: missing ]\n")
            return 2
        args = args[:-1]
    try:
        return 0 if _test_expr(args) else 1
    except ValueError as exc:
        err(f"{argv[0]}: {exc}\n".encode())
        return 2


_FILE_TESTS = set("efdrwxsLhpSbcugk")


def _test_expr(args: list[str]) -> bool:
    if not args:
        return False
    if "-o" in args:
        k = args.index("-o")
        return _test_expr(args[:k]) or _test_expr(args[k + 1 :])
    if "-a" in args and len(args) > 3:
        k = args.index("-a")
        return _test_expr(args[:k]) and _test_expr(args[k + 1 :])
    if args[0] == "!":
        return not _test_expr(args[1:])
    if args[0] == "(" and args[-1] == ")":
        return _test_expr(args[1:-1])
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, val = args
        if op == "-z":
            return val == ""
        if op == "-n":
            return val != ""
        if op[:1] == "-" and op[1:] in _FILE_TESTS and _FILE_PROBE is not None:
            return _FILE_PROBE(op[1:], val)
        raise ValueError(f"{op}: unary operator expected")
    if len(args) == 3:
        a, op, b = args
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        ints = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__,
                "-gt": int.__gt__, "-ge": int.__ge__}  # fmt: skip
        if op in ints:
            try:
                return bool(ints[op](int(a), int(b)))
            except ValueError:
                raise ValueError(f"{a if not a.lstrip('-').isdigit() else b}: bad number") from None
    raise ValueError("syntax error")


_FILE_PROBE: Callable[[str, str], bool] | None = None


def set_file_probe(probe: Callable[[str, str], bool]) -> None:
    """Install the file-test callback (``-f``, ``-d``...) for the next synchronous ``test``."""
    global _FILE_PROBE
    _FILE_PROBE = probe


@pure("basename")
def basename(argv: list[str], out: Emit, err: Emit) -> int:
    if len(argv) < 2:
        err(b"basename: missing operand\n")
        return 1
    name = argv[1].rstrip("/").rsplit("/", 1)[-1] or "/"
    if len(argv) > 2 and name.endswith(argv[2]) and name != argv[2]:
        name = name[: -len(argv[2])]
    out(f"{name}\n".encode())
    return 0


@pure("dirname")
def dirname(argv: list[str], out: Emit, err: Emit) -> int:
    if len(argv) < 2:
        err(b"dirname: missing operand\n")
        return 1
    path = argv[1].rstrip("/")
    head = path.rsplit("/", 1)[0] if "/" in path else "."
    out(f"{head or '/'}\n".encode())
    return 0


@pure("expr")
def expr(argv: list[str], out: Emit, err: Emit) -> int:
    args = argv[1:]
    try:
        if len(args) == 3:
            a, op, b = args
            ops = {"+": lambda: int(a) + int(b), "-": lambda: int(a) - int(b),
                   "*": lambda: int(a) * int(b), "/": lambda: int(int(a) / int(b)),
                   "%": lambda: int(a) % int(b), "=": lambda: int(a == b),
                   "!=": lambda: int(a != b), "<": lambda: int(int(a) < int(b)),
                   ">": lambda: int(int(a) > int(b))}  # fmt: skip
            if op not in ops:
                raise ValueError
            value: int | str = ops[op]()
        elif len(args) == 2 and args[0] == "length":
            value = len(args[1])
        elif len(args) == 1:
            value = args[0]
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError):
        err(b"expr: syntax error\n")
        return 2
    out(f"{value}\n".encode())
    return 0 if value not in (0, "", "0") else 1


@pure("seq")
def seq(argv: list[str], out: Emit, err: Emit) -> int:
    nums = argv[1:]
    try:
        vals = [int(n) for n in nums]
    except ValueError:
        err(f"seq: invalid number '{nums[0] if nums else ''}'\n".encode())
        return 1
    if not vals or len(vals) > 3:
        err(b"seq: missing operand\n" if not vals else b"seq: extra operand\n")
        return 1
    first, step, last = (1, 1, vals[0]) if len(vals) == 1 else (
        (vals[0], 1, vals[1]) if len(vals) == 2 else (vals[0], vals[1], vals[2]))  # fmt: skip
    if step == 0:
        return 1
    count = max(0, (last - first) // step + 1)
    out("".join(f"{first + k * step}\n" for k in range(min(count, 200_000))).encode())
    return 0


@applet("yes")
def yes(proc: Process) -> Gen:
    line = (" ".join(proc.argv[1:]) or "y") + "\n"
    chunk = (line * max(1, 4096 // len(line))).encode()
    while not proc.output_exhausted:
        proc.out(chunk)
        yield from proc.cpu(0.000_01)
    return 0


@applet("cat")
def cat(proc: Process) -> Gen:
    _, files = split_opts(proc.argv)
    code = 0
    for name in files or ["-"]:
        if name == "-":
            while True:
                chunk = yield from proc.read(0)
                if not chunk:
                    break
                proc.out(chunk)
            continue
        got = yield from read_inputs(proc, [name])
        data = got[0][1]
        if data is None:
            code = 1
        else:
            proc.out(data)
    return code


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _numeric_first(argv: list[str]) -> list[str]:
    """``head -5`` is ``head -n 5``."""
    return [f"-n{a[1:]}" if re.fullmatch(r"-\d+", a) else a for a in argv]


def _count(opts: dict[str, str], default: int) -> int:
    raw = opts.get("n", str(default)) or str(default)
    try:
        return int(raw.lstrip("+-"))
    except ValueError:
        return default


@applet("head")
def head(proc: Process) -> Gen:
    opts, files = split_opts(_numeric_first(proc.argv), "nc")
    n = _count(opts, 10)
    for name, data in (yield from read_inputs(proc, files)):
        if data is not None:
            if len(files) > 1:
                proc.out(f"==> {name} <==\n")
            proc.out(data[:n] if "c" in opts else b"".join(_lines(data)[:n]))
    return 0


@applet("tail")
def tail(proc: Process) -> Gen:
    opts, files = split_opts(_numeric_first(proc.argv), "nc")
    n = _count(opts, 10)
    for _, data in (yield from read_inputs(proc, files)):
        if data is not None:
            lines = _lines(data)
            proc.out(b"".join(lines[-n:] if n else []))
    if "f" in opts:
        yield from proc.sleep(1e9)
    return 0


@applet("wc")
def wc(proc: Process) -> Gen:
    opts, files = split_opts(proc.argv)
    which = [k for k in "lwc" if k in opts] or ["l", "w", "c"]
    for name, data in (yield from read_inputs(proc, files)):
        if data is None:
            continue
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
        cols = [f"{counts[k]:>7}" if len(which) > 1 or files else str(counts[k]) for k in which]
        label = f" {name}" if files else ""
        proc.out((" ".join(cols) + label + "\n").lstrip(" ") if len(which) == 1 and not files
                 else (" ".join(cols) + label + "\n"))  # fmt: skip
    return 0


@applet("grep", "egrep", "fgrep")
def grep(proc: Process) -> Gen:
    opts, rest = split_opts(proc.argv, "e")
    if "e" in opts:
        pattern = opts["e"]
    elif rest:
        pattern = rest.pop(0)
    else:
        proc.err("Usage: grep [-vincl] PATTERN [FILE]...\n")
        return 2
    flags = re.IGNORECASE if "i" in opts else 0
    fixed = "F" in opts or applet_name(proc) == "fgrep"
    try:
        regex = re.compile(re.escape(pattern) if fixed else _bre(pattern, "E" in opts), flags)
    except re.error:
        proc.err(f"grep: bad regex '{pattern}'\n")
        return 2
    matched = 0
    for name, data in (yield from read_inputs(proc, rest)):
        if data is None:
            continue
        count = 0
        for num, raw in enumerate(data.decode(errors="replace").splitlines(), 1):
            hit = bool(regex.search(raw)) != ("v" in opts)
            if not hit:
                continue
            count += 1
            if "q" in opts:
                return 0
            if "c" in opts or "l" in opts:
                continue
            prefix = f"{name}:" if len(rest) > 1 else ""
            prefix += f"{num}:" if "n" in opts else ""
            proc.out(f"{prefix}{raw}\n")
        if "c" in opts:
            proc.out(f"{name + ':' if len(rest) > 1 else ''}{count}\n")
        if "l" in opts and count:
            proc.out(f"{name}\n")
        matched += count
    return 0 if matched else 1


def _bre(pattern: str, extended: bool) -> str:
    if extended:
        return pattern
    return pattern.replace(r"\|", "|").replace(r"\(", "(").replace(r"\)", ")").replace("+", r"\+")


@applet("cut")
def cut(proc: Process) -> Gen:
    opts, files = split_opts(proc.argv, "dfc")
    delim = opts.get("d", "\t") or "\t"
    spec = opts.get("f") or opts.get("c") or ""
    picks: list[tuple[int, int]] = []
    for item in spec.split(","):
        lo, dash, hi = item.partition("-")
        if not item:
            continue
        start = int(lo) if lo else 1
        end = (int(hi) if hi else 10**9) if dash else start
        picks.append((start, end))
    for _, data in (yield from read_inputs(proc, files)):
        if data is None:
            continue
        for line in data.decode(errors="replace").splitlines():
            units = list(line) if "c" in opts else line.split(delim)
            if "f" in opts and delim not in line:
                proc.out(line + "\n")
                continue
            chosen = [u for k, u in enumerate(units, 1) if any(a <= k <= b for a, b in picks)]
            proc.out(("" if "c" in opts else delim).join(chosen) + "\n")
    return 0


@applet("sort")
def sort(proc: Process) -> Gen:
    opts, files = split_opts(proc.argv, "kt")
    lines: list[str] = []
    for _, data in (yield from read_inputs(proc, files)):
        if data is not None:
            lines.extend(data.decode(errors="replace").splitlines())

    def key(line: str) -> tuple[float, str]:
        if "n" in opts:
            m = re.match(r"\s*(-?\d+(?:\.\d+)?)", line)
            return (float(m.group(1)) if m else 0.0, line)
        return (0.0, line)

    lines.sort(key=key, reverse="r" in opts)
    if "u" in opts:
        lines = list(dict.fromkeys(lines))
    proc.out("".join(f"{line}\n" for line in lines))
    return 0


@applet("uniq")
def uniq(proc: Process) -> Gen:
    opts, files = split_opts(proc.argv)
    prev: str | None = None
    count = 0
    out: list[tuple[int, str]] = []
    for _, data in (yield from read_inputs(proc, files[:1])):
        for line in (data or b"").decode(errors="replace").splitlines():
            if line == prev:
                count += 1
                continue
            if prev is not None:
                out.append((count, prev))
            prev, count = line, 1
    if prev is not None:
        out.append((count, prev))
    for n, line in out:
        if "d" in opts and n < 2:
            continue
        proc.out(f"{n:>7} {line}\n" if "c" in opts else f"{line}\n")
    return 0


def _tr_set(spec: str) -> str:
    spec, _ = _unescape(spec)
    classes = {"[:lower:]": "abcdefghijklmnopqrstuvwxyz", "[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               "[:digit:]": "0123456789", "[:space:]": " \t\n\r\f\v"}  # fmt: skip
    for name, chars in classes.items():
        spec = spec.replace(name, chars)
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


@applet("tr")
def tr(proc: Process) -> Gen:
    opts, sets = split_opts(proc.argv)
    data = (yield from proc.read_all(0)).decode(errors="replace")
    if not sets:
        proc.err("tr: missing operand\n")
        return 1
    src = _tr_set(sets[0])
    if "d" in opts:
        proc.out("".join(c for c in data if c not in src))
        return 0
    dst = _tr_set(sets[1]) if len(sets) > 1 else ""
    if not dst:
        proc.err("tr: missing operand\n")
        return 1
    dst = dst + dst[-1] * max(0, len(src) - len(dst))
    proc.out(data.translate(str.maketrans(src, dst[: len(src)])))
    return 0


@applet("tee")
def tee(proc: Process) -> Gen:
    from simulator.runtime.sim.vfs import FsError

    opts, files = split_opts(proc.argv)
    for name in files:
        if "a" not in opts:
            try:
                proc.fs.write(name, b"", proc.cwd, uid=proc.uid, gid=proc.gid)
            except FsError as exc:
                proc.err(f"tee: {name}: {exc.strerror}\n")
    while True:
        chunk = yield from proc.read(0)
        if not chunk:
            break
        proc.out(chunk)
        for name in files:
            try:
                proc.fs.write(name, chunk, proc.cwd, append=True, uid=proc.uid, gid=proc.gid)
            except FsError:
                pass
    return 0
