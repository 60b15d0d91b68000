"""The lesson pane: the current step, its live verdict, hints, questions and what to watch.

It draws a :class:`~simulator.tui.lesson_session.LessonPaneState` and keeps
no lesson state of its own. Question options are links: clicking one answers
it, as the number keys do. The lesson's own text is shown as written (its
Markdown back-quotes kept), never interpreted as markup.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from simulator.tui.i18n import Language, tr
from simulator.tui.lesson_session import LessonPaneState, iter_options

__all__ = ["LessonPane", "render_lesson"]


def render_lesson(state: LessonPaneState, lang: Language) -> Content:
    """The pane's text for ``state`` (option lines are ``app.lesson_answer`` links).

    Built from (text, style) pieces, never from markup, so a ``[`` in a
    lesson's text is just a bracket.
    """
    lines: list[list[tuple[str, str]]] = []

    def line(*pieces: tuple[str, str]) -> None:
        lines.append(list(pieces))

    if state.finished:
        line((tr("lesson.finished", lang), "bold"))
        if state.summary:
            line((state.summary, ""))
        line((tr("lesson.list_key", lang), "dim"))
    else:
        step_line = tr("lesson.step", lang, n=state.number, total=state.total, title=state.step_title)
        line((step_line, "bold $accent"))
        line((state.text, ""))
        if state.command:
            line((f"  $ csim {state.command}", "bold"))
        if state.question is not None:
            q = state.question
            line((tr(f"lesson.{q.kind}", lang) + ": ", "bold $warning"), (q.question, ""))
            for number, text in iter_options(q):
                link = f"@click=app.lesson_answer({number})"
                line((" ", ""), (f"{number}. ", f"bold {link}"), (text, link))
            line((tr("lesson.answer_how", lang, n=len(q.options)), "dim"))
        if state.answer is not None:
            correct, explain = state.answer
            line(("⭕ " if correct else "❌ ", ""), (explain, ""))
        if state.verdict == "passed":
            line((tr("lesson.passed", lang), "bold $success"), (f" {state.success}" if state.success else "", ""))
        elif state.verdict == "failed":
            line((tr("lesson.failed", lang), "bold $error"), (f" {state.feedback}", ""))
        else:
            line((tr("lesson.pending", lang), "dim"))
        if state.watch:
            line((f"👁 {tr('lesson.watch', lang)}: ", "bold $accent"), (state.watch, ""))
        for i, hint in enumerate(state.hints, 1):
            line((f"💡 {i}. ", ""), (hint, ""))
        keys = [tr("lesson.hint_key", lang, n=state.hints_left)] if state.hints_left else []
        keys.append(tr("lesson.next_key", lang))
        line(("  ".join(keys), "dim"))
    pieces: list[tuple[str, str] | str] = []
    for i, parts in enumerate(lines):
        if i:
            pieces.append("\n")
        pieces.extend(p for p in parts if p[0])
    return Content.assemble(*pieces)


class LessonPane(VerticalScroll):
    """The lesson being taught, beside the console."""

    DEFAULT_CSS = """
    LessonPane {
        height: 1fr;
        border: round $accent 70%;
        padding: 0 1;
    }
    LessonPane > Static { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._body = Static()
        self._state: tuple[LessonPaneState, Language] | None = None

    def compose(self) -> ComposeResult:
        yield self._body

    def show(self, state: LessonPaneState, lang: Language) -> None:
        """Draw ``state`` (only when it changed)."""
        if self._state == (state, lang):
            return
        self._state = (state, lang)
        self.border_title = tr("panel.lesson", lang, title=state.title)
        self.border_subtitle = f"{state.number}/{state.total}"
        self._body.update(render_lesson(state, lang))

    @property
    def plain(self) -> str:
        """What the pane says, without styles (for tests)."""
        if self._state is None:
            return ""
        return render_lesson(*self._state).plain
