"""SimRuntime: signals, OOM, CPU share, freezer, exec, networking, spans, determinism."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from sim_world import World

from simulator.runtime.protocol import ProcessSpec
from simulator.runtime.sim.runtime import ExecFailed

MiB = 1024 * 1024


@pytest.fixture
def world() -> World:
    return World()


def test_pid1_ignores_term_but_not_kill(world: World) -> None:
    spec = world.spec(["sleep", "300"])
    handle = world.create_start(spec)
    world.env.run(until=world.env.now + 1)
    world.rt.kill(spec.id, 15)
    world.env.run(until=world.env.now + 5)
    assert not handle.exited.triggered
    world.rt.kill(spec.id, 9)
    status = world.env.run(until=handle.exited)
    assert (status.code, status.signal, status.oom_killed) == (137, 9, False)


def test_non_init_process_dies_of_term(world: World) -> None:
    _status, out, _ = world.run(["sh", "-c", "sleep 100 & kill $!; wait; echo $?"])
    assert out == "143\n"


def test_trapped_term_exits_with_the_shells_code(world: World) -> None:
    spec = world.spec(["sh", "-c", "trap 'echo bye; exit 3' TERM; while true; do sleep 1; done"])
    handle = world.create_start(spec)
    world.env.run(until=world.env.now + 2.5)
    world.rt.kill(spec.id, 15)
    status = world.env.run(until=handle.exited)
    assert status.code == 3
    assert world.text(spec.id, 1) == "bye\n"


def test_trap_interrupts_wait_at_once(world: World) -> None:
    spec = world.spec(["sh", "-c", "trap 'exit 5' TERM; sleep 1000 & wait"])
    handle = world.create_start(spec)
    world.env.run(until=1)
    world.rt.kill(spec.id, 15)
    status = world.env.run(until=handle.exited)
    assert status.code == 5 and world.env.now < 1.1


def test_oom_kill_of_init(world: World) -> None:
    status, _, _ = world.run(["memhog", "64M"], memory=32 * MiB)
    assert (status.code, status.oom_killed) == (137, True)


def test_oom_kill_of_a_child_marks_the_container(world: World) -> None:
    status, out, _ = world.run(["sh", "-c", "memhog 64M; echo rc=$?"], memory=32 * MiB)
    assert status.oom_killed and out == "rc=137\n"
    status, _, _ = world.run(["memhog", "16M"], memory=32 * MiB)
    assert (status.code, status.oom_killed) == (0, False)


def test_cpus_limit_slows_burn(world: World) -> None:
    start = world.env.now
    world.run(["burn", "2"])
    full = world.env.now - start
    start = world.env.now
    world.run(["burn", "2"], nano_cpus=500_000_000)
    half = world.env.now - start
    assert full == pytest.approx(2.0, abs=0.02)
    assert half == pytest.approx(4.0, abs=0.02)
    spec = world.spec(["burn", "1"], nano_cpus=250_000_000)
    handle = world.create_start(spec)
    world.env.run(until=handle.exited)
    assert world.rt.kernel.containers[spec.id].cpu_ns == pytest.approx(1e9, rel=0.01)


def test_pause_freezes_and_sleep_resumes_with_remaining_time(world: World) -> None:
    spec = world.spec(["sh", "-c", "sleep 5; echo woke"])
    handle = world.create_start(spec)
    t0 = world.env.now

    def pause_resume() -> Generator[simpy.Event, Any, None]:
        root = world.tracer.start("dockerd", "pause")
        yield world.env.timeout(1)
        yield from world.rt.pause(spec.id, root)
        yield world.env.timeout(10)
        assert not handle.exited.triggered
        yield from world.rt.resume(spec.id, root)

    world.env.process(pause_resume())
    status = world.env.run(until=handle.exited)
    assert status.code == 0 and world.text(spec.id, 1) == "woke\n"
    assert world.env.now - t0 == pytest.approx(15.0, abs=0.01)
    names = [s.name for s in world.spans]
    assert "cgroup freeze" in names and "cgroup thaw" in names


def test_exec_shares_filesystem_and_pid_namespace(world: World) -> None:
    spec = world.spec(["sh", "-c", "echo from-init > /tmp/shared; sleep 100"])
    world.create_start(spec)
    world.env.run(until=world.env.now + 1)
    root = world.tracer.start("dockerd", "exec")

    def ex() -> Generator[simpy.Event, Any, Any]:
        handle = yield from world.rt.exec(spec.id, ProcessSpec(("sh", "-c", "cat /tmp/shared; ps")),
                                          world.io("exec"), root)  # fmt: skip
        return (yield handle.exited)

    status = world.run_proc(ex())
    out = world.text("exec", 1)
    assert status.code == 0
    assert out.startswith("from-init\nPID   USER     TIME  COMMAND\n")
    # sh -c execs its last command, so PID 1 is now ``sleep 100``; the exec'd ps is PID 2.
    assert out.endswith("    1 root      0:00 sleep 100\n    2 root      0:00 ps\n")
    assert [row.cmd for row in world.rt.top(spec.id)] == ["sleep 100"]


def test_killing_init_kills_every_process(world: World) -> None:
    spec = world.spec(["sh", "-c", "sleep 100 & sleep 100 & sleep 100"])
    handle = world.create_start(spec)
    world.env.run(until=world.env.now + 1)
    assert world.rt.process_count(spec.id) == 3
    world.rt.kill(spec.id, 9)
    world.env.run(until=handle.exited)
    world.env.run(until=world.env.now + 0.01)
    assert world.rt.process_count(spec.id) == 0


def test_missing_executable_fails_start_like_docker(world: World) -> None:
    spec = world.spec(["nosuch"])
    with pytest.raises(ExecFailed) as info:
        world.create_start(spec)
    assert info.value.exit_code == 127
    assert 'exec: "nosuch": executable file not found in $PATH' in info.value.message


def test_wget_and_ping_between_containers(world: World) -> None:
    web = world.spec(["nginx", "-g", "daemon off;"], layers=("sha256:base", "sha256:web"),
                     name="web", ip="172.18.0.2")  # fmt: skip
    world.create_start(web)
    status, out, _err = world.run(["sh", "-c", "wget -qO- http://web/ && ping -c 2 web | tail -n 2"], ip="172.18.0.3")
    assert status.code == 0
    assert out.startswith("<h1>Welcome to nginx!</h1>\n")
    assert "2 packets transmitted, 2 packets received, 0% packet loss" in out
    log = world.text(web.id, 1)
    assert log.startswith("172.18.0.3 - - [01/Jan/2024:00:00:") and '"GET / HTTP/1.1" 200 27' in log


def test_network_errors_are_worded_like_busybox(world: World) -> None:
    _, _, err = world.run(["sh", "-c", "wget -q -O- http://nobody/; ping -c 1 nobody"], ip="172.18.0.3")
    assert err == "wget: bad address 'nobody'\nping: bad address 'nobody'\n"
    idle = world.spec(["sleep", "100"], name="idle", ip="172.18.0.4")
    world.create_start(idle)
    _, _, err = world.run(["wget", "-q", "http://idle:8080/"], ip="172.18.0.5")
    assert err == "wget: can't connect to remote host (172.18.0.4): Connection refused\n"


def test_nginx_stops_cleanly_on_sigquit(world: World) -> None:
    web = world.spec(["nginx", "-g", "daemon off;"], layers=("sha256:base", "sha256:web"))
    handle = world.create_start(web)
    world.env.run(until=world.env.now + 1)
    world.rt.kill(web.id, 3)
    assert world.env.run(until=handle.exited).code == 0
    assert world.text(web.id, 2).rstrip().endswith("[notice] 1#1: exit")


def test_diff_snapshot_and_restore(world: World) -> None:
    _status, _, _ = world.run(["sh", "-c", "echo x > /tmp/new; rm /etc/motd; touch /etc/passwd"])
    cid = world.spec(["true"]).id  # unused id, only to advance the counter
    del cid
    first = next(iter(world.rt.kernel.containers))
    assert world.rt.changes(first) == [("C", "/etc"), ("D", "/etc/motd"), ("C", "/etc/passwd"),
                                        ("C", "/tmp"), ("A", "/tmp/new")]  # fmt: skip
    saved = world.rt.snapshot_container(first)
    again = world.spec(["true"])
    root = world.tracer.start("dockerd", "create")
    world.run_proc(world.rt.create(again, root))
    world.rt.restore_container(again.id, saved)
    assert world.rt.changes(again.id) == world.rt.changes(first)
    assert world.rt.read_file(again.id, "/tmp/new") == b"x\n"


def test_containers_from_one_image_are_isolated(world: World) -> None:
    world.run(["sh", "-c", "echo secret > /etc/motd"])
    _, out, _ = world.run(["cat", "/etc/motd"])
    assert out == "welcome\n"


def test_start_spans_cover_every_hop(world: World) -> None:
    world.run(["true"])
    hops = {(s.hop, s.name) for s in world.spans}
    for expected in [("containerd", "Containers.Create"), ("containerd", "Tasks.Create"),
                     ("shim", "start shim"), ("runc", "runc create"), ("runc", "runc start"),
                     ("kernel", "clone(CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET)"),
                     ("kernel", "mount overlay"), ("kernel", "pivot_root"), ("kernel", "execve(true)")]:  # fmt: skip
        assert expected in hops
    assert all(s.end > s.start for s in world.spans if s.hop in ("shim", "runc"))


def test_replay_suppresses_output_and_writes_before_the_mark(world: World) -> None:
    spec = world.spec(["sh", "-c", "echo early >> /tmp/log; sleep 2; echo late >> /tmp/log; echo done"])
    root = world.tracer.start("dockerd", "restore")

    def go() -> Generator[simpy.Event, Any, Any]:
        yield from world.rt.create(spec, root)
        handle = yield from world.rt.start(spec.id, world.io(spec.id), root, replay_until=1.0)
        return (yield handle.exited)

    world.run_proc(go())
    assert world.rt.read_file(spec.id, "/tmp/log") == b"late\n"
    assert world.text(spec.id, 1) == "done\n"


def _scenario() -> tuple[list[dict[str, Any]], list[tuple[str, list[tuple[int, bytes]]]]]:
    world = World()
    web = world.spec(["nginx"], layers=("sha256:base", "sha256:web"), name="web", ip="172.18.0.2")
    world.create_start(web)
    world.run(["sh", "-c", "for i in 1 2 3; do wget -qO- http://web/ | wc -c; sleep 0.5; done; ps"],
              ip="172.18.0.3")  # fmt: skip
    world.rt.kill(web.id, 15)
    world.env.run(until=world.env.now + 1)
    return [s.to_json() for s in world.spans], sorted(world.output.items())


def test_determinism_same_inputs_same_outputs_and_spans() -> None:
    assert _scenario() == _scenario()
