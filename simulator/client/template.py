"""Go ``text/template`` as ``docker --format`` uses it.

Students paste the ``--format`` strings they use with Docker (``{{.ID}}``,
``{{json .State}}``, ``table {{.ID}}\\t{{.Names}}``), so csim executes them
with Go's rules: field lookup on maps and structs, pipelines, ``if``/``range``/
``with``, Go's built-in functions plus the ones the docker CLI adds (``json``,
``join``, ``split``, ``title``, ``lower``, ``upper``, ``pad``, ``truncate``),
Go's printing of values, and Go's error messages, positions included.

:func:`compile_template` also does what the CLI's formatter does before
parsing: a ``table`` prefix is removed (and remembered), ``json`` means
``{{json .}}``, spaces around the format are trimmed and the two-character
sequences ``\\t`` and ``\\n`` become a tab and a newline. ``docker inspect``
does none of that: use ``compile_template(text, formatter=False)``.

Data are Python values: dicts behave as Go maps (a missing key prints
``<no value>``), other objects as Go structs (a missing attribute is an
error naming the type: set a ``GO_TYPE`` class attribute, e.g.
``"*formatter.ContainerContext"``, to name it as Docker does). Dicts print as
Go maps (``map[a:1 b:2]``) and ``None`` as ``<nil>``. The lexer, parser,
functions and executor live in one module because the brief that created it
allowed one file; each part is a section below.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Template", "TemplateError", "compile_template"]


class TemplateError(Exception):
    """A template that does not parse or fails to execute, in Go's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _NoValue:
    """Go's invalid ``reflect.Value``: what a missing map key evaluates to."""

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE: Any = _NoValue()


# --- lexer ---------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""(?P<space>[ \t\r\n]+)
    |(?P<declare>:=)
    |(?P<string>"(?:[^"\\\n]|\\.)*")
    |(?P<badstring>")
    |(?P<raw>`[^`]*`)
    |(?P<badraw>`)
    |(?P<char>'(?:[^'\\\n]|\\.)+')
    |(?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?))
    |(?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
    |(?P<dot>\.)
    |(?P<variable>\$[A-Za-z0-9_]*)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[|(),=])
    """,
    re.VERBOSE,
)
_KEYWORDS = {
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # space, string, raw, char, number, field, dot, variable, ident, keyword,
    # punct, declare, char-other, close, eof
    text: str
    pos: int
    line: int


def _lex(src: str) -> list[_Tok]:
    """Split a template into text and action tokens, applying trim markers."""
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        start = src.find("{{", i)
        if start < 0:
            toks.append(_Tok("text", src[i:], i, src.count("\n", 0, i) + 1))
            break
        inner = start + 2
        text = src[i:start]
        if src.startswith("-", inner) and inner + 1 < n and src[inner + 1] in " \t\r\n":
            text = text.rstrip(" \t\r\n")
            inner += 2
        if text:
            toks.append(_Tok("text", text, i, src.count("\n", 0, i) + 1))
        toks.append(_Tok("open", "{{", start, src.count("\n", 0, start) + 1))
        try:
            i = _lex_action(src, inner, toks)
        except TemplateError as exc:
            # Go lexes lazily: an earlier parse error wins over this one.
            toks.append(_Tok("error", exc.message, n, 0))
            break
    toks.append(_Tok("eof", "", n, src.count("\n") + 1))
    return toks


_RIGHT_TRIM_RE = re.compile(r"[ \t\r\n]+-}}")
_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)


def _lex_action(src: str, i: int, toks: list[_Tok]) -> int:
    """Lex one action from just after ``{{``; returns the index after ``}}``."""
    line0 = src.count("\n", 0, i) + 1
    comment = _COMMENT_RE.match(src, i)
    if comment is not None:
        end = comment.end()
        trim = _RIGHT_TRIM_RE.match(src, end)
        toks.pop()  # a comment is not an action: drop its "{{"
        if trim is not None:
            return _skip_space(src, trim.end())
        if src.startswith("}}", end):
            return end + 2
        raise TemplateError(f"template: :{line0}: comment ends before closing delimiter")
    if src.startswith("/*", i):
        raise TemplateError(f"template: :{line0}: unclosed comment")
    while True:
        line = src.count("\n", 0, i) + 1
        if i >= len(src):
            raise TemplateError(f"template: :{line0}: unclosed action")
        trim = _RIGHT_TRIM_RE.match(src, i)
        if src.startswith("}}", i) or trim is not None:
            toks.append(_Tok("close", "}}", i, line))
            return _skip_space(src, trim.end()) if trim is not None else i + 2
        m = _TOKEN_RE.match(src, i)
        if m is None or m.lastgroup is None:
            ch = src[i]
            if ch.isascii() and ch.isprintable():
                toks.append(_Tok("char-other", ch, i, line))
                i += 1
                continue
            raise TemplateError(f"template: :{line}: unrecognized character in action: U+{ord(ch):04X} {ch!r}")
        kind, text = m.lastgroup, m.group()
        if kind == "badstring":
            raise TemplateError(f"template: :{line}: unterminated quoted string")
        if kind == "badraw":
            raise TemplateError(f"template: :{line}: unterminated raw quoted string")
        if kind == "ident":
            kind = _IDENT_KINDS.get(text, "keyword" if text in _KEYWORDS else "ident")
        toks.append(_Tok(kind, text, i, line))
        i = m.end()


_IDENT_KINDS = {"true": "bool", "false": "bool", "nil": "nil"}


def _skip_space(src: str, i: int) -> int:
    while i < len(src) and src[i] in " \t\r\n":
        i += 1
    return i


# --- parse tree ------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    pos: int

    def go(self) -> str:
        """The node as Go's ``Node.String()`` renders it (used in error messages)."""
        return ""


@dataclass(slots=True)
class _Lit(_Node):
    value: Any
    text: str

    def go(self) -> str:
        return self.text


@dataclass(slots=True)
class _Dot(_Node):
    def go(self) -> str:
        return "."


@dataclass(slots=True)
class _Ident(_Node):
    name: str

    def go(self) -> str:
        return self.name


@dataclass(slots=True)
class _Field(_Node):
    names: tuple[str, ...]
    var: str = ""  # "$x" when the chain starts at a variable

    def go(self) -> str:
        return self.var + "".join("." + n for n in self.names)


@dataclass(slots=True)
class _Cmd(_Node):
    args: list[_Node]

    def go(self) -> str:
        return " ".join(a.go() for a in self.args)


@dataclass(slots=True)
class _Pipe(_Node):
    decl: list[str]
    assign: bool
    cmds: list[_Cmd]

    def go(self) -> str:
        head = ", ".join(self.decl) + (" = " if self.assign else " := ") if self.decl else ""
        return head + " | ".join(c.go() for c in self.cmds)


@dataclass(slots=True)
class _Paren(_Node):
    pipe: _Pipe
    names: tuple[str, ...] = ()

    def go(self) -> str:
        return f"({self.pipe.go()})" + "".join("." + n for n in self.names)


@dataclass(slots=True)
class _Text(_Node):
    text: str


@dataclass(slots=True)
class _Action(_Node):
    pipe: _Pipe


@dataclass(slots=True)
class _Branch(_Node):
    kind: str  # if, range, with
    pipe: _Pipe
    body: list[_Node]
    orelse: list[_Node] = field(default_factory=list)


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class _Parser:
    """Recursive descent over the token list, with Go's error messages."""

    def __init__(self, toks: list[_Tok], funcs: Mapping[str, object]) -> None:
        self.toks = toks
        self.i = 0
        self.funcs = funcs
        self.vars: list[str] = ["$"]

    def fail(self, msg: str, tok: _Tok | None = None) -> TemplateError:
        line = (tok or self.toks[min(self.i, len(self.toks) - 1)]).line
        return TemplateError(f"template: :{line}: {msg}")

    def next(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind == "error":
            raise TemplateError(tok.text)
        self.i += 1
        return tok

    def next_nonspace(self) -> _Tok:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_nonspace(self) -> _Tok:
        j = self.i
        while self.toks[j].kind == "space":
            j += 1
        if self.toks[j].kind == "error":
            raise TemplateError(self.toks[j].text)
        return self.toks[j]

    def unexpected(self, tok: _Tok, context: str) -> TemplateError:
        shown = {"eof": "EOF", "close": "<}}>"}.get(tok.kind)
        if tok.kind == "keyword":
            shown = f"<{tok.text}>"
        return self.fail(f"unexpected {shown or _go_quote(tok.text)} in {context}", tok)

    def parse(self) -> list[_Node]:
        body, term, tok = self.parse_list()
        if term != "eof":
            raise self.fail(f"unexpected {{{{{term}}}}}", tok)
        return body

    def parse_list(self) -> tuple[list[_Node], str, _Tok]:
        """Parse nodes until EOF, ``{{end}}`` or ``{{else}}`` (returned, consumed)."""
        nodes: list[_Node] = []
        while True:
            tok = self.next()
            if tok.kind == "eof":
                return nodes, "eof", tok
            if tok.kind == "text":
                nodes.append(_Text(tok.pos, tok.text))
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
            nodes.append(_Action(tok.pos, pipe))

    def expect_close(self, context: str) -> None:
        tok = self.next_nonspace()
        if tok.kind != "close":
            raise self.unexpected(tok, context)

    def parse_branch(self, head: _Tok) -> _Branch:
        depth = len(self.vars)
        pipe = self.parse_pipe(head.text, "close")
        body, term, tok = self.parse_list()
        orelse: list[_Node] = []
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
        return _Branch(head.pos, head.text, pipe, body, orelse)

    def parse_pipe(self, context: str, end: str) -> _Pipe:
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
                    raise self.fail(f"undefined variable {_go_quote(decl[0])}", after)
                if not assign:
                    self.vars.extend(decl)
        cmds: list[_Cmd] = []
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
        return _Pipe(start.pos, decl, assign, cmds)

    def parse_command(self) -> _Cmd:
        args: list[_Node] = []
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
        return _Cmd(pos, args)

    def parse_operand(self) -> _Node | None:
        node = self.parse_term()
        if node is None or self.toks[self.i].kind != "field":
            return node
        chain_pos = self.toks[self.i].pos
        names: list[str] = []
        while self.toks[self.i].kind == "field":
            names.append(self.next().text[1:])
        if isinstance(node, _Field):
            return _Field(chain_pos, (*node.names, *names), node.var)
        if isinstance(node, _Paren):
            return _Paren(node.pos, node.pipe, (*node.names, *names))
        raise self.fail(f"unexpected . after term {_go_quote(node.go())}")

    def parse_term(self) -> _Node | None:
        tok = self.next()
        kind, text = tok.kind, tok.text
        if kind == "ident":
            if text not in self.funcs:
                raise self.fail(f"function {_go_quote(text)} not defined", tok)
            return _Ident(tok.pos, text)
        if kind == "dot":
            return _Dot(tok.pos)
        if kind == "field":
            return _Field(tok.pos, (text[1:],))
        if kind == "variable":
            if text not in self.vars:
                raise self.fail(f"undefined variable {_go_quote(text)}", tok)
            return _Field(tok.pos, (), text)
        if kind in ("nil", "bool", "number", "string", "raw", "char"):
            return _Lit(tok.pos, self.literal(tok), text)
        if text == "(":
            return _Paren(tok.pos, self.parse_pipe("parenthesized pipeline", "paren"))
        self.i -= 1
        return None

    def literal(self, tok: _Tok) -> Any:
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
                raise self.fail(f"bad number syntax: {_go_quote(text)}", tok) from None


# --- values: Go's printing, JSON and truth -----------------------------------------


def go_type(value: Any) -> str:
    """The Go type name a value stands for, as error messages show it."""
    if value is None or value is NO_VALUE:
        return "interface {}"
    for py, name in ((bool, "bool"), (int, "int"), (float, "float64"), (str, "string")):
        if isinstance(value, py):
            return name
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        return "[]string" if value and all(isinstance(v, str) for v in value) else "[]interface {}"
    return str(getattr(type(value), "GO_TYPE", type(value).__name__))


def _shortest(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``abs(f)`` and the decimal exponent of the first one."""
    mant, _, exp = f"{abs(f)!r}".partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = int(exp or 0) + len(whole.lstrip("0")) - 1
    if not whole.strip("0"):
        exponent = int(exp or 0) - (len(frac) - len(frac.lstrip("0"))) - 1
    return digits.rstrip("0") or "0", exponent


def _fixed(digits: str, exp: int) -> str:
    if exp < 0:
        return "0." + "0" * (-exp - 1) + digits
    if len(digits) <= exp + 1:
        return digits + "0" * (exp + 1 - len(digits))
    return digits[: exp + 1] + "." + digits[exp + 1 :]


def go_float(f: float, *, json_style: bool = False) -> str:
    """Format like Go's ``%v`` (``strconv 'g', -1``) or, with json_style, encoding/json."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, exp = _shortest(f)
    # strconv's shortest %g switches to an exponent at 1e+06; encoding/json at 1e21.
    use_e = not (1e-6 <= abs(f) < 1e21) if json_style else exp < -4 or exp >= 6
    if not use_e:
        return sign + _fixed(digits, exp)
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    esign = "-" if exp < 0 else "+"
    width = 1 if json_style else 2
    return f"{sign}{mant}e{esign}{abs(exp):0{width}d}"


def go_print(value: Any) -> str:
    """Go's ``fmt.Sprint`` of one value (``%v``)."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{go_print(k)}:{go_print(v)}" for k, v in items) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    return str(value)


def go_json(value: Any) -> str:
    """The docker CLI's ``json`` function: compact, no HTML escaping, keys in order."""
    if value is None or value is NO_VALUE:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) or math.isinf(value) else go_float(value, json_style=True)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{go_json(str(k))}:{go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    marshal = getattr(value, "marshal_json", None)
    if callable(marshal):
        return str(marshal())
    if hasattr(value, "__dataclass_fields__"):
        return go_json({k: getattr(value, k) for k in value.__dataclass_fields__})
    return go_json(str(value))


def truth(value: Any) -> bool:
    """Go's template truth: zero values, nil and empty collections are false."""
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, bool | int | float | str | Mapping | list | tuple):
        return bool(value)
    return True


# --- functions --------------------------------------------------------------------


class _CallError(Exception):
    """A function failed: reported as ``error calling NAME: ...``."""


@dataclass(frozen=True, slots=True)
class _Func:
    fn: Callable[..., Any]
    params: tuple[str, ...]  # "string", "int", "[]string" or "any"
    variadic: bool = False  # the last param repeats


def _title(s: str) -> str:
    out, prev = [], " "
    for ch in s:
        out.append(ch.upper() if not (prev.isalnum() or prev == "_") else ch)
        prev = ch
    return "".join(out)


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if item is None or item is NO_VALUE:
            raise _CallError("index of untyped nil")
        if isinstance(item, Mapping):
            item = item.get(key, NO_VALUE)
        elif isinstance(item, list | tuple | str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _CallError(f"cannot index slice/array with type {go_type(key)}")
            if not 0 <= key < len(item):
                raise _CallError(f"index out of range: {key}")
            item = item[key] if not isinstance(item, str) else item.encode()[key]
        else:
            raise _CallError(f"can't index item of type {go_type(item)}")
    return item


def _len(item: Any) -> int:
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, Mapping | list | tuple):
        return len(item)
    raise _CallError(f"len of type {go_type(item)}")


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    kinds = (bool, int, float, str)
    ka = next((k for k in kinds if isinstance(a, k)), None)
    kb = next((k for k in kinds if isinstance(b, k)), None)
    if ka is None or kb is None:
        if a is None or b is None or a is NO_VALUE or b is NO_VALUE:
            return a, b
        raise _CallError("invalid type for comparison")
    if ka is not kb:
        raise _CallError("incompatible types for comparison")
    return a, b


def _eq(a: Any, *others: Any) -> bool:
    if not others:
        raise _CallError("missing argument for comparison")
    return any(x == y for x, y in (_comparable(a, b) for b in others))


def _less(a: Any, b: Any) -> bool:
    x, y = _comparable(a, b)
    if isinstance(x, bool) or x is None or y is None:
        raise _CallError("invalid type for comparison")
    return bool(x < y)


def _sprint(*args: Any) -> str:
    out = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_print(arg))
    return "".join(out)


_VERB_RE = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])")


def _sprintf(fmt: str, *args: Any) -> str:
    """Go's ``fmt.Sprintf`` for the common verbs (v s d q x X f e g t c)."""
    queue = list(args)

    def one(m: re.Match[str]) -> str:
        flags, width, prec, verb = m.groups()
        if verb == "%":
            return "%"
        if not queue:
            return f"%!{verb}(MISSING)"
        arg = queue.pop(0)
        text = _verb(verb, arg, prec)
        if width:
            pad = "0" if "0" in flags and "-" not in flags and verb in "dfegxX" else " "
            align = "<" if "-" in flags else ">"
            if pad == "0" and text.startswith("-"):
                text = "-" + text[1:].rjust(int(width) - 1, "0")
            text = format(text, f"{pad}{align}{width}")
        if "+" in flags and verb in "dfeg" and not text.lstrip().startswith("-"):
            text = "+" + text
        return text

    out = _VERB_RE.sub(one, fmt)
    if queue:
        out += "%!(EXTRA " + ", ".join(f"{go_type(a)}={go_print(a)}" for a in queue) + ")"
    return out


def _verb(verb: str, arg: Any, prec: str | None) -> str:
    is_int = isinstance(arg, int) and not isinstance(arg, bool)
    if arg is None:
        return "<nil>" if verb == "v" else f"%!{verb}(<nil>)"
    if verb in "sv":
        text = go_print(arg)
        return text[: int(prec or 0)] if prec is not None and verb == "s" else text
    if verb == "d" and is_int:
        return str(arg)
    if verb == "q" and isinstance(arg, str):
        return _go_quote(arg)
    if verb in "xX" and (is_int or isinstance(arg, str)):
        text = format(arg, "x") if is_int else arg.encode().hex()
        return text.upper() if verb == "X" else text
    if verb in "feg" and isinstance(arg, float | int) and not isinstance(arg, bool):
        if verb == "g" and prec is None:
            return go_float(float(arg))
        return format(float(arg), f".{6 if prec is None else int(prec or 0)}{verb}")
    if verb == "t" and isinstance(arg, bool):
        return go_print(arg)
    if verb == "c" and is_int:
        return chr(arg)
    return f"%!{verb}({go_type(arg)}={go_print(arg)})"


def _split(s: str, sep: str) -> list[str]:
    return list(s) if sep == "" else s.split(sep)


def _pad(s: str, prefix: int, suffix: int) -> str:
    return s and " " * prefix + s + " " * suffix


def _same(s: Any, *_: Any) -> Any:
    return s


_FUNCS: dict[str, _Func] = {
    # Go's text/template built-ins.
    "and": _Func(lambda *a: a, ("any", "any"), variadic=True),
    "or": _Func(lambda *a: a, ("any", "any"), variadic=True),
    "not": _Func(lambda a: not truth(a), ("any",)),
    "len": _Func(_len, ("any",)),
    "index": _Func(_index, ("any", "any"), variadic=True),
    "print": _Func(_sprint, ("any",), variadic=True),
    "println": _Func(lambda *a: " ".join(go_print(x) for x in a) + "\n", ("any",), variadic=True),
    "printf": _Func(_sprintf, ("string", "any"), variadic=True),
    "eq": _Func(_eq, ("any", "any"), variadic=True),
    "ne": _Func(lambda a, b: not _eq(a, b), ("any", "any")),
    "lt": _Func(_less, ("any", "any")),
    "le": _Func(lambda a, b: _less(a, b) or _eq(a, b), ("any", "any")),
    "gt": _Func(lambda a, b: not (_less(a, b) or _eq(a, b)), ("any", "any")),
    "ge": _Func(lambda a, b: not _less(a, b), ("any", "any")),
    # The docker CLI's additions (cli/templates).
    "json": _Func(go_json, ("any",)),
    "split": _Func(_split, ("string", "string")),
    "join": _Func(lambda items, sep: sep.join(items), ("[]string", "string")),
    "title": _Func(_title, ("string",)),
    "lower": _Func(str.lower, ("string",)),
    "upper": _Func(str.upper, ("string",)),
    "pad": _Func(_pad, ("string", "int", "int")),
    "truncate": _Func(lambda s, n: s if len(s) < n else s[:n], ("string", "int")),
}
# For the header row of a table the CLI swaps these in, so "{{upper .Name}}" keeps "NAME".
_HEADER_FUNCS: dict[str, _Func] = {
    **_FUNCS,
    **{n: _Func(_same, _FUNCS[n].params) for n in ("json", "title", "lower", "upper")},
    **{n: _Func(_same, ("string", "any")) for n in ("split", "join", "truncate")},
}
_VARIADIC_MIN = {"and": 1, "or": 1, "index": 1, "print": 0, "println": 0, "printf": 1, "eq": 1}


# --- execution -------------------------------------------------------------------

_NONE: Any = object()  # "no final value": the first command of a pipeline


class _Exec:
    """One execution: variables, output, and Go-worded errors with positions."""

    def __init__(self, src: str, funcs: Mapping[str, _Func], missing_key_error: bool) -> None:
        self.src = src
        self.funcs = funcs
        self.missing_key_error = missing_key_error
        self.vars: list[tuple[str, Any]] = []
        self.out: list[str] = []

    def fail(self, node: _Node, msg: str) -> TemplateError:
        pos = node.pos
        line = self.src.count("\n", 0, pos) + 1
        col = pos - (self.src.rfind("\n", 0, pos) + 1)
        context = node.go()
        if len(context) > 20:
            context = context[:20] + "..."
        return TemplateError(f'template: :{line}:{col}: executing "" at <{context}>: {msg}')

    def walk(self, nodes: list[_Node], dot: Any) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                self.out.append(node.text)
            elif isinstance(node, _Action):
                value = self.pipe(dot, node.pipe)
                if not node.pipe.decl:
                    self.out.append(go_print(value))
            elif isinstance(node, _Branch):
                depth = len(self.vars)
                self.branch(node, dot)
                del self.vars[depth:]

    def branch(self, node: _Branch, dot: Any) -> None:
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

    def iterate(self, node: _Branch, value: Any) -> list[tuple[Any, Any]]:
        if value is NO_VALUE or value is None:
            return []
        if isinstance(value, Mapping):
            return [(k, value[k]) for k in sorted(value, key=str)]
        if isinstance(value, list | tuple):
            return list(enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return [(i, i) for i in range(value)]
        raise self.fail(node.pipe, f"range can't iterate over {go_print(value)}")

    def pipe(self, dot: Any, pipe: _Pipe) -> Any:
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

    def command(self, dot: Any, cmd: _Cmd, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, _Ident):
            return self.call(dot, cmd, first, cmd.args[1:], final)
        if isinstance(first, _Field | _Paren):
            return self.chain(dot, first, cmd.args[1:], final)
        if len(cmd.args) > 1 or final is not _NONE:
            raise self.fail(first, f"can't give argument to non-function {first.go()}")
        return self.arg(dot, first)

    def arg(self, dot: Any, node: _Node) -> Any:
        if isinstance(node, _Lit):
            return node.value
        if isinstance(node, _Dot):
            return dot
        if isinstance(node, _Ident):
            return self.call(dot, _Cmd(node.pos, [node]), node, [], _NONE)
        return self.chain(dot, node, [], _NONE)

    def variable(self, node: _Node, name: str) -> Any:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise self.fail(node, f"undefined variable: {name}")

    def chain(self, dot: Any, node: _Node, args: list[_Node], final: Any) -> Any:
        if isinstance(node, _Paren):
            value, names = self.pipe(dot, node.pipe), node.names
        else:
            assert isinstance(node, _Field)
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
        node: _Node,
        name: str,
        recv: Any,
        *,
        typ: str,
        args: list[_Node],
        final: Any,
    ) -> tuple[Any, str]:
        has_args = bool(args) or final is not _NONE
        if recv is NO_VALUE:
            if self.missing_key_error:
                raise self.fail(node, f"nil data; no entry for key {_go_quote(name)}")
            return NO_VALUE, typ
        if recv is None:
            raise self.fail(node, f"nil pointer evaluating {typ}.{name}")
        if isinstance(recv, Mapping):
            if has_args:
                raise self.fail(node, f"{name} is not a method but has arguments")
            if name in recv:
                return recv[name], "interface {}"
            if self.missing_key_error:
                raise self.fail(node, f"map has no entry for key {_go_quote(name)}")
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

    def call(self, dot: Any, cmd: _Cmd, ident: _Ident, args: list[_Node], final: Any) -> Any:
        func = self.funcs[ident.name]
        count = len(args) + (final is not _NONE)
        want = len(func.params)
        if func.variadic:
            least = _VARIADIC_MIN.get(ident.name, want - 1)
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
        nodes: list[_Node] = [*args, cmd]
        for i, node in enumerate(nodes):
            value = final if node is cmd else self.arg(dot, node)
            if node is cmd and final is _NONE:
                break
            param = func.params[min(i, want - 1)]
            values.append(self.check_type(node, param, value))
        try:
            return func.fn(*values)
        except _CallError as exc:
            raise self.fail(cmd, f"error calling {ident.name}: {exc}") from None

    def check_type(self, node: _Node, param: str, value: Any) -> Any:
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


# --- public API ------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A parsed ``--format`` template.

    Attributes:
        source: The template text as parsed (after the formatter's rewriting).
        is_table: The format started with ``table``: print a header row and
            align columns with a tabwriter.
        header_fields: The top-level fields the template prints, in order
            (``["ID", "Names"]`` for ``table {{.ID}}\\t{{.Names}}``).
    """

    source: str
    is_table: bool
    header_fields: tuple[str, ...]
    _tree: list[_Node] = field(repr=False, compare=False)

    def execute(self, data: Any, *, missing_key_error: bool = False) -> str:
        """Render the template with ``data`` as dot.

        Args:
            data: A dict (a Go map) or an object (a Go struct).
            missing_key_error: Go's ``missingkey=error`` option, which
                ``docker inspect`` uses when it falls back to raw JSON.

        Raises:
            TemplateError: Go's execution error, e.g. ``template: :1:2:
                executing "" at <.Nope>: can't evaluate field Nope in type T``.
        """
        run = _Exec(self.source, _FUNCS, missing_key_error)
        run.vars.append(("$", data))
        run.walk(self._tree, data)
        return "".join(run.out)

    def header(self, headers: Mapping[str, str]) -> str:
        """Render the header row: the template run over column titles.

        Like the CLI, string functions leave the titles untouched
        (``{{upper .Names}}`` still shows ``NAMES``) but ``pad`` applies.
        """
        run = _Exec(self.source, _HEADER_FUNCS, False)
        run.vars.append(("$", headers))
        run.walk(self._tree, headers)
        return "".join(run.out)


def _fields(nodes: list[_Node]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, _Action | _Branch):
            yield from _pipe_fields(node.pipe)
        if isinstance(node, _Branch) and node.kind == "if":
            yield from _fields(node.body)
            yield from _fields(node.orelse)


def _pipe_fields(pipe: _Pipe) -> Iterator[str]:
    for cmd in pipe.cmds:
        for arg in cmd.args:
            if isinstance(arg, _Field) and arg.names and not arg.var:
                yield arg.names[0]
            elif isinstance(arg, _Paren):
                yield from _pipe_fields(arg.pipe)


def compile_template(text: str, *, formatter: bool = True) -> Template:
    """Parse a ``--format`` string the way the docker CLI does.

    Args:
        text: The format as the user typed it.
        formatter: Apply the CLI formatter's rewriting (``table`` prefix,
            ``json``, trimming, ``\\t``/``\\n``), as ``ps``, ``images`` and
            friends do; ``docker inspect`` parses the text as is.

    Raises:
        TemplateError: Go's parse error, e.g. ``template: :1: unclosed action``
            (the CLI prefixes ``template parsing error: ``).
    """
    is_table = formatter and text.startswith("table")
    if formatter:
        if is_table:
            text = text[len("table") :]
        elif text == "json":
            text = "{{json .}}"
        text = text.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    tree = _Parser(_lex(text), _FUNCS).parse()
    names = tuple(dict.fromkeys(_fields(tree)))
    return Template(text, is_table, names, tree)
