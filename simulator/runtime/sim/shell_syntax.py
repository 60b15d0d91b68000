"""The grammar of the virtual ``sh``: a recursive-descent parser for POSIX shell.

It covers what container scripts and ``docker run ... sh -c`` use: lists with
``;``, ``&``, ``&&``, ``||``; pipelines; redirects (``>``, ``>>``, ``<``,
``2>&1``, here-documents); quoting; parameter expansion (``$X``, ``${X:-d}``,
``${#X}``, ``${X%pat}``); ``$(...)``, backquotes and ``$((...))``; ``if``,
``while``/``until``, ``for``, ``case``, ``{ }``, ``( )`` and functions.
Words keep their quoting so the interpreter can split fields and glob.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Incomplete(Exception):
    """The input ends inside a construct (the interactive shell asks for more with ``> ``)."""


class ShellSyntaxError(Exception):
    """``sh: syntax error: unexpected "fi"``."""


@dataclass(frozen=True, slots=True)
class Lit:
    text: str
    quoted: bool


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    quoted: bool
    op: str = ""
    arg: Word | None = None


@dataclass(frozen=True, slots=True)
class CmdSub:
    body: Sequence
    quoted: bool


@dataclass(frozen=True, slots=True)
class Arith:
    expr: Word
    quoted: bool


Part = Lit | Param | CmdSub | Arith


@dataclass(frozen=True, slots=True)
class Word:
    parts: tuple[Part, ...]

    def literal(self) -> str | None:
        """The text if the word is one unquoted literal (reserved words, names)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None


@dataclass(slots=True)
class Redirect:
    fd: int
    op: str
    target: Word


@dataclass(slots=True)
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirects: list[Redirect]


@dataclass(slots=True)
class Pipeline:
    commands: list[Node]
    negate: bool = False


@dataclass(slots=True)
class AndOr:
    first: Node
    rest: list[tuple[str, Node]]


@dataclass(slots=True)
class Sequence:
    items: list[tuple[Node, bool]]


@dataclass(slots=True)
class If:
    clauses: list[tuple[Sequence, Sequence]]
    orelse: Sequence | None
    redirects: list[Redirect] = field(default_factory=list)


@dataclass(slots=True)
class Loop:
    cond: Sequence
    body: Sequence
    until: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass(slots=True)
class For:
    var: str
    items: list[Word] | None
    body: Sequence
    redirects: list[Redirect] = field(default_factory=list)


@dataclass(slots=True)
class Case:
    word: Word
    items: list[tuple[list[Word], Sequence]]
    redirects: list[Redirect] = field(default_factory=list)


@dataclass(slots=True)
class Group:
    body: Sequence
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass(slots=True)
class FuncDef:
    name: str
    body: Node


Node = Simple | Pipeline | AndOr | Sequence | If | Loop | For | Case | Group | FuncDef

RESERVED = frozenset(
    ["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case",
     "esac", "{", "}", "!"]
)  # fmt: skip
_OPERATORS = ("&&", "||", ";;", "<<-", "<<", ">>", ">&", "<&", ">|", "<>", "|", "&", ";", "<",
              ">", "(", ")", "\n")  # fmt: skip
_WORD_BREAK = " \t\n;&|<>()"
_SPECIAL_PARAMS = "?$#!@*-0123456789"


def _is_name(text: str) -> bool:
    return bool(text) and (text[0].isalpha() or text[0] == "_") and all(c.isalnum() or c == "_" for c in text)


def parse(source: str) -> Sequence:
    """Parse a whole script.

    Raises:
        Incomplete: the script ends inside a construct or a quote.
        ShellSyntaxError: with busybox's wording.
    """
    parser = Parser(source)
    seq = parser.parse_list(frozenset())
    parser.skip_space(newlines=True)
    if parser.i < len(parser.s):
        raise ShellSyntaxError(f'unexpected "{parser.peek_token()}"')
    return seq


class Parser:
    """Parses ``s`` from position ``i`` (sub-parsers continue inside ``$(...)``)."""

    def __init__(self, source: str, pos: int = 0) -> None:
        self.s = source
        self.i = pos
        self.heredocs: list[tuple[Redirect, str, bool, bool]] = []

    # -- scanning -----------------------------------------------------------
    def skip_space(self, newlines: bool = False) -> None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t" or (newlines and c == "\n"):
                if c == "\n":
                    self._newline()
                    continue
                self.i += 1
            elif c == "\\" and s.startswith("\\\n", self.i):
                self.i += 2
            elif c == "#":
                while self.i < len(s) and s[self.i] != "\n":
                    self.i += 1
            else:
                break

    def _newline(self) -> None:
        self.i += 1
        pending, self.heredocs = self.heredocs, []
        for redirect, delim, strip, quoted in pending:
            lines: list[str] = []
            while True:
                if self.i >= len(self.s):
                    raise Incomplete()
                end = self.s.find("\n", self.i)
                line = self.s[self.i : end if end >= 0 else len(self.s)]
                self.i = end + 1 if end >= 0 else len(self.s)
                check = line.lstrip("\t") if strip else line
                if check == delim:
                    break
                lines.append(check)
            body = "".join(line + "\n" for line in lines)
            redirect.target = Word((Lit(body, True),)) if quoted else _heredoc_word(body)

    def peek_op(self) -> str | None:
        for op in _OPERATORS:
            if self.s.startswith(op, self.i):
                return op
        return None

    def peek_token(self) -> str:
        save = self.i
        self.skip_space()
        op = self.peek_op()
        if op is not None:
            self.i = save
            return "newline" if op == "\n" else op
        word = self.read_word()
        self.i = save
        if word is None:
            return "end of file"
        return word.literal() or "word"

    def peek_reserved(self) -> str | None:
        save, heredocs = self.i, list(self.heredocs)
        self.skip_space()
        word = self.read_word() if self.peek_op() is None else None
        self.i, self.heredocs = save, heredocs
        text = word.literal() if word is not None else None
        return text if text in RESERVED else None

    def expect_reserved(self, name: str) -> None:
        got = self.peek_reserved()
        if got != name:
            if self.at_end():
                raise Incomplete()
            raise ShellSyntaxError(f'unexpected "{self.peek_token()}" (expecting "{name}")')
        self.skip_space()
        self.read_word()

    def at_end(self) -> bool:
        save = self.i
        try:
            self.skip_space(newlines=True)
            return self.i >= len(self.s)
        finally:
            self.i = save

    # -- words --------------------------------------------------------------
    def read_word(self) -> Word | None:
        s = self.s
        parts: list[Part] = []
        start = self.i
        while self.i < len(s):
            c = s[self.i]
            if c in _WORD_BREAK:
                break
            if c == "\\":
                if self.i + 1 >= len(s):
                    self.i += 1
                    break
                if s[self.i + 1] != "\n":
                    parts.append(Lit(s[self.i + 1], True))
                self.i += 2
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise Incomplete()
                parts.append(Lit(s[self.i + 1 : end], True))
                self.i = end + 1
            elif c == '"':
                self.i += 1
                parts.extend(self._dquoted())
            elif c == "$":
                parts.append(self._dollar(False))
            elif c == "`":
                parts.append(self._backtick(False))
            else:
                parts.append(Lit(c, False))
                self.i += 1
        if self.i == start:
            return None
        return Word(_merge(parts))

    def _dquoted(self) -> list[Part]:
        s = self.s
        parts: list[Part] = []
        while True:
            if self.i >= len(s):
                raise Incomplete()
            c = s[self.i]
            if c == '"':
                self.i += 1
                return parts
            if c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    parts.append(Lit(s[self.i + 1], True))
                self.i += 2
            elif c == "$":
                parts.append(self._dollar(True))
            elif c == "`":
                parts.append(self._backtick(True))
            else:
                parts.append(Lit(c, True))
                self.i += 1

    def _dollar(self, quoted: bool) -> Part:
        s = self.s
        nxt = s[self.i + 1] if self.i + 1 < len(s) else ""
        if s.startswith("$((", self.i):
            depth, j = 0, self.i + 3
            while j < len(s):
                if s[j] == "(":
                    depth += 1
                elif s[j] == ")":
                    if depth == 0 and s.startswith("))", j):
                        break
                    depth -= 1
                j += 1
            else:
                raise Incomplete()
            expr = s[self.i + 3 : j]
            self.i = j + 2
            return Arith(_heredoc_word(expr), quoted)
        if nxt == "(":
            sub = Parser(s, self.i + 2)
            body = sub.parse_list(frozenset(), stop_paren=True)
            sub.skip_space(newlines=True)
            if sub.i >= len(s):
                raise Incomplete()
            if s[sub.i] != ")":
                raise ShellSyntaxError(f'unexpected "{sub.peek_token()}"')
            self.i = sub.i + 1
            return CmdSub(body, quoted)
        if nxt == "{":
            return self._braced(quoted)
        if nxt and (nxt.isalpha() or nxt == "_"):
            j = self.i + 1
            while j < len(s) and (s[j].isalnum() or s[j] == "_"):
                j += 1
            name = s[self.i + 1 : j]
            self.i = j
            return Param(name, quoted)
        if nxt and nxt in _SPECIAL_PARAMS:
            self.i += 2
            return Param(nxt, quoted)
        self.i += 1
        return Lit("$", quoted)

    def _braced(self, quoted: bool) -> Part:
        s = self.s
        self.i += 2
        length = False
        if self.i < len(s) and s[self.i] == "#" and self.i + 1 < len(s) and s[self.i + 1] != "}":
            length = True
            self.i += 1
        j = self.i
        if j < len(s) and s[j] in _SPECIAL_PARAMS and not s[j].isdigit():
            j += 1
        else:
            while j < len(s) and (s[j].isalnum() or s[j] == "_"):
                j += 1
        name = s[self.i : j]
        self.i = j
        if not name:
            raise ShellSyntaxError("bad substitution")
        if length:
            self._expect_brace()
            return Param(name, quoted, "#len")
        op = ""
        for cand in (":-", ":=", ":+", ":?", "##", "%%", "-", "=", "+", "?", "#", "%"):
            if s.startswith(cand, self.i):
                op = cand
                self.i += len(cand)
                break
        if not op:
            self._expect_brace()
            return Param(name, quoted)
        arg = self._brace_arg(quoted)
        return Param(name, quoted, op, arg)

    def _expect_brace(self) -> None:
        if self.i >= len(self.s):
            raise Incomplete()
        if self.s[self.i] != "}":
            raise ShellSyntaxError("bad substitution")
        self.i += 1

    def _brace_arg(self, quoted: bool) -> Word:
        s = self.s
        parts: list[Part] = []
        while True:
            if self.i >= len(s):
                raise Incomplete()
            c = s[self.i]
            if c == "}":
                self.i += 1
                return Word(_merge(parts))
            if c == "\\" and self.i + 1 < len(s):
                parts.append(Lit(s[self.i + 1], True))
                self.i += 2
            elif c == "'" and not quoted:
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise Incomplete()
                parts.append(Lit(s[self.i + 1 : end], True))
                self.i = end + 1
            elif c == '"':
                self.i += 1
                parts.extend(self._dquoted())
            elif c == "$":
                parts.append(self._dollar(quoted))
            else:
                parts.append(Lit(c, quoted))
                self.i += 1

    def _backtick(self, quoted: bool) -> Part:
        s = self.s
        j = self.i + 1
        buf: list[str] = []
        while j < len(s) and s[j] != "`":
            if s[j] == "\\" and j + 1 < len(s) and s[j + 1] in "`\\$":
                buf.append(s[j + 1])
                j += 2
                continue
            buf.append(s[j])
            j += 1
        if j >= len(s):
            raise Incomplete()
        self.i = j + 1
        return CmdSub(parse("".join(buf)), quoted)

    # -- grammar ----------------------------------------------------------------
    def parse_list(self, stops: frozenset[str], stop_paren: bool = False) -> Sequence:
        items: list[tuple[Node, bool]] = []
        while True:
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                break
            op = self.peek_op()
            if (op == ")" and stop_paren) or op == ";;":
                break
            if op is not None and op != "(" and op[0] not in "<>":
                raise ShellSyntaxError(f'unexpected "{op}"')
            if op is None and self.peek_reserved() in stops:
                break
            node = self.parse_and_or()
            self.skip_space()
            op = self.peek_op()
            items.append((node, op == "&"))
            if op in ("&", ";"):
                self.i += 1
                continue
            if op == "\n":
                continue
            if op in (")", ";;") or self.i >= len(self.s):
                break
            raise ShellSyntaxError(f'unexpected "{self.peek_token()}"')
        return Sequence(items)

    def parse_and_or(self) -> Node:
        first = self.parse_pipeline()
        rest: list[tuple[str, Node]] = []
        while True:
            self.skip_space()
            op = self.peek_op()
            if op not in ("&&", "||"):
                break
            self.i += 2
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                raise Incomplete()
            rest.append((op, self.parse_pipeline()))
        return AndOr(first, rest) if rest else first

    def parse_pipeline(self) -> Node:
        negate = False
        if self.peek_reserved() == "!":
            self.skip_space()
            self.read_word()
            negate = True
        commands = [self.parse_command()]
        while True:
            self.skip_space()
            if self.peek_op() != "|":
                break
            self.i += 1
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                raise Incomplete()
            commands.append(self.parse_command())
        if len(commands) == 1 and not negate:
            return commands[0]
        return Pipeline(commands, negate)

    def parse_command(self) -> Node:
        self.skip_space()
        if self.i >= len(self.s):
            raise Incomplete()
        reserved = self.peek_reserved()
        node: Node
        if reserved is not None:
            if reserved not in ("if", "while", "until", "for", "case", "{"):
                raise ShellSyntaxError(f'unexpected "{reserved}"')
            self.skip_space()
            self.read_word()
            node = getattr(self, f"_parse_{'brace' if reserved == '{' else reserved}")()
            self._trailing_redirects(node)
            return node
        if self.peek_op() == "(":
            self.i += 1
            body = self.parse_list(frozenset(), stop_paren=True)
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                raise Incomplete()
            if self.peek_op() != ")":
                raise ShellSyntaxError(f'unexpected "{self.peek_token()}"')
            self.i += 1
            node = Group(body, True)
            self._trailing_redirects(node)
            return node
        return self._parse_simple()

    def _trailing_redirects(self, node: Node) -> None:
        while True:
            self.skip_space()
            redirect = self._maybe_redirect()
            if redirect is None:
                return
            node.redirects.append(redirect)  # type: ignore[union-attr]

    def _maybe_redirect(self) -> Redirect | None:
        s = self.s
        j = self.i
        while j < len(s) and s[j].isdigit():
            j += 1
        fd_text = s[self.i : j]
        if j < len(s) and s[j] in "<>":
            save = self.i
            self.i = j
            op = self.peek_op()
            if op not in ("<<-", "<<", ">>", ">&", "<&", ">|", "<>", "<", ">"):
                self.i = save
                return None
            self.i += len(op)
            fd = int(fd_text) if fd_text else (0 if op.startswith("<") else 1)
            self.skip_space()
            target = self.read_word()
            if target is None:
                if self.i >= len(s):
                    raise Incomplete()
                raise ShellSyntaxError(f'unexpected "{self.peek_token()}"')
            redirect = Redirect(fd, op, target)
            if op in ("<<", "<<-"):
                delim = "".join(p.text for p in target.parts if isinstance(p, Lit))
                quoted = any(isinstance(p, Lit) and p.quoted for p in target.parts)
                self.heredocs.append((redirect, delim, op == "<<-", quoted))
                redirect.op = "<<"
            return redirect
        return None

    def _parse_simple(self) -> Node:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            self.skip_space()
            if self.i >= len(self.s):
                break
            redirect = self._maybe_redirect()
            if redirect is not None:
                redirects.append(redirect)
                continue
            if self.peek_op() is not None:
                if self.peek_op() == "(" and len(words) == 1 and not assigns:
                    name = words[0].literal()
                    if name and self.s.startswith("()", self.i):
                        self.i += 2
                        self.skip_space(newlines=True)
                        return FuncDef(name, self.parse_command())
                break
            word = self.read_word()
            if word is None:
                break
            if not words:
                first = word.parts[0] if word.parts else None
                if isinstance(first, Lit) and not first.quoted and "=" in first.text:
                    name, _, rest = first.text.partition("=")
                    if _is_name(name):
                        value = Word(_merge([Lit(rest, False), *word.parts[1:]]))
                        assigns.append((name, value))
                        continue
            words.append(word)
        if not words and not assigns and not redirects:
            if self.i >= len(self.s):
                raise Incomplete()
            raise ShellSyntaxError(f'unexpected "{self.peek_token()}"')
        return Simple(assigns, words, redirects)

    def _parse_if(self) -> Node:
        clauses: list[tuple[Sequence, Sequence]] = []
        orelse: Sequence | None = None
        while True:
            cond = self.parse_list(frozenset({"then"}))
            self.expect_reserved("then")
            body = self.parse_list(frozenset({"elif", "else", "fi"}))
            clauses.append((cond, body))
            nxt = self.peek_reserved()
            if nxt is None and self.at_end():
                raise Incomplete()
            self.skip_space(newlines=True)
            self.read_word()
            if nxt == "elif":
                continue
            if nxt == "else":
                orelse = self.parse_list(frozenset({"fi"}))
                self.expect_reserved("fi")
            elif nxt != "fi":
                raise ShellSyntaxError(f'unexpected "{nxt}"')
            return If(clauses, orelse)

    def _parse_while(self, until: bool = False) -> Node:
        cond = self.parse_list(frozenset({"do"}))
        self.expect_reserved("do")
        body = self.parse_list(frozenset({"done"}))
        self.expect_reserved("done")
        return Loop(cond, body, until)

    def _parse_until(self) -> Node:
        return self._parse_while(until=True)

    def _parse_for(self) -> Node:
        self.skip_space()
        name_word = self.read_word()
        name = name_word.literal() if name_word else None
        if not name or not _is_name(name):
            raise ShellSyntaxError("bad for loop variable")
        items: list[Word] | None = None
        self.skip_space(newlines=True)
        if self.peek_reserved() == "in":
            self.read_word()
            items = []
            while True:
                self.skip_space()
                if self.peek_op() is not None or self.i >= len(self.s):
                    break
                word = self.read_word()
                if word is None:
                    break
                items.append(word)
        self.skip_space()
        if self.peek_op() == ";":
            self.i += 1
        self.expect_reserved("do")
        body = self.parse_list(frozenset({"done"}))
        self.expect_reserved("done")
        return For(name, items, body)

    def _parse_case(self) -> Node:
        self.skip_space()
        word = self.read_word()
        if word is None:
            raise Incomplete() if self.i >= len(self.s) else ShellSyntaxError("bad case")
        self.expect_reserved("in")
        items: list[tuple[list[Word], Sequence]] = []
        while True:
            self.skip_space(newlines=True)
            if self.peek_reserved() == "esac":
                self.read_word()
                return Case(word, items)
            if self.i >= len(self.s):
                raise Incomplete()
            if self.peek_op() == "(":
                self.i += 1
            patterns: list[Word] = []
            while True:
                self.skip_space()
                pat = self.read_word()
                if pat is None:
                    raise Incomplete() if self.i >= len(self.s) else ShellSyntaxError("bad case")
                patterns.append(pat)
                self.skip_space()
                op = self.peek_op()
                if op == "|":
                    self.i += 1
                    continue
                if op == ")":
                    self.i += 1
                    break
                raise Incomplete() if self.i >= len(self.s) else ShellSyntaxError("bad case")
            body = self.parse_list(frozenset({"esac"}))
            items.append((patterns, body))
            self.skip_space(newlines=True)
            if self.peek_op() == ";;":
                self.i += 2

    def _parse_brace(self) -> Node:
        body = self.parse_list(frozenset({"}"}))
        self.expect_reserved("}")
        return Group(body, False)


def _merge(parts: list[Part]) -> tuple[Part, ...]:
    out: list[Part] = []
    for part in parts:
        prev = out[-1] if out else None
        if isinstance(part, Lit) and isinstance(prev, Lit) and prev.quoted == part.quoted:
            out[-1] = Lit(prev.text + part.text, part.quoted)
        else:
            out.append(part)
    return tuple(out)


def _heredoc_word(body: str) -> Word:
    """A here-document body or ``$((...))`` text: expansions apply, quotes do not."""
    parser = Parser(body)
    parts: list[Part] = []
    while parser.i < len(body):
        c = body[parser.i]
        if c == "\\" and parser.i + 1 < len(body) and body[parser.i + 1] in "$`\\":
            parts.append(Lit(body[parser.i + 1], True))
            parser.i += 2
        elif c == "$":
            parts.append(parser._dollar(True))
        elif c == "`":
            parts.append(parser._backtick(True))
        else:
            parts.append(Lit(c, True))
            parser.i += 1
    return Word(_merge(parts))
