"""The registry's /v2/ endpoints over real HTTP, success and error cases."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_registry_helpers import (
    CONFIG,
    RegistryThread,
    http_call,
    image_manifest,
    index_manifest,
    push_image,
    registry,
    sha256,
    upload,
)

from simulator.registry import manifests
from simulator.registry.auth import hash_password

__all__ = ["registry"]

ZERO = "sha256:" + "0" * 64


# -- base, blobs ---------------------------------------------------------------


def test_base_check_answers_with_api_version(registry: RegistryThread) -> None:
    reply = http_call(registry, "GET", "/v2/")
    assert reply.status == 200
    assert reply.json() == {}
    assert reply.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_monolithic_upload_then_head_and_get(registry: RegistryThread) -> None:
    digest = sha256(b"hello")
    reply = http_call(registry, "POST", f"/v2/a/b/blobs/uploads/?digest={digest}", b"hello")
    assert reply.status == 201
    assert reply.headers["Location"] == f"/v2/a/b/blobs/{digest}"
    assert reply.headers["Docker-Content-Digest"] == digest

    head = http_call(registry, "HEAD", f"/v2/a/b/blobs/{digest}")
    assert head.status == 200
    assert head.headers["Content-Length"] == "5"
    assert head.headers["Docker-Content-Digest"] == digest
    assert head.body == b""
    get = http_call(registry, "GET", f"/v2/a/b/blobs/{digest}")
    assert (get.status, get.body) == (200, b"hello")
    assert get.headers["Content-Type"] == "application/octet-stream"


def test_blob_range_requests(registry: RegistryThread) -> None:
    digest = upload(registry, "r", b"0123456789")
    part = http_call(registry, "GET", f"/v2/r/blobs/{digest}", headers={"Range": "bytes=2-4"})
    assert (part.status, part.body) == (206, b"234")
    assert part.headers["Content-Range"] == "bytes 2-4/10"
    tail = http_call(registry, "GET", f"/v2/r/blobs/{digest}", headers={"Range": "bytes=-3"})
    assert (tail.status, tail.body) == (206, b"789")
    bad = http_call(registry, "GET", f"/v2/r/blobs/{digest}", headers={"Range": "bytes=10-20"})
    assert bad.status == 416
    assert bad.headers["Content-Range"] == "bytes */10"
    garbage = http_call(registry, "GET", f"/v2/r/blobs/{digest}", headers={"Range": "pages=1"})
    assert garbage.status == 416


def test_unknown_blob_is_404_blob_unknown(registry: RegistryThread) -> None:
    upload(registry, "r", b"x")
    reply = http_call(registry, "GET", f"/v2/r/blobs/{ZERO}")
    assert reply.status == 404
    assert reply.json() == {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry", "detail": ZERO}]}
    assert http_call(registry, "HEAD", f"/v2/r/blobs/{ZERO}").status == 404


def test_blob_of_another_repository_is_not_served(registry: RegistryThread) -> None:
    digest = upload(registry, "one", b"private")
    assert http_call(registry, "GET", f"/v2/two/blobs/{digest}").status == 404


def test_malformed_digest_is_digest_invalid(registry: RegistryThread) -> None:
    reply = http_call(registry, "GET", "/v2/r/blobs/sha256:zz")
    assert reply.status == 400
    assert reply.error_codes() == ["DIGEST_INVALID"]
    reply = http_call(registry, "GET", "/v2/r/blobs/md5:" + "0" * 32)
    assert reply.status == 400
    assert reply.json()["errors"][0]["message"] == "unsupported digest algorithm"


def test_digest_mismatch_is_refused_and_nothing_becomes_visible(
    registry: RegistryThread,
) -> None:
    claimed = sha256(b"what I promised")
    reply = http_call(registry, "POST", f"/v2/r/blobs/uploads/?digest={claimed}", b"what I sent")
    assert reply.status == 400
    assert reply.error_codes() == ["DIGEST_INVALID"]
    for digest in (claimed, sha256(b"what I sent")):
        assert http_call(registry, "HEAD", f"/v2/r/blobs/{digest}").status == 404
    assert list((registry.root / "uploads").iterdir()) == []
    assert [p for p in (registry.root / "blobs").rglob("*") if p.is_file()] == []


def test_sha512_digests_are_verified(registry: RegistryThread) -> None:
    data = b"sha512 content"
    digest = "sha512:" + hashlib.sha512(data).hexdigest()
    ok = http_call(registry, "POST", f"/v2/r/blobs/uploads/?digest={digest}", data)
    assert ok.status == 201
    assert http_call(registry, "GET", f"/v2/r/blobs/{digest}").body == data
    wrong = "sha512:" + hashlib.sha512(b"other").hexdigest()
    bad = http_call(registry, "POST", f"/v2/r/blobs/uploads/?digest={wrong}", data)
    assert bad.error_codes() == ["DIGEST_INVALID"]


def test_chunked_upload(registry: RegistryThread) -> None:
    start = http_call(registry, "POST", "/v2/r/blobs/uploads/")
    assert start.status == 202
    assert start.headers["Range"] == "0-0"
    uuid = start.headers["Docker-Upload-UUID"]
    location = start.headers["Location"]
    assert location == f"/v2/r/blobs/uploads/{uuid}"

    first = http_call(registry, "PATCH", location, b"01234", {"Content-Range": "0-4"})
    assert first.status == 202
    assert first.headers["Range"] == "0-4"
    second = http_call(registry, "PATCH", location, b"56789", {"Content-Range": "5-9"})
    assert second.headers["Range"] == "0-9"
    status = http_call(registry, "GET", location)
    assert (status.status, status.headers["Range"]) == (204, "0-9")

    digest = sha256(b"0123456789")
    done = http_call(registry, "PUT", f"{location}?digest={digest}")
    assert done.status == 201
    assert done.headers["Docker-Content-Digest"] == digest
    assert http_call(registry, "GET", f"/v2/r/blobs/{digest}").body == b"0123456789"
    # The session is gone once committed.
    assert http_call(registry, "GET", location).error_codes() == ["BLOB_UPLOAD_UNKNOWN"]


def test_out_of_order_chunk_is_416_and_session_unchanged(registry: RegistryThread) -> None:
    location = http_call(registry, "POST", "/v2/r/blobs/uploads/").headers["Location"]
    http_call(registry, "PATCH", location, b"abc", {"Content-Range": "0-2"})
    skipped = http_call(registry, "PATCH", location, b"xyz", {"Content-Range": "10-12"})
    assert skipped.status == 416
    assert skipped.error_codes() == ["RANGE_INVALID"]
    assert skipped.headers["Range"] == "0-2"
    overlap = http_call(registry, "PATCH", location, b"bc", {"Content-Range": "1-2"})
    assert overlap.status == 416
    resumed = http_call(registry, "PATCH", location, b"def", {"Content-Range": "3-5"})
    assert resumed.headers["Range"] == "0-5"
    done = http_call(registry, "PUT", f"{location}?digest={sha256(b'abcdef')}")
    assert done.status == 201


def test_chunk_length_must_match_content_range(registry: RegistryThread) -> None:
    location = http_call(registry, "POST", "/v2/r/blobs/uploads/").headers["Location"]
    reply = http_call(registry, "PATCH", location, b"abcd", {"Content-Range": "0-2"})
    assert reply.status == 400
    assert reply.error_codes() == ["SIZE_INVALID"]
    assert http_call(registry, "GET", location).headers["Range"] == "0-0"


def test_streamed_patch_and_final_chunk_in_put(registry: RegistryThread) -> None:
    location = http_call(registry, "POST", "/v2/r/blobs/uploads/").headers["Location"]

    def gen() -> object:
        yield b"stream"
        yield b"ed "

    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=10)
    conn.request("PATCH", location, body=gen(), encode_chunked=True)  # type: ignore[arg-type]
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert (resp.status, resp.headers["Range"]) == (202, "0-8")
    digest = sha256(b"streamed data")
    done = http_call(registry, "PUT", f"{location}?digest={digest}", b"data")
    assert done.status == 201
    assert http_call(registry, "GET", f"/v2/r/blobs/{digest}").body == b"streamed data"


def test_put_without_digest_is_digest_invalid(registry: RegistryThread) -> None:
    location = http_call(registry, "POST", "/v2/r/blobs/uploads/").headers["Location"]
    reply = http_call(registry, "PUT", location, b"x")
    assert reply.status == 400
    assert reply.error_codes() == ["DIGEST_INVALID"]


def test_cancel_upload_and_unknown_sessions(registry: RegistryThread) -> None:
    location = http_call(registry, "POST", "/v2/r/blobs/uploads/").headers["Location"]
    http_call(registry, "PATCH", location, b"abc")
    assert http_call(registry, "DELETE", location).status == 204
    assert http_call(registry, "GET", location).status == 404
    assert http_call(registry, "DELETE", location).error_codes() == ["BLOB_UPLOAD_UNKNOWN"]
    assert list((registry.root / "uploads").iterdir()) == []
    bogus = http_call(registry, "PATCH", "/v2/r/blobs/uploads/../../etc", b"x")
    assert bogus.status in (400, 404)
    made_up = http_call(registry, "GET", "/v2/r/blobs/uploads/0000-not-a-session")
    assert made_up.error_codes() == ["BLOB_UPLOAD_UNKNOWN"]


def test_upload_session_belongs_to_its_repository(registry: RegistryThread) -> None:
    uuid = http_call(registry, "POST", "/v2/one/blobs/uploads/").headers["Docker-Upload-UUID"]
    reply = http_call(registry, "PATCH", f"/v2/two/blobs/uploads/{uuid}", b"x")
    assert reply.status == 404
    assert reply.error_codes() == ["BLOB_UPLOAD_UNKNOWN"]


def test_cross_repository_mount(registry: RegistryThread) -> None:
    digest = upload(registry, "lib/base", b"shared layer")
    mounted = http_call(registry, "POST", f"/v2/app/blobs/uploads/?mount={digest}&from=lib/base")
    assert mounted.status == 201
    assert mounted.headers["Location"] == f"/v2/app/blobs/{digest}"
    assert http_call(registry, "GET", f"/v2/app/blobs/{digest}").body == b"shared layer"
    # Source lacks the blob: fall back to a fresh upload session.
    other = sha256(b"nope")
    fallback = http_call(registry, "POST", f"/v2/app/blobs/uploads/?mount={other}&from=lib/base")
    assert fallback.status == 202
    assert "Docker-Upload-UUID" in fallback.headers


def test_delete_blob(registry: RegistryThread) -> None:
    digest = upload(registry, "r", b"bye")
    assert http_call(registry, "DELETE", f"/v2/r/blobs/{digest}").status == 202
    assert http_call(registry, "HEAD", f"/v2/r/blobs/{digest}").status == 404
    again = http_call(registry, "DELETE", f"/v2/r/blobs/{digest}")
    assert (again.status, again.error_codes()) == (404, ["BLOB_UNKNOWN"])


# -- manifests -----------------------------------------------------------------


@pytest.mark.parametrize("media_type", [manifests.OCI_MANIFEST, manifests.DOCKER_MANIFEST])
def test_image_manifest_put_get_head(registry: RegistryThread, media_type: str) -> None:
    layer = b"layer bytes"
    upload(registry, "app", CONFIG)
    upload(registry, "app", layer)
    body = image_manifest(CONFIG, [layer], media_type)
    put = http_call(registry, "PUT", "/v2/app/manifests/v1", body, {"Content-Type": media_type})
    assert put.status == 201
    digest = sha256(body)
    assert put.headers["Docker-Content-Digest"] == digest
    assert put.headers["Location"] == f"/v2/app/manifests/{digest}"
    for ref in ("v1", digest):
        get = http_call(registry, "GET", f"/v2/app/manifests/{ref}")
        assert (get.status, get.body) == (200, body)
        assert get.headers["Content-Type"] == media_type
        assert get.headers["Docker-Content-Digest"] == digest
        head = http_call(registry, "HEAD", f"/v2/app/manifests/{ref}")
        assert head.status == 200
        assert head.headers["Content-Length"] == str(len(body))
        assert head.body == b""


@pytest.mark.parametrize("media_type", [manifests.OCI_INDEX, manifests.DOCKER_MANIFEST_LIST])
def test_index_requires_its_children(registry: RegistryThread, media_type: str) -> None:
    child, child_digest = push_image(registry, "multi", "amd64", [b"l1"])
    missing_child = image_manifest(CONFIG, [b"never pushed"])
    bad = index_manifest([child, missing_child], media_type)
    reply = http_call(registry, "PUT", "/v2/multi/manifests/all", bad, {"Content-Type": media_type})
    assert reply.status == 400
    assert reply.json()["errors"] == [
        {
            "code": "MANIFEST_BLOB_UNKNOWN",
            "message": "blob unknown to registry",
            "detail": sha256(missing_child),
        }
    ]
    good = index_manifest([child], media_type)
    ok = http_call(registry, "PUT", "/v2/multi/manifests/all", good, {"Content-Type": media_type})
    assert ok.status == 201
    got = http_call(registry, "GET", "/v2/multi/manifests/all")
    assert got.headers["Content-Type"] == media_type
    assert json.loads(got.body)["manifests"][0]["digest"] == child_digest


def test_manifest_referencing_missing_blobs_lists_each(registry: RegistryThread) -> None:
    upload(registry, "app", CONFIG)
    body = image_manifest(CONFIG, [b"missing one", b"missing two"])
    reply = http_call(registry, "PUT", "/v2/app/manifests/v1", body, {"Content-Type": manifests.OCI_MANIFEST})
    assert reply.status == 400
    assert reply.error_codes() == ["MANIFEST_BLOB_UNKNOWN", "MANIFEST_BLOB_UNKNOWN"]
    assert [e["detail"] for e in reply.json()["errors"]] == [
        sha256(b"missing one"),
        sha256(b"missing two"),
    ]
    assert http_call(registry, "GET", "/v2/app/manifests/v1").status == 404


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"schemaVersion": 1, "name": "x"}',
        b'{"schemaVersion": 2, "mediaType": "text/plain"}',
        b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:zz", "size": 1}, "layers": []}',
        b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "'
        + ZERO.encode()
        + b'", "size": -1}, "layers": []}',
        b'{"schemaVersion": 2, "manifests": "nope"}',
    ],
)
def test_bad_manifest_is_manifest_invalid(registry: RegistryThread, body: bytes) -> None:
    reply = http_call(registry, "PUT", "/v2/app/manifests/v1", body)
    assert reply.status == 400
    assert reply.error_codes() == ["MANIFEST_INVALID"]


def test_content_type_must_agree_with_media_type(registry: RegistryThread) -> None:
    body = image_manifest(CONFIG, [], manifests.OCI_MANIFEST)
    upload(registry, "app", CONFIG)
    reply = http_call(registry, "PUT", "/v2/app/manifests/v1", body, {"Content-Type": manifests.DOCKER_MANIFEST})
    assert reply.error_codes() == ["MANIFEST_INVALID"]


def test_put_by_digest_must_match_body(registry: RegistryThread) -> None:
    upload(registry, "app", CONFIG)
    body = image_manifest(CONFIG, [])
    wrong = http_call(registry, "PUT", f"/v2/app/manifests/{ZERO}", body)
    assert wrong.error_codes() == ["DIGEST_INVALID"]
    right = http_call(registry, "PUT", f"/v2/app/manifests/{sha256(body)}", body)
    assert right.status == 201
    assert http_call(registry, "GET", "/v2/app/tags/list").json()["tags"] == []


def test_unknown_manifest_and_unknown_tag_delete(registry: RegistryThread) -> None:
    push_image(registry, "app", "v1", [])
    reply = http_call(registry, "GET", "/v2/app/manifests/nope")
    assert reply.status == 404
    assert reply.json()["errors"][0] == {
        "code": "MANIFEST_UNKNOWN",
        "message": "manifest unknown",
        "detail": {"Tag": "nope"},
    }
    deleted = http_call(registry, "DELETE", "/v2/app/manifests/nope")
    assert (deleted.status, deleted.error_codes()) == (404, ["MANIFEST_UNKNOWN"])
    by_digest = http_call(registry, "DELETE", f"/v2/app/manifests/{ZERO}")
    assert by_digest.status == 404


def test_delete_tag_keeps_manifest_delete_digest_drops_tags(registry: RegistryThread) -> None:
    body, digest = push_image(registry, "app", "v1", [b"a"])
    http_call(registry, "PUT", "/v2/app/manifests/v2", body)
    assert http_call(registry, "DELETE", "/v2/app/manifests/v1").status == 202
    assert http_call(registry, "GET", "/v2/app/manifests/v1").status == 404
    assert http_call(registry, "GET", f"/v2/app/manifests/{digest}").status == 200
    assert http_call(registry, "DELETE", f"/v2/app/manifests/{digest}").status == 202
    assert http_call(registry, "GET", "/v2/app/manifests/v2").status == 404
    assert http_call(registry, "GET", "/v2/app/tags/list").json() == {"name": "app", "tags": []}


def test_invalid_tag_is_tag_invalid(registry: RegistryThread) -> None:
    reply = http_call(registry, "PUT", "/v2/app/manifests/-bad", b"{}")
    assert (reply.status, reply.error_codes()) == (400, ["TAG_INVALID"])


def test_oversized_manifest_is_refused(registry: RegistryThread) -> None:
    body = b" " * (manifests.MAX_MANIFEST_SIZE + 1)
    reply = http_call(registry, "PUT", "/v2/app/manifests/v1", body)
    assert reply.status == 413


# -- listings ------------------------------------------------------------------


def test_tag_list_pagination(registry: RegistryThread) -> None:
    body, _ = push_image(registry, "app", "a", [])
    for tag in ("b", "c", "d", "e"):
        http_call(registry, "PUT", f"/v2/app/manifests/{tag}", body)
    full = http_call(registry, "GET", "/v2/app/tags/list")
    assert full.json() == {"name": "app", "tags": ["a", "b", "c", "d", "e"]}
    assert "Link" not in full.headers
    page = http_call(registry, "GET", "/v2/app/tags/list?n=2")
    assert page.json()["tags"] == ["a", "b"]
    assert page.headers["Link"] == '</v2/app/tags/list?n=2&last=b>; rel="next"'
    nxt = http_call(registry, "GET", "/v2/app/tags/list?n=2&last=b")
    assert nxt.json()["tags"] == ["c", "d"]
    last = http_call(registry, "GET", "/v2/app/tags/list?n=2&last=d")
    assert last.json()["tags"] == ["e"]
    assert "Link" not in last.headers
    assert http_call(registry, "GET", "/v2/app/tags/list?n=0").json()["tags"] == []
    bad = http_call(registry, "GET", "/v2/app/tags/list?n=x")
    assert bad.error_codes() == ["PAGINATION_NUMBER_INVALID"]


def test_tags_of_unknown_repository_is_name_unknown(registry: RegistryThread) -> None:
    reply = http_call(registry, "GET", "/v2/ghost/tags/list")
    assert reply.status == 404
    assert reply.json()["errors"][0] == {
        "code": "NAME_UNKNOWN",
        "message": "repository name not known to registry",
        "detail": {"name": "ghost"},
    }


def test_catalog_with_pagination(registry: RegistryThread) -> None:
    for repo in ("zeta", "alpha/one", "alpha/one/two", "mid"):
        upload(registry, repo, b"x")
    full = http_call(registry, "GET", "/v2/_catalog")
    assert full.json() == {"repositories": ["alpha/one", "alpha/one/two", "mid", "zeta"]}
    page = http_call(registry, "GET", "/v2/_catalog?n=3")
    assert page.json()["repositories"] == ["alpha/one", "alpha/one/two", "mid"]
    assert page.headers["Link"] == '</v2/_catalog?n=3&last=mid>; rel="next"'


# -- names, methods, modes -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v2/a/../b/tags/list",
        "/v2/../etc/tags/list",
        "/v2/a/%2e%2e/b/manifests/latest",
        "/v2/Upper/tags/list",
        "/v2/a//b/tags/list",
        "/v2/trailing-/tags/list",
        "/v2/" + "a" * 256 + "/tags/list",
        f"/v2/a/../b/blobs/{ZERO}",
        "/v2/a/./b/blobs/uploads/",
    ],
)
def test_invalid_names_are_name_invalid(registry: RegistryThread, path: str) -> None:
    method = "POST" if path.endswith("uploads/") else "GET"
    reply = http_call(registry, method, path)
    assert reply.status == 400
    assert reply.error_codes() == ["NAME_INVALID"]


def test_dotdot_upload_writes_nothing_outside_root(registry: RegistryThread, tmp_path: Path) -> None:
    digest = sha256(b"evil")
    reply = http_call(registry, "POST", f"/v2/../../evil/blobs/uploads/?digest={digest}", b"evil")
    assert reply.status == 400
    assert not (tmp_path / "evil").exists()
    assert list((registry.root / "repositories").iterdir()) == []


def test_wrong_method_is_unsupported(registry: RegistryThread) -> None:
    reply = http_call(registry, "POST", "/v2/app/tags/list")
    assert (reply.status, reply.error_codes()) == (405, ["UNSUPPORTED"])
    assert http_call(registry, "GET", "/nope").status == 404


def test_read_only_mode(tmp_path: Path) -> None:
    writable = RegistryThread(tmp_path / "root").start()
    try:
        push_image(writable, "app", "v1", [b"l"])
    finally:
        writable.stop()
    reg = RegistryThread(tmp_path / "root", read_only=True).start()
    try:
        assert http_call(reg, "GET", "/v2/app/manifests/v1").status == 200
        for method, path in [
            ("POST", "/v2/app/blobs/uploads/"),
            ("PUT", "/v2/app/manifests/v2"),
            ("DELETE", "/v2/app/manifests/v1"),
        ]:
            reply = http_call(reg, method, path, b"{}")
            assert (reply.status, reply.error_codes()) == (405, ["UNSUPPORTED"])
        assert http_call(reg, "GET", "/v2/app/manifests/v1").status == 200
    finally:
        reg.stop()


def test_basic_auth(tmp_path: Path) -> None:
    import base64

    users = {"alice": hash_password("s3cret"), "bob": "plain"}
    reg = RegistryThread(tmp_path / "root", users=users).start()

    def auth(user: str, pw: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}

    try:
        anon = http_call(reg, "GET", "/v2/")
        assert (anon.status, anon.error_codes()) == (401, ["UNAUTHORIZED"])
        assert anon.headers["WWW-Authenticate"] == 'Basic realm="csim-registry"'
        assert http_call(reg, "GET", "/v2/", headers=auth("alice", "wrong")).status == 401
        assert http_call(reg, "GET", "/v2/", headers=auth("alice", "s3cret")).status == 200
        assert http_call(reg, "GET", "/v2/", headers=auth("bob", "plain")).status == 200
        assert http_call(reg, "GET", "/v2/_catalog", headers=auth("eve", "plain")).status == 401
    finally:
        reg.stop()
