"""``--format`` templates: Go text/template as docker uses it.

Expected outputs and messages were captured from docker CLI 28 (``docker ps
--format`` and ``docker inspect --format``) against a fake engine serving the
same data as ``Row`` and ``INSPECT`` below.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.client.template import TemplateError, compile_template


class Row:
    """Stands in for the CLI's *formatter.ContainerContext (a Go struct)."""

    GO_TYPE = "*formatter.ContainerContext"
    ID = "0123456789ab"
    Names = "web"
    Image = "busybox"
    State = "running"
    Status = "Up 2 minutes"
    Labels = "a=1,b=<x>&"

    def Label(self, key: str) -> str:
        return {"a": "1"}.get(key, "")


INSPECT: dict[str, Any] = {
    "Id": "0123",
    "Name": "/web",
    "State": {"Status": "running", "Running": True, "Pid": 1234, "ExitCode": 0, "Health": None},
    "Config": {"Env": ["A=1", "B=2"], "Labels": {"x": "<y>&"}, "Cmd": ["sh"]},
    "Args": [],
    "F": 1.5,
    "Big": 1e6,
}


@pytest.mark.parametrize(
    ("fmt", "want"),
    [
        ("{{.ID}} {{.Names}}", "0123456789ab web"),
        ("{{.ID | }}", "0123456789ab"),
        ("{{json .Labels}}", '"a=1,b=<x>&"'),
        ('{{split .Image "u"}}', "[b sybox]"),
        ("{{len .Names}}", "3"),
        ('{{upper .Image}}|{{title "hello world"}}|{{lower "AB"}}', "BUSYBOX|Hello World|ab"),
        ('{{printf "%s-%d" .Image 5}}', "busybox-5"),
        ("{{println .Image}}", "busybox\n"),
        ('{{.ID | printf "%.4s"}}', "0123"),
        ("  {{.Image}}  ", "busybox"),
        ("{{.Image}}\\n{{.Status}}", "busybox\nUp 2 minutes"),
        ("{{ .Image -}}  {{- .Status }}", "busyboxUp 2 minutes"),
        ("{{/* c */}}x", "x"),
        ('{{if eq .State "running"}}up{{else}}down{{end}}', "up"),
        ('{{.Label "a"}}', "1"),
        ("{{pad .Image 1 2}}|{{truncate .Image 3}}", " busybox  |bus"),
    ],
)
def test_ps_row(fmt: str, want: str) -> None:
    assert compile_template(fmt).execute(Row()) == want


@pytest.mark.parametrize(
    ("fmt", "want"),
    [
        ("{{.State.Status}} {{.State.Pid}}", "running 1234"),
        ("{{.Config.Labels}}", "map[x:<y>&]"),
        ("{{json .Config.Labels}}", '{"x":"<y>&"}'),
        (
            "{{json .State}}",
            '{"Status":"running","Running":true,"Pid":1234,"ExitCode":0,"Health":null}',
        ),
        ("{{.Config.Env}}", "[A=1 B=2]"),
        ("{{.State.Health}}", "<nil>"),
        ("{{.Config.Env}}\\t{{.Name}}", "[A=1 B=2]\\t/web"),  # inspect: no \t rewriting
        ("{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}", "0=A=1;1=B=2;"),
        ("{{range .Config.Env}}[{{.}}]{{else}}none{{end}}", "[A=1][B=2]"),
        ("{{range .Args}}x{{else}}none{{end}}", "none"),
        ("{{with .State}}{{.Status}}{{end}}", "running"),
        ('{{index .Config.Labels "x"}}', "<y>&"),
        ("{{.Config.Labels.x}} {{.Config.Labels.nope}}", "<y>& <no value>"),
        ("{{.Nope}} {{.Nope.Deep}}", "<no value> <no value>"),
        (
            '{{printf "%v|%q|%5d|%-4s|%x" .State.Running .Name 42 "ab" 255}}',
            'true|"/web"|   42|ab  |ff',
        ),
        ("{{if .Args}}y{{else}}n{{end}}", "n"),
        ('{{and 1 0}} {{or 0 "" "x"}} {{not 0}}', "0 x true"),
        ('{{eq 1 1 2}} {{ne "a" "b"}} {{lt 1 2}}', "true true true"),
        ("{{.Config.Cmd}} {{len .Config.Cmd}}", "[sh] 1"),
        ('{{println "a" 1 2}}', "a 1 2\n"),
        ('{{print "a" 1 2 "b" "c"}}', "a1 2bc"),
        ("{{.F}} {{.Big}} {{json .Big}}", "1.5 1e+06 1000000"),
        ("{{$n := .Name}}{{with .State}}{{$n}}:{{.Status}}{{end}}", "/web:running"),
        ("{{if .Nope}}a{{else if .Args}}b{{else}}c{{end}}", "c"),
        ('{{join .Config.Env ","}}', "A=1,B=2"),
        ("{{(index .Config.Env 1)}}", "B=2"),
    ],
)
def test_inspect_map(fmt: str, want: str) -> None:
    assert compile_template(fmt, formatter=False).execute(INSPECT) == want


PS_EXEC_ERRORS = [
    (
        "{{.Nope}}",
        'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext',
    ),
    (
        "{{.Labels.Nope}}",
        'template: :1:9: executing "" at <.Labels.Nope>: can\'t evaluate field Nope in type string',
    ),
    (
        "{{.Image.X}}",
        'template: :1:8: executing "" at <.Image.X>: can\'t evaluate field X in type string',
    ),
    (
        '{{join .Names ","}}',
        'template: :1:7: executing "" at <.Names>: wrong type for value; expected []string; got string',
    ),
    (
        '{{index .Labels "a"}}',
        'template: :1:2: executing "" at <index .Labels "a">: error calling index: '
        "cannot index slice/array with type string",
    ),
    (
        "{{index .Names 5}}",
        'template: :1:2: executing "" at <index .Names 5>: error calling index: index out of range: 5',
    ),
    (
        "{{len .ID 3}}",
        'template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 2',
    ),
]


@pytest.mark.parametrize(("fmt", "message"), PS_EXEC_ERRORS)
def test_ps_execution_errors(fmt: str, message: str) -> None:
    tmpl = compile_template(fmt)
    with pytest.raises(TemplateError) as exc:
        tmpl.execute(Row())
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        (
            "{{.Nope}}",
            'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"',
        ),
        (
            "{{.State.Nope}}",
            'template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"',
        ),
        (
            "{{.Nope.Deep}}",
            'template: :1:7: executing "" at <.Nope.Deep>: map has no entry for key "Nope"',
        ),
    ],
)
def test_inspect_missingkey_error(fmt: str, message: str) -> None:
    with pytest.raises(TemplateError) as exc:
        compile_template(fmt, formatter=False).execute(INSPECT, missing_key_error=True)
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        (
            "{{.State.Health.X}}",
            'template: :1:8: executing "" at <.State.Health.X>: nil pointer evaluating interface {}.X',
        ),
        (
            "{{.Name.X}}",
            'template: :1:7: executing "" at <.Name.X>: can\'t evaluate field X in type interface {}',
        ),
        (
            "{{range .Name}}{{end}}",
            'template: :1:8: executing "" at <.Name>: range can\'t iterate over /web',
        ),
        (
            "{{.Config.Env.Labels.More.Deeper.Stuff}}",
            'template: :1:9: executing "" at <.Config.Env.Labels.M...>: '
            "can't evaluate field Labels in type interface {}",
        ),
    ],
)
def test_inspect_execution_errors(fmt: str, message: str) -> None:
    with pytest.raises(TemplateError) as exc:
        compile_template(fmt, formatter=False).execute(INSPECT)
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("{{.ID", "template: :1: unclosed action"),
        ("{{if .ID}}x", "template: :1: unexpected EOF"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{foo .ID}}", 'template: :1: function "foo" not defined'),
        ('{{"abc}}', "template: :1: unterminated quoted string"),
        ("{{.ID !}}", 'template: :1: unexpected "!" in operand'),
        ("{{ .ID }", 'template: :1: unexpected "}" in operand'),
        ("{{range}}{{end}}", "template: :1: missing value for range"),
        ("{{if}}{{end}}", "template: :1: missing value for if"),
        ("a\n{{.ID}}\n{{.X", "template: :3: unclosed action"),
        ("{{$x}}", 'template: :1: undefined variable "$x"'),
    ],
)
def test_parse_errors(fmt: str, message: str) -> None:
    with pytest.raises(TemplateError) as exc:
        compile_template(fmt)
    assert exc.value.message == message


def test_table_prefix_and_headers() -> None:
    tmpl = compile_template("table {{.ID}}\\t{{.Names}}")
    assert tmpl.is_table
    assert tmpl.header_fields == ("ID", "Names")
    assert tmpl.execute(Row()) == "0123456789ab\tweb"
    assert tmpl.header({"ID": "CONTAINER ID", "Names": "NAMES"}) == "CONTAINER ID\tNAMES"


def test_table_header_keeps_titles_but_pads() -> None:
    # docker: "table {{pad .Image 1 2}}|{{truncate .Image 3}}" -> " IMAGE  |IMAGE"
    tmpl = compile_template("table {{pad .Image 1 2}}|{{truncate .Image 3}}|{{upper .Image}}")
    assert tmpl.header({"Image": "IMAGE"}) == " IMAGE  |IMAGE|IMAGE"
    assert tmpl.execute(Row()) == " busybox  |bus|BUSYBOX"


def test_plain_format_is_not_table() -> None:
    tmpl = compile_template("{{.ID}}")
    assert not tmpl.is_table
    assert tmpl.header_fields == ("ID",)


def test_json_format_key() -> None:
    assert compile_template("json").execute({"b": 1, "a": "<"}) == '{"b":1,"a":"<"}'


def test_objects_and_dataclasses_in_json() -> None:
    class Marshaler:
        def marshal_json(self) -> str:
            return '{"raw":true}'

    assert compile_template("{{json .}}").execute([Marshaler(), None]) == '[{"raw":true},null]'
