"""``csim build`` on the simulated backend: steps, layers, config, cache, multi-stage."""

from __future__ import annotations

import json
import re
from pathlib import Path

from build_helpers import build, multi_stage_context, step_results, write_context

from simulator.des.world import World


def _image_id(world: World, name: str) -> str:
    return str(world.api("GET", f"/images/{name}/json").body["Id"])


def test_multi_stage_build_prints_the_classic_steps(busybox_world: World, tmp_path: Path) -> None:
    ctx = multi_stage_context(tmp_path)
    r = build(busybox_world, ["-t", "demo:1", str(ctx)])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"Sending build context to Docker daemon  \d+(\.\d+)?kB", lines[0])
    steps = [line for line in lines if line.startswith("Step ")]
    assert steps[0] == "Step 1/11 : FROM busybox AS builder"
    assert steps[4] == 'Step 5/11 : RUN echo "$GREETING" > built.txt && cat a.txt b.txt >> built.txt'
    assert steps[7] == "Step 8/11 : COPY --from=builder /work/built.txt $APP/"
    assert len(steps) == 11
    busybox = _image_id(busybox_world, "busybox")[7:19]
    assert lines[2] == f" ---> {busybox}"
    assert any(re.fullmatch(r" ---> Running in [0-9a-f]{12}", line) for line in lines)
    assert any(re.fullmatch(r"Removing intermediate container [0-9a-f]{12}", line) for line in lines)
    image = _image_id(busybox_world, "demo:1")
    assert lines[-2] == f"Successfully built {image[7:19]}"
    assert lines[-1] == "Successfully tagged demo:1"
    # the builder left no container behind
    assert busybox_world.run_cli(["ps", "-aq"]).stdout == ""


def test_built_image_runs_and_has_the_config(busybox_world: World, tmp_path: Path) -> None:
    assert build(busybox_world, ["-t", "demo:1", str(multi_stage_context(tmp_path))]).exit_code == 0
    run = busybox_world.run_cli(["run", "--rm", "demo:1"])
    assert (run.exit_code, run.stdout) == (0, "hi\nhello\nworld\n")
    ls = busybox_world.run_cli(["run", "--rm", "demo:1", "ls", "/app"])
    assert ls.stdout == "built.txt\n"
    config = busybox_world.api("GET", "/images/demo:1/json").body["Config"]
    assert config["Cmd"] == ["cat", "/app/built.txt"]
    assert "APP=/app" in config["Env"]
    assert config["Labels"] == {"maintainer": "me"}
    assert config["ExposedPorts"] == {"8080/tcp": {}}
    assert config["WorkingDir"] == ""  # the final stage never set one


def test_history_shows_empty_layers_as_0b(busybox_world: World, tmp_path: Path) -> None:
    build(busybox_world, ["-t", "demo:1", str(multi_stage_context(tmp_path))])
    rows = busybox_world.api("GET", "/images/demo:1/history").body
    created_by = [r["CreatedBy"] for r in rows[:5]]
    assert created_by[0] == '/bin/sh -c #(nop)  CMD ["cat" "/app/built.txt"]'
    assert created_by[1] == "/bin/sh -c #(nop)  EXPOSE 8080"
    assert created_by[2] == "/bin/sh -c #(nop)  LABEL maintainer=me"
    assert re.fullmatch(r"/bin/sh -c #\(nop\) COPY file:[0-9a-f]{64} in /app/ ", created_by[3])
    assert created_by[4] == "/bin/sh -c #(nop)  ENV APP=/app"
    assert [r["Size"] for r in rows[:5]] == [0, 0, 0, len("hi\nhello\nworld\n"), 0]
    # every row of a local build names its image, up to the base
    assert all(r["Id"].startswith("sha256:") for r in rows[:6])
    assert rows[5]["Tags"] == ["busybox:latest"]
    table = busybox_world.run_cli(["history", "demo:1"]).stdout.splitlines()
    assert table[2].split()[-1] == "0B"
    builder = busybox_world.api("GET", "/images/json", {"all": 1}).body
    assert len(builder) > len(busybox_world.api("GET", "/images/json").body)


def test_rebuild_uses_the_cache_for_every_step(busybox_world: World, tmp_path: Path) -> None:
    ctx = str(multi_stage_context(tmp_path))
    first = build(busybox_world, ["-t", "demo:1", ctx])
    image = _image_id(busybox_world, "demo:1")
    again = build(busybox_world, ["-t", "demo:1", ctx])
    assert again.exit_code == 0
    assert step_results(again.stdout) == ["cache"] * 9
    assert "Running in" not in again.stdout
    assert _image_id(busybox_world, "demo:1") == image
    assert again.stdout.splitlines()[-2] == first.stdout.splitlines()[-2]


def test_changing_one_file_rebuilds_from_the_step_that_copies_it(busybox_world: World, tmp_path: Path) -> None:
    ctx = multi_stage_context(tmp_path)
    build(busybox_world, ["-t", "demo:1", str(ctx)])
    old = _image_id(busybox_world, "demo:1")
    (ctx / "src" / "b.txt").write_text("there\n", encoding="utf-8")
    r = build(busybox_world, ["-t", "demo:1", str(ctx)])
    # ARG, WORKDIR cached; COPY src/ and RUN rebuilt; ENV cached; COPY --from and after rebuilt
    assert step_results(r.stdout) == ["cache", "cache", "built", "built", "cache", "built", "built", "built", "built"]
    assert _image_id(busybox_world, "demo:1") != old
    assert busybox_world.run_cli(["run", "--rm", "demo:1"]).stdout == "hi\nhello\nthere\n"


def test_touching_a_file_without_changing_it_keeps_the_cache(busybox_world: World, tmp_path: Path) -> None:
    ctx = multi_stage_context(tmp_path)
    build(busybox_world, ["-t", "demo:1", str(ctx)])
    import os

    os.utime(ctx / "src" / "a.txt", (1, 1))
    r = build(busybox_world, ["-t", "demo:1", str(ctx)])
    assert step_results(r.stdout) == ["cache"] * 9


def test_no_cache_rebuilds_every_step(busybox_world: World, tmp_path: Path) -> None:
    ctx = str(multi_stage_context(tmp_path))
    build(busybox_world, ["-t", "demo:1", ctx])
    old = _image_id(busybox_world, "demo:1")
    busybox_world.advance(1)
    r = build(busybox_world, ["--no-cache", "-t", "demo:1", ctx])
    assert step_results(r.stdout) == ["built"] * 9
    assert _image_id(busybox_world, "demo:1") != old


def test_build_arg_reaches_run_and_changes_its_cache_key(busybox_world: World, tmp_path: Path) -> None:
    ctx = str(multi_stage_context(tmp_path))
    build(busybox_world, ["-t", "demo:1", ctx])
    r = build(busybox_world, ["-t", "demo:1", "--build-arg", "GREETING=yo", "--build-arg", "UNUSED=1", ctx])
    assert r.exit_code == 0
    assert step_results(r.stdout)[:4] == ["cache", "cache", "cache", "built"]
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in r.stdout
    assert busybox_world.run_cli(["run", "--rm", "demo:1"]).stdout == "yo\nhello\nworld\n"
    rows = busybox_world.api("GET", "/images/demo:1/history").body
    assert not any(r["CreatedBy"].startswith("|1 GREETING=yo") for r in rows)  # other stage
    builder_rows = busybox_world.api("GET", f"/images/{_builder_id(r.stdout)}/history").body
    assert builder_rows[0]["CreatedBy"].startswith('|1 GREETING=yo /bin/sh -c echo "$GREETING"')


def _builder_id(stdout: str) -> str:
    lines = stdout.splitlines()
    at = lines.index("Step 6/11 : FROM busybox")
    return lines[at - 1].removeprefix(" ---> ")


def test_target_stops_at_the_named_stage(busybox_world: World, tmp_path: Path) -> None:
    ctx = str(multi_stage_context(tmp_path))
    r = build(busybox_world, ["--target", "builder", "-t", "stage:b", ctx])
    assert r.exit_code == 0
    assert "Step 5/5 : RUN" in r.stdout
    cat = busybox_world.run_cli(["run", "--rm", "stage:b", "cat", "/work/built.txt"])
    assert cat.stdout == "hi\nhello\nworld\n"
    bad = build(busybox_world, ["--target", "nosuch", ctx])
    assert bad.exit_code == 1
    assert bad.stderr == "Error response from daemon: failed to reach build target nosuch in Dockerfile\n"


def test_metadata_instructions_set_the_config(busybox_world: World, tmp_path: Path) -> None:
    ctx = write_context(
        tmp_path,
        {
            "Dockerfile": (
                "FROM busybox\n"
                'SHELL ["/bin/sh", "-c"]\n'
                "USER nobody\n"
                "WORKDIR /srv\n"
                "WORKDIR data\n"
                "VOLUME /cache\n"
                "STOPSIGNAL SIGINT\n"
                "HEALTHCHECK --interval=5s CMD true\n"
                'ENTRYPOINT ["echo"]\n'
                "CMD hello\n"
                "MAINTAINER someone\n"
            )
        },
    )
    assert build(busybox_world, ["-t", "meta", str(ctx)]).exit_code == 0
    body = busybox_world.api("GET", "/images/meta/json").body
    config = body["Config"]
    assert config["User"] == "nobody"
    assert config["WorkingDir"] == "/srv/data"
    assert config["Volumes"] == {"/cache": {}}
    assert config["StopSignal"] == "SIGINT"
    assert config["Entrypoint"] == ["echo"]
    assert config["Cmd"] == ["/bin/sh", "-c", "hello"]
    assert body["Author"] == "someone"
    rows = busybox_world.api("GET", "/images/meta/history").body
    workdir = [r for r in rows if "WORKDIR" in r["CreatedBy"]]
    assert workdir[0]["CreatedBy"] == "/bin/sh -c #(nop) WORKDIR /srv/data"


def test_onbuild_triggers_run_in_the_child_build(busybox_world: World, tmp_path: Path) -> None:
    base = write_context(tmp_path / "base", {"Dockerfile": "FROM busybox\nONBUILD RUN echo triggered > /trig\n"})
    assert build(busybox_world, ["-t", "base:1", str(base)]).exit_code == 0
    assert busybox_world.api("GET", "/images/base:1/json").body["Config"]["OnBuild"] == ["RUN echo triggered > /trig"]
    child = write_context(tmp_path / "child", {"Dockerfile": 'FROM base:1\nCMD ["cat", "/trig"]\n'})
    r = build(busybox_world, ["-t", "child:1", str(child)])
    assert "# Executing 1 build trigger\n" in r.stdout
    assert busybox_world.run_cli(["run", "--rm", "child:1"]).stdout == "triggered\n"
    assert busybox_world.api("GET", "/images/child:1/json").body["Config"]["OnBuild"] is None


def test_from_scratch_copy_and_add_archive(busybox_world: World, tmp_path: Path) -> None:
    import tarfile

    ctx = write_context(
        tmp_path, {"hello.txt": "hi\n", "Dockerfile": "FROM scratch\nCOPY hello.txt /\nADD files.tar /opt/\n"}
    )
    with tarfile.open(ctx / "files.tar", "w") as tar:
        tar.add(ctx / "hello.txt", arcname="inner/x.txt")
    r = build(busybox_world, ["-t", "tiny", str(ctx)])
    assert r.exit_code == 0, r.stderr
    assert "Step 1/3 : FROM scratch\n ---> \n" in r.stdout
    body = busybox_world.api("GET", "/images/tiny/json").body
    assert len(body["RootFS"]["Layers"]) == 2
    rows = busybox_world.api("GET", "/images/tiny/history").body
    assert rows[0]["CreatedBy"].startswith("/bin/sh -c #(nop) ADD file:")
    assert rows[0]["Size"] == 3 and rows[1]["Size"] == 3


def test_dockerignore_keeps_files_out_of_the_context(busybox_world: World, tmp_path: Path) -> None:
    ctx = write_context(
        tmp_path,
        {".dockerignore": "secret*\n", "secret.txt": "s\n", "Dockerfile": "FROM busybox\nCOPY secret.txt /x\n"},
    )
    r = build(busybox_world, [str(ctx)])
    assert r.exit_code == 1
    assert r.stderr == (
        "COPY failed: file not found in build context or excluded by .dockerignore: "
        "stat secret.txt: file does not exist\n"
    )


def test_build_spans_are_builder_hops_with_cache_decisions(busybox_world: World, tmp_path: Path) -> None:
    ctx = str(multi_stage_context(tmp_path))
    build(busybox_world, ["-t", "demo:1", ctx])
    build(busybox_world, ["-t", "demo:1", ctx])
    spans = [s for s in busybox_world.bus.spans() if s.hop == "builder"]
    assert len(spans) == 22
    assert spans[1].name == "Step 2/11 : ARG GREETING=hi"
    assert [s.attrs.get("cache") for s in spans[11:] if "FROM" not in s.name] == ["hit"] * 9
    assert spans[4].attrs["cache"] == "miss"
    assert spans[3].attrs["checksum"].startswith("dir:")


def test_quiet_prints_only_the_id(busybox_world: World, tmp_path: Path) -> None:
    ctx = write_context(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo noisy\n"})
    r = build(busybox_world, ["-q", "-t", "q:1", str(ctx)])
    assert r.stdout == _image_id(busybox_world, "q:1") + "\n"


def test_build_route_streams_stages_aux_and_errors(busybox_world: World) -> None:
    from build_helpers import tar_of

    body = tar_of({"Dockerfile": b"FROM busybox AS a\nRUN echo a\nFROM a\nRUN exit 3\n"})
    resp = busybox_world.api("POST", "/build", {"t": "x"}, body)
    messages = resp.body
    assert messages[0] == {"stream": "Step 1/4 : FROM busybox AS a"}
    assert messages[1] == {"stream": "\n"}
    assert {"stream": "a\n"} in messages
    assert sum(1 for m in messages if "aux" in m) == 1
    assert messages[-1] == {
        "errorDetail": {"code": 3, "message": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"},
        "error": "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    }
    assert json.dumps(messages)  # plain JSON values
    assert busybox_world.api("GET", "/images/x/json").status == 404
