"""``csim lesson``, ``csim demo``, ``csim class`` and ``csim exercise`` for a plain terminal.

Each command is a function of parsed arguments and output streams, so the
``csim`` entry point (and tests) can call it directly; ``add_commands`` adds
the argument grammar to an existing subparser set. Lessons run against the
same persisted world as the other ``csim`` commands: the student types
``csim run ...`` and then ``csim lesson check``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, Any

from simulator.lessons.backends import BackendUnavailable
from simulator.lessons.catalog import Catalog, InvalidLesson, LessonNotFound
from simulator.lessons.classroom import ClassroomError
from simulator.lessons.model import Choice, Lesson
from simulator.lessons.runner import CheckResult, LessonRunner, ProgressStore

PROGRESS_FILE = "lesson-progress.json"


def default_lang() -> str:
    for key in ("CSIM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(key, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def add_commands(sub: Any) -> None:
    """Add ``lesson``, ``demo``, ``class`` and ``exercise`` to a subparsers object."""
    lesson = sub.add_parser("lesson", help="interactive lessons")
    ls = lesson.add_subparsers(dest="lesson_cmd", metavar="COMMAND", required=True)
    ls.add_parser("list", help="list lessons")
    p = ls.add_parser("start", help="start (or resume) a lesson")
    p.add_argument("lesson")
    for name in ("status", "check", "hint", "skip"):
        ls.add_parser(name)
    p = ls.add_parser("answer", help="answer the current question (1, 2, ...)")
    p.add_argument("choice", type=int)
    p = ls.add_parser("reset", help="start the lesson over")
    p.add_argument("lesson", nargs="?", default="")
    p = ls.add_parser("validate", help="check lesson files")
    p.add_argument("path")
    demo = sub.add_parser("demo", help="step through a scripted scenario")
    demo.add_argument("name", nargs="?", default="")
    demo.add_argument("--step", action="store_true", help="step interactively (n/p/q)")
    klass = sub.add_parser("class", help="teacher: exercise packs and grading")
    cs = klass.add_subparsers(dest="class_cmd", metavar="COMMAND", required=True)
    p = cs.add_parser("init")
    p.add_argument("pack")
    p.add_argument("--lessons", required=True, help="comma-separated lesson ids")
    p.add_argument("--name", default="")
    p = cs.add_parser("grade")
    p.add_argument("dir")
    p.add_argument("--pack", required=True)
    p.add_argument("-o", "--output", default="")
    ex = sub.add_parser("exercise", help="student: work on an exercise pack")
    es = ex.add_subparsers(dest="exercise_cmd", metavar="COMMAND", required=True)
    p = es.add_parser("start")
    p.add_argument("pack")
    p.add_argument("--student", required=True)
    p = es.add_parser("submit")
    p.add_argument("-o", "--output", default="")
    leaves = [demo]
    for group in (ls, cs, es):
        leaves.extend(group.choices.values())
    for p in leaves:
        p.add_argument("--lang", choices=["en", "ko"], default=None)


def _state_dir(args: Any) -> Path:
    from simulator.client.main import state_dir

    return Path(state_dir(getattr(args, "state", None)))


class _Session:
    """Progress, the active exercise and the worlds lessons run in; saves each world it opened when done.

    A world is opened only when a lesson needs one, and for that lesson's
    backend: the simulated world in the state directory, or the real one in
    ``<state>/linux`` for a ``backend: linux`` lesson. A world handed in
    (tests, the TUI) serves every lesson.
    """

    def __init__(self, args: Any, world: Any = None, catalog: Catalog | None = None) -> None:
        from simulator.lessons.classroom import load_exercise

        self.directory = _state_dir(args)
        self.exercise = load_exercise(self.directory)
        self.catalog = catalog or Catalog()
        self.progress = ProgressStore(self.directory / PROGRESS_FILE)
        self.lang = getattr(args, "lang", None) or (self.exercise or {}).get("pack", {}).get("lang") or default_lang()
        self.seed = int((self.exercise or {}).get("seed", 0))
        self._given = world
        self._opened: dict[str, Any] = {}

    def world(self, backend: str, lesson_id: str = "") -> Any:
        """The world for ``backend`` (opened once per session; the given one if any)."""
        if self._given is not None:
            return self._given
        if backend not in self._opened:
            from simulator.lessons.backends import open_world

            self._opened[backend] = open_world(backend, self.directory, self.seed, sys.stderr, lesson_id)
        return self._opened[backend]

    def variables(self, lesson_id: str) -> dict[str, str] | None:
        if self.exercise is None:
            return None
        from simulator.lessons.classroom import lesson_variables

        return lesson_variables(self.exercise["pack"], self.exercise["student"], lesson_id, self.catalog)

    def runner(self, lesson_id: str | None = None) -> LessonRunner | None:
        lid = lesson_id or self.progress.data.get("active")
        if not lid:
            return None
        lesson = self.catalog.load(lid, self.lang, self.variables(lid))
        return LessonRunner(self.world(lesson.backend, lesson.id), lesson, self.progress)

    def close(self) -> None:
        from simulator.lessons.backends import close_world

        opened, self._opened = self._opened, {}
        for backend, world in opened.items():
            close_world(world, self.directory, backend)


def _csim(lesson: Lesson) -> str:
    """How the student invokes csim for this lesson's commands (the real backend for a linux lesson)."""
    return "csim --backend linux" if lesson.backend == "linux" else "csim"


def _print_step(runner: LessonRunner, out: IO[str]) -> None:
    step = runner.current_step
    lesson = runner.lesson
    ko = lesson.lang == "ko"
    if step is None:
        out.write(("🎉 레슨을 마쳤습니다: " if ko else "🎉 Lesson complete: ") + lesson.title + "\n")
        return
    n, total = runner.step_index + 1, len(lesson.steps)
    out.write(f"\n── {lesson.title} · {n}/{total} · {step.title or step.id} ──\n{step.text}\n")
    if step.command:
        out.write(f"\n  $ {_csim(lesson)} {step.command}\n")
    pending = runner.pending_question()
    if pending is not None:
        _print_question(pending, ko, out)


def _print_question(pending: tuple[str, Choice], ko: bool, out: IO[str]) -> None:
    kind, choice = pending
    label = {"predict": ("예측해 보세요", "Predict"), "quiz": ("퀴즈", "Quiz")}[kind][0 if ko else 1]
    out.write(f"\n{label}: {choice.question}\n")
    for i, option in enumerate(choice.options, 1):
        out.write(f"  {i}. {option.text}\n")
    out.write("  → csim lesson answer N\n")


def _print_result(result: CheckResult, runner: LessonRunner, out: IO[str]) -> None:
    for o in result.outcomes:
        out.write(f"  {'✔' if o.passed else '✘'} {o.detail}\n")
    if not result.passed and result.feedback:
        out.write(f"  → {result.feedback}\n")


def cmd_lesson(args: Any, out: IO[str], err: IO[str], world: Any = None, catalog: Catalog | None = None) -> int:
    """``csim lesson list|start|status|check|hint|answer|skip|reset|validate``."""
    if args.lesson_cmd == "validate":
        from simulator.lessons.source import validate_path

        problems = validate_path(args.path)
        for problem in problems:
            err.write(f"{problem}\n")
        if not problems:
            out.write(f"{args.path}: ok\n")
        return 1 if problems else 0
    try:
        session = _Session(args, world, catalog)
    except ClassroomError as e:
        err.write(f"csim: {e}\n")
        return 1
    try:
        return _lesson(args, session, out, err)
    except BackendUnavailable as e:
        err.write("".join(f"csim: {line}\n" for line in str(e).splitlines()))
        return 1
    except (LessonNotFound, InvalidLesson, ValueError) as e:
        err.write(f"csim: {e}\n")
        return 1
    finally:
        session.close()


def _lesson(args: Any, session: _Session, out: IO[str], err: IO[str]) -> int:
    ko = session.lang == "ko"
    cmd = args.lesson_cmd
    if cmd == "list":
        allowed = (session.exercise or {}).get("pack", {}).get("lessons")
        for lid in session.catalog.ids(session.lang):
            if allowed and lid not in allowed:
                continue
            lesson = session.catalog.load(lid, session.lang)
            state = session.progress.lesson(lid)
            mark = " " if state is None else ("✔" if state.get("finished_at") else "…")
            real = ("; 실제 컨테이너, root" if ko else "; real containers, root") if lesson.backend == "linux" else ""
            out.write(f"{mark} {lid:<22} {lesson.title}  ({lesson.minutes} min; {', '.join(lesson.concepts)}{real})\n")
        return 0
    runner = session.runner(args.lesson if cmd in ("start", "reset") and args.lesson else None)
    if runner is None:
        err.write("csim: no lesson started; try `csim lesson list` and `csim lesson start ID`\n")
        return 1
    if cmd == "start":
        if runner.step_index == 0 and runner.lesson.intro:
            out.write(runner.lesson.intro + "\n")
        if runner.lesson.backend == "linux":
            out.write(
                "\n이 레슨은 실제 컨테이너를 씁니다. "
                "명령은 `csim --backend linux ...`(또는 CSIM_BACKEND=linux)로 입력하세요.\n"
                if ko
                else "\nThis lesson uses real containers: type its commands as `csim --backend linux ...` "
                "(or set CSIM_BACKEND=linux).\n"
            )
        _print_step(runner, out)
        return 0
    if cmd == "reset":
        runner.reset()
        _print_step(runner, out)
        return 0
    if cmd == "status":
        _print_step(runner, out)
        for i, text in enumerate(runner.hints_shown(), 1):
            out.write(f"  💡 {i}. {text}\n")
        return 0
    if cmd == "hint":
        hint = runner.hint()
        out.write(f"💡 {hint}\n" if hint else ("더 이상 힌트가 없습니다.\n" if ko else "No more hints.\n"))
        return 0
    if cmd == "answer":
        answered = runner.answer(args.choice - 1)
        out.write(("⭕ " if answered.correct else "❌ ") + answered.explain + "\n")
        _print_step(runner, out)
        return 0
    if cmd == "skip":
        runner.advance(force=True)
        _print_step(runner, out)
        return 0
    result = runner.check()
    _print_result(result, runner, out)
    if not result.passed:
        pending = runner.pending_question()
        if pending is not None:
            _print_question(pending, ko, out)
        return 1
    step = runner.current_step
    if step is not None and step.success:
        out.write(f"  {step.success}\n")
    runner.advance()
    _print_step(runner, out)
    return 0


def cmd_demo(args: Any, out: IO[str], err: IO[str], inp: IO[str] | None = None) -> int:
    """``csim demo [NAME] [--step]``: without a name, list the demos."""
    from simulator.lessons.demos import SCRIPTS, DemoFrame, DemoPlayer, DemoUnavailable, available, render_frame

    lang = args.lang or default_lang()
    if not args.name:
        for name, script in SCRIPTS.items():
            reason = available(name)
            out.write(
                f"{name:<10} {script.title.get(lang, script.title['en'])}{'  (' + reason + ')' if reason else ''}\n"
            )
        return 0
    try:
        player = DemoPlayer(args.name, lang)
    except DemoUnavailable as e:
        err.write(f"csim: {e}\n")
        return 1
    out.write(f"== {player.title} ==\n")
    total = len(player.frames)
    if not args.step or inp is None:
        for each in player.frames:
            out.write(render_frame(each, total, lang) + "\n")
        if player.closing:
            out.write(player.closing + "\n")
        return 0
    frame: DemoFrame | None = player.current
    for _ in range(10_000):
        if frame is not None:
            out.write(render_frame(frame, total, lang) + "\n")
        out.write("[n]ext [p]rev [g N] [q]uit > ")
        out.flush()
        line = inp.readline()
        if not line or line.strip() == "q":
            break
        word = line.strip().split()
        if not word or word[0] == "n":
            frame = player.forward()
        elif word[0] == "p":
            frame = player.back()
        elif word[0] == "g" and len(word) > 1 and word[1].isdigit():
            frame = player.seek(int(word[1]) - 1)
    if player.closing:
        out.write(player.closing + "\n")
    return 0


def cmd_class(args: Any, out: IO[str], err: IO[str], catalog: Catalog | None = None) -> int:
    """``csim class init PACK --lessons a,b`` and ``csim class grade DIR --pack PACK``."""
    from simulator.lessons.classroom import init_pack, load_pack
    from simulator.lessons.grading import grade_directory

    try:
        if args.class_cmd == "init":
            lessons = [x.strip() for x in args.lessons.split(",") if x.strip()]
            pack = init_pack(Path(args.pack), lessons, args.name, args.lang or default_lang(), catalog=catalog)
            out.write(f"Created exercise pack {pack['name']} ({len(lessons)} lessons) in {args.pack}\n")
            out.write("Students run: csim exercise start " + args.pack + " --student ID\n")
            return 0
        pack = load_pack(Path(args.pack))
        report = grade_directory(Path(args.dir), pack, Path(args.output or args.dir), catalog)
    except ClassroomError as e:
        err.write(f"csim: {e}\n")
        return 1
    for g in report.grades:
        out.write(f"{g.student:<16} {g.passed:>3}/{g.total:<3} {g.status:<9} {'; '.join(g.flags)}\n")
    out.write(f"Wrote {report.csv_path} and {report.markdown_path}\n")
    return 0


def cmd_exercise(args: Any, out: IO[str], err: IO[str], world: Any = None) -> int:
    """``csim exercise start PACK --student ID`` and ``csim exercise submit``."""
    from simulator.lessons.classroom import build_bundle, bundle_name, load_exercise, start_exercise, write_bundle

    directory = _state_dir(args)
    try:
        if args.exercise_cmd == "start":
            exercise = start_exercise(Path(args.pack), args.student, directory)
            out.write(
                f"Exercise {exercise['pack']['name']} started for {args.student}: "
                f"{', '.join(exercise['pack']['lessons'])}\n"
                f"Begin with: csim lesson start {exercise['pack']['lessons'][0]}\n"
            )
            return 0
        found = load_exercise(directory)
        if found is None:
            raise ClassroomError("no exercise started here; run `csim exercise start PACK --student ID`")
        exercise = found
    except ClassroomError as e:
        err.write(f"csim: {e}\n")
        return 1
    progress = ProgressStore(directory / PROGRESS_FILE)
    if world is None:
        from simulator.des.persist import load_world

        world = load_world(directory, seed=int(exercise["seed"]))
    bundle = build_bundle(exercise, progress.data, [*world.bus.spans(), *_linux_spans(directory)])
    path = write_bundle(bundle, Path(args.output) if args.output else Path.cwd() / bundle_name(exercise))
    out.write(f"Wrote {path}; hand it to your teacher.\n")
    return 0


def _linux_spans(directory: Path) -> list[Any]:
    """The real backend's saved trace (its ``backend: linux`` lessons' work), read without root."""
    from simulator.des.persist import TRACE_FILE
    from simulator.lessons.backends import world_directory
    from simulator.trace.jsonl import loads_spans

    path = world_directory(directory, "linux") / TRACE_FILE
    try:
        return list(loads_spans(path.read_text(encoding="utf-8"))) if path.exists() else []
    except (OSError, ValueError):
        return []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="csim")
    parser.add_argument("--state", default=None)
    add_commands(parser.add_subparsers(dest="cmd", required=True))
    return parser


def main(argv: list[str] | None = None, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run one lesson/demo/class/exercise command line (``python -m simulator.lessons.cli lesson list``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    if args.cmd == "lesson":
        return cmd_lesson(args, out, err)
    if args.cmd == "demo":
        return cmd_demo(args, out, err, sys.stdin)
    if args.cmd == "class":
        return cmd_class(args, out, err)
    return cmd_exercise(args, out, err)


if __name__ == "__main__":
    raise SystemExit(main())
