"""The docker command grammar: flags parsed the way docker's cobra/pflag does, with its errors.

argparse's own complaints are turned into docker's (see ``usage``): a bad flag
exits 125, a wrong number of arguments or an unknown command exits 1, and
``--help`` is text for the command's stdout (``CliHelp``), never a print to
the process's stdout: the TUI and lessons run commands in-process.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any, NoReturn

from simulator.client.session import CliError
from simulator.client.usage import (
    CSIM_COMMANDS,
    DESCRIPTIONS,
    arg_count_error,
    flag_error,
    unknown_command,
    usage_line,
)

_VALUE_ERROR = re.compile(r"^argument (?P<flags>\S+): invalid (?P<type>\w+) value: '(?P<value>.*)'$", re.S)
_CHOICE_ERROR = re.compile(r"^argument (?P<flags>\S+): invalid choice: '(?P<value>.*?)' (?P<why>\(.*\))$", re.S)
_GO_PARSER = {"int": "strconv.ParseInt", "float": "strconv.ParseFloat"}
_TYPE_ERROR = re.compile(r'^argument (?P<flags>\S+): invalid argument "(?P<value>.*?)": (?P<why>.*)$', re.S)


def go_bool(text: str) -> bool:
    """A boolean flag's value as pflag reads ``--human=false`` (``strconv.ParseBool``)."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise argparse.ArgumentTypeError(f'invalid argument "{text}": strconv.ParseBool: parsing "{text}": invalid syntax')


def filter_value(text: str) -> str:
    """A ``-f/--filter`` value: docker's ``opts.FilterOpt`` wants ``name=value``."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f'invalid argument "{text}": bad format of filter (expected name=value)')
    return text


class CliHelp(Exception):
    """``--help`` (or a command group named alone): this text goes to stdout, exit 0."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _pflag_names(option_strings: Sequence[str]) -> tuple[str, str]:
    """A flag's shorthand and name as pflag knows them: ``-t`` and the longest long form
    (``--timeout``, not ``--time``; ``--network``, not ``--net``); either may be empty."""
    short = next((o for o in option_strings if not o.startswith("--")), "")
    long = max((o for o in option_strings if o.startswith("--")), key=len, default="")
    return short, long


def _flag_names(flags: str) -> str:
    """``-t/--time/--timeout`` (argparse's words) -> ``-t, --timeout`` (pflag's)."""
    return ", ".join(n for n in _pflag_names(flags.split("/")) if n)


def unknown_flag_message(flag: str) -> str:
    """pflag's words for a flag nobody declared."""
    name = flag.split("=", 1)[0]
    if name.startswith("--") or len(name) < 2:
        return f"unknown flag: {name}"
    return f"unknown shorthand flag: '{name[1]}' in {flag}"


class DockerHelpFormatter(argparse.HelpFormatter):
    """Flags as pflag lists them: sorted by name, ``-d, --driver string``, long-only ones indented."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, indent_increment=2, max_help_position=40, width=100)

    def add_arguments(self, actions: Any) -> None:
        for action in actions:
            if isinstance(action, argparse._HelpAction):
                action.help = "Print usage"
        super().add_arguments(sorted(actions, key=_flag_sort_key))

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings:
            return super()._format_action_invocation(action)
        short, long = _pflag_names(action.option_strings)
        names = f"{short}, {long}" if short and long else short or f"    {long}"
        if action.nargs == 0 or action.metavar == "":  # a switch (or a bool that takes =false)
            return names
        return f"{names} {action.metavar or 'string'}"


def _flag_sort_key(action: argparse.Action) -> str:
    short, long = _pflag_names(action.option_strings)
    return (long or short).lstrip("-")


class DockerArgParser(argparse.ArgumentParser):
    """argparse that fails like docker: ``unknown flag: --x`` and exit 125, and so on."""

    def __init__(self, *args: Any, command: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("add_help", True)
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", DockerHelpFormatter)
        super().__init__(*args, **kwargs)
        self.command = command

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        """pflag's bool flags take a value only as ``--human=false``: a bare ``-H`` is true and
        never swallows the next word (argparse's optional value would)."""
        if args is not None:
            bools = {o for a in self._actions if a.metavar == "" and a.nargs == "?" for o in a.option_strings}
            if bools:
                args = [f"{arg}=true" if arg in bools else arg for arg in args]
        return super().parse_known_args(args, namespace)

    # -- help ---------------------------------------------------------------------
    def usage_text(self) -> str:
        return usage_line(self.command, self.format_usage().strip().removeprefix("usage: "))

    def format_help(self) -> str:
        """Docker's help layout: Usage, what the command does, its Commands, its Options."""
        lines = ["", f"Usage:  {self.usage_text()}", ""]
        about = DESCRIPTIONS.get(self.command) or self.description
        if about:
            lines += [about, ""]
        commands = self._commands()
        if commands:
            width = max(12, *(len(name) + 2 for name, _ in commands))
            lines += ["Commands:", *(f"  {name:<{width}}{text}".rstrip() for name, text in commands), ""]
        options = super().format_help().partition("\noptions:\n")[2]
        if options:
            lines += ["Global Options:" if commands and not self.command else "Options:", options.rstrip(), ""]
        if commands:
            prog = " ".join(part for part in ("csim", self.command) if part)
            lines += [f"Run '{prog} COMMAND --help' for more information on a command.", ""]
        return "\n".join(lines)

    def _commands(self) -> list[tuple[str, str]]:
        """(name, description) of each subcommand, aliases once; csim's own commands at the top level."""
        rows: list[tuple[str, str]] = []
        seen: set[int] = set()
        for action in self._actions:
            if not isinstance(action, argparse._SubParsersAction):
                continue
            for name, parser in action.choices.items():
                if id(parser) in seen:
                    continue
                seen.add(id(parser))
                full = getattr(parser, "command", "") or " ".join(part for part in (self.command, name) if part)
                rows.append((name, DESCRIPTIONS.get(full, "")))
        if rows and not self.command:
            known = {name for name, _ in rows}
            rows += [(name, text) for name, text in CSIM_COMMANDS if name not in known]
        return rows

    def print_help(self, file: Any = None) -> None:
        raise CliHelp(self.format_help())

    def subcommand(self, words: list[str]) -> DockerArgParser:
        """The parser of ``network create`` for ``["network", "create"]`` (self for ``[]``)."""
        parser = self
        for word in words:
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction) and word in action.choices:
                    parser = action.choices[word]
                    break
        return parser

    def count_arguments(self, namespace: argparse.Namespace) -> int:
        """How many positional arguments the parsed command line gave this (sub)command."""
        given = 0
        for action in self._actions:
            if action.option_strings or isinstance(action, argparse._SubParsersAction):
                continue
            value = getattr(namespace, action.dest, None)
            if isinstance(value, list):
                given += len(value)
            elif value not in (None, ""):
                given += 1
        return given

    # -- errors -------------------------------------------------------------------
    def arg_count_failure(self, given: int) -> CliError:
        message = arg_count_error(self.command, given, self.usage_text())
        if message is None:  # a count argparse refused that docker has no rule for
            message = (
                f"csim: 'csim {self.command}' was given the wrong number of arguments\n\nUsage:  {self.usage_text()}"
            )
        return CliError(message, 1)

    def flag_failure(self, message: str) -> CliError:
        return CliError(flag_error(self.command, message, self.usage_text()), 125)

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument COMMAND: invalid choice: "):
            word = message.split("'", 2)[1]
            raise CliError(unknown_command(self.command, word), 1)
        if message == "the following arguments are required: COMMAND":  # a group named alone
            raise CliHelp(self.format_help())
        if message.startswith("the following arguments are required"):
            raise self.arg_count_failure(0)
        if message.startswith("unrecognized arguments: "):
            extra = message.removeprefix("unrecognized arguments: ").split()
            flag = next((x for x in extra if x.startswith("-") and x != "-"), None)
            if flag is not None:
                raise self.flag_failure(unknown_flag_message(flag))
            raise self.arg_count_failure(len(extra) + 1)
        if message.endswith("expected one argument"):
            flags = message.removeprefix("argument ").split(":", 1)[0]
            raise self.flag_failure(f"flag needs an argument: {flags.split('/')[-1]}")
        found = _TYPE_ERROR.match(message) or _CHOICE_ERROR.match(message)
        if found:
            raise self._invalid_argument(found["flags"], found["value"], found["why"])
        found = _VALUE_ERROR.match(message)
        if found:
            value = found["value"]
            why = f'{_GO_PARSER.get(found["type"], "parse")}: parsing "{value}": invalid syntax'
            raise self._invalid_argument(found["flags"], value, why)
        raise self.flag_failure(message)

    def _invalid_argument(self, flags: str, value: str, why: str) -> CliError:
        """pflag's ``invalid argument "abc" for "-t, --timeout" flag: <why>``."""
        return self.flag_failure(f'invalid argument "{value}" for "{_flag_names(flags)}" flag: {why}')

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise CliError(message.strip(), status)
        raise SystemExit(status)
