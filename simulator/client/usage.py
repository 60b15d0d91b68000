"""What the docker CLI (28) says about a command line it cannot take.

Each command has a usage line (``docker logs [OPTIONS] CONTAINER``) and a
rule for how many arguments it takes (cobra's ``RequiresMinArgs(1)``,
``ExactArgs(1)``, ``RequiresMaxArgs(1)``, ``RequiresRangeArgs(1, 2)``,
``NoArgs``). A flag error prints the message, the usage line and where to
get help, and exits 125; a wrong number of arguments does the same after
``docker: '<command>' requires ...`` and exits 1. csim speaks as ``csim``.
"""

from __future__ import annotations

# docker <command> --help, first line, without "Usage:  docker <command> ".
USAGE: dict[str, str] = {
    "": "[OPTIONS] COMMAND [ARG...]",
    "run": "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    "create": "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    "start": "[OPTIONS] CONTAINER [CONTAINER...]",
    "stop": "[OPTIONS] CONTAINER [CONTAINER...]",
    "kill": "[OPTIONS] CONTAINER [CONTAINER...]",
    "restart": "[OPTIONS] CONTAINER [CONTAINER...]",
    "pause": "CONTAINER [CONTAINER...]",
    "unpause": "CONTAINER [CONTAINER...]",
    "rm": "[OPTIONS] CONTAINER [CONTAINER...]",
    "wait": "CONTAINER [CONTAINER...]",
    "ps": "[OPTIONS]",
    "logs": "[OPTIONS] CONTAINER",
    "inspect": "[OPTIONS] NAME|ID [NAME|ID...]",
    "exec": "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "top": "CONTAINER [ps OPTIONS]",
    "diff": "CONTAINER",
    "rename": "CONTAINER NEW_NAME",
    "port": "CONTAINER [PRIVATE_PORT[/PROTO]]",
    "stats": "[OPTIONS] [CONTAINER...]",
    "pull": "[OPTIONS] NAME[:TAG|@DIGEST]",
    "images": "[OPTIONS] [REPOSITORY[:TAG]]",
    "rmi": "[OPTIONS] IMAGE [IMAGE...]",
    "tag": "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    "history": "[OPTIONS] IMAGE",
    "events": "[OPTIONS]",
    "version": "[OPTIONS]",
    "info": "[OPTIONS]",
    "load": "[OPTIONS]",
    "save": "[OPTIONS] IMAGE [IMAGE...]",
    "push": "[OPTIONS] NAME[:TAG]",
    "build": "[OPTIONS] PATH",
    "network": "COMMAND",
    "network ls": "[OPTIONS]",
    "network create": "[OPTIONS] NETWORK",
    "network inspect": "[OPTIONS] NETWORK [NETWORK...]",
    "network rm": "NETWORK [NETWORK...]",
    "network connect": "[OPTIONS] NETWORK CONTAINER",
    "network disconnect": "[OPTIONS] NETWORK CONTAINER",
    "network prune": "[OPTIONS]",
    "volume": "COMMAND",
    "volume create": "[OPTIONS] [VOLUME]",
    "volume ls": "[OPTIONS]",
    "volume inspect": "[OPTIONS] VOLUME [VOLUME...]",
    "volume rm": "[OPTIONS] VOLUME [VOLUME...]",
    "volume prune": "[OPTIONS]",
    "system": "COMMAND",
    "system df": "[OPTIONS]",
    "system info": "[OPTIONS]",
    "container": "COMMAND",
    "container prune": "[OPTIONS]",
    "image": "COMMAND",
    "image prune": "[OPTIONS]",
    # csim's own
    "system reset": "",
    "trace": "COMMAND",
    "trace export": "[OPTIONS]",
    "image bootstrap": "",
    "tui": "[OPTIONS]",
}

# docker <command> --help, the line under Usage (csim's own commands last).
DESCRIPTIONS: dict[str, str] = {
    "run": "Create and run a new container from an image",
    "create": "Create a new container",
    "start": "Start one or more stopped containers",
    "stop": "Stop one or more running containers",
    "kill": "Kill one or more running containers",
    "restart": "Restart one or more containers",
    "pause": "Pause all processes within one or more containers",
    "unpause": "Unpause all processes within one or more containers",
    "rm": "Remove one or more containers",
    "wait": "Block until one or more containers stop, then print their exit codes",
    "ps": "List containers",
    "logs": "Fetch the logs of a container",
    "inspect": "Return low-level information on Docker objects",
    "exec": "Execute a command in a running container",
    "top": "Display the running processes of a container",
    "diff": "Inspect changes to files or directories on a container's filesystem",
    "rename": "Rename a container",
    "port": "List port mappings or a specific mapping for the container",
    "stats": "Display a live stream of container(s) resource usage statistics",
    "pull": "Download an image from a registry",
    "images": "List images",
    "rmi": "Remove one or more images",
    "tag": "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    "history": "Show the history of an image",
    "events": "Get real time events from the server",
    "version": "Show the Docker version information",
    "info": "Display system-wide information",
    "load": "Load an image from a tar archive or STDIN",
    "save": "Save one or more images to a tar archive (streamed to STDOUT by default)",
    "push": "Upload an image to a registry",
    "build": "Build an image from a Dockerfile",
    "network": "Manage networks",
    "volume": "Manage volumes",
    "system": "Manage Docker",
    "container": "Manage containers",
    "image": "Manage images",
    "network ls": "List networks",
    "network create": "Create a network",
    "network inspect": "Display detailed information on one or more networks",
    "network rm": "Remove one or more networks",
    "network connect": "Connect a container to a network",
    "network disconnect": "Disconnect a container from a network",
    "network prune": "Remove all unused networks",
    "volume create": "Create a volume",
    "volume ls": "List volumes",
    "volume inspect": "Display detailed information on one or more volumes",
    "volume rm": "Remove one or more volumes. You cannot remove a volume that is in use by a container.",
    "volume prune": "Remove unused local volumes",
    "system df": "Show docker disk usage",
    "system info": "Display system-wide information",
    "container prune": "Remove all stopped containers",
    "image prune": "Remove unused images",
    "system reset": "Wipe the embedded world's state (images, containers, networks, volumes)",
    "trace": "Export the spans of the commands run so far",
    "trace export": "Write the recorded spans as JSONL, a Perfetto trace or a Mermaid diagram",
    "image bootstrap": "Build busybox:latest from the host's busybox (linux backend)",
    "tui": "Start the terminal UI (the default when csim is run alone)",
}

# Commands ``csim`` takes before its docker grammar (each has its own --help).
CSIM_COMMANDS: tuple[tuple[str, str], ...] = (
    ("tui", "Start the terminal UI (the default when csim is run alone)"),
    ("lesson", "Interactive lessons: list, start, answer, reset, validate"),
    ("demo", "Step through a scripted scenario"),
    ("class", "Teacher: exercise packs and grading"),
    ("exercise", "Student: work on an exercise pack"),
    ("daemon", "Serve the Engine API so the docker CLI and docker-py can use csim"),
    ("registry", "Run a local OCI registry"),
    ("runtime", "Use csim's OCI runtime directly (create, start, state, kill, delete)"),
)

# (least, most) arguments, as the command's cobra ``Args`` rule: ``(1, None)`` is
# ``RequiresMinArgs(1)``, ``(1, 1)`` ``ExactArgs(1)``, ``(0, 1)`` ``RequiresMaxArgs(1)``,
# ``(1, 2)`` ``RequiresRangeArgs(1, 2)``, ``(0, 0)`` ``NoArgs``. Commands not listed take
# any number (``stats``) or are groups.
ARGS: dict[str, tuple[int, int | None]] = {
    **dict.fromkeys(
        ("run", "create", "start", "stop", "kill", "restart", "pause", "unpause", "rm", "wait", "inspect"),
        (1, None),
    ),
    **dict.fromkeys(("top", "rmi", "save", "network inspect", "network rm", "volume inspect", "volume rm"), (1, None)),
    "exec": (2, None),
    **dict.fromkeys(("logs", "diff", "pull", "history", "push", "build", "network create"), (1, 1)),
    **dict.fromkeys(("rename", "tag", "network connect", "network disconnect"), (2, 2)),
    **dict.fromkeys(("images", "volume create"), (0, 1)),
    "port": (1, 2),
    **dict.fromkeys(
        (
            "ps", "events", "version", "info", "load", "network ls", "network prune", "volume ls",
            "volume prune", "system df", "system info", "system reset", "container prune", "image prune",
            "image bootstrap", "trace export", "tui",
        ),
        (0, 0),
    ),
}  # fmt: skip


def usage_line(command: str, fallback: str = "") -> str:
    """``csim logs [OPTIONS] CONTAINER``; ``fallback`` (argparse's) for a command not in the table."""
    if command in USAGE:
        return " ".join(part for part in ("csim", command, USAGE[command]) if part)
    return fallback or " ".join(part for part in ("csim", command) if part)


def _footer(command: str, verb: str) -> str:
    return f"{verb} '{' '.join(part for part in ('csim', command) if part)} --help' for more information"


def flag_error(command: str, message: str, fallback_usage: str = "") -> str:
    """A flag error as docker prints it (exit 125)."""
    return f"{message}\n\nUsage:  {usage_line(command, fallback_usage)}\n\n{_footer(command, 'Run')}"


def _plural(n: int) -> str:
    return f"{n} argument" if n == 1 else f"{n} arguments"


def arg_count_error(command: str, given: int, fallback_usage: str = "") -> str | None:
    """Docker's complaint about ``given`` arguments to ``command`` (exit 1), or None if they are fine."""
    rule = ARGS.get(command)
    if rule is None:
        return None
    least, most = rule
    if least <= given and (most is None or given <= most):
        return None
    if most is None:
        what, verb = f"requires at least {_plural(least)}", "See"
    elif least == most == 0:
        what, verb = "accepts no arguments", "Run"
    elif least == most:
        what, verb = f"requires {_plural(least)}", "Run"
    elif least == 0:
        what, verb = f"requires at most {_plural(most)}", "Run"
    else:
        what, verb = f"requires at least {least} and at most {_plural(most)}", "Run"
    return f"csim: 'csim {command}' {what}\n\nUsage:  {usage_line(command, fallback_usage)}\n\n{_footer(command, verb)}"


def unknown_command(group: str, word: str) -> str:
    """``docker frob`` / ``docker network frob`` (exit 1)."""
    path = " ".join(part for part in ("csim", group, word) if part)
    usage = f"\n\nUsage:  csim {group}" if group else ""
    return f"csim: unknown command: {path}{usage}\n\n{_footer(group, 'Run')}"
