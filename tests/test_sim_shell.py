"""The virtual sh and its applets, run as container commands in the simulated kernel."""

from __future__ import annotations

import pytest
from sim_world import World


@pytest.fixture
def world() -> World:
    return World()


def sh(world: World, script: str, **kw: object) -> tuple[int, str, str]:
    status, out, err = world.run(["sh", "-c", script], **kw)  # type: ignore[arg-type]
    return status.code, out, err


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo hello", "hello\n"),
        ("echo a; echo b", "a\nb\n"),
        ("true && echo yes || echo no", "yes\n"),
        ("false && echo yes || echo no", "no\n"),
        ("echo 'single $X' \"double $HOME\"", "single $X double /root\n"),
        ("X=1; Y=${X}2; echo $Y ${Z:-dflt} ${#Y}", "12 dflt 2\n"),
        ('set -- a b c; echo $# $1 $3 "$@"', "3 a c a b c\n"),
        ("echo $(echo inner) `echo back`", "inner back\n"),
        ("echo $((3 * (2 + 1))) $((7 / 2)) $((7 % 3))", "9 3 1\n"),
        ("false; echo $?", "1\n"),
        ("if [ 1 -lt 2 ]; then echo lt; else echo ge; fi", "lt\n"),
        ("for i in 1 2 3; do echo -n $i; done; echo", "123\n"),
        ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i", "3\n"),
        ("case foo.txt in *.txt) echo text;; *) echo other;; esac", "text\n"),
        ("f() { echo fn $1; }; f arg", "fn arg\n"),
        ("echo one two | wc -w", "2\n"),
        ("printf '%s=%d\\n' a 1 b 2", "a=1\nb=2\n"),
        ("seq 5 | grep -v 3 | sort -r | head -n 2", "5\n4\n"),
        ("echo hello | tr a-z A-Z | cut -c1-4", "HELL\n"),
        ("echo x > /tmp/f; echo y >> /tmp/f; cat /tmp/f; wc -l < /tmp/f", "x\ny\n2\n"),
        ("ls /nope 2>&1 | head -n 1", "ls: /nope: No such file or directory\n"),
        ("cd /tmp; pwd; cd ..; pwd", "/tmp\n/\n"),
        ("export A=1; env | grep ^A=", "A=1\n"),
        ("read x y <<EOF\nfirst second\nEOF\necho $y", "second\n"),
        ("basename /a/b.txt .txt; dirname /a/b.txt", "b\n/a\n"),
        ("yes | head -n 3", "y\ny\ny\n"),
        ("expr 2 + 3; test -d /tmp && echo dir", "5\ndir\n"),
        ("echo a b | (read p q; echo $q)", "b\n"),
        ("x=$(false); echo $?", "1\n"),
        ("mkdir -p /a/b && touch /a/b/c && ls /a/b", "c\n"),
        ("echo hi > /tmp/x; ln -s /tmp/x /tmp/l; cat /tmp/l; mv /tmp/x /tmp/y; ls /tmp", "hi\nl\ny\n"),
    ],
)
def test_grammar_and_applets(world: World, script: str, expected: str) -> None:
    code, out, err = sh(world, script)
    assert (out, err) == (expected, "")
    assert code == 0


def test_exit_codes_and_not_found(world: World) -> None:
    assert sh(world, "exit 7")[0] == 7
    code, _out, err = sh(world, "nosuchcmd")
    assert (code, err) == (127, "sh: nosuchcmd: not found\n")
    assert sh(world, "set -e; false; echo unreachable") == (1, "", "")
    assert sh(world, "sh -c 'exit 4'; echo $?")[1] == "4\n"


def test_redirect_errors_are_worded_like_busybox(world: World) -> None:
    code, _, err = sh(world, "cat < /missing")
    assert (code, err) == (1, "sh: can't open '/missing': No such file or directory\n")
    code, _, err = sh(world, "echo x > /tmp/missing/f")
    assert err == "sh: can't create /tmp/missing/f: No such file or directory\n"


def test_ps_shows_the_command_as_pid_1(world: World) -> None:
    _, out, _ = sh(world, "ps")
    assert out == "PID   USER     TIME  COMMAND\n    1 root      0:00 ps\n"
    # Like ash, ``sh -c`` execs its last command: ps becomes PID 1.
    _, out, _ = sh(world, "sleep 10 & ps")
    rows = out.splitlines()[1:]
    assert rows[0] == "    1 root      0:00 ps" and len(rows) == 2
    _, out, _ = sh(world, "ps; true")
    assert out.splitlines()[1:] == ["    1 root      0:00 sh -c ps; true", "    2 root      0:00 ps"]


def test_hostname_is_the_short_id_and_uname(world: World) -> None:
    _status, out, _ = world.run(["sh", "-c", "hostname; uname -r; cat /etc/hostname"])
    lines = out.splitlines()
    assert lines[0] == lines[2] and len(lines[0]) == 12
    assert lines[1] == "6.1.0-csim"


def test_sleep_takes_world_time(world: World) -> None:
    start = world.env.now
    sh(world, "sleep 2; sleep 0.5")
    assert 2.5 <= world.env.now - start < 2.6


def test_interactive_tty_prompt_and_echo(world: World) -> None:
    spec = world.spec(["sh"], tty=True, open_stdin=True)
    io = world.io(spec.id, open_stdin=True)
    io.feed_stdin(b"echo hi\r")
    io.feed_stdin(b"exit 3\r")
    handle = world.create_start(spec, io)
    status = world.env.run(until=handle.exited)
    assert status.code == 3
    assert world.text(spec.id, 1) == "/ # echo hi\r\nhi\r\n/ # exit 3\r\n"


def test_script_from_stdin_without_tty(world: World) -> None:
    spec = world.spec(["sh"], open_stdin=True)
    io = world.io(spec.id, open_stdin=True)
    io.feed_stdin(b"echo one\nif true; then\n echo two\nfi\n")
    io.close_stdin()
    handle = world.create_start(spec, io)
    assert world.env.run(until=handle.exited).code == 0
    assert world.text(spec.id, 1) == "one\ntwo\n"


def test_output_limits_bound_yes(world: World) -> None:
    code, out, _ = sh(world, "yes")
    assert code == 0 and len(out) <= world.rt.params.max_output


def test_python_and_node(world: World) -> None:
    from simulator.runtime.sim.programs.interpreters import run_node, run_python

    class Out:
        def __init__(self) -> None:
            self.text = ""

        def out(self, s: str) -> None:
            self.text += s

        err = out

    o = Out()
    assert run_python(o, "x = 2\nprint(x * 21, 'ok', [1, 2])", {}) == 0  # type: ignore[arg-type]
    assert o.text == "42 ok [1, 2]\n"
    o = Out()
    assert run_node(o, 'console.log("hi", 1 + 1, true, [1, 2])') == 0  # type: ignore[arg-type]
    assert o.text == "hi 2 true [ 1, 2 ]\n"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # Each expected output is what busybox sh prints for the same script.
        (
            "for i in 1 2 3 4; do if [ $i = 2 ]; then continue; fi; "
            'if [ $i = 4 ]; then break; fi; echo -n $i; done; echo " $?"',
            "13 0\n",
        ),
        ('i=0; while true; do i=$((i+1)); [ $i -gt 3 ] && break; echo -n $i; done; echo " $i"', "123 4\n"),
        ("for a in x y; do for b in 1 2 3; do [ $b = 2 ] && continue 2; echo -n $a$b; done; done; echo", "x1y1\n"),
        ('for a in x y; do for b in 1 2; do echo -n $a$b; break 2; done; done; echo " $a"', "x1 x\n"),
        ("for i in 1 2; do false; continue; done; echo $?", "0\n"),
    ],
)
def test_break_and_continue_in_loops(world: World, script: str, expected: str) -> None:
    code, out, err = sh(world, script)
    assert (code, out, err) == (0, expected, "")
