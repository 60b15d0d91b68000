"""The tokenizer of the virtual ``sh``: blanks, operators, words and here-documents.

:class:`Scanner` reads the script character by character: it skips blanks,
comments and line continuations, recognises operators and reserved words,
and reads words with their quoting and expansions (``$X``, ``${X:-d}``,
``$(...)``, backquotes, ``$((...))``), collecting here-document bodies at
the end of their line. A command substitution is a script inside a word, so
the scanner recurses into the grammar: :class:`shell_syntax.Parser`
subclasses it and supplies :meth:`Scanner.parse_list`.
"""

from __future__ import annotations

from simulator.runtime.sim.shell_ast import (
    Arith,
    CmdSub,
    Incomplete,
    Lit,
    Param,
    Part,
    Redirect,
    Sequence,
    ShellSyntaxError,
    Word,
)

RESERVED = frozenset(
    ["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case",
     "esac", "{", "}", "!"]
)  # fmt: skip
_OPERATORS = ("&&", "||", ";;", "<<-", "<<", ">>", ">&", "<&", ">|", "<>", "|", "&", ";", "<",
              ">", "(", ")", "\n")  # fmt: skip
_WORD_BREAK = " \t\n;&|<>()"
_SPECIAL_PARAMS = "?$#!@*-0123456789"


class Scanner:
    """Scans ``s`` from position ``i``; the grammar is :class:`shell_syntax.Parser`'s."""

    def __init__(self, source: str, pos: int = 0) -> None:
        self.s = source
        self.i = pos
        self.heredocs: list[tuple[Redirect, str, bool, bool]] = []

    def parse_list(self, stops: frozenset[str], stop_paren: bool = False) -> Sequence:
        """The grammar's list rule, which ``$(...)`` and backquotes recurse into (see ``Parser``)."""
        raise NotImplementedError

    def parse_script(self) -> Sequence:
        """Parse from here to the end: a whole script (see ``shell_syntax.parse``)."""
        seq = self.parse_list(frozenset())
        self.skip_space(newlines=True)
        if self.i < len(self.s):
            raise ShellSyntaxError(f'unexpected "{self.peek_token()}"')
        return seq

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
            redirect.target = Word((Lit(body, True),)) if quoted else self._heredoc_word(body)

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
        return Word(merge_parts(parts))

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
            return Arith(self._heredoc_word(expr), quoted)
        if nxt == "(":
            sub = type(self)(s, self.i + 2)
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
                return Word(merge_parts(parts))
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
        return CmdSub(type(self)("".join(buf)).parse_script(), quoted)

    def _heredoc_word(self, body: str) -> Word:
        """A here-document body or ``$((...))`` text: expansions apply, quotes do not."""
        parser = type(self)(body)
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
        return Word(merge_parts(parts))


def merge_parts(parts: list[Part]) -> tuple[Part, ...]:
    """Join adjacent literal parts of the same quoting into one."""
    out: list[Part] = []
    for part in parts:
        prev = out[-1] if out else None
        if isinstance(part, Lit) and isinstance(prev, Lit) and prev.quoted == part.quoted:
            out[-1] = Lit(prev.text + part.text, part.quoted)
        else:
            out.append(part)
    return tuple(out)
