"""Tiny stand-ins for python3 and node: literals, arithmetic, print/console.log, http.server.

Enough for ``python3 -c 'print(1+1)'``, ``python3 -m http.server`` and
``node -e 'console.log("hi")'``. Expressions are evaluated by walking a
whitelisted Python AST, never with ``eval``.
"""

from __future__ import annotations

import ast
import html
import time
from typing import Any

from simulator.runtime.sim.kernel import HttpRequest, HttpResponse
from simulator.runtime.sim.process import SIGINT, Process
from simulator.runtime.sim.programs.base import Gen, program
from simulator.runtime.sim.streams import IoInput
from simulator.runtime.sim.vfs import FsError

_FUNCS: dict[str, Any] = {"len": len, "str": str, "int": int, "float": float, "abs": abs,
                          "sum": sum, "min": min, "max": max, "sorted": sorted, "round": round,
                          "list": list, "range": lambda *a: list(range(*a[:3]))[:100_000],
                          "bool": bool, "repr": repr}  # fmt: skip
_BINOPS: dict[type, Any] = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                            ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
                            ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
                            ast.Pow: lambda a, b: a ** min(b, 256)}  # fmt: skip
_CMPS: dict[type, Any] = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
                          ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
                          ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}  # fmt: skip


class ScriptError(Exception):
    """An error the interpreter reports (``NameError: name 'x' is not defined``)."""


def evaluate(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        raise ScriptError(f"NameError: name '{node.id}' is not defined")
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [evaluate(e, names) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {evaluate(k, names): evaluate(v, names) for k, v in zip(node.keys, node.values, strict=False)
                if k is not None}  # fmt: skip
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = evaluate(node.left, names), evaluate(node.right, names)
        if isinstance(left, str) and isinstance(right, int) and len(left) * right > 1 << 20:
            raise ScriptError("MemoryError")
        try:
            return _BINOPS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ScriptError("ZeroDivisionError: division by zero") from None
        except TypeError as exc:
            raise ScriptError(f"TypeError: {exc}") from None
    if isinstance(node, ast.UnaryOp):
        val = evaluate(node.operand, names)
        return -val if isinstance(node.op, ast.USub) else (not val if isinstance(node.op, ast.Not) else val)
    if isinstance(node, ast.BoolOp):
        vals = [evaluate(v, names) for v in node.values]
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPS:
        return _CMPS[type(node.ops[0])](evaluate(node.left, names), evaluate(node.comparators[0], names))
    if isinstance(node, ast.JoinedStr):
        return "".join(str(evaluate(v.value, names)) if isinstance(v, ast.FormattedValue)
                       else str(evaluate(v, names)) for v in node.values)  # fmt: skip
    if isinstance(node, ast.Subscript):
        return evaluate(node.value, names)[evaluate(node.slice, names)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
        return _FUNCS[node.func.id](*[evaluate(a, names) for a in node.args])
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and (node.value.id, node.attr) == ("sys", "version")
    ):
        return names.get("__version__", "3.12")
    raise ScriptError("SyntaxError: csim's python evaluates only simple expressions")


def run_python(proc: Process, source: str, names: dict[str, Any]) -> int:
    """Run ``print(...)``, assignments, ``import`` and ``sys.exit``; returns the exit code."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        proc.err(f'  File "<string>", line {exc.lineno}\n    {(exc.text or "").strip()}\n'
                 f"SyntaxError: {exc.msg}\n")  # fmt: skip
        return 1
    try:
        for stmt in tree.body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)):
                continue
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                names[stmt.targets[0].id] = evaluate(stmt.value, names)
                continue
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                fn = call.func
                fname = fn.id if isinstance(fn, ast.Name) else (
                    f"{fn.value.id}.{fn.attr}" if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name)
                    else "")  # fmt: skip
                args = [evaluate(a, names) for a in call.args]
                if fname == "print":
                    kw = {k.arg: evaluate(k.value, names) for k in call.keywords if k.arg}
                    sep, end = str(kw.get("sep", " ")), str(kw.get("end", "\n"))
                    proc.out(sep.join(str(a) for a in args) + end)
                    continue
                if fname in ("sys.exit", "exit", "quit"):
                    code = args[0] if args else 0
                    if isinstance(code, str):
                        proc.err(code + "\n")
                        return 1
                    return int(code or 0)
            if isinstance(stmt, ast.Expr):
                value = evaluate(stmt.value, names)
                if names.get("__interactive__") and value is not None:
                    proc.out(repr(value) + "\n")
                continue
            raise ScriptError("SyntaxError: csim's python runs only simple statements")
    except ScriptError as exc:
        proc.err(f'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n{exc}\n')
        return 1
    return 0


@program("python3", "python")
def python3(proc: Process) -> Gen:
    version = proc.env.get("PYTHON_VERSION", "3.12.7")
    args = proc.argv[1:]
    names: dict[str, Any] = {"True": True, "False": False, "None": None, "__version__": version}
    proc.on_signal(SIGINT, lambda sig: _keyboard_interrupt(proc))
    if args and args[0] in ("--version", "-V"):
        proc.out(f"Python {version}\n")
        return 0
    if len(args) >= 2 and args[0] == "-c":
        return run_python(proc, args[1], names)
    if len(args) >= 2 and args[0] == "-m" and args[1] == "http.server":
        return (yield from http_server(proc, args[2:]))
    if args and not args[0].startswith("-"):
        try:
            source = proc.fs.read(args[0], proc.cwd).decode(errors="replace")
        except FsError as exc:
            proc.err(f"python3: can't open file '{args[0]}': [Errno 2] {exc.strerror}\n")
            return 2
        return run_python(proc, source, names)
    stdin = proc.fds.get(0)
    if isinstance(stdin, IoInput) and stdin.tty:
        proc.out(f"Python {version} (main, Oct  1 2024, 00:00:00) [GCC 12.2.0] on linux\n"
                 'Type "help", "copyright", "credits" or "license" for more information.\n')  # fmt: skip
        names["__interactive__"] = True
        while True:
            proc.out(">>> ")
            line = yield from proc.readline(0)
            if line is None:
                proc.out("\n")
                return 0
            code = run_python(proc, line.decode(errors="replace"), names)
            if line.strip().startswith((b"exit(", b"quit(", b"sys.exit(")):
                return code
    source = (yield from proc.read_all(0)).decode(errors="replace")
    return run_python(proc, source, names)


def _keyboard_interrupt(proc: Process) -> int:
    proc.err("Traceback (most recent call last):\nKeyboardInterrupt\n")
    return 130


def http_server(proc: Process, args: list[str]) -> Gen:
    port = int(args[0]) if args and args[0].isdigit() else 8000
    root = proc.cwd
    proc.out(f"Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...\n")

    def handler(req: HttpRequest) -> HttpResponse:
        path = req.path.split("?", 1)[0]
        target = root.rstrip("/") + path
        status, reason, body = 200, "OK", b""
        try:
            node = proc.fs.lookup(target)
            if node.kind == "dir":
                names = sorted(node.entries)
                items = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>\n' for n in names)
                body = (f"<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        f"<title>Directory listing for {path}</title>\n</head>\n<body>\n"
                        f"<h1>Directory listing for {path}</h1>\n<hr>\n<ul>\n{items}</ul>\n<hr>\n"
                        "</body>\n</html>\n").encode()  # fmt: skip
            else:
                body = node.data
        except FsError:
            status, reason = 404, "File not found"
            body = b"<h1>Error response</h1><p>Error code: 404</p>\n"
        when = time.strftime("%d/%b/%Y %H:%M:%S", time.gmtime(proc.wall))
        proc.err(f'{req.client_ip} - - [{when}] "{req.method} {req.path} HTTP/1.1" {status} -\n')
        return HttpResponse(status, reason, body)

    proc.kernel.listen(proc, port, handler)
    proc.alloc(12 * 1024 * 1024)
    proc.on_signal(SIGINT, lambda sig: _http_interrupt(proc))
    yield from proc.sleep(1e12)
    return 0


def _http_interrupt(proc: Process) -> int:
    proc.out("\nKeyboard interrupt received, exiting.\n")
    return 0


def _js_source(src: str) -> str:
    out = src.replace("===", "==").replace("!==", "!=").replace("&&", " and ").replace("||", " or ")
    out = out.replace("true", "True").replace("false", "False").replace("null", "None")
    return out.replace("console.log", "__log__").replace(";", "\n")


def _js_repr(value: Any, top: bool = True) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value if top else f"'{value}'"
    if isinstance(value, (list, tuple)):
        return "[ " + ", ".join(_js_repr(v, False) for v in value) + " ]" if value else "[]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {_js_repr(v, False)}" for k, v in value.items()) + " }" if value else "{}"
    return str(value)


def run_node(proc: Process, source: str) -> int:
    names: dict[str, Any] = {}
    try:
        tree = ast.parse(_js_source(source))
    except SyntaxError:
        proc.err("[stdin]:1\nSyntaxError: Unexpected token\n")
        return 1
    try:
        for stmt in tree.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(
                stmt.value.func, ast.Name) and stmt.value.func.id == "__log__":  # fmt: skip
                vals = [evaluate(a, names) for a in stmt.value.args]
                proc.out(" ".join(_js_repr(v) for v in vals) + "\n")
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                names[stmt.targets[0].id] = evaluate(stmt.value, names)
            elif isinstance(stmt, ast.Expr):
                evaluate(stmt.value, names)
    except ScriptError as exc:
        message = str(exc).replace("NameError: name '", "ReferenceError: ").replace(
            "' is not defined", " is not defined")  # fmt: skip
        proc.err(f"[eval]:1\n{message}\n")
        return 1
    return 0


@program("node", "nodejs")
def node(proc: Process) -> Gen:
    version = proc.env.get("NODE_VERSION", "20.18.0")
    args = proc.argv[1:]
    if args and args[0] in ("-v", "--version"):
        proc.out(f"v{version}\n")
        return 0
    if len(args) >= 2 and args[0] in ("-e", "-p", "--eval"):
        return run_node(proc, args[1])
    if args:
        try:
            source = proc.fs.read(args[0], proc.cwd).decode(errors="replace")
        except FsError:
            proc.err(f"node:internal/modules/cjs/loader\n  throw err;\n  ^\n\nError: Cannot find module "
                     f"'{args[0]}'\n")  # fmt: skip
            return 1
        return run_node(proc, source)
    stdin = proc.fds.get(0)
    if isinstance(stdin, IoInput) and stdin.tty:
        proc.out(f'Welcome to Node.js v{version}.\nType ".help" for more information.\n')
        while True:
            proc.out("> ")
            line = yield from proc.readline(0)
            if line is None or line.strip() == b".exit":
                return 0
            run_node(proc, line.decode(errors="replace"))
    source = (yield from proc.read_all(0)).decode(errors="replace")
    return run_node(proc, source)


@program("npm")
def npm(proc: Process) -> Gen:
    if len(proc.argv) > 1 and proc.argv[1] in ("-v", "--version"):
        proc.out("10.8.2\n")
        return 0
    proc.out("npm <command>\n\nUsage:\n\nnpm install        install all the dependencies in your project\n")
    return 1
    yield  # pragma: no cover
