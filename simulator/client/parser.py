"""The docker command grammar: flags parsed the way docker's cobra/pflag does, with its errors."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from simulator.client.session import CliError


class DockerArgParser(argparse.ArgumentParser):
    """argparse that fails like docker: ``unknown flag: --x`` and exit 125."""

    def __init__(self, *args: Any, command: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("add_help", True)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.command = command

    def error(self, message: str) -> NoReturn:
        cmd = self.command or ""
        if "unrecognized arguments" in message:
            flag = message.split(":", 1)[1].strip().split()[0]
            raise CliError(f"unknown flag: {flag}\nSee '{' '.join(['csim', cmd]).strip()} --help'.", 125)
        if "required" in message and "the following arguments" in message:
            raise CliError(
                f"\"csim {cmd}\" requires at least 1 argument.\nSee 'csim {cmd} --help'.\n\n"
                f"Usage:  {self.format_usage().strip().removeprefix('usage: ')}",
                1,
            )
        if "expected one argument" in message:
            flag = message.split(":", 1)[0].replace("argument ", "").split("/")[-1]
            raise CliError(f"flag needs an argument: {flag}\nSee 'csim {cmd} --help'.", 125)
        if "invalid" in message and "value" in message:
            raise CliError(f"invalid argument: {message}\nSee 'csim {cmd} --help'.", 125)
        raise CliError(f"{message}\nSee 'csim {cmd} --help'.", 125)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise CliError(message.strip(), status)
        raise SystemExit(status)
