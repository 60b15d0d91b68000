"""Step-through demos: a scripted scenario played on a fresh world, walked span by span.

``csim demo NAME`` runs a short script (``pull``, ``run``, ``network create``...)
on a private simulated world, keeps the trace it produced, and lets the viewer
step forward and back over it. Each frame is one span (one hop doing one
thing), with a caption in the viewer's language and the containers' states as
they were at that moment, taken from Docker's events, so the same frames can be
drawn by the TUI or printed in a terminal.
"""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.lessons.view import student_spans
from simulator.trace.span import Span

Text = dict[str, str]


@dataclass(frozen=True, slots=True)
class DemoCommand:
    """One command of a demo script and what to say about it."""

    line: str
    note: Text
    advance: float = 0.0


@dataclass(frozen=True, slots=True)
class DemoScript:
    """A named scenario."""

    name: str
    title: Text
    commands: tuple[DemoCommand, ...]
    needs: str = ""
    closing: Text = field(default_factory=dict)
    files: tuple[tuple[str, str], ...] = ()
    """Files of a build context, written to a temp dir that the commands run in (``.`` names it)."""


@dataclass(frozen=True, slots=True)
class DemoFrame:
    """One step of a demo: a span, the command it belongs to, and the world's containers at that moment."""

    index: int
    command: str
    note: str
    span: Span
    caption: str
    states: tuple[tuple[str, str], ...]
    output: str = ""


class DemoUnavailable(Exception):
    """The demo needs a part of csim that is not built yet."""


def _t(en: str, ko: str) -> Text:
    return {"en": en, "ko": ko}


SCRIPTS: dict[str, DemoScript] = {
    s.name: s
    for s in (
        DemoScript(
            "lifecycle",
            _t("A container's life: all seven states", "컨테이너의 일생: 일곱 가지 상태"),
            (
                DemoCommand("pull busybox", _t("First the image is fetched.", "먼저 이미지를 받아 둡니다.")),
                DemoCommand(
                    "create --name life busybox sleep 600",
                    _t(
                        "create: the container exists but nothing runs yet (created).",
                        "create: 컨테이너는 생겼지만 아직 아무것도 실행되지 않습니다 (created).",
                    ),
                ),
                DemoCommand(
                    "start life", _t("start: its process runs (running).", "start: 프로세스가 실행됩니다 (running).")
                ),
                DemoCommand(
                    "pause life",
                    _t(
                        "pause: the process is frozen by the cgroup freezer (paused).",
                        "pause: cgroup freezer가 프로세스를 얼립니다 (paused).",
                    ),
                ),
                DemoCommand("unpause life", _t("unpause: it runs again.", "unpause: 다시 실행됩니다.")),
                DemoCommand(
                    "stop life",
                    _t(
                        "stop: SIGTERM, then the process exits (exited).",
                        "stop: SIGTERM을 받고 프로세스가 끝납니다 (exited).",
                    ),
                ),
                DemoCommand(
                    "run -d --name flaky --restart on-failure:2 busybox sh -c 'exit 3'",
                    _t(
                        "A restart policy: each failure puts the container in restarting before it runs again.",
                        "재시작 정책: 실패할 때마다 컨테이너는 restarting 상태를 거쳐 다시 실행됩니다.",
                    ),
                    advance=30.0,
                ),
                DemoCommand(
                    "rm life",
                    _t(
                        "rm: while the daemon deletes it the container is removing; then it is gone.",
                        "rm: 데몬이 지우는 동안은 removing 상태이고, 끝나면 사라집니다.",
                    ),
                ),
            ),
            closing=_t(
                "The seventh state, dead, appears only when removal fails half-way (for example a busy mount); "
                "a healthy daemon never shows it, and such a container can only be removed.",
                "일곱 번째 상태인 dead는 삭제가 중간에 실패했을 때만 나타납니다(예: 사용 중인 마운트). "
                "정상적인 데몬에서는 보기 어렵고, 이 상태의 컨테이너는 삭제만 할 수 있습니다.",
            ),
        ),
        DemoScript(
            "pull",
            _t("Pulling images that share layers", "레이어를 공유하는 이미지 받기"),
            (
                DemoCommand(
                    "pull nginx",
                    _t(
                        "nginx is built on debian bookworm-slim: every layer is downloaded.",
                        "nginx는 debian bookworm-slim 위에 만들어졌습니다. 모든 레이어를 내려받습니다.",
                    ),
                ),
                DemoCommand(
                    "pull python:3.12-slim",
                    _t(
                        "python:3.12-slim has the same base layer: it is not downloaded again.",
                        "python:3.12-slim도 같은 기반 레이어를 씁니다. 그 레이어는 다시 받지 않습니다.",
                    ),
                ),
            ),
        ),
        DemoScript(
            "build",
            _t("Building with the layer cache", "레이어 캐시를 쓰는 빌드"),
            (
                DemoCommand("pull busybox", _t("The base image first.", "먼저 기반 이미지를 받습니다.")),
                DemoCommand(
                    "build -t demo/app:1 .",
                    _t(
                        "Each instruction is a builder step; RUN and COPY add a layer, CMD only changes the config.",
                        "명령마다 빌더 단계가 하나씩 실행됩니다. RUN과 COPY는 레이어를 더하고, CMD는 설정만 바꿉니다.",
                    ),
                ),
                DemoCommand(
                    "build -t demo/app:1 .",
                    _t(
                        "Nothing changed: every step says Using cache and the image ID stays the same.",
                        "바뀐 것이 없으니 모든 단계가 Using cache이고 이미지 ID도 그대로입니다.",
                    ),
                ),
                DemoCommand(
                    "history demo/app:1",
                    _t(
                        "The history: a row per instruction, 0B for the ones that only changed the config.",
                        "history는 명령마다 한 줄이고, 설정만 바꾼 명령은 0B로 표시됩니다.",
                    ),
                ),
                DemoCommand(
                    "run --rm demo/app:1",
                    _t("The built image runs like any other.", "빌드한 이미지도 다른 이미지처럼 실행됩니다."),
                ),
            ),
            needs="build",
            files=(
                (
                    "Dockerfile",
                    "FROM busybox\nRUN mkdir -p /app && echo built > /app/stamp\nCOPY hello.txt /app/\n"
                    'CMD ["cat", "/app/hello.txt", "/app/stamp"]\n',
                ),
                ("hello.txt", "hello from the build context\n"),
            ),
        ),
        DemoScript(
            "run",
            _t("One `run`, from the client to the runtime", "`run` 한 번: 클라이언트에서 런타임까지"),
            (
                DemoCommand(
                    "pull busybox",
                    _t("The image, so that run need not pull.", "run이 pull하지 않도록 이미지를 먼저 받습니다."),
                ),
                DemoCommand(
                    "run --name hello busybox echo hello",
                    _t(
                        "run = create + attach + start + wait, each an API call; dockerd hands the container to "
                        "containerd, a shim and runc, which ask the kernel for namespaces and cgroups.",
                        "run은 create, attach, start, wait 네 번의 API 호출입니다. "
                        "dockerd는 컨테이너를 containerd에 넘기고, "
                        "shim과 runc가 커널에 네임스페이스와 cgroup을 요청합니다.",
                    ),
                ),
            ),
        ),
        DemoScript(
            "network",
            _t("Two containers on one network", "한 네트워크 위의 두 컨테이너"),
            (
                DemoCommand("pull busybox", _t("The image first.", "먼저 이미지를 받습니다.")),
                DemoCommand(
                    "network create appnet",
                    _t("A user-defined bridge network.", "사용자 정의 브리지 네트워크를 만듭니다."),
                ),
                DemoCommand(
                    "run -d --name server --network appnet busybox sleep 600",
                    _t(
                        "The first container gets an endpoint and an IP on appnet.",
                        "첫 컨테이너가 appnet에 엔드포인트와 IP를 받습니다.",
                    ),
                ),
                DemoCommand(
                    "run --name client --network appnet busybox ping -c 2 server",
                    _t(
                        "The second finds the first by name (the network's DNS) and pings it.",
                        "두 번째 컨테이너는 네트워크의 DNS로 첫 컨테이너를 이름으로 찾아 ping 합니다.",
                    ),
                ),
            ),
        ),
        DemoScript(
            "volume",
            _t("A volume outlives its container", "컨테이너보다 오래 사는 볼륨"),
            (
                DemoCommand("pull busybox", _t("The image first.", "먼저 이미지를 받습니다.")),
                DemoCommand(
                    "volume create notes",
                    _t("A named volume, owned by the daemon.", "데몬이 관리하는 이름 있는 볼륨입니다."),
                ),
                DemoCommand(
                    "run --name writer -v notes:/data busybox sh -c 'echo kept > /data/note'",
                    _t(
                        "writer mounts it at /data and writes a file there.",
                        "writer가 /data에 볼륨을 붙이고 파일을 씁니다.",
                    ),
                ),
                DemoCommand(
                    "rm writer",
                    _t("The container is removed; the volume is not.", "컨테이너는 지워지지만 볼륨은 남습니다."),
                ),
                DemoCommand(
                    "run --name reader -v notes:/data busybox cat /data/note",
                    _t(
                        "A new container mounts the same volume and reads the file.",
                        "새 컨테이너가 같은 볼륨을 붙이고 파일을 읽습니다.",
                    ),
                ),
            ),
        ),
    )
}

_HOPS: dict[str, Text] = {
    "cli": _t("the docker client", "도커 클라이언트"),
    "api": _t("the Engine REST API", "엔진 REST API"),
    "dockerd": _t("the daemon (dockerd)", "데몬(dockerd)"),
    "containerd": _t("containerd", "containerd"),
    "shim": _t("the shim that keeps the container's process company", "컨테이너 프로세스를 지키는 shim"),
    "runc": _t("the OCI runtime (runc)", "OCI 런타임(runc)"),
    "kernel": _t("the kernel", "커널"),
    "registry": _t("the registry (Docker Hub)", "레지스트리(도커 허브)"),
    "builder": _t("the builder", "빌더"),
}

_CONTAINER_ACTIONS = {
    "create": "created",
    "start": "running",
    "restart": "running",
    "unpause": "running",
    "pause": "paused",
    "die": "exited",
    "destroy": "removed",
}


def describe_span(span: Span, lang: str = "en") -> str:
    """A one-line caption for a span: which hop did what."""
    hop = _HOPS.get(span.hop, {}).get(lang, span.hop)
    status = span.attrs.get("status")
    suffix = f" → {status}" if isinstance(status, int) and span.hop == "api" else ""
    return f"{hop}: {span.name}{suffix}"


def available(name: str) -> str:
    """Empty if the demo can run, else why not."""
    script = SCRIPTS.get(name)
    if script is None:
        return f"no demo named {name!r} (known: {', '.join(SCRIPTS)})"
    if script.needs:
        import argparse

        from simulator.client.main import build_parser

        # argparse keeps its subcommands on the private _actions list; there is no public accessor.
        names: set[str] = set()
        for action in build_parser()._actions:
            if isinstance(action, argparse._SubParsersAction):
                names.update(action.choices)
        if script.needs not in names:
            return f"the {name} demo needs `csim {script.needs}`, which is not built yet"
    return ""


class DemoPlayer:
    """Plays a demo script on a fresh world and steps over its spans.

    Args:
        name: a key of ``SCRIPTS``.
        lang: ``en`` or ``ko``.
        seed: the world's seed (same seed, same frames).
        world: a world to play on (a fresh ``World(seed)`` if None).
    """

    def __init__(self, name: str, lang: str = "en", seed: int = 0, world: Any = None) -> None:
        reason = available(name)
        if reason:
            raise DemoUnavailable(reason)
        self.script = SCRIPTS[name]
        self.lang = lang
        if world is None:
            from simulator.des.world import World

            world = World(seed=seed)
        self.world = world
        self.frames: list[DemoFrame] = self._play()
        self.position = 0

    def _write_context(self) -> str:
        """The script's build context in a temp dir that lives as long as the player."""
        if not self.script.files:
            return ""
        import tempfile

        self._context = tempfile.TemporaryDirectory(prefix="csim-demo-")
        for name, text in self.script.files:
            (Path(self._context.name) / name).write_text(text, encoding="utf-8")
        return self._context.name

    def _play(self) -> list[DemoFrame]:
        from simulator.lessons.view import WorldAdapter

        view = WorldAdapter(self.world)
        frames: list[DemoFrame] = []
        states: dict[str, str] = {}
        ids: dict[str, str] = {}
        seen_events = 0
        context = self._write_context()
        for cmd in self.script.commands:
            before = max((s.span_id for s in view.spans()), default=0)
            # Run inside the context dir so command lines (and the trace) say `.`, the same every time.
            with contextlib.chdir(context) if context else contextlib.nullcontext():
                result = self.world.run_cli(shlex.split(cmd.line))
            if cmd.advance:
                self.world.advance(cmd.advance)
            output = (result.stdout + result.stderr).strip()
            spans = sorted(
                (s for s in student_spans(view.spans()) if s.span_id > before), key=lambda s: (s.start, s.span_id)
            )
            events = view.events()[seen_events:]
            seen_events += len(events)
            note = cmd.note.get(self.lang, cmd.note["en"])
            for i, span in enumerate(spans):
                # a root span lasts the whole command: its frame shows the world as the command began
                until = span.start if span.parent_id is None else span.end
                while events and self._event_time(events[0]) <= until + 1e-9:
                    self._apply(events.pop(0), states, ids)
                container = str(span.attrs.get("container", ""))
                if span.hop == "dockerd" and span.name.startswith("ContainerRemove") and container in states:
                    states[container] = "removing"
                if span.hop == "dockerd" and span.name == "restart manager" and container in states:
                    states[container] = "restarting"
                frames.append(
                    DemoFrame(
                        index=len(frames),
                        command=cmd.line,
                        note=note,
                        span=span,
                        caption=describe_span(span, self.lang),
                        states=tuple(sorted(states.items())),
                        output=output if i == len(spans) - 1 else "",
                    )
                )
            for ev in events:
                self._apply(ev, states, ids)
        return frames

    def _event_time(self, ev: Any) -> float:
        from simulator.des.world import DEFAULT_EPOCH

        return float(ev.time_ns) / 1e9 - DEFAULT_EPOCH

    @staticmethod
    def _apply(ev: Any, states: dict[str, str], ids: dict[str, str]) -> None:
        if ev.type != "container":
            return
        name = ev.attributes.get("name") or ids.get(ev.actor_id, ev.actor_id[:12])
        ids[ev.actor_id] = name
        status = _CONTAINER_ACTIONS.get(ev.action.split(":")[0])
        if status == "removed":
            states.pop(name, None)
        elif status is not None:
            states[name] = status

    # -- stepping ---------------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self.script.title.get(self.lang, self.script.title["en"])

    @property
    def closing(self) -> str:
        return self.script.closing.get(self.lang, "")

    @property
    def current(self) -> DemoFrame | None:
        return self.frames[self.position] if self.frames else None

    def forward(self) -> DemoFrame | None:
        if self.position < len(self.frames) - 1:
            self.position += 1
        return self.current

    def back(self) -> DemoFrame | None:
        if self.position > 0:
            self.position -= 1
        return self.current

    def seek(self, index: int) -> DemoFrame | None:
        if self.frames:
            self.position = max(0, min(index, len(self.frames) - 1))
        return self.current


def render_frame(frame: DemoFrame, total: int, lang: str = "en") -> str:
    """A frame as plain text for a terminal."""
    label = "상태" if lang == "ko" else "states"
    lines = [
        f"[{frame.index + 1}/{total}] t={frame.span.start:.3f}s  $ csim {frame.command}",
        f"  {frame.note}" if frame.note else "",
        f"  {frame.span.hop:>10} │ {frame.caption}",
    ]
    if frame.states:
        lines.append(f"  {label}: " + ", ".join(f"{n}={s}" for n, s in frame.states))
    if frame.output:
        lines.extend("  │ " + line for line in frame.output.splitlines()[-6:])
    return "\n".join(line for line in lines if line)
