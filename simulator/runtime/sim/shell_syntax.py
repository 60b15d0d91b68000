"""The grammar of the virtual ``sh``: a recursive-descent parser for POSIX shell.

It covers what container scripts and ``docker run ... sh -c`` use: lists with
``;``, ``&``, ``&&``, ``||``; pipelines; redirects (``>``, ``>>``, ``<``,
``2>&1``, here-documents); quoting; parameter expansion (``$X``, ``${X:-d}``,
``${#X}``, ``${X%pat}``); ``$(...)``, backquotes and ``$((...))``; ``if``,
``while``/``until``, ``for``, ``case``, ``{ }``, ``( )`` and functions.
Words keep their quoting so the interpreter can split fields and glob.

The tree's nodes live in ``shell_ast.py`` and the tokenizer (blanks,
operators, words, here-documents) in ``shell_lex.py``; this module holds the
grammar and re-exports both, so ``shell_syntax`` stays the one name to import.
"""

from __future__ import annotations

from simulator.runtime.sim.shell_ast import (
    AndOr,
    Arith,
    Case,
    CmdSub,
    For,
    FuncDef,
    Group,
    If,
    Incomplete,
    Lit,
    Loop,
    Node,
    Param,
    Part,
    Pipeline,
    Redirect,
    Sequence,
    ShellSyntaxError,
    Simple,
    Word,
)
from simulator.runtime.sim.shell_lex import RESERVED, Scanner, merge_parts

__all__ = [
    "RESERVED",
    "AndOr",
    "Arith",
    "Case",
    "CmdSub",
    "For",
    "FuncDef",
    "Group",
    "If",
    "Incomplete",
    "Lit",
    "Loop",
    "Node",
    "Param",
    "Parser",
    "Part",
    "Pipeline",
    "Redirect",
    "Sequence",
    "ShellSyntaxError",
    "Simple",
    "Word",
    "parse",
]


def _is_name(text: str) -> bool:
    return bool(text) and (text[0].isalpha() or text[0] == "_") and all(c.isalnum() or c == "_" for c in text)


def parse(source: str) -> Sequence:
    """Parse a whole script.

    Raises:
        Incomplete: the script ends inside a construct or a quote.
        ShellSyntaxError: with busybox's wording.
    """
    return Parser(source).parse_script()


class Parser(Scanner):
    """Parses ``s`` from position ``i`` (sub-parsers continue inside ``$(...)``).

    The scanning (blanks, operators, words) is :class:`Scanner`'s; this class
    adds the grammar: lists, ``&&``/``||``, pipelines, commands, redirects and
    the compound commands.
    """

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
                        value = Word(merge_parts([Lit(rest, False), *word.parts[1:]]))
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
