"""The dive-like file view, the networks and volumes panel, and ``GET /csim/layers``.

On the embedded simulated world: an image layer's files are listed as added,
changed or deleted against the layers under it; a container's writable layer
shows ``docker diff``'s A/C/D; the view opens by key, from the palette, by a
click on a layer in the images panel and by Enter on a container row.
"""

from __future__ import annotations

import io
import tarfile

from simulator.api.routes_csim import layer_files
from simulator.tui.app import CsimApp, make_app
from simulator.tui.backend import EmbeddedBackend
from simulator.tui.files import FileRow, LayerFiles, container_changes, layer_changes
from simulator.tui.screens.files import FilesScreen
from simulator.tui.widgets.containers import ContainersPanel
from simulator.tui.widgets.state_panels import ImagesPanel, NetworksPanel

SIZE = (120, 40)


def _tar(*members: tuple[str, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_layer_files_turn_whiteouts_into_deletions() -> None:
    rows, truncated = layer_files(
        _tar(("etc", None), ("etc/hosts", b"x"), ("etc/.wh.motd", b""), ("var/.wh..wh..opq", b""))
    )
    assert not truncated
    assert [(r["Path"], r["Type"], r["Deleted"]) for r in rows] == [
        ("etc", "dir", False),
        ("etc/hosts", "file", False),
        ("etc/motd", "whiteout", True),
        ("var/", "opaque", True),
    ]
    assert rows[1]["Size"] == 1
    _, cut = layer_files(_tar(*((f"f{i}", b"") for i in range(5))), limit=3)
    assert cut


def test_layer_changes_are_added_changed_or_deleted_against_lower_layers() -> None:
    base = LayerFiles((("etc", "dir", 0, False), ("etc/hosts", "file", 5, False), ("etc/motd", "file", 9, False)))
    top = LayerFiles((("etc", "dir", 0, False), ("etc/hosts", "file", 7, False), ("etc/new", "file", 3, False),
                      ("etc/motd", "whiteout", 0, True)))  # fmt: skip
    assert layer_changes([base], top) == [
        FileRow("C", "/etc/hosts", 7, "file"),
        FileRow("A", "/etc/new", 3, "file"),
        FileRow("D", "/etc/motd", 0, "whiteout"),
    ]
    assert [r.kind for r in layer_changes([], base)] == ["A", "A", "A"]
    assert container_changes([{"Kind": 1, "Path": "/tmp/x"}, {"Kind": 2, "Path": "/a"}, {"Kind": 0, "Path": "/t"}]) == [
        FileRow("A", "/tmp/x"),
        FileRow("D", "/a"),
        FileRow("C", "/t"),
    ]
    assert container_changes(None) == [] and container_changes(["junk", {"Kind": 9}]) == [FileRow("?", "")]


def test_csim_layers_route_answers_files_and_404() -> None:
    backend = EmbeddedBackend.create(seed=0)
    assert backend.run_cli(["pull", "busybox"]).exit_code == 0
    layers = backend.api("GET", "/images/busybox/json").body["RootFS"]["Layers"]
    reply = backend.api("GET", f"/csim/layers/{layers[0]}")
    assert reply.status == 200 and reply.body["DiffID"] == layers[0]
    assert any(f["Path"] == "bin/busybox" for f in reply.body["Files"])
    missing = backend.api("GET", "/csim/layers/" + "0" * 64)
    assert missing.status == 404 and "layer does not exist" in missing.body["message"]
    assert backend.api("GET", "/csim/layers/not-a-digest").status == 404


def _app() -> CsimApp:
    return make_app(EmbeddedBackend.create(seed=0), language="en", animate=False)


async def _run(pilot, app: CsimApp, *lines: str) -> None:  # type: ignore[no-untyped-def]
    for line in lines:
        app.run_command(line)
        await app.workers.wait_for_complete()
        await pilot.pause()
    app.playing = False
    app.seek(len(app.timeline) - 1)
    app.screen.set_focus(None)
    await pilot.pause()


async def _files(pilot, app: CsimApp) -> FilesScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, FilesScreen)
    for _ in range(50):
        await screen.workers.wait_for_complete()
        await pilot.pause()
        if screen.shown_key is not None:
            break
    return screen


async def test_container_upper_layer_by_key_and_enter_shows_a_c_d() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _run(
            pilot,
            app,
            "run -d --name web nginx",
            "exec web touch /tmp/new",
            "exec web rm /etc/nginx/conf.d/default.conf",
        )
        await pilot.press("f")
        screen = await _files(pilot, app)
        assert screen.shown_key is not None and screen.shown_key.startswith("container:")
        rows = {(r.kind, r.path) for r in screen.rows}
        assert {("A", "/tmp/new"), ("D", "/etc/nginx/conf.d/default.conf"), ("C", "/etc")} <= rows
        assert "A 1" in str(screen.query_one("#file-summary").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, FilesScreen)
        # Enter on the containers panel's row opens the same view.
        panel = app.query_one(ContainersPanel)
        panel.focus()
        await pilot.press("enter")
        screen = await _files(pilot, app)
        assert ("A", "/tmp/new") in {(r.kind, r.path) for r in screen.rows}


async def test_click_on_a_layer_opens_its_files_and_the_list_moves_between_layers() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _run(pilot, app, "pull nginx")
        images = app.query_one(ImagesPanel)
        await pilot.click(ImagesPanel, offset=(5, 2))  # the first layer line, under the image's name
        screen = await _files(pilot, app)
        image = app.timeline.latest.images[0]
        assert screen.shown_key == f"layer:{image.id}:0"
        assert all(r.kind == "A" for r in screen.rows) and any(r.path == "/etc/passwd" for r in screen.rows)
        await pilot.press("down")
        for _ in range(50):
            await screen.workers.wait_for_complete()
            await pilot.pause()
            if screen.shown_key == f"layer:{image.id}:1":
                break
        assert screen.shown_key == f"layer:{image.id}:1"
        kinds = {r.path: r.kind for r in screen.rows}
        assert kinds.get("/etc/group") == "C"  # nginx's layer 2 rewrites a base file
        assert images.plain  # the panel still draws


async def test_networks_and_volumes_panel_names_their_containers() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _run(
            pilot,
            app,
            "network create appnet",
            "volume create data",
            "volume create spare",
            "run -d --name web --network appnet -v data:/data busybox sleep 100",
        )
        text = app.query_one(NetworksPanel).plain
        assert "appnet bridge 172.18.0.0/16 ← web · bridge · host · none" in text
        assert "volumes: data ← web · spare (unused, kept)" in text
        await pilot.press("l")
        assert "네트워크" in app.query_one(NetworksPanel).plain


async def test_file_view_from_the_palette_with_nothing_there_does_not_crash() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Show the files of a layer or a container (A/C/D)" in titles
        app.screen.set_focus(None)
        await pilot.press("f")
        assert isinstance(app.screen, FilesScreen)
        assert "no containers or images yet" in str(app.screen.query_one("#file-summary").render())
        await pilot.press("escape")
        assert app.is_running
