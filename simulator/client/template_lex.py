"""The lexer of Go templates: text, ``{{`` actions and their tokens.

Go lexes a template into plain text and actions; inside an action it knows
strings, raw strings, characters, numbers, fields, variables, identifiers and
punctuation, applies the ``{{-``/``-}}`` trim markers and drops comments. Its
errors (``unclosed action``, ``unterminated quoted string``) are reported
lazily, as an ``error`` token, so that an earlier parse error wins as in Go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.client.template_values import TemplateError

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
class Token:
    kind: str  # space, string, raw, char, number, field, dot, variable, ident, keyword,
    # punct, declare, char-other, close, eof
    text: str
    pos: int
    line: int


def lex(src: str) -> list[Token]:
    """Split a template into text and action tokens, applying trim markers."""
    toks: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        start = src.find("{{", i)
        if start < 0:
            toks.append(Token("text", src[i:], i, src.count("\n", 0, i) + 1))
            break
        inner = start + 2
        text = src[i:start]
        if src.startswith("-", inner) and inner + 1 < n and src[inner + 1] in " \t\r\n":
            text = text.rstrip(" \t\r\n")
            inner += 2
        if text:
            toks.append(Token("text", text, i, src.count("\n", 0, i) + 1))
        toks.append(Token("open", "{{", start, src.count("\n", 0, start) + 1))
        try:
            i = _lex_action(src, inner, toks)
        except TemplateError as exc:
            # Go lexes lazily: an earlier parse error wins over this one.
            toks.append(Token("error", exc.message, n, 0))
            break
    toks.append(Token("eof", "", n, src.count("\n") + 1))
    return toks


_RIGHT_TRIM_RE = re.compile(r"[ \t\r\n]+-}}")
_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)


def _lex_action(src: str, i: int, toks: list[Token]) -> int:
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
            toks.append(Token("close", "}}", i, line))
            return _skip_space(src, trim.end()) if trim is not None else i + 2
        m = _TOKEN_RE.match(src, i)
        if m is None or m.lastgroup is None:
            ch = src[i]
            if ch.isascii() and ch.isprintable():
                toks.append(Token("char-other", ch, i, line))
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
        toks.append(Token(kind, text, i, line))
        i = m.end()


_IDENT_KINDS = {"true": "bool", "false": "bool", "nil": "nil"}


def _skip_space(src: str, i: int) -> int:
    while i < len(src) and src[i] in " \t\r\n":
        i += 1
    return i
