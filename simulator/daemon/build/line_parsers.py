"""How each Dockerfile instruction splits the rest of its line.

Dockerfile syntax is not uniform: ``RUN`` keeps its shell text whole unless
it is a JSON array, ``COPY`` splits on spaces, ``ENV`` reads ``key=value``
pairs (or the legacy ``ENV key value``), ``ONBUILD`` parses a nested
instruction. This module holds one small parser per shape, the same table
buildkit's ``parser/line_parsers.go`` uses, so csim's AST is the one Docker
builds. It is internal to :mod:`simulator.daemon.build.parser`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simulator.daemon.build.shell_lex import GO_SPACE_CHARS, go_quote, go_trim_space, is_go_space

if TYPE_CHECKING:
    from simulator.daemon.build.parser import Node

# Go's regexp `[\t\v\f\r ]+`, the separator of whitespace-delimited arguments.
WHITESPACE = re.compile(r"[\t\v\f\r ]+")

NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"


class LineParseError(Exception):
    """An instruction's arguments cannot be parsed; the text is Docker's."""


@dataclass
class Parsed:
    """What a line parser returns: the argument chain and its attributes.

    Attributes:
        args: the argument nodes, in order (linked as ``Node.next``).
        json: the arguments came from a JSON array (exec form).
    """

    args: list[Node] = field(default_factory=list)
    json: bool = False


LineParser = Callable[[str, str], Parsed]


def _node(value: str) -> Node:
    from simulator.daemon.build.parser import Node

    return Node(value=value)


def parse_ignore(rest: str, escape: str) -> Parsed:
    """Unknown instructions keep one empty argument, as Docker does."""
    return Parsed([_node("")])


def parse_words(rest: str, escape: str) -> list[str]:
    """Split ``rest`` on spaces, keeping quotes and escapes in the words.

    ``"foo bar 'abc xyz'"`` gives ``["foo", "bar", "'abc xyz'"]``; quotes
    are removed later, when the builder expands the words.
    """
    words: list[str] = []
    buf: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    pos = 0
    end = len(rest)
    while pos <= end:
        ch = rest[pos] if pos < end else ""
        if phase == in_spaces:
            if pos == end:
                break
            if is_go_space(ch):
                pos += 1
                continue
            phase = in_word
        if pos == end:
            if blank_ok or buf:
                words.append("".join(buf))
            break
        if phase == in_word:
            if is_go_space(ch):
                phase = in_spaces
                if blank_ok or buf:
                    words.append("".join(buf))
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
            if ch == escape:
                if pos + 1 == end:
                    pos += 1
                    continue
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        if ch == quote:
            phase = in_word
        if ch == escape and quote != "'":
            if pos + 1 == end:
                phase = in_word
                pos += 1
                continue
            buf.append(ch)
            pos += 1
            ch = rest[pos]
        buf.append(ch)
        pos += 1
    return words


def _key_value(key: str, value: str, sep: str) -> list[Node]:
    return [_node(key), _node(value), _node(sep)]


def _parse_name_val(rest: str, escape: str, instruction: str) -> Parsed:
    words = parse_words(rest, escape)
    if not words:
        return Parsed()
    if "=" not in words[0]:
        # Legacy form `ENV key value...`: everything after the key is the value.
        parts = WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise LineParseError(f"{instruction} must have two arguments")
        return Parsed(_key_value(parts[0], parts[1], ""))
    nodes: list[Node] = []
    for word in words:
        if "=" not in word:
            raise LineParseError(f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value")
        key, value = word.split("=", 1)
        nodes += _key_value(key, value, "=")
    return Parsed(nodes)


def parse_env(rest: str, escape: str) -> Parsed:
    """``ENV a=b c=d`` or ``ENV a b``: (key, value, separator) triples."""
    return _parse_name_val(rest, escape, "ENV")


def parse_label(rest: str, escape: str) -> Parsed:
    """``LABEL`` takes the same shapes as ``ENV``."""
    return _parse_name_val(rest, escape, "LABEL")


def parse_name_or_name_val(rest: str, escape: str) -> Parsed:
    """``ARG a b=c``: one argument per word, split on ``=`` later."""
    return Parsed([_node(word) for word in parse_words(rest, escape)])


def parse_strings_whitespace_delimited(rest: str, escape: str) -> Parsed:
    """``FROM``, ``EXPOSE``: one argument per whitespace-separated word."""
    if not rest:
        return Parsed()
    return Parsed([_node(word) for word in WHITESPACE.split(rest)])


def parse_string(rest: str, escape: str) -> Parsed:
    """``USER``, ``WORKDIR``...: the whole rest of the line is one argument."""
    return Parsed([_node(rest)] if rest else [])


class _NotJSON(Exception):
    """The text is not a JSON array of strings; fall back to shell form."""


def _reject_constant(name: str) -> object:
    raise _NotJSON(name)


def _parse_json(rest: str) -> Parsed:
    rest = rest.lstrip(GO_SPACE_CHARS)
    if not rest.startswith("["):
        raise _NotJSON("not a JSON array")
    try:
        items = json.loads(rest, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _NotJSON(str(exc)) from None
    if not isinstance(items, list):
        raise _NotJSON("not a JSON array")
    nodes: list[Node] = []
    for item in items:
        if not isinstance(item, str):
            raise LineParseError(NOT_STRING_ARRAY)
        # Go's decoder turns lone surrogates into U+FFFD.
        nodes.append(_node(item.encode("utf-16", "surrogatepass").decode("utf-16", "replace")))
    return Parsed(nodes, json=True)


def parse_maybe_json(rest: str, escape: str) -> Parsed:
    """``RUN``/``CMD``/``ENTRYPOINT``/``SHELL``: exec form or one shell string.

    Text that only looks like JSON (``['a']``, an unterminated array) is kept
    as a shell string; an array holding a non-string is an error.
    """
    if not rest:
        return Parsed()
    try:
        return _parse_json(rest)
    except _NotJSON:
        return Parsed([_node(rest)])


def parse_maybe_json_to_list(rest: str, escape: str) -> Parsed:
    """``COPY``/``ADD``/``VOLUME``: a JSON array or whitespace-separated words."""
    try:
        return _parse_json(rest)
    except _NotJSON:
        return parse_strings_whitespace_delimited(rest, escape)


def parse_health_config(rest: str, escape: str) -> Parsed:
    """``HEALTHCHECK CMD ...``: the type word, then a ``CMD``-like argument."""
    sep = 0
    while sep < len(rest) and not is_go_space(rest[sep]):
        sep += 1
    if sep == 0:
        return Parsed()
    nxt = sep
    while nxt < len(rest) and is_go_space(rest[nxt]):
        nxt += 1
    command = parse_maybe_json(rest[nxt:], escape)
    return Parsed([_node(rest[:sep]), *command.args], command.json)


def parse_sub_command(rest: str, escape: str) -> Parsed:
    """``ONBUILD RUN x``: the trigger becomes a child node."""
    if not rest:
        return Parsed()
    from simulator.daemon.build.parser import Node, node_from_line

    child = node_from_line(rest, escape, [])
    return Parsed([Node(children=[child])])


DISPATCH: dict[str, LineParser] = {
    "add": parse_maybe_json_to_list,
    "arg": parse_name_or_name_val,
    "cmd": parse_maybe_json,
    "copy": parse_maybe_json_to_list,
    "entrypoint": parse_maybe_json,
    "env": parse_env,
    "expose": parse_strings_whitespace_delimited,
    "from": parse_strings_whitespace_delimited,
    "healthcheck": parse_health_config,
    "label": parse_label,
    "maintainer": parse_string,
    "onbuild": parse_sub_command,
    "run": parse_maybe_json,
    "shell": parse_maybe_json,
    "stopsignal": parse_string,
    "user": parse_string,
    "volume": parse_maybe_json_to_list,
    "workdir": parse_string,
}


def split_command(line: str, escape: str) -> tuple[str, list[str], str]:
    """Split an instruction line into (instruction, flags, rest)."""
    parts = WHITESPACE.split(go_trim_space(line), maxsplit=1)
    if len(parts) < 2:
        return parts[0], [], ""
    rest, flags = extract_builder_flags(parts[1], escape)
    return parts[0], flags, go_trim_space(rest)


def extract_builder_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """Take the leading ``--flag[=value]`` words off ``line``.

    Quotes around flag values are removed; a lone ``--`` ends the flags.
    Returns the remaining text and the flags.
    """
    words: list[str] = []
    buf: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    pos = 0
    end = len(line)
    while pos <= end:
        ch = line[pos] if pos < end else ""
        if phase == in_spaces:
            if pos == end:
                break
            if is_go_space(ch):
                pos += 1
                continue
            if not line.startswith("--", pos):
                return line[pos:], words
            phase = in_word
        if pos == end:
            word = "".join(buf)
            if word != "--" and (blank_ok or word):
                words.append(word)
            break
        if phase == in_word:
            if is_go_space(ch):
                word = "".join(buf)
                phase = in_spaces
                if word == "--":
                    return line[pos:], words
                if blank_ok or word:
                    words.append(word)
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
        elif ch == quote:
            phase = in_word
            pos += 1
            continue
        if ch == escape:
            if pos + 1 == end:
                if phase == in_quote:
                    phase = in_word
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        buf.append(ch)
        pos += 1
    return "", words
