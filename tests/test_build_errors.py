"""Bad build input: each stops with Docker's message, keeps the cache of earlier steps, tags nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from build_helpers import build, step_results, tar_of, write_context

from simulator.client.build_context import IgnoreMatcher, make_context_tar, read_dockerignore
from simulator.daemon.build.context import read_context
from simulator.des.world import World


def _fails(world: World, tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None) -> tuple[int, str]:
    ctx = write_context(tmp_path, {"Dockerfile": dockerfile, **(files or {})})
    r = build(world, ["-t", "bad:1", str(ctx)])
    assert world.api("GET", "/images/bad:1/json").status == 404, "a failed build tagged its image"
    return r.exit_code, r.stderr


def test_unknown_instruction_is_a_400_before_any_step(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM busybox\nFOO bar\n")
    assert (code, err) == (1, "Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO\n")
    resp = busybox_world.api("POST", "/build", None, tar_of({"Dockerfile": b"FROM busybox\nFOO bar\n"}))
    assert resp.status == 400


def test_missing_context_file(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM busybox\nCOPY nosuch.txt /x\n")
    assert code == 1
    assert err == (
        "COPY failed: file not found in build context or excluded by .dockerignore: "
        "stat nosuch.txt: file does not exist\n"
    )


def test_copy_that_escapes_the_context(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM busybox\nCOPY ../x /x\n")
    assert (code, err) == (1, "COPY failed: forbidden path outside the build context: ../x ()\n")


def test_undefined_stage_in_copy_from(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM busybox\nCOPY --from=nosuch /a /b\n")
    assert code == 1
    assert err.startswith("invalid from flag value nosuch: pull access denied for nosuch")


def test_add_url_is_refused_offline(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM busybox\nADD http://example.com/x /x\n")
    assert code == 1 and err.startswith('ADD failed: Get "http://example.com/x"')


def test_failed_run_names_the_command_keeps_earlier_cache(busybox_world: World, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nRUN echo one > /one\nENV A=1\nRUN exit 3\n"
    ctx = write_context(tmp_path, {"Dockerfile": dockerfile})
    r = build(busybox_world, ["-t", "bad:1", str(ctx)])
    assert r.exit_code == 3
    assert r.stderr == "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n"
    assert r.stdout.splitlines()[-1].startswith(" ---> Running in ")
    assert busybox_world.api("GET", "/images/bad:1/json").status == 404
    # like dockerd, the failed step's container stays (without --force-rm)
    assert len(busybox_world.run_cli(["ps", "-aq"]).stdout.split()) == 1
    (ctx / "Dockerfile").write_text(dockerfile.replace("exit 3", "echo fixed"), encoding="utf-8")
    fixed = build(busybox_world, ["-t", "bad:1", str(ctx)])
    assert fixed.exit_code == 0
    assert step_results(fixed.stdout) == ["cache", "cache", "built"]


def test_force_rm_removes_the_failed_container(busybox_world: World, tmp_path: Path) -> None:
    ctx = write_context(tmp_path, {"Dockerfile": "FROM busybox\nRUN exit 2\n"})
    r = build(busybox_world, ["--force-rm", str(ctx)])
    assert r.exit_code == 2
    assert busybox_world.run_cli(["ps", "-aq"]).stdout == ""


def test_run_on_scratch_has_no_shell(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM scratch\nRUN echo hi\n")
    assert code == 1 and 'exec: "/bin/sh": stat /bin/sh: no such file or directory' in err


def test_missing_base_image_and_dockerfile(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM nosuchimage\n")
    assert code == 1 and "pull access denied for nosuchimage" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    r = build(busybox_world, [str(empty)])
    assert r.exit_code == 1 and r.stderr.startswith("unable to prepare context: unable to evaluate symlinks")
    assert build(busybox_world, [str(tmp_path / "nope")]).stderr == (
        f'unable to prepare context: path "{tmp_path / "nope"}" not found\n'
    )


def test_several_sources_need_a_directory_destination(busybox_world: World, tmp_path: Path) -> None:
    code, err = _fails(busybox_world, tmp_path, "FROM busybox\nCOPY a b /x\n", {"a": "1", "b": "2"})
    assert code == 1
    assert (
        err == "When using COPY with more than one source file, the destination must be a directory and end with a /\n"
    )


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        (["*.txt"], "a.txt", True),
        (["*.txt"], "dir/a.txt", False),
        (["**/*.txt"], "dir/sub/a.txt", True),
        (["dir"], "dir/sub/a.txt", True),
        (["*.txt", "!keep.txt"], "keep.txt", False),
        (["/secret/"], "secret/key", True),
        (["?.md"], "a.md", True),
        (["[ab].md"], "c.md", False),
    ],
)
def test_dockerignore_patterns(patterns: list[str], path: str, ignored: bool) -> None:
    assert IgnoreMatcher(read_dockerignore("\n".join(patterns))).ignored(path) is ignored


def test_context_tar_keeps_dockerfile_and_drops_ignored(tmp_path: Path) -> None:
    write_context(
        tmp_path,
        {".dockerignore": "# comment\nDockerfile\nlogs\n", "Dockerfile": "FROM x\n", "logs/a": "1", "app.py": "2"},
    )
    context = read_context(make_context_tar(str(tmp_path)))
    assert sorted(context.files) == [".dockerignore", "Dockerfile", "app.py"]
    assert make_context_tar(str(tmp_path)) == make_context_tar(str(tmp_path))
