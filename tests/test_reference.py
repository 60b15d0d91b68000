"""Image reference parsing against distribution/reference v0.6.0.

Every case of the upstream test suite (reference_cases.json) and every
input x function of the oracle run (reference_oracle.json) is one test, plus
the table of docker-engine-api.md section 10.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from shared_vectors import VECTORS

from simulator.model import reference as r
from simulator.model.errors import InvalidParameter
from simulator.model.reference import DigestReference, Reference, ReferenceError_

CASES: list[dict[str, Any]] = json.loads((VECTORS / "reference_cases.json").read_text())["cases"]
ORACLE: list[dict[str, Any]] = json.loads((VECTORS / "reference_oracle.json").read_text())["inputs"]

Parser = Callable[[str], Reference | DigestReference]
FUNCTIONS: dict[str, Parser] = {
    "Parse": r.parse,
    "ParseNamed": r.parse_named,
    "ParseNormalizedNamed": r.parse_normalized_named,
    "ParseDockerRef": r.parse_docker_ref,
    "ParseAnyReference": r.parse_any_reference,
    "WithName": r.with_name,
}


def _subs(m: re.Match[str] | None) -> list[str] | None:
    return None if m is None else [g or "" for g in m.groups()]


def _run_case(case: dict[str, Any]) -> dict[str, Any]:
    """Run one upstream case; returns the observed fields named in ``expected``."""
    fn: str = case["function"]
    s: str = case["input"]
    args: dict[str, str] = case.get("args") or {}
    if fn.startswith("regexp "):
        rx = {
            "regexp ^domainAndPort$": r.DOMAIN_AND_PORT_RE,
            "regexp anchoredNameRegexp (subs: domain, path)": r.ANCHORED_NAME_RE,
            "regexp referenceRegexp (subs: name, tag, digest)": r.REFERENCE_RE,
            "regexp anchoredIdentifierRegexp (64 lowercase hex)": r.ANCHORED_IDENTIFIER_RE,
        }[fn]
        m = rx.match(s)
        return {"match": m is not None, "subs": _subs(m)}
    if fn.startswith("FamiliarMatch"):
        return {"match": r.familiar_match(args["pattern"], r.parse_any_reference(s))}
    if fn == "WithTag(WithDigest?(WithName(input)))":
        ref = r.with_name(s)
        if "digest" in args:
            ref = r.with_digest(ref, args["digest"])
        return _fields(r.with_tag(ref, args["tag"]))
    if fn == "WithDigest(WithTag?(WithName(input)))":
        ref = r.with_name(s)
        if "tag" in args:
            ref = r.with_tag(ref, args["tag"])
        return _fields(r.with_digest(ref, args["digest"]))
    if fn == "WithTag(ParseNormalizedNamed('busybox'))":
        return _fields(r.with_tag(r.parse_normalized_named("busybox"), args["tag"]))
    if fn == "WithDigest(ParseNormalizedNamed('busybox'))":
        return _fields(r.with_digest(r.parse_normalized_named("busybox"), args["digest"]))
    if fn == "Field.UnmarshalText":
        ref = r.parse(s)
        out = _fields(ref)
        out["json_roundtrip"] = r.parse(json.loads(json.dumps(str(ref)))) == ref
        return out
    return _fields(FUNCTIONS[fn](s))


def _fields(ref: Reference | DigestReference) -> dict[str, Any]:
    if isinstance(ref, DigestReference):
        return {
            "string": str(ref),
            "digest": ref.digest,
            "type": ref.kind,
            "familiar_string": ref.familiar_string(),
        }
    return {
        "string": str(ref),
        "name": ref.name,
        "domain": ref.domain,
        "path": ref.path,
        "tag": ref.tag,
        "digest": ref.digest,
        "familiar_name": ref.familiar_name(),
        "familiar_string": ref.familiar_string(),
        "type": ref.kind,
        "valid": True,
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}:{c['input'][:40]}" for c in CASES])
def test_upstream_case(case: dict[str, Any]) -> None:
    if case["expected"] is None:
        with pytest.raises(ReferenceError_) as exc:
            _run_case(case)
        if case["error"] != "ANY":
            assert exc.value.message == case["error"]
        return
    got = _run_case(case)
    want = dict(case["expected"])
    for key, value in want.items():
        assert got[key] == value, key
    if case.get("note", "").startswith("result must also equal Parse"):
        assert r.parse_any_reference(case["input"]) == r.parse(want["string"])


ORACLE_PARAMS = [
    pytest.param(entry["input"], fn, entry[fn], id=f"{fn}:{entry['input'][:50]}")
    for entry in ORACLE
    for fn in FUNCTIONS
]


@pytest.mark.parametrize(("text", "fn", "want"), ORACLE_PARAMS)
def test_oracle(text: str, fn: str, want: dict[str, Any]) -> None:
    if "error" in want:
        with pytest.raises(ReferenceError_) as exc:
            FUNCTIONS[fn](text)
        assert exc.value.message == want["error"]
        assert str(exc.value) == want["error"]
        return
    got = _fields(FUNCTIONS[fn](text))
    expected = dict(want["result"])
    expected["type"] = expected["type"].removeprefix("reference.")
    if expected["type"] != "digestReference":
        expected.setdefault("tag", None)
        expected.setdefault("digest", None)
    for key, value in expected.items():
        assert got[key] == value, key


HEX = "a" * 64
TABLE = [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    (
        "registry-1.docker.io/library/busybox",
        "registry-1.docker.io/library/busybox:latest",
        "registry-1.docker.io/library/busybox:latest",
    ),
    ("user/app:v2", "docker.io/user/app:v2", "user/app:v2"),
    ("a/b/c/d/e", "docker.io/a/b/c/d/e:latest", "a/b/c/d/e:latest"),
    (
        "docker.io/library/busybox/extra",
        "docker.io/library/busybox/extra:latest",
        "library/busybox/extra:latest",
    ),
    ("ghcr.io/owner/app:1.0", "ghcr.io/owner/app:1.0", "ghcr.io/owner/app:1.0"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/ns/app:tag", "localhost:5000/ns/app:tag", "localhost:5000/ns/app:tag"),
    ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest"),
    ("[fc00::1]:5000/app", "[fc00::1]:5000/app:latest", "[fc00::1]:5000/app:latest"),
    ("Foo/bar", "Foo/bar:latest", "Foo/bar:latest"),
    ("LOCALHOST:5000/app", "LOCALHOST:5000/app:latest", "LOCALHOST:5000/app:latest"),
    ("localhost", "docker.io/library/localhost:latest", "localhost:latest"),
    ("a.b", "docker.io/library/a.b:latest", "a.b:latest"),
    ("a.b/c", "a.b/c:latest", "a.b/c:latest"),
    ("busybox:Latest", "docker.io/library/busybox:Latest", "busybox:Latest"),
    ("app:tag_with.dots-1", "docker.io/library/app:tag_with.dots-1", "app:tag_with.dots-1"),
    ("app:" + "t" * 128, "docker.io/library/app:" + "t" * 128, "app:" + "t" * 128),
    (f"busybox@sha256:{HEX}", f"docker.io/library/busybox@sha256:{HEX}", f"busybox@sha256:{HEX}"),
    (
        f"busybox:1.36@sha256:{HEX}",
        f"docker.io/library/busybox:1.36@sha256:{HEX}",
        f"busybox:1.36@sha256:{HEX}",
    ),
    ("a__b/c", "docker.io/a__b/c:latest", "a__b/c:latest"),
    ("a--b/c", "docker.io/a--b/c:latest", "a--b/c:latest"),
    (f"docker.io/{HEX}", f"docker.io/library/{HEX}:latest", f"{HEX}:latest"),
]


@pytest.mark.parametrize(("text", "normalised", "familiar"), TABLE)
def test_engine_api_table(text: str, normalised: str, familiar: str) -> None:
    ref = r.normalize(text)
    assert str(ref) == normalised
    assert ref.familiar_string() == familiar


def test_table_domains() -> None:
    assert r.normalize("localhost:5000/ns/app:tag").domain == "localhost:5000"
    assert r.normalize("localhost:5000/ns/app:tag").path == "ns/app"
    assert r.normalize("Foo/bar").domain == "Foo"
    assert r.normalize("LOCALHOST:5000/app").domain == "LOCALHOST:5000"


TABLE_ERRORS = [
    ("app:" + "t" * 129, "invalid reference format"),
    ("busybox@sha256:" + "A" * 64, "invalid checksum digest format"),
    ("busybox@sha256:abc", "invalid reference format"),
    ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
    (
        "docker/Docker",
        "invalid reference format: repository name (docker/Docker) must be lowercase",
    ),
    ("busybox:", "invalid reference format"),
    (":latest", "invalid reference format"),
    ("", "invalid reference format"),
    ("-a/b", "invalid reference format"),
    ("a___b/c", "invalid reference format"),
    ("http://docker.io/busybox", "invalid reference format"),
    (HEX, f"invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"),
]


@pytest.mark.parametrize(("text", "message"), TABLE_ERRORS)
def test_engine_api_table_errors(text: str, message: str) -> None:
    with pytest.raises(ReferenceError_) as exc:
        r.normalize(text)
    assert exc.value.message == message
    assert exc.value.status == 400
    assert isinstance(exc.value, InvalidParameter)


def test_reference_value_semantics() -> None:
    ref = r.parse_normalized_named("busybox")
    assert ref == Reference("docker.io", "library/busybox")
    assert ref.name == "docker.io/library/busybox"
    assert ref.with_default_tag().tag == "latest"
    assert ref.with_default_tag().with_default_tag() == ref.with_default_tag()
    digested = r.with_digest(ref, "sha256:" + HEX)
    assert digested.with_default_tag() is digested
    assert {ref, Reference("docker.io", "library/busybox")} == {ref}
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]


def test_parse_docker_ref_drops_tag_when_digested() -> None:
    ref = r.parse_docker_ref(f"busybox:1.36@sha256:{HEX}")
    assert ref.tag is None
    assert str(ref) == f"docker.io/library/busybox@sha256:{HEX}"


def test_parse_any_reference_id_and_digest() -> None:
    assert r.parse_any_reference(HEX) == DigestReference("sha256:" + HEX)
    assert str(r.parse_any_reference("sha256:" + HEX)) == "sha256:" + HEX


def test_with_tag_and_digest_errors() -> None:
    base = r.with_name("foo")
    with pytest.raises(ReferenceError_, match=r"^invalid tag format$"):
        r.with_tag(base, "-foo")
    with pytest.raises(ReferenceError_, match=r"^invalid digest format$"):
        r.with_digest(base, "foo")


@pytest.mark.parametrize(
    ("pattern", "text", "want"),
    [
        ("busybox", "busybox:latest", True),
        ("busy*", "busybox", True),
        ("*", "user/app", False),
        ("*/*", "user/app", True),
        ("user/ap?", "user/app:v1", True),
        ("[a-c]*", "busybox", True),
        ("[^a-c]*", "busybox", False),
        ("b\\usybox", "busybox", True),
    ],
)
def test_familiar_match(pattern: str, text: str, want: bool) -> None:
    assert r.familiar_match(pattern, r.parse_any_reference(text)) is want


@pytest.mark.parametrize("pattern", ["[", "[]", "[-x]", "[a-]", "\\", "[z-a]"])
def test_familiar_match_bad_pattern(pattern: str) -> None:
    with pytest.raises(ReferenceError_, match=r"^syntax error in pattern$"):
        r.familiar_match(pattern, r.parse_any_reference("busybox"))
