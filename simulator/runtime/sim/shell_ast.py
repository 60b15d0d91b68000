"""The syntax tree of the virtual ``sh`` and the errors its parser raises.

A script parses into a :class:`Sequence` of nodes (simple commands,
pipelines, ``&&``/``||`` lists, ``if``, loops, ``for``, ``case``, groups and
function definitions). Words keep their parts (literal text, parameters,
command and arithmetic substitutions) with their quoting, so the
interpreter (``shell.py``, ``expand.py``) can split fields and glob as
``sh`` does.
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
