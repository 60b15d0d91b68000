"""The executor of Go templates: a parse tree run over Python data.

One :class:`Execution` walks the tree with dot and the variables in scope,
evaluates pipelines, looks fields up on maps (dicts) and structs (objects),
calls functions after Go's argument checks, and reports failures as Go does:
``template: :LINE:COL: executing "" at <NODE>: MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.client.template_funcs import VARIADIC_MIN, CallError, Func
from simulator.client.template_parse import Action, Branch, Cmd, Dot, Field, Ident, Lit, Node, Paren, Pipe, Text
from simulator.client.template_values import NO_VALUE, TemplateError, go_print, go_quote, go_type, truth

_NONE: Any = object()  # "no final value": the first command of a pipeline


class Execution:
    """One execution: variables, output, and Go-worded errors with positions."""

    def __init__(self, src: str, funcs: Mapping[str, Func], missing_key_error: bool) -> None:
        self.src = src
        self.funcs = funcs
        self.missing_key_error = missing_key_error
        self.vars: list[tuple[str, Any]] = []
        self.out: list[str] = []

    def fail(self, node: Node, msg: str) -> TemplateError:
        pos = node.pos
        line = self.src.count("\n", 0, pos) + 1
        col = pos - (self.src.rfind("\n", 0, pos) + 1)
        context = node.go()
        if len(context) > 20:
            context = context[:20] + "..."
        return TemplateError(f'template: :{line}:{col}: executing "" at <{context}>: {msg}')

    def walk(self, nodes: list[Node], dot: Any) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.out.append(node.text)
            elif isinstance(node, Action):
                value = self.pipe(dot, node.pipe)
                if not node.pipe.decl:
                    self.out.append(go_print(value))
            elif isinstance(node, Branch):
                depth = len(self.vars)
                self.branch(node, dot)
                del self.vars[depth:]

    def branch(self, node: Branch, dot: Any) -> None:
        value = self.pipe(dot, node.pipe)
        if node.kind == "if":
            self.walk(node.body if truth(value) else node.orelse, dot)
        elif node.kind == "with":
            if truth(value):
                self.walk(node.body, value)
            else:
                self.walk(node.orelse, dot)
        else:
            items = self.iterate(node, value)
            for key, item in items:
                if node.pipe.decl:
                    self.vars[-1] = (self.vars[-1][0], item)
                    if len(node.pipe.decl) == 2:
                        self.vars[-2] = (self.vars[-2][0], key)
                        self.vars[-1] = (node.pipe.decl[1], item)
                self.walk(node.body, item)
            if not items:
                self.walk(node.orelse, dot)

    def iterate(self, node: Branch, value: Any) -> list[tuple[Any, Any]]:
        if value is NO_VALUE or value is None:
            return []
        if isinstance(value, Mapping):
            return [(k, value[k]) for k in sorted(value, key=str)]
        if isinstance(value, list | tuple):
            return list(enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return [(i, i) for i in range(value)]
        raise self.fail(node.pipe, f"range can't iterate over {go_print(value)}")

    def pipe(self, dot: Any, pipe: Pipe) -> Any:
        value = _NONE
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        if pipe.assign:
            name = pipe.decl[0]
            for i in range(len(self.vars) - 1, -1, -1):
                if self.vars[i][0] == name:
                    self.vars[i] = (name, value)
                    break
        else:
            self.vars.extend((name, value) for name in pipe.decl)
        return value

    def command(self, dot: Any, cmd: Cmd, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, Ident):
            return self.call(dot, cmd, first, cmd.args[1:], final)
        if isinstance(first, Field | Paren):
            return self.chain(dot, first, cmd.args[1:], final)
        if len(cmd.args) > 1 or final is not _NONE:
            raise self.fail(first, f"can't give argument to non-function {first.go()}")
        return self.arg(dot, first)

    def arg(self, dot: Any, node: Node) -> Any:
        if isinstance(node, Lit):
            return node.value
        if isinstance(node, Dot):
            return dot
        if isinstance(node, Ident):
            return self.call(dot, Cmd(node.pos, [node]), node, [], _NONE)
        return self.chain(dot, node, [], _NONE)

    def variable(self, node: Node, name: str) -> Any:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise self.fail(node, f"undefined variable: {name}")

    def chain(self, dot: Any, node: Node, args: list[Node], final: Any) -> Any:
        if isinstance(node, Paren):
            value, names = self.pipe(dot, node.pipe), node.names
        else:
            assert isinstance(node, Field)
            names = node.names
            value = self.variable(node, node.var) if node.var else dot
        typ = go_type(value)
        for i, name in enumerate(names):
            last = i == len(names) - 1
            value, typ = self.field(
                dot,
                node,
                name,
                value,
                typ=typ,
                args=args if last else [],
                final=final if last else _NONE,
            )
        if not names and (args or final is not _NONE):
            raise self.fail(node, f"can't give argument to non-function {node.go()}")
        return value

    def field(
        self,
        dot: Any,
        node: Node,
        name: str,
        recv: Any,
        *,
        typ: str,
        args: list[Node],
        final: Any,
    ) -> tuple[Any, str]:
        has_args = bool(args) or final is not _NONE
        if recv is NO_VALUE:
            if self.missing_key_error:
                raise self.fail(node, f"nil data; no entry for key {go_quote(name)}")
            return NO_VALUE, typ
        if recv is None:
            raise self.fail(node, f"nil pointer evaluating {typ}.{name}")
        if isinstance(recv, Mapping):
            if has_args:
                raise self.fail(node, f"{name} is not a method but has arguments")
            if name in recv:
                return recv[name], "interface {}"
            if self.missing_key_error:
                raise self.fail(node, f"map has no entry for key {go_quote(name)}")
            return NO_VALUE, typ
        plain = isinstance(recv, str | int | float | bool | list | tuple)
        attr = _NONE if plain or name.startswith("_") else getattr(recv, name, _NONE)
        if attr is _NONE:
            raise self.fail(node, f"can't evaluate field {name} in type {typ}")
        if callable(attr):
            values = [self.arg(dot, a) for a in args]
            if final is not _NONE:
                values.append(final)
            result = attr(*values)
            return result, go_type(result)
        if has_args:
            raise self.fail(node, f"{name} has arguments but cannot be invoked as function")
        return attr, go_type(attr)

    def call(self, dot: Any, cmd: Cmd, ident: Ident, args: list[Node], final: Any) -> Any:
        func = self.funcs[ident.name]
        count = len(args) + (final is not _NONE)
        want = len(func.params)
        if func.variadic:
            least = VARIADIC_MIN.get(ident.name, want - 1)
            if count < least:
                msg = f"wrong number of args for {ident.name}: want at least {least} got {count}"
                raise self.fail(ident, msg)
        elif count != want:
            raise self.fail(ident, f"wrong number of args for {ident.name}: want {want} got {count}")
        if ident.name in ("and", "or"):  # short-circuit, returning the deciding value
            value = None
            for node in args:
                value = self.arg(dot, node)
                if truth(value) == (ident.name == "or"):
                    return value
            return final if final is not _NONE else value
        values: list[Any] = []
        nodes: list[Node] = [*args, cmd]
        for i, node in enumerate(nodes):
            value = final if node is cmd else self.arg(dot, node)
            if node is cmd and final is _NONE:
                break
            param = func.params[min(i, want - 1)]
            values.append(self.check_type(node, param, value))
        try:
            return func.fn(*values)
        except CallError as exc:
            raise self.fail(cmd, f"error calling {ident.name}: {exc}") from None

    def check_type(self, node: Node, param: str, value: Any) -> Any:
        """Go's argument conversion: a missing value becomes nil where nil fits."""
        if value is NO_VALUE or value is None:
            if param in ("string", "int"):
                raise self.fail(node, f"invalid value; expected {param}")
            return [] if param == "[]string" else None
        ok = {
            "any": True,
            "string": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "[]string": isinstance(value, list | tuple) and all(isinstance(v, str) for v in value),
        }[param]
        if not ok:
            got = go_type(value)
            raise self.fail(node, f"wrong type for value; expected {param}; got {got}")
        return value
