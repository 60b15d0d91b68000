"""docker-py 7.1 against ``csim daemon``: the high-level API behaves as against Docker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api_harness import csim_daemon

docker = pytest.importorskip("docker")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    with csim_daemon("--speed", "20") as d:
        c = docker.DockerClient(base_url=d.host, timeout=60)
        yield c
        c.close()


def test_containers(client: object) -> None:
    c = client  # type: ignore[assignment]
    assert c.ping() is True  # type: ignore[attr-defined]
    out = c.containers.run("busybox", ["sh", "-c", "echo hello; echo oops >&2"], remove=True)  # type: ignore[attr-defined]
    assert out == b"hello\n"
    ctr = c.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2; sleep 1000"], detach=True, name="py1")  # type: ignore[attr-defined]
    assert ctr.name == "py1"
    for _ in range(100):
        if ctr.logs() == b"out\nerr\n":
            break
    assert ctr.logs() == b"out\nerr\n"
    assert ctr.logs(stderr=False) == b"out\n"
    ctr.reload()
    assert ctr.status == "running"
    ctr.stop(timeout=1)
    assert ctr.wait()["StatusCode"] == 137
    ctr.remove()
    with pytest.raises(docker.errors.NotFound, match="No such container: py1"):
        c.containers.get("py1")  # type: ignore[attr-defined]
    with pytest.raises(docker.errors.ContainerError) as err:
        c.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"], remove=True)  # type: ignore[attr-defined]
    assert err.value.exit_status == 3 and b"bad" in err.value.stderr


def test_exec_run(client: object) -> None:
    c = client  # type: ignore[assignment]
    ctr = c.containers.run("busybox", ["sleep", "1000"], detach=True)  # type: ignore[attr-defined]
    try:
        for i in range(20):  # docker-py reads beneath its buffer: no byte may share the 101's packet
            code, output = ctr.exec_run(["echo", f"x{i}"])
            assert (code, output) == (0, f"x{i}\n".encode())
        assert ctr.exec_run(["sh", "-c", "exit 4"]).exit_code == 4
    finally:
        ctr.remove(force=True)


def test_images_networks_volumes(client: object) -> None:
    c = client  # type: ignore[assignment]
    img = c.images.pull("busybox", tag="latest")  # type: ignore[attr-defined]
    assert "busybox:latest" in img.tags
    assert any("busybox:latest" in i.tags for i in c.images.list())  # type: ignore[attr-defined]
    assert c.images.get("busybox").id == img.id  # type: ignore[attr-defined]
    img.tag("pytag/bb", "v1")
    c.images.remove("pytag/bb:v1")  # type: ignore[attr-defined]
    with pytest.raises(docker.errors.ImageNotFound):
        c.images.get("pytag/bb:v1")  # type: ignore[attr-defined]
    net = c.networks.create("pynet", driver="bridge")  # type: ignore[attr-defined]
    assert "pynet" in [n.name for n in c.networks.list()]  # type: ignore[attr-defined]
    net.remove()
    vol = c.volumes.create("pyvol")  # type: ignore[attr-defined]
    assert "pyvol" in [v.name for v in c.volumes.list()]  # type: ignore[attr-defined]
    vol.remove()
    assert "pyvol" not in [v.name for v in c.volumes.list()]  # type: ignore[attr-defined]


def test_image_not_found_pulls_and_retries(client: object) -> None:
    c = client  # type: ignore[assignment]
    out = c.containers.run("alpine", ["echo", "pulled"], remove=True)  # type: ignore[attr-defined]
    assert out == b"pulled\n"
