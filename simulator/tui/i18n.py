"""Every string the TUI shows, in English and Korean.

Students in a Korean classroom and readers of the English docs look at the
same screen, so no widget holds a literal: it asks ``tr(key, lang)``. The
language is switched at run time (one key) and defaults from the locale, the
way ``gettext`` would pick it (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``).
Docker's own words (``running``, ``POST /containers/create``, CLI output) stay
as Docker prints them: they are what the student will see in a real terminal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

Language = Literal["en", "ko"]
LANGUAGES: tuple[Language, ...] = ("en", "ko")

_CATALOG: dict[str, tuple[str, str]] = {
    # title bar
    "mode.simulated": ("simulated", "시뮬레이션"),
    "mode.live": ("live", "실시간"),
    "mode.linux": ("real (linux)", "실제 리눅스"),
    "state.playing": ("playing", "재생 중"),
    "state.paused": ("paused", "일시정지"),
    # panel titles
    "panel.flow": ("REQUEST FLOW", "요청 흐름"),
    "panel.containers": ("CONTAINERS", "컨테이너"),
    "panel.images": ("IMAGES & LAYERS", "이미지와 레이어"),
    "panel.lifecycle": ("LIFECYCLE", "생명주기"),
    "panel.events": ("EVENTS", "이벤트"),
    "panel.timeline": ("TIMELINE", "타임라인"),
    "panel.console": ("CONSOLE", "콘솔"),
    "panel.networks": ("NETWORKS & VOLUMES", "네트워크와 볼륨"),
    # column headers
    "col.name": ("NAME", "이름"),
    "col.state": ("STATE", "상태"),
    "col.image": ("IMAGE", "이미지"),
    "col.status": ("STATUS", "상태 정보"),
    # empty states and labels
    "empty.containers": (
        "no containers yet: try  run -d --name web nginx",
        "컨테이너가 없습니다: run -d --name web nginx 를 입력해 보세요",
    ),
    "empty.images": ("no images yet: try  pull busybox", "이미지가 없습니다: pull busybox 를 입력해 보세요"),
    "empty.events": ("no events yet", "아직 이벤트가 없습니다"),
    "empty.timeline": ("no requests yet: type a command below", "아직 요청이 없습니다: 아래에 명령을 입력하세요"),
    "empty.lifecycle": ("select a container to see its state", "상태를 보려면 컨테이너를 선택하세요"),
    "empty.flow": ("waiting for a request…", "요청을 기다리는 중…"),
    "label.step": ("step {n} / {total}", "단계 {n} / {total}"),
    "label.layers": ("{n} layers", "레이어 {n}개"),
    "label.shared": ("shared ×{n}", "공유 ×{n}"),
    "label.removed": ("removed", "삭제됨"),
    "label.selected": ("selected: {name}", "선택: {name}"),
    "label.last_transition": ("last: {before} → {after}", "최근 전이: {before} → {after}"),
    "label.networks": ("networks", "네트워크"),
    "label.volumes": ("volumes", "볼륨"),
    "label.unused": ("(unused, kept)", "(사용 안 함, 남아 있음)"),
    "label.speed": ("speed", "속도"),
    "label.packets": ("in flight", "전송 중"),
    "input.placeholder": (
        "type a docker command, e.g.  run -d --name web nginx",
        "docker 명령을 입력하세요. 예:  run -d --name web nginx",
    ),
    "console.welcome": (
        "csim console: commands run against the {mode} world",
        "csim 콘솔: 명령은 {mode} 세계에서 실행됩니다",
    ),
    "console.bad_quoting": ("csim: cannot parse command line: {error}", "csim: 명령줄을 해석할 수 없습니다: {error}"),
    "console.backend_error": ("csim: the backend failed: {error}", "csim: 백엔드 오류: {error}"),
    "console.no_tty": (
        "This console is not a terminal, so -it has nothing to attach to (docker says the same without one). "
        "Try  run -d --name box busybox sleep 3600  then  exec box ps , or type  csim run -it …  in a shell.",
        "이 콘솔은 터미널이 아니어서 -it로 연결할 곳이 없습니다 (터미널이 없으면 docker도 같은 오류를 냅니다). "
        "run -d --name box busybox sleep 3600  후  exec box ps 를 입력하거나, 셸에서  csim run -it … 을 실행하세요.",
    ),
    "notify.error": ("command failed (exit {code})", "명령 실패 (종료 코드 {code})"),
    "notify.language": ("language: English", "언어: 한국어"),
    "notify.theme": ("theme: {theme}", "테마: {theme}"),
    "notify.screenshot": ("screenshot saved to {path}", "스크린샷 저장: {path}"),
    "notify.snapshot_failed": ("could not read daemon state: {error}", "데몬 상태를 읽을 수 없습니다: {error}"),
    # bindings (footer and command palette)
    "bind.help": ("help", "도움말"),
    "bind.play": ("play/pause", "재생/정지"),
    "bind.step_back": ("step back", "이전 단계"),
    "bind.step_forward": ("step forward", "다음 단계"),
    "bind.request_start": ("request start", "요청 시작"),
    "bind.request_end": ("request end", "요청 끝"),
    "bind.step": ("step", "단계"),
    "bind.speed": ("speed", "속도"),
    "bind.faster": ("faster", "빠르게"),
    "bind.slower": ("slower", "느리게"),
    "bind.language": ("한/EN", "한/EN"),
    "bind.theme": ("theme", "테마"),
    "bind.view": ("flow/panels", "흐름/패널"),
    "bind.focus_command": ("command", "명령"),
    "bind.screenshot": ("screenshot", "스크린샷"),
    "bind.quit": ("quit", "종료"),
    "bind.close": ("close", "닫기"),
    "bind.complete": ("complete", "자동완성"),
    # help screen
    "help.title": ("csim — help", "csim — 도움말"),
    "help.intro": (
        "csim shows what happens underneath a docker command. Type a command in the "
        "command bar; the flow view animates every hop of the request (CLI → REST API → "
        "dockerd → containerd → shim → runc → kernel), and the timeline lets you step "
        "through it. Every panel shows the world as of the timeline cursor.",
        "csim 은 docker 명령 아래에서 일어나는 일을 보여 줍니다. 명령줄에 명령을 입력하면 "
        "흐름 화면이 요청의 모든 단계(CLI → REST API → dockerd → containerd → shim → runc → "
        "kernel)를 애니메이션으로 보여 주고, 타임라인으로 한 단계씩 살펴볼 수 있습니다. "
        "모든 패널은 타임라인 커서 시점의 세계를 보여 줍니다.",
    ),
    "help.keys": ("Keys", "키"),
    "help.close": ("press Escape to close", "Esc 를 누르면 닫힙니다"),
    # command palette
    "palette.play": ("Play or pause the animation", "애니메이션 재생 또는 일시정지"),
    "palette.language": ("Switch language (English / 한국어)", "언어 전환 (English / 한국어)"),
    "palette.theme": ("Switch light / dark theme", "밝은 / 어두운 테마 전환"),
    "palette.help": ("Show help", "도움말 보기"),
    "palette.start": ("Jump to the start of the request", "요청의 시작으로 이동"),
    "palette.end": ("Jump to the end of the request", "요청의 끝으로 이동"),
    "palette.screenshot": ("Save an SVG screenshot", "SVG 스크린샷 저장"),
    # lifecycle state glosses (Docker's word stays, the gloss is translated)
    "gloss.created": ("created", "생성됨"),
    "gloss.running": ("running", "실행 중"),
    "gloss.paused": ("paused", "일시정지"),
    "gloss.restarting": ("restarting", "재시작 중"),
    "gloss.removing": ("removing", "삭제 중"),
    "gloss.exited": ("exited", "종료됨"),
    "gloss.dead": ("dead", "죽음"),
    # lessons
    "panel.lesson": ("LESSON · {title}", "레슨 · {title}"),
    "lesson.step": ("step {n}/{total} · {title}", "{n}/{total}단계 · {title}"),
    "lesson.pending": ("not checked yet: try the command above", "아직 확인 전입니다: 위의 명령을 실행해 보세요"),
    "lesson.passed": ("✔ checked", "✔ 확인됨"),
    "lesson.failed": ("✘ not yet:", "✘ 아직 아닙니다:"),
    "lesson.predict": ("Predict", "예측해 보세요"),
    "lesson.quiz": ("Quiz", "퀴즈"),
    "lesson.answer_how": ("press 1-{n} or click an option", "1-{n} 키를 누르거나 보기를 클릭하세요"),
    "lesson.watch": ("Watch", "주목"),
    "lesson.hint_key": ("[h] hint ({n} left)", "[h] 힌트 ({n}개 남음)"),
    "lesson.next_key": ("[n] next  [F3] lessons", "[n] 다음  [F3] 레슨 목록"),
    "lesson.list_key": ("[F3] choose another lesson", "[F3] 다른 레슨 고르기"),
    "lesson.finished": ("🎉 Lesson complete", "🎉 레슨을 마쳤습니다"),
    "lesson.list_title": ("LESSONS", "레슨 목록"),
    "lesson.list_help": ("Enter or click: start · Esc: close", "Enter 또는 클릭: 시작 · Esc: 닫기"),
    "lesson.minutes": ("{n} min", "{n}분"),
    "lesson.none": ("no lessons found", "레슨을 찾을 수 없습니다"),
    "lesson.started": ("lesson: {title}", "레슨: {title}"),
    "lesson.error": ("lesson problem: {error}", "레슨 오류: {error}"),
    "lesson.no_more_hints": ("no more hints", "더 이상 힌트가 없습니다"),
    "lesson.not_passed": (
        "this step has not passed yet (command palette: skip the step)",
        "이 단계는 아직 통과하지 못했습니다 (명령 팔레트에서 건너뛸 수 있습니다)",
    ),
    "lesson.predict_first": (
        "predict first: press 1-9 in the lesson pane; your command runs after that",
        "먼저 예측해 보세요: 레슨 창에서 1-9 를 누르면 명령이 이어서 실행됩니다",
    ),
    "lesson.held": ("(held until you answer the prediction: {line})", "(예측에 답하면 실행됩니다: {line})"),
    "lesson.watch_paused": (
        "paused at the span this step is about: read the lesson pane",
        "이 단계에서 볼 지점에서 멈췄습니다: 레슨 창을 읽어 보세요",
    ),
    "bind.lessons": ("lessons", "레슨"),
    "bind.hint": ("hint", "힌트"),
    "bind.next": ("next step", "다음 단계"),
    "bind.answer": ("answer the lesson's question", "레슨 질문에 답하기"),
    "bind.files": ("files of a layer / container", "레이어 / 컨테이너의 파일"),
    "palette.files": ("Show the files of a layer or a container (A/C/D)", "레이어나 컨테이너의 파일 보기 (A/C/D)"),
    "files.title": ("FILES · layers and containers", "파일 · 레이어와 컨테이너"),
    "files.path": ("PATH", "경로"),
    "files.size": ("SIZE", "크기"),
    "files.none": ("no containers or images yet", "아직 컨테이너나 이미지가 없습니다"),
    "files.empty": ("no changes", "변경 사항이 없습니다"),
    "files.error": ("cannot list files: {error}", "파일 목록을 읽을 수 없습니다: {error}"),
    "files.legend": ("A added · C changed · D deleted", "A 추가 · C 변경 · D 삭제"),
    "files.help": (
        "↑/↓ choose a container or layer · Enter: into the file list · Esc: close",
        "↑/↓ 컨테이너나 레이어 선택 · Enter: 파일 목록으로 · Esc: 닫기",
    ),
    "palette.lessons": ("Open the lesson list", "레슨 목록 열기"),
    "palette.hint": ("Lesson: show the next hint", "레슨: 다음 힌트 보기"),
    "palette.next": ("Lesson: go to the next step", "레슨: 다음 단계로"),
    "palette.skip": ("Lesson: skip this step", "레슨: 이 단계 건너뛰기"),
    "palette.close_lesson": ("Lesson: close the lesson pane", "레슨: 레슨 창 닫기"),
}

KEYS: frozenset[str] = frozenset(_CATALOG)


def tr(key: str, lang: Language, /, **values: object) -> str:
    """The string for ``key`` in ``lang``, with ``{name}`` fields filled.

    Raises:
        KeyError: for a key missing from the catalog (a bug: tests check all keys).
    """
    english, korean = _CATALOG[key]
    text = korean if lang == "ko" else english
    return text.format(**values) if values else text


def default_language(environ: Mapping[str, str] | None = None) -> Language:
    """``ko`` when the locale variables ask for Korean, else ``en``.

    The first non-empty of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` decides, as
    POSIX locale lookup does.
    """
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def other_language(lang: Language) -> Language:
    """The language the switch key moves to."""
    return "en" if lang == "ko" else "ko"
