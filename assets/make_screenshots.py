"""Regenerate the README's TUI screenshots (SVG) from a scripted session.

The app runs headless on the embedded simulated world with a fixed seed, a
fixed terminal size and the animation clock stopped; every view is frozen at
a chosen step and packet position with ``seek``, so running this twice gives
the same pictures. The scenario is the one a first lesson walks through:

1. ``pull nginx`` then ``run -d --name web nginx``, one step back from the
   end of the run: the flow view mid-animation (``tui-flow.svg``);
2. ``pull python:3.12-slim``: the layer tree with the layers the two images
   share (``tui-layers.svg``);
3. the same world in Korean, the pull's packet on its way to the registry
   (``tui-korean.svg``);
4. the image-layers lesson on a fresh world after ``pull nginx`` and one
   hint (``tui-lesson.svg``).

Usage: python assets/make_screenshots.py [--out assets]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = (140, 45)
SEED = 0


async def _run(app: Any, pilot: Any, line: str) -> None:
    """Type-equivalent of entering ``line`` in the command bar, waiting for its output."""
    app.run_command(line)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _freeze(app: Any, pilot: Any, step: int, phase: float) -> None:
    """Stop the animation at ``step`` (negative: from the end) with the packet at ``phase``."""
    app.playing = False
    last = len(app.timeline) - 1
    app.seek(step if step >= 0 else last + step + 1, phase)
    app.screen.set_focus(None)  # the footer then shows the app's keys, not the command bar's
    app.clear_notifications()
    await pilot.pause()
    await pilot.pause()


def _save(app: Any, out: Path, name: str, title: str) -> Path:
    path = out / name
    path.write_text(app.export_screenshot(title=title), encoding="utf-8")
    return path


async def make_screenshots(out: Path) -> list[Path]:
    """Drive the app through the scenario and write the SVGs into ``out``."""
    from simulator.tui.app import make_app

    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(seed=SEED, language="en", animate=False, progress_path=Path(tmp) / "progress.json")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await _run(app, pilot, "pull nginx")
            await _run(app, pilot, "run -d --name web nginx")
            await _freeze(app, pilot, step=-2, phase=0.5)
            saved.append(_save(app, out, "tui-flow.svg", "csim: docker run, one step back from the end"))

            await _run(app, pilot, "pull python:3.12-slim")
            await _freeze(app, pilot, step=-1, phase=1.0)
            # python:3.12-slim is listed under nginx: scroll the panel to it and its shared base layer.
            app.query_one("#images").scroll_end(animate=False)
            await pilot.pause()
            saved.append(_save(app, out, "tui-layers.svg", "csim: images and the layers they share"))

            app.language = "ko"
            first, _ = app.timeline.batch_bounds(len(app.timeline) - 1)
            registry = next(
                (i for i in range(first, len(app.timeline)) if app.timeline.span(i).hop == "registry"), first
            )
            await _freeze(app, pilot, step=registry, phase=0.5)
            saved.append(_save(app, out, "tui-korean.svg", "csim: 한국어 화면"))

        # The lesson on a world of its own, as `csim tui --lesson image-layers` opens it.
        app = make_app(
            seed=SEED, language="en", animate=False, lesson="image-layers", progress_path=Path(tmp) / "progress.json"
        )
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            await _run(app, pilot, "pull nginx")
            await _freeze(app, pilot, step=4, phase=0.5)
            await pilot.press("h")
            await app.workers.wait_for_complete()
            app.clear_notifications()
            await pilot.pause()
            saved.append(_save(app, out, "tui-lesson.svg", "csim: the image-layers lesson"))
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets", help="where the SVGs go (default: assets/)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(make_screenshots(args.out)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
