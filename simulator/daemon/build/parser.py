"""Dockerfile text to an AST, exactly as Docker's parser reads it.

``docker build`` first turns the Dockerfile into a tree of nodes, one per
instruction, before any instruction means anything. Students meet its
quirks (line continuations, comments inside them, ``# escape=``, JSON vs
shell form, heredocs), so csim reproduces buildkit's
``frontend/dockerfile/parser`` behaviour and its ``Node.Dump()`` format.

Public API:

* :func:`parse_dockerfile` ``(text: str | bytes) -> Result``: the AST root
  (one child :class:`Node` per instruction, with ``start_line``/``end_line``),
  the parser directives (:class:`Directive`), the escape token and the
  warnings (:class:`ParseWarning`, e.g. empty continuation lines).
* :class:`Node` with :meth:`Node.dump` (buildkit's s-expression dump) and
  :meth:`Node.arg_values`.
* :class:`Heredoc`, :func:`parse_heredoc`, :func:`chomp_heredoc_content`.
* :class:`DockerfileParseError`: a 400 whose message is the one dockerd
  20.10 prints, ``failed to parse Dockerfile: <detail>``.

The next step, typed instructions and stages, is
:func:`simulator.daemon.build.instructions.parse_instructions`.

Where dockerd 20.10 and current buildkit differ, the parser follows
buildkit (the test vectors' source): heredocs (``RUN <<EOF``) are parsed,
instruction names keep their case in the AST (the dump lowercases them),
and an escaped escape token at the end of a line does not continue it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from simulator.daemon.build import line_parsers
from simulator.daemon.build.shell_lex import (
    GO_SPACE_CHARS,
    ShellExpansionError,
    ShellLex,
    go_quote,
    go_trim_space,
)
from simulator.model.errors import InvalidParameter

DEFAULT_ESCAPE_TOKEN = "\\"
MAX_LINE_BYTES = 65535  # bufio.MaxScanTokenSize - 1
HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})
_VALID_DIRECTIVES = frozenset({"syntax", "escape", "check"})
# Go's RE2 `\s` is [\t\n\f\r ]; Python's would also match \v and Unicode spaces.
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z", re.S)
_HEREDOC = re.compile(r"([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)\Z", re.S)
_LEADING_TABS = re.compile(r"^\t+", re.M)
_BOM = "\ufeff"


class DockerfileParseError(InvalidParameter):
    """The Dockerfile cannot be parsed.

    Attributes:
        detail: the parser's own words, e.g. ``ENV must have two arguments``.
        start_line: first line (1-based) of the offending instruction, or 0.
        end_line: last line of it, or 0.
    """

    def __init__(self, detail: str, start_line: int = 0, end_line: int = 0) -> None:
        super().__init__(f"failed to parse Dockerfile: {detail}")
        self.detail = detail
        self.start_line = start_line
        self.end_line = max(end_line, start_line)


@dataclass
class Heredoc:
    """A here-document attached to ``RUN``, ``COPY`` or ``ADD``.

    Attributes:
        name: the terminator word (``EOF``), quotes removed.
        file_descriptor: the ``N`` of ``N<<EOF`` (0 when absent).
        expand: variables in the content are expanded (the word was unquoted).
        chomp: ``<<-``: leading tabs are stripped from the content.
        content: the lines between the instruction and the terminator.
    """

    name: str
    file_descriptor: int = 0
    expand: bool = True
    chomp: bool = False
    content: str = ""


@dataclass
class Node:
    """One node of the parse tree.

    The root has one child per instruction. An instruction node's ``value``
    is the instruction as written (``RUN``, ``run``...), its arguments hang
    off ``next`` as a chain; an ``ONBUILD`` argument node has the trigger
    instruction as its only child.

    Attributes:
        value: the token's text.
        next: the next argument in the chain.
        children: instructions (root) or the ONBUILD trigger.
        heredocs: heredocs read after this instruction's line.
        json: the arguments were a JSON array (exec form).
        original: the instruction line after joining continuations.
        flags: ``--flag=value`` words before the arguments.
        start_line: first source line (1-based).
        end_line: last source line, heredocs included.
        prev_comment: comment lines directly above the instruction.
    """

    value: str = ""
    next: Node | None = None
    children: list[Node] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)
    json: bool = False
    original: str = ""
    flags: list[str] = field(default_factory=list)
    start_line: int = -1
    end_line: int = -1
    prev_comment: list[str] = field(default_factory=list)

    def iter_next(self) -> list[Node]:
        """The argument nodes chained after this one."""
        out: list[Node] = []
        node = self.next
        while node is not None:
            out.append(node)
            node = node.next
        return out

    def arg_values(self) -> list[str]:
        """The argument strings; an ONBUILD trigger contributes its words."""
        out: list[str] = []
        for arg in self.iter_next():
            if not arg.children:
                out.append(arg.value)
            elif len(arg.children) == 1:
                out.append(arg.children[0].value)
                out += arg.children[0].arg_values()
        return out

    def dump(self) -> str:
        """The tree as buildkit's ``Node.Dump()`` prints it.

        One ``(instruction ["--flags"] "arg"...)`` line per child, strings
        quoted like Go's ``strconv.Quote``.
        """
        parts = [self.value.lower()]
        if self.flags:
            parts.append(" [" + " ".join(go_quote(f) for f in self.flags) + "]")
        for child in self.children:
            parts.append("(" + child.dump() + ")\n")
        for arg in self.iter_next():
            parts.append(" " + (arg.dump() if arg.children else go_quote(arg.value)))
        return go_trim_space("".join(parts))

    def add_child(self, child: Node, start_line: int, end_line: int) -> None:
        """Append an instruction and widen this node's line range."""
        child.start_line, child.end_line = start_line, end_line
        if self.start_line < 0:
            self.start_line = start_line
        self.end_line = end_line
        self.children.append(child)

    def can_contain_heredoc(self) -> bool:
        """RUN/COPY/ADD in shell form (also as an ONBUILD trigger)."""
        node = self
        if node.value.lower() == "onbuild" and node.next is not None and node.next.children:
            node = node.next.children[0]
        return node.value.lower() in HEREDOC_INSTRUCTIONS and not node.json


@dataclass(frozen=True)
class Directive:
    """A parser directive such as ``# escape=``` or ``# syntax=...``."""

    name: str
    value: str
    line: int


@dataclass(frozen=True)
class ParseWarning:
    """Something the parser accepted but Docker warns about.

    Attributes:
        short: one-line text, e.g. ``Empty continuation line found in: RUN a b``.
        detail: longer explanation.
        url: Docker's documentation for the rule.
        line: the line the warning refers to.
    """

    short: str
    detail: str
    url: str
    line: int


@dataclass
class Result:
    """What :func:`parse_dockerfile` returns.

    Attributes:
        ast: the root node; ``ast.children`` are the instructions.
        escape_token: ``\\`` or the backtick set by ``# escape=```.
        warnings: non-fatal findings.
        directives: the parser directives found at the top of the file.
    """

    ast: Node
    escape_token: str = DEFAULT_ESCAPE_TOKEN
    warnings: list[ParseWarning] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)

    def warning_lines(self) -> list[str]:
        """The warnings as ``docker build`` prints them."""
        if not self.warnings:
            return []
        lines = [f"[WARNING]: {w.short}" for w in self.warnings]
        lines.append("[WARNING]: Empty continuation lines will become errors in a future release.")
        return lines


class _Directives:
    """Directive state: recognised only in the comment lines at the very top."""

    def __init__(self) -> None:
        self.escape_token = DEFAULT_ESCAPE_TOKEN
        self.continuation = _continuation_regex(DEFAULT_ESCAPE_TOKEN)
        self.found: list[Directive] = []
        self.seen: set[str] = set()
        self.done = False
        self.line = 0

    def check(self, line: str) -> bool:
        """Consume ``line`` as a possible directive; report whether it was one."""
        self.line += 1
        if self.done:
            return False
        if not line.startswith("#"):
            self.done = True
            return False
        match = _DIRECTIVE.match(line[1:].lstrip(GO_SPACE_CHARS))
        if match is None or match.group(1).lower() not in _VALID_DIRECTIVES:
            self.done = True
            return False
        name = match.group(1).lower()
        if name in self.seen:
            raise DockerfileParseError(f"only one {name} parser directive can be used", self.line - 1)
        self.seen.add(name)
        value = match.group(2)
        if name == "escape":
            if value not in ("`", "\\"):
                raise DockerfileParseError(f"invalid escape token '{value}' does not match ` or \\", self.line - 1)
            self.escape_token = value
            self.continuation = _continuation_regex(value)
        self.found.append(Directive(name, value, self.line))
        return True


def _continuation_regex(escape: str) -> re.Pattern[str]:
    # The escape token as the last non-blank character, unless it is itself escaped.
    esc = re.escape(escape)
    return re.compile(rf"([^{esc}]){esc}[ \t]*\Z|^{esc}[ \t]*\Z", re.S)


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(line: str) -> bool:
    return line.lstrip(GO_SPACE_CHARS).startswith("#")


def _trim_continuation(line: str, d: _Directives) -> tuple[str, bool]:
    if d.continuation.search(line):
        return d.continuation.sub(lambda m: m.group(1) or "", line), False
    return line, True


def _split_lines(text: str) -> list[str]:
    # Only "\n" ends a line (bufio.ScanLines); line endings stay on the line.
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _too_long(line: str) -> bool:
    content = _trim_newline(line) if line.endswith("\n") else line
    if len(content) * 4 <= MAX_LINE_BYTES:
        return False
    return len(content.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES


def node_from_line(line: str, escape: str, comments: list[str]) -> Node:
    """Parse one joined instruction line into an instruction node.

    Raises:
        line_parsers.LineParseError: the arguments do not fit the instruction.
    """
    instruction, flags, rest = line_parsers.split_command(line, escape)
    parse = line_parsers.DISPATCH.get(instruction.lower(), line_parsers.parse_ignore)
    parsed = parse(rest, escape)
    node = Node(
        value=instruction,
        original=line,
        flags=flags,
        json=parsed.json,
        prev_comment=list(comments),
    )
    for prev, arg in zip([node, *parsed.args], parsed.args, strict=False):
        prev.next = arg
    return node


def parse_dockerfile(text: str | bytes) -> Result:
    """Parse a Dockerfile into an AST.

    Args:
        text: the Dockerfile; bytes are decoded as UTF-8 (invalid bytes kept).

    Returns:
        The AST root with one child per instruction, plus directives and
        warnings.

    Raises:
        DockerfileParseError: no instructions, a bad directive, invalid
            arguments (``ENV PATH``), nested JSON, an unterminated heredoc or
            a line over 65535 bytes.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    return _Parser(_split_lines(text)).parse()


class _Parser:
    """One pass over the lines, with a cursor shared by continuations and heredocs."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0
        self.current_line = 0
        self.d = _Directives()
        self.too_long = False

    def _scan(self) -> str | None:
        if self.pos >= len(self.lines) or self.too_long:
            return None
        line = self.lines[self.pos]
        if _too_long(line):
            self.too_long = True
            return None
        self.pos += 1
        return line

    def parse(self) -> Result:
        root = Node()
        warnings: list[ParseWarning] = []
        comments: list[str] = []
        d = self.d
        while (raw := self._scan()) is not None:
            if self.current_line == 0 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if _is_comment(raw):
                comment = go_trim_space(raw[1:])
                comments = [*comments, comment] if comment else []
            line = _trim_newline(raw).lstrip(GO_SPACE_CHARS)
            if d.check(line) and comments:
                comments.pop()
            line = "" if _is_comment(line) else line
            self.current_line += 1
            start_line = self.current_line
            line, end_of_line = _trim_continuation(line, d)
            if end_of_line and not line:
                continue
            joined = [line]
            has_empty_continuation = False
            while not end_of_line and (raw := self._scan()) is not None:
                cont = _trim_newline(raw)
                d.check(cont)
                self.current_line += 1
                if _is_comment(raw):
                    continue
                if not cont.lstrip(GO_SPACE_CHARS):
                    has_empty_continuation = True
                    continue
                cont, end_of_line = _trim_continuation(cont, d)
                joined.append(cont)
            full = "".join(joined)
            if has_empty_continuation:
                warnings.append(
                    ParseWarning(
                        short="Empty continuation line found in: " + full,
                        detail="Empty continuation lines will become errors in a future release",
                        url="https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
                        line=self.current_line,
                    )
                )
            try:
                child = node_from_line(full, d.escape_token, comments)
            except line_parsers.LineParseError as exc:
                raise DockerfileParseError(str(exc), start_line, self.current_line) from None
            if child.can_contain_heredoc() and "<<" in full:
                self._read_heredocs(child, full, start_line)
            root.add_child(child, start_line, self.current_line)
            comments = []
        if self.too_long:
            if root.start_line < 0:
                raise DockerfileParseError("file with no instructions", self.current_line)
            raise DockerfileParseError(
                f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}",
                self.current_line,
            )
        if root.start_line < 0:
            raise DockerfileParseError("file with no instructions", self.current_line)
        return Result(root, d.escape_token, warnings, list(d.found))

    def _read_heredocs(self, child: Node, line: str, start_line: int) -> None:
        try:
            heredocs = heredocs_from_line(line)
        except ShellExpansionError as exc:
            raise DockerfileParseError(exc.message, start_line, self.current_line) from None
        for heredoc in heredocs:
            content: list[str] = []
            terminated = False
            while (raw := self._scan()) is not None:
                self.current_line += 1
                candidate = _trim_newline(raw)
                if heredoc.chomp:
                    candidate = candidate.lstrip("\t")
                if candidate == heredoc.name:
                    terminated = True
                    break
                content.append(raw)
            if not terminated:
                raise DockerfileParseError("unterminated heredoc", start_line, self.current_line)
            heredoc.content = "".join(content)
            child.heredocs.append(heredoc)


def parse_heredoc(src: str) -> Heredoc | None:
    """Recognise a heredoc word such as ``<<EOF``, ``<<-"EOF"`` or ``3<<EOF``.

    Returns:
        The heredoc (without content), or None if ``src`` is not one.

    Raises:
        ShellExpansionError: the terminator word has unbalanced quotes.
    """
    match = _HEREDOC.match(src)
    if match is None or not match.group(3):
        return None
    fd, chomp, rest = match.groups()
    words = ShellLex(skip_unset_env=True).process_words(rest, {})
    if len(words) != 1:
        return None
    raw_words = ShellLex(skip_unset_env=True, raw_quotes=True).process_words(rest, {})
    if len(raw_words) != len(words):
        raise ShellExpansionError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    word, raw = words[0], raw_words[0]
    # Quotes anywhere in the terminator word turn expansion off, as in a shell.
    expand = word.count("'") + word.count('"') == raw.count("'") + raw.count('"')
    return Heredoc(name=word, file_descriptor=int(fd or "0"), expand=expand, chomp=chomp == "-")


def heredocs_from_line(line: str) -> list[Heredoc]:
    """All heredoc words on an instruction line, in order."""
    lex = ShellLex(raw_quotes=True, raw_escapes=True, skip_unset_env=True)
    try:
        words = lex.process_words(line, {})
    except ShellExpansionError:
        return []
    return [doc for word in words if (doc := parse_heredoc(word)) is not None]


def chomp_heredoc_content(src: str) -> str:
    """Strip leading tabs from every line (``<<-EOF``)."""
    return _LEADING_TABS.sub("", src)


__all__ = [
    "DEFAULT_ESCAPE_TOKEN",
    "Directive",
    "DockerfileParseError",
    "Heredoc",
    "Node",
    "ParseWarning",
    "Result",
    "chomp_heredoc_content",
    "go_quote",
    "heredocs_from_line",
    "node_from_line",
    "parse_dockerfile",
    "parse_heredoc",
]
