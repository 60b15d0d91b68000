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
Go maps (``map[a:1 b:2]``) and ``None`` as ``<nil>``.

This module is the public face; the stages live beside it:
:mod:`~simulator.client.template_lex` (lexer),
:mod:`~simulator.client.template_parse` (parse tree and parser),
:mod:`~simulator.client.template_values` (Go's printing, JSON, truth and
:class:`TemplateError`), :mod:`~simulator.client.template_funcs` (the
functions) and :mod:`~simulator.client.template_exec` (the executor).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.client.template_exec import Execution
from simulator.client.template_funcs import FUNCS, HEADER_FUNCS
from simulator.client.template_lex import lex
from simulator.client.template_parse import Action, Branch, Field, Node, Paren, Parser, Pipe
from simulator.client.template_values import (
    NO_VALUE,
    TemplateError,
    go_float,
    go_json,
    go_print,
    go_type,
    truth,
)

__all__ = [
    "NO_VALUE",
    "Template",
    "TemplateError",
    "compile_template",
    "go_float",
    "go_json",
    "go_print",
    "go_type",
    "truth",
]


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
    _tree: list[Node] = field(repr=False, compare=False)

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
        run = Execution(self.source, FUNCS, missing_key_error)
        run.vars.append(("$", data))
        run.walk(self._tree, data)
        return "".join(run.out)

    def header(self, headers: Mapping[str, str]) -> str:
        """Render the header row: the template run over column titles.

        Like the CLI, string functions leave the titles untouched
        (``{{upper .Names}}`` still shows ``NAMES``) but ``pad`` applies.
        """
        run = Execution(self.source, HEADER_FUNCS, False)
        run.vars.append(("$", headers))
        run.walk(self._tree, headers)
        return "".join(run.out)


def _fields(nodes: list[Node]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, Action | Branch):
            yield from _pipe_fields(node.pipe)
        if isinstance(node, Branch) and node.kind == "if":
            yield from _fields(node.body)
            yield from _fields(node.orelse)


def _pipe_fields(pipe: Pipe) -> Iterator[str]:
    for cmd in pipe.cmds:
        for arg in cmd.args:
            if isinstance(arg, Field) and arg.names and not arg.var:
                yield arg.names[0]
            elif isinstance(arg, Paren):
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
    tree = Parser(lex(text), FUNCS).parse()
    names = tuple(dict.fromkeys(_fields(tree)))
    return Template(text, is_table, names, tree)
