"""The parser of Go templates: the parse tree and Go's recursive descent.

Tokens from :mod:`simulator.client.template_lex` become a tree of text,
actions and ``if``/``range``/``with`` branches holding pipelines of commands.
The parser checks what Go checks at parse time (functions defined, variables
declared, one ``end`` per branch) with Go's messages, and every node renders
itself back as Go's ``Node.String()`` does, for execution errors to quote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.client.template_lex import Token
from simulator.client.template_values import TemplateError, go_quote


@dataclass(slots=True)
class Node:
    pos: int

    def go(self) -> str:
        """The node as Go's ``Node.String()`` renders it (used in error messages)."""
        return ""


@dataclass(slots=True)
class Lit(Node):
    value: Any
    text: str

    def go(self) -> str:
        return self.text


@dataclass(slots=True)
class Dot(Node):
    def go(self) -> str:
        return "."


@dataclass(slots=True)
class Ident(Node):
    name: str

    def go(self) -> str:
        return self.name


@dataclass(slots=True)
class Field(Node):
    names: tuple[str, ...]
    var: str = ""  # "$x" when the chain starts at a variable

    def go(self) -> str:
        return self.var + "".join("." + n for n in self.names)


@dataclass(slots=True)
class Cmd(Node):
    args: list[Node]

    def go(self) -> str:
        return " ".join(a.go() for a in self.args)


@dataclass(slots=True)
class Pipe(Node):
    decl: list[str]
    assign: bool
    cmds: list[Cmd]

    def go(self) -> str:
        head = ", ".join(self.decl) + (" = " if self.assign else " := ") if self.decl else ""
        return head + " | ".join(c.go() for c in self.cmds)


@dataclass(slots=True)
class Paren(Node):
    pipe: Pipe
    names: tuple[str, ...] = ()

    def go(self) -> str:
        return f"({self.pipe.go()})" + "".join("." + n for n in self.names)


@dataclass(slots=True)
class Text(Node):
    text: str


@dataclass(slots=True)
class Action(Node):
    pipe: Pipe


@dataclass(slots=True)
class Branch(Node):
    kind: str  # if, range, with
    pipe: Pipe
    body: list[Node]
    orelse: list[Node] = field(default_factory=list)


class Parser:
    """Recursive descent over the token list, with Go's error messages."""

    def __init__(self, toks: list[Token], funcs: Mapping[str, object]) -> None:
        self.toks = toks
        self.i = 0
        self.funcs = funcs
        self.vars: list[str] = ["$"]

    def fail(self, msg: str, tok: Token | None = None) -> TemplateError:
        line = (tok or self.toks[min(self.i, len(self.toks) - 1)]).line
        return TemplateError(f"template: :{line}: {msg}")

    def next(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind == "error":
            raise TemplateError(tok.text)
        self.i += 1
        return tok

    def next_nonspace(self) -> Token:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_nonspace(self) -> Token:
        j = self.i
        while self.toks[j].kind == "space":
            j += 1
        if self.toks[j].kind == "error":
            raise TemplateError(self.toks[j].text)
        return self.toks[j]

    def unexpected(self, tok: Token, context: str) -> TemplateError:
        shown = {"eof": "EOF", "close": "<}}>"}.get(tok.kind)
        if tok.kind == "keyword":
            shown = f"<{tok.text}>"
        return self.fail(f"unexpected {shown or go_quote(tok.text)} in {context}", tok)

    def parse(self) -> list[Node]:
        body, term, tok = self.parse_list()
        if term != "eof":
            raise self.fail(f"unexpected {{{{{term}}}}}", tok)
        return body

    def parse_list(self) -> tuple[list[Node], str, Token]:
        """Parse nodes until EOF, ``{{end}}`` or ``{{else}}`` (returned, consumed)."""
        nodes: list[Node] = []
        while True:
            tok = self.next()
            if tok.kind == "eof":
                return nodes, "eof", tok
            if tok.kind == "text":
                nodes.append(Text(tok.pos, tok.text))
                continue
            head = self.peek_nonspace()
            if head.kind == "keyword":
                self.next_nonspace()
                if head.text in ("end", "else"):
                    if head.text == "end":
                        self.expect_close("end")
                    return nodes, head.text, head
                if head.text in ("if", "range", "with"):
                    nodes.append(self.parse_branch(head))
                    continue
                raise self.fail(f"{{{{{head.text}}}}} is not supported by csim", head)
            pipe = self.parse_pipe("command", "close")
            nodes.append(Action(tok.pos, pipe))

    def expect_close(self, context: str) -> None:
        tok = self.next_nonspace()
        if tok.kind != "close":
            raise self.unexpected(tok, context)

    def parse_branch(self, head: Token) -> Branch:
        depth = len(self.vars)
        pipe = self.parse_pipe(head.text, "close")
        body, term, tok = self.parse_list()
        orelse: list[Node] = []
        if term == "else":
            nxt = self.peek_nonspace()
            if head.text == "if" and nxt.kind == "keyword" and nxt.text == "if":
                orelse = [self.parse_branch(self.next_nonspace())]
                term = "end"
            else:
                self.expect_close("else")
                orelse, term, tok = self.parse_list()
                if term == "else":
                    raise self.fail("expected end; found {{else}}", tok)
        if term == "eof":
            raise self.fail("unexpected EOF", tok)
        del self.vars[depth:]
        return Branch(head.pos, head.text, pipe, body, orelse)

    def parse_pipe(self, context: str, end: str) -> Pipe:
        start = self.peek_nonspace()
        decl: list[str] = []
        assign = False
        j = self.i
        while self.toks[j].kind == "space":
            j += 1
        if self.toks[j].kind == "variable":
            k = j + 1
            while self.toks[k].kind == "space":
                k += 1
            after = self.toks[k]
            if after.kind == "declare" or after.text in ("=", ","):
                decl.append(self.toks[j].text)
                self.i = k + 1
                if after.text == ",":
                    if context != "range":
                        raise self.fail(f"too many declarations in {context}", after)
                    second = self.next_nonspace()
                    op = self.next_nonspace()
                    if second.kind != "variable" or op.kind != "declare":
                        raise self.fail("range can only initialize variables", op)
                    decl.append(second.text)
                assign = after.text == "="
                if assign and decl[0] not in self.vars:
                    raise self.fail(f"undefined variable {go_quote(decl[0])}", after)
                if not assign:
                    self.vars.extend(decl)
        cmds: list[Cmd] = []
        while True:
            tok = self.peek_nonspace()
            if (end == "close" and tok.kind == "close") or (end == "paren" and tok.text == ")"):
                self.next_nonspace()
                break
            if tok.kind in ("close", "eof") or tok.text == ")":
                raise self.unexpected(tok, context)
            cmds.append(self.parse_command())
        if not cmds:
            raise self.fail(f"missing value for {context}", start)
        return Pipe(start.pos, decl, assign, cmds)

    def parse_command(self) -> Cmd:
        args: list[Node] = []
        pos = self.peek_nonspace().pos
        while True:
            while self.toks[self.i].kind == "space":
                self.i += 1
            operand = self.parse_operand()
            if operand is not None:
                args.append(operand)
            tok = self.next()
            if tok.kind == "space":
                continue
            if tok.kind == "close" or tok.text == ")":
                self.i -= 1
            elif tok.text != "|":
                raise self.unexpected(tok, "operand")
            break
        if not args:
            raise self.fail("empty command")
        return Cmd(pos, args)

    def parse_operand(self) -> Node | None:
        node = self.parse_term()
        if node is None or self.toks[self.i].kind != "field":
            return node
        chain_pos = self.toks[self.i].pos
        names: list[str] = []
        while self.toks[self.i].kind == "field":
            names.append(self.next().text[1:])
        if isinstance(node, Field):
            return Field(chain_pos, (*node.names, *names), node.var)
        if isinstance(node, Paren):
            return Paren(node.pos, node.pipe, (*node.names, *names))
        raise self.fail(f"unexpected . after term {go_quote(node.go())}")

    def parse_term(self) -> Node | None:
        tok = self.next()
        kind, text = tok.kind, tok.text
        if kind == "ident":
            if text not in self.funcs:
                raise self.fail(f"function {go_quote(text)} not defined", tok)
            return Ident(tok.pos, text)
        if kind == "dot":
            return Dot(tok.pos)
        if kind == "field":
            return Field(tok.pos, (text[1:],))
        if kind == "variable":
            if text not in self.vars:
                raise self.fail(f"undefined variable {go_quote(text)}", tok)
            return Field(tok.pos, (), text)
        if kind in ("nil", "bool", "number", "string", "raw", "char"):
            return Lit(tok.pos, self.literal(tok), text)
        if text == "(":
            return Paren(tok.pos, self.parse_pipe("parenthesized pipeline", "paren"))
        self.i -= 1
        return None

    def literal(self, tok: Token) -> Any:
        text = tok.text
        if tok.kind == "nil":
            return None
        if tok.kind == "bool":
            return text == "true"
        if tok.kind == "raw":
            return text[1:-1]
        if tok.kind in ("string", "char"):
            import ast

            value = ast.literal_eval(text if tok.kind == "string" else '"' + text[1:-1] + '"')
            if tok.kind == "char":
                if len(value) != 1:
                    raise self.fail(f"malformed character constant: {text}", tok)
                return ord(value)
            return value
        clean = text.replace("_", "")
        try:
            if re.fullmatch(r"[+-]?0[0-7]+", clean):
                return int(clean, 8)
            return int(clean, 0)
        except ValueError:
            try:
                return float(clean)
            except ValueError:
                raise self.fail(f"bad number syntax: {go_quote(text)}", tok) from None
