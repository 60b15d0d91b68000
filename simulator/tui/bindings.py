"""The app's keys, one table, described in the current language.

Every key is a ``Binding`` with an id and a description from the i18n
catalog, so the footer, the help screen and the command palette explain it
in the student's language; the table is rebuilt when the language changes.
Priority bindings are the F-keys that still work while the command bar has
the focus.

The footer has one line. Paired keys share a label (``←→ step``, ``+- speed``);
while the command bar has the focus (letters type into it) it shows the
F-keys that still work (``F5 play/pause``, ``F6F7 step``, ``F2 한/EN``); and on
a narrow terminal, the keys a student can do without (theme, focus
the command bar: it has the focus already) leave the footer but stay on the
help screen and in the command palette, so help, play, step, lessons,
language and quit always fit.
"""

from __future__ import annotations

from textual.binding import Binding

from simulator.tui.i18n import Language, tr

__all__ = ["HELP_EXTRA", "NARROW_HIDDEN", "app_bindings"]

HELP_EXTRA = (
    "request_start",
    "request_end",
    "view",
    "files",
    "screenshot",
    "lesson_hint",
    "lesson_next",
    "lesson_hint_f8",
    "lesson_next_f9",
)
"""Hidden from the footer but listed on the help screen."""

NARROW_HIDDEN = ("theme", "focus_command")
"""Left out of the footer on a narrow terminal (still on the help screen)."""


def app_bindings(lang: Language, *, narrow: bool = False) -> list[Binding]:
    """The app's keys with descriptions in ``lang`` (footer, help, palette).

    Args:
        lang: the language of the descriptions.
        narrow: the footer is narrow: show only the keys in it that matter most.
    """
    step = Binding.Group(tr("bind.step", lang), compact=True)
    speed = Binding.Group(tr("bind.speed", lang), compact=True)

    def b(
        keys: str,
        action: str,
        key: str,
        bid: str,
        show: bool = True,
        display: str | None = None,
        priority: bool = False,
        group: Binding.Group | None = None,
    ) -> Binding:
        shown = show and not (narrow and bid in NARROW_HIDDEN)
        return Binding(
            keys, action, tr(key, lang), show=shown, key_display=display, id=bid, priority=priority, group=group
        )

    return [
        b("f1", "help", "bind.help", "help", display="F1", priority=True),
        b("space", "toggle_play", "bind.play", "play"),
        b("left", "step(-1)", "bind.step_back", "step_back", display="←", group=step),
        b("right", "step(1)", "bind.step_forward", "step_forward", display="→", group=step),
        b("home", "request_start", "bind.request_start", "request_start", show=False),
        b("end", "request_end", "bind.request_end", "request_end", show=False),
        b("plus,equals_sign", "faster", "bind.faster", "faster", display="+", group=speed),
        b("minus", "slower", "bind.slower", "slower", display="-", group=speed),
        b("f3", "lessons", "bind.lessons", "lessons", display="F3", priority=True),
        b("l", "toggle_language", "bind.language", "language"),
        b("t", "toggle_theme", "bind.theme", "theme"),
        b("v", "toggle_view", "bind.view", "view", show=False),
        b("f", "show_files", "bind.files", "files", show=False),
        b("colon,i", "focus_command", "bind.focus_command", "focus_command", display=":"),
        b("ctrl+s", "save_svg", "bind.screenshot", "screenshot", show=False),
        b("q", "quit", "bind.quit", "quit"),
        b("h", "lesson_hint", "bind.hint", "lesson_hint", show=False),  # the lesson pane shows these two
        b("n", "lesson_next", "bind.next", "lesson_next", show=False),
        b("f8", "lesson_hint", "bind.hint", "lesson_hint_f8", show=False, priority=True),
        b("f9", "lesson_next", "bind.next", "lesson_next_f9", show=False, priority=True),
        *(b(str(n), f"lesson_answer({n})", "bind.answer", f"lesson_answer_{n}", show=False) for n in range(1, 10)),
        # Usable while the command bar has the focus. Shown: the footer draws one key per action, the first
        # active one, so it says `space play/pause` normally and `F5 play/pause` while a command is typed.
        b("f2", "toggle_language", "bind.language", "language_f2", display="F2", priority=True),
        b("f5", "toggle_play", "bind.play", "play_f5", display="F5", priority=True),
        b("f6", "step(-1)", "bind.step_back", "step_back_f6", display="F6", priority=True, group=step),
        b("f7", "step(1)", "bind.step_forward", "step_forward_f7", display="F7", priority=True, group=step),
        b("ctrl+q", "quit", "bind.quit", "quit_ctrl_q", display="^q", priority=True),
    ]
