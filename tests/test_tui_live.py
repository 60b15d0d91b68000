"""Live mode: the TUI attached to a running ``csim daemon``, animating the real docker CLI's requests.

The daemon runs as a subprocess on a temporary unix socket; the app (headless)
reads its ``GET /csim/trace`` feed and ``GET /events``. ``docker run --rm
busybox echo hi`` typed into the real docker CLI must arrive as spans the
flow view draws, while the TUI's own state reads stay out of the timeline.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from simulator.trace.span import Span
from simulator.tui.app import CsimApp, make_app
from simulator.tui.backend import TUI_USER_AGENT, LiveBackend, PendingTraces
from simulator.tui.widgets.console import Console
from simulator.tui.widgets.containers import ContainersPanel
from simulator.tui.widgets.flow import FlowView
from tests.api_harness import csim_daemon, have_docker_cli

SIZE = (120, 40)


def _span(trace: str, span_id: int, parent: int | None, hop: str = "api", **attrs: object) -> Span:
    return Span(trace, span_id, parent, hop, f"{hop} work", 0.0, 1.0, dict(attrs))


def test_pending_traces_drop_the_tuis_own_reads_and_pass_the_rest() -> None:
    pending = PendingTraces(hold=1.0)
    assert pending.add(_span("t1", 2, 1, "dockerd"), 0.0) == []
    assert pending.add(_span("t1", 1, None, "cli", user_agent=TUI_USER_AGENT), 0.1) == []
    child = _span("t2", 4, 3, "dockerd")
    root = _span("t2", 3, None, "cli", user_agent="Docker-Client/28.2.2 (linux)")
    assert pending.add(child, 0.2) == []
    assert pending.add(root, 0.3) == [child, root]
    # A stream whose root is late (attach, wait) is passed on after the hold, then live.
    slow = _span("t3", 6, 5, "dockerd")
    assert pending.add(slow, 1.0) == []
    later = _span("t3", 7, 5, "containerd")
    assert pending.add(later, 2.5) == [slow, later]
    assert pending.add(_span("t3", 5, None, "cli"), 3.0) == [_span("t3", 5, None, "cli")]


async def _until(pilot, app: CsimApp, done, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.tick(0.05)
        await pilot.pause()
        if done():
            return
        await asyncio.sleep(0.05)


@pytest.mark.skipif(not have_docker_cli(), reason="the docker CLI is not installed")
async def test_live_mode_animates_the_real_docker_clis_run() -> None:
    with csim_daemon() as daemon:
        pulled = await asyncio.to_thread(daemon.docker, "pull", "busybox")
        assert pulled.returncode == 0, pulled.stderr
        backend = LiveBackend(daemon.sock)
        app = make_app(backend, language="en", animate=False)
        try:
            async with app.run_test(size=SIZE) as pilot:
                assert app.backend.mode == "live"
                await asyncio.sleep(0.5)  # let the trace and event feeds connect
                app.tick()
                before = len(app.timeline)
                ran = await asyncio.to_thread(daemon.docker, "run", "--rm", "busybox", "echo", "hi")
                assert ran.returncode == 0 and ran.stdout == "hi\n", ran.stderr

                def names() -> list[str]:
                    return [s.name for s in app.timeline.spans()[before:]]

                await _until(
                    pilot,
                    app,
                    lambda: (
                        "POST /containers/create" in names()
                        and "cli" in {s.hop for s in app.timeline.spans()[before:]}
                        and any(n.endswith("/start") for n in names())
                    ),
                )
                spans = app.timeline.spans()[before:]
                got = names()
                assert "POST /containers/create" in got, got
                assert any(n.endswith("/start") for n in got), got
                assert any(s.name.startswith("Docker-Client/") for s in spans if s.hop == "cli"), got
                assert {"api", "dockerd", "containerd"} <= {s.hop for s in spans}
                # None of the TUI's own state reads made it into the timeline.
                assert not any(str(s.attrs.get("user_agent", "")).startswith(TUI_USER_AGENT) for s in spans)
                assert not any(s.name.startswith(TUI_USER_AGENT) for s in spans)
                # The flow view draws the create request when the cursor is on it.
                index = before + got.index("POST /containers/create")
                app.playing = False
                app.seek(index, phase=0.5)
                scene = app.query_one(FlowView).scene
                assert scene.packets[0].target == "api" and "api" in scene.lit
                assert any("POST /containers/create" in caption for _, caption in scene.captions)
                # A command typed in the TUI runs on the daemon through the HTTP transport.
                app.run_command("run -d --name web busybox sleep 100")
                await app.workers.wait_for_complete()
                await pilot.pause()
                console = "\n".join(line.text for line in app.query_one(Console).lines)
                assert "Error" not in console, console
                app.seek(len(app.timeline) - 1)
                await _until(pilot, app, lambda: any(c.name == "web" for c in app.timeline.latest.containers))
                app.seek(len(app.timeline) - 1)
                await pilot.pause()
                panel = app.query_one(ContainersPanel)
                assert any(c.name == "web" and c.state == "running" for c in app.state().containers)
                assert panel.row_count >= 1
        finally:
            backend.close()
