"""Command-bar help: history (up/down) and completion of docker command lines.

Completion knows the docker grammar a student types first (commands,
sub-commands, their common flags) and the names the world holds right now
(containers, images, networks, volumes), read from the latest snapshot. It
completes the last word of the line; ``complete`` returns the whole line so
an ``Input`` suggester can offer it. Pure Python, unit-tested directly.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from simulator.tui.snapshot import WorldSnapshot

__all__ = ["COMMANDS", "CommandHistory", "complete", "split_command"]

_CONTAINER_FLAGS = (
    "--name",
    "-d",
    "--detach",
    "-i",
    "-t",
    "--rm",
    "-e",
    "--env",
    "-p",
    "--publish",
    "-v",
    "--volume",
    "--network",
    "--restart",
    "-w",
    "--entrypoint",
    "--label",
    "--memory",
    "--cpus",
    "--hostname",
    "--user",
)

COMMANDS: dict[str, tuple[str, ...]] = {
    "run": _CONTAINER_FLAGS,
    "create": _CONTAINER_FLAGS,
    "start": ("-a", "--attach", "-i"),
    "stop": ("-t", "--time", "-s", "--signal"),
    "restart": ("-t", "--time"),
    "kill": ("-s", "--signal"),
    "pause": (),
    "unpause": (),
    "rm": ("-f", "--force", "-v", "--volumes"),
    "ps": ("-a", "--all", "-q", "--quiet", "--no-trunc", "-f", "--filter", "--format", "-n", "-l"),
    "logs": ("-f", "--follow", "--tail", "-t", "--timestamps", "--since"),
    "exec": ("-d", "-i", "-t", "-e", "-w", "-u"),
    "inspect": ("-f", "--format", "--type", "-s"),
    "wait": (),
    "top": (),
    "diff": (),
    "port": (),
    "rename": (),
    "pull": ("-a", "--all-tags", "-q", "--quiet", "--platform"),
    "push": (),
    "images": ("-a", "--all", "-q", "--quiet", "--no-trunc", "--digests", "-f", "--format"),
    "rmi": ("-f", "--force", "--no-prune"),
    "tag": (),
    "history": ("-H", "--human", "--no-trunc", "-q", "--format"),
    "build": ("-t", "--tag", "-f", "--file", "--build-arg", "--target", "--no-cache", "-q"),
    "events": ("--since", "--until", "-f", "--filter", "--format"),
    "info": ("-f", "--format"),
    "version": ("-f", "--format"),
    "network": (),
    "volume": (),
    "image": (),
    "container": (),
    "system": (),
}

SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "network": ("create", "ls", "rm", "inspect", "connect", "disconnect", "prune"),
    "volume": ("create", "ls", "rm", "inspect", "prune"),
    "image": ("ls", "pull", "rm", "inspect", "history", "tag", "prune", "build"),
    "container": ("ls", "run", "create", "start", "stop", "rm", "inspect", "logs", "prune"),
    "system": ("df", "info", "prune", "events"),
}

_TAKES_CONTAINER = frozenset(
    {
        "start",
        "stop",
        "restart",
        "kill",
        "pause",
        "unpause",
        "rm",
        "logs",
        "exec",
        "inspect",
        "wait",
        "top",
        "diff",
        "port",
        "rename",
    }
)
_TAKES_IMAGE = frozenset({"run", "create", "pull", "rmi", "tag", "history", "push"})
_FLAG_VALUE_NAMES = {"--network": "network", "-v": "volume", "--volume": "volume"}


def split_command(line: str) -> list[str]:
    """``line`` as argv without a leading ``csim``/``docker``.

    Raises:
        ValueError: for unbalanced quotes (shlex's message).
    """
    argv = shlex.split(line)
    if argv and argv[0] in ("csim", "docker"):
        argv = argv[1:]
    return argv


def _candidates(words: list[str], snapshot: WorldSnapshot | None) -> Iterable[str]:
    """What may come after ``words`` (the complete words before the cursor)."""
    if not words:
        return COMMANDS
    command = words[0]
    if command in SUBCOMMANDS and len(words) == 1:
        return SUBCOMMANDS[command]
    if command in SUBCOMMANDS:
        command = words[1]
    names: list[str] = []
    if snapshot is not None:
        previous = words[-1]
        kind = _FLAG_VALUE_NAMES.get(previous)
        if kind == "network":
            return snapshot.networks
        if kind == "volume":
            return snapshot.volumes
        if command in _TAKES_CONTAINER or words[0] == "container":
            names += [c.name for c in snapshot.containers]
        if command in _TAKES_IMAGE or words[0] == "image":
            names += [tag for image in snapshot.images for tag in image.tags]
            names += [tag.rsplit(":", 1)[0] for image in snapshot.images for tag in image.tags]
        if words[0] == "network" and len(words) >= 2 and words[1] != "create":
            names += list(snapshot.networks)
        if words[0] == "volume" and len(words) >= 2 and words[1] != "create":
            names += list(snapshot.volumes)
    return [*COMMANDS.get(command, ()), *dict.fromkeys(names)]


def complete(line: str, snapshot: WorldSnapshot | None = None) -> list[str]:
    """Whole-line completions of ``line``'s last word, sorted, without duplicates."""
    if line.endswith(" ") or not line:
        head, partial = line, ""
    else:
        cut = line.rfind(" ") + 1
        head, partial = line[:cut], line[cut:]
    try:
        words = split_command(head)
    except ValueError:
        return []
    options = sorted({c for c in _candidates(words, snapshot) if c.startswith(partial)})
    if not partial:  # offer names and sub-commands before flags
        options = [o for o in options if not o.startswith("-")] or options
    return [head + option for option in options if option != partial]


@dataclass
class CommandHistory:
    """Lines entered so far, browsed with up/down like a shell's history.

    Args:
        limit: how many lines are kept.
    """

    limit: int = 500
    lines: list[str] = field(default_factory=list)
    _index: int | None = None
    _draft: str = ""

    def add(self, line: str) -> None:
        """Remember a submitted line (not blanks, not an immediate repeat)."""
        self._index = None
        if line.strip() and (not self.lines or self.lines[-1] != line):
            self.lines.append(line)
            del self.lines[: -self.limit]

    def previous(self, current: str) -> str:
        """The line before the one shown (``current`` is kept as a draft)."""
        if not self.lines:
            return current
        if self._index is None:
            self._draft = current
            self._index = len(self.lines)
        self._index = max(0, self._index - 1)
        return self.lines[self._index]

    def next(self) -> str:
        """The line after the one shown, or the draft past the newest."""
        if self._index is None:
            return self._draft
        self._index += 1
        if self._index >= len(self.lines):
            self._index = None
            return self._draft
        return self.lines[self._index]
