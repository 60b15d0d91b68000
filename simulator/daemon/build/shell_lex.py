"""Variable expansion the way a Dockerfile does it, without a shell.

Instructions such as ``ENV``, ``COPY``, ``WORKDIR`` or ``FROM`` expand
``$VAR`` and ``${VAR...}`` themselves, before anything runs: the builder
has no shell to ask. This module is csim's version of buildkit's shell
lexer (``frontend/dockerfile/shell``): quotes, the escape token (``\\`` or
the backtick chosen by ``# escape=``), ``$V``, ``${V}``, ``${V:-x}``,
``${V-x}``, ``${V:+x}``, ``${V+x}``, ``${V?err}``, ``${V:?err}`` and the
pattern forms ``${V#p}``, ``${V##p}``, ``${V%p}``, ``${V%%p}``,
``${V/p/r}``, ``${V//p/r}``.

Public API:

* :class:`ShellLex` with :meth:`ShellLex.process_word` (one word, spaces
  kept) and :meth:`ShellLex.process_words` (split into words after
  expansion, as ``EXPOSE``/``VOLUME`` and heredoc detection need);
* :class:`ShellExpansionError`, worded like Docker
  (``failed to process "he${}": syntax error: bad substitution``);
* :func:`go_quote`, Go's ``strconv.Quote``, because Docker's messages and
  the parser's AST dump quote strings that way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

_EOF = ""
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
# unicode.IsSpace: the Latin-1 spaces plus the White_Space property above U+00FF.
_GO_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


GO_SPACE_CHARS = "".join(sorted(_GO_SPACES))


def is_go_space(ch: str) -> bool:
    """Report whether ``ch`` is a space for Go's ``unicode.IsSpace``."""
    return ch in _GO_SPACES


def go_trim_space(text: str) -> str:
    """Strip leading and trailing spaces like Go's ``strings.TrimSpace``."""
    return text.strip(GO_SPACE_CHARS)


def go_quote(text: str) -> str:
    """Quote ``text`` like Go's ``strconv.Quote``.

    Printable characters are kept, ``\\a \\b \\f \\n \\r \\t \\v``, ``\\\\``
    and ``\\"`` are escaped, other control bytes become ``\\xNN`` and other
    non-printable characters ``\\uNNNN`` or ``\\UNNNNNNNN``. Bytes that were
    not valid UTF-8 (decoded with ``surrogateescape``) print as ``\\xNN``.
    """
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif unicodedata.category(ch) == "Cs":
            out.append("\\ufffd")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


class ShellExpansionError(ValueError):
    """A word could not be expanded; the message is Docker's."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ProcessWordResult:
    """Everything one expansion produced.

    Attributes:
        result: the expanded word, spaces kept.
        words: the expanded text split into words (quotes respected).
        matched: variable names that were looked up and found.
        unmatched: variable names that were looked up and not found.
    """

    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


class _Words:
    """Splits expanded text into words the way ``ProcessWords`` does."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if is_go_space(ch):
            if self.in_word and self.buf:
                self.words.append("".join(self.buf))
                self.buf = []
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.buf.append(ch)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def get_words(self) -> list[str]:
        if self.buf:
            self.words.append("".join(self.buf))
            self.buf = []
            self.in_word = False
        return self.words


class _Scanner:
    """A rune cursor with Go ``text/scanner`` ``Peek``/``Next`` semantics."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else _EOF

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch


@dataclass
class ShellLex:
    """Dockerfile word expansion and splitting.

    Attributes:
        escape_token: ``\\`` by default, or ``\\``` after ``# escape=```.
        raw_quotes: keep quote characters in the output.
        raw_escapes: keep escape tokens in the output.
        skip_process_quotes: treat quotes as ordinary characters.
        skip_unset_env: leave references to unset variables as written.
    """

    escape_token: str = "\\"
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_process_quotes: bool = False
    skip_unset_env: bool = False

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """Expand variables in ``word`` and remove quotes, keeping spaces.

        Raises:
            ShellExpansionError: on bad syntax or a ``${V?err}`` failure.
        """
        return self.process_word_with_matches(word, env).result

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """Expand ``word`` and split the result into words.

        Splitting happens after expansion, so an unquoted variable holding
        spaces yields several words, as in a shell.

        Raises:
            ShellExpansionError: on bad syntax or a ``${V?err}`` failure.
        """
        return self.process_word_with_matches(word, env).words

    def process_word_with_matches(self, word: str, env: Mapping[str, str]) -> ProcessWordResult:
        """Expand ``word`` and report which variables were used.

        Raises:
            ShellExpansionError: on bad syntax or a ``${V?err}`` failure.
        """
        state = _ShellWord(self, env, word)
        try:
            result, words = state.process_stop_on(_EOF, self.raw_escapes)
        except _Fail as exc:
            raise ShellExpansionError(f"failed to process {go_quote(word)}: {exc}") from None
        return ProcessWordResult(result, words, state.matched, state.unmatched)


class _Fail(Exception):
    """An inner lexing failure, wrapped with the source word by the caller."""


class _ShellWord:
    """The state of one expansion: cursor, environment and escape mode."""

    def __init__(self, lex: ShellLex, env: Mapping[str, str], word: str) -> None:
        self.lex = lex
        self.env = env
        self.scanner = _Scanner(word)
        self.raw_escapes = lex.raw_escapes
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def get_env(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            self.matched.add(name)
            return self.env[name], True
        self.unmatched.add(name)
        return "", False

    def process_stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._process_stop_on(stop)
        finally:
            self.raw_escapes = saved

    def _process_stop_on(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        sc = self.scanner
        esc = self.lex.escape_token
        quotes = not self.lex.skip_process_quotes
        while sc.peek() != _EOF:
            ch = sc.peek()
            if stop and ch == stop:
                sc.next()
                return "".join(result), words.get_words()
            if ch == "$":
                tmp = self.process_dollar()
                result.append(tmp)
                words.add_string(tmp)
            elif ch == "<":
                tmp = self.process_possible_heredoc()
                result.append(tmp)
                words.add_raw_string(tmp)
            elif quotes and ch in "'\"":
                tmp = self.process_single_quote() if ch == "'" else self.process_double_quote()
                result.append(tmp)
                words.add_raw_string(tmp)
            else:
                ch = sc.next()
                if ch == esc:
                    if self.raw_escapes:
                        words.add_raw_char(ch)
                        result.append(ch)
                    ch = sc.next()
                    if ch == _EOF:
                        break
                    words.add_raw_char(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
        if stop:
            raise _Fail(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.get_words()

    def process_single_quote(self) -> str:
        # Everything up to the next ' is literal; a ' cannot be escaped inside.
        sc = self.scanner
        out: list[str] = []
        ch = sc.next()
        if self.lex.raw_quotes:
            out.append(ch)
        while True:
            ch = sc.next()
            if ch == _EOF:
                raise _Fail("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def process_double_quote(self) -> str:
        # Literal except $ expansion; the escape token escapes only " $ and itself.
        sc = self.scanner
        esc = self.lex.escape_token
        out: list[str] = []
        ch = sc.next()
        if self.lex.raw_quotes:
            out.append(ch)
        while True:
            peek = sc.peek()
            if peek == _EOF:
                raise _Fail("unexpected end of statement while looking for matching double-quote")
            if peek == '"':
                ch = sc.next()
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if peek == "$":
                out.append(self.process_dollar())
                continue
            ch = sc.next()
            if ch == esc:
                if self.raw_escapes:
                    out.append(ch)
                nxt = sc.peek()
                if nxt == _EOF:
                    continue
                if nxt in ('"', "$", esc):
                    ch = sc.next()
            out.append(ch)

    def process_possible_heredoc(self) -> str:
        sc = self.scanner
        sc.next()
        if sc.peek() != "<":
            return "<"
        sc.next()
        space: list[str] = []
        while sc.peek() in ("\t", "\r", " ") and sc.peek() != _EOF:
            space.append(sc.next())
        return "<<" + "".join(space)

    def process_name(self) -> str:
        sc = self.scanner
        name: list[str] = []
        while sc.peek() != _EOF:
            ch = sc.peek()
            if not name and _is_digit(ch):
                while sc.peek() != _EOF and _is_digit(sc.peek()):
                    name.append(sc.next())
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                return sc.next()
            if not (ch.isalpha() or _is_digit(ch) or ch == "_"):
                break
            name.append(sc.next())
        return "".join(name)

    def process_dollar(self) -> str:
        sc = self.scanner
        sc.next()
        if sc.peek() != "{":
            name = self.process_name()
            if not name:
                return "$"
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "$" + name
            return value

        sc.next()
        if sc.peek() == _EOF:
            raise _Fail("syntax error: missing '}'")
        if sc.peek() in "{}:":
            raise _Fail("syntax error: bad substitution")
        name = self.process_name()
        ch = sc.next()
        if ch == "}":
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "${" + name + "}"
            return value
        if ch == "/":
            return self._substitute(name)
        modifier = ch or "\ufffd"
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = sc.next()
            modifier += ch or "\ufffd"
        if ch not in ("+", "-", "?", "#", "%") or not ch:
            raise _Fail(f"unsupported modifier ({modifier}) in substitution")
        pattern_mode = ch in "#%"
        if null_is_unset and pattern_mode:
            raise _Fail(f"unsupported modifier ({modifier}) in substitution")
        word = self._stop_on_brace("}", pattern_mode)
        value, found = self.get_env(name)
        if self.lex.skip_unset_env and not found:
            return "${" + name + modifier + word + "}"
        empty = not found or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if not found:
                raise _Fail(f"{name}: {word or 'is not allowed to be unset'}")
            if null_is_unset and value == "":
                raise _Fail(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        greedy = word.startswith(ch)
        if greedy:
            word = word[1:]
        if ch == "%":
            return _trim_suffix(word, value, greedy)
        return _trim_prefix(word, value, greedy)

    def _stop_on_brace(self, stop: str, raw_escapes: bool) -> str:
        try:
            word, _ = self.process_stop_on(stop, raw_escapes)
        except _Fail:
            if self.scanner.peek() == _EOF:
                missing = "syntax error: missing '}'" if stop == "}" else "syntax error: missing '/' in ${}"
                raise _Fail(missing) from None
            raise
        return word

    def _substitute(self, name: str) -> str:
        sc = self.scanner
        replace_all = sc.peek() == "/"
        if replace_all:
            sc.next()
        pattern = self._stop_on_brace("/", True)
        replacement = self._stop_on_brace("}", True)
        value, found = self.get_env(name)
        if self.lex.skip_unset_env and not found:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        regex = _pattern_to_regex(pattern, greedy=True, anchored=False)
        if replace_all:
            return regex.sub(lambda _m: replacement, value)
        return regex.sub(lambda _m: replacement, value, count=1)


def _is_digit(ch: str) -> bool:
    return bool(ch) and unicodedata.category(ch) == "Nd"


def _pattern_to_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """Turn a shell wildcard pattern (``*``, ``?``, escapes) into a regex."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(star)
        elif tok == "?":
            out.append(".")
        elif tok == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/"):
                continue
            i += 1
            if nxt not in ("*", "?", "\\"):
                shown = nxt or "\ufffd"
                raise _Fail(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{shown}'")
            out.append(re.escape(nxt))
        else:
            out.append(re.escape(tok))
    return re.compile("".join(out), re.DOTALL)


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _pattern_to_regex(pattern, greedy, anchored=True).search(value)
    return value[match.end() :] if match else value


def _reverse_pattern(pattern: str) -> str:
    # Reverse, but keep each escape in front of the character it escapes.
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i != len(pattern) - 1:
            tokens.append(pattern[i : i + 2])
            i += 2
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # A regex finds leftmost matches, so search the reversed value instead.
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]
