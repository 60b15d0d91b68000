"""Pull throughput: the csim registry against Debian's docker-registry.

Generates an image (5 random layers, 100 MB in total by default), pushes it
with ``RegistryClient`` to a csim registry and to ``docker-registry``
(distribution 2.8), both started on loopback in this run, then pulls it back
from each with the same client (3 layers in parallel, as the daemon pulls)
and prints the throughput of each and their ratio. Target: csim >= 0.8x.

Usage: python bench/registry_pull.py [--mb 100] [--layers 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.registry import manifests
from simulator.registry.client import RegistryClient

REPO = "bench/image"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            RegistryClient(url, timeout=2).ping()
            return
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"registry at {url} did not start") from None
            time.sleep(0.05)


def start_csim(work: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    code = (
        "import sys; from pathlib import Path;"
        "from simulator.registry.server import run_registry;"
        "sys.exit(run_registry(sys.argv[1], Path(sys.argv[2])))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, f"127.0.0.1:{port}", str(work / "csim")],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc)
    return url, proc


def start_distribution(work: Path) -> tuple[str, subprocess.Popen[bytes]]:
    binary = shutil.which("docker-registry")
    if binary is None:
        raise SystemExit("docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    config = work / "distribution.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {work / 'distribution'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc)
    return url, proc


def make_image(work: Path, total_mb: int, layers: int) -> tuple[bytes, list[tuple[str, Path]]]:
    """Random (incompressible) layers on disk and a Docker schema-2 manifest."""
    size = total_mb * 1024 * 1024 // layers
    blobs: list[tuple[str, Path]] = []
    for i in range(layers):
        path = work / f"layer{i}"
        hasher = hashlib.sha256()
        with path.open("wb") as f:
            left = size
            while left:
                chunk = os.urandom(min(left, 1 << 20))
                f.write(chunk)
                hasher.update(chunk)
                left -= len(chunk)
        blobs.append((f"sha256:{hasher.hexdigest()}", path))
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_path = work / "config"
    config_path.write_bytes(config)
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": manifests.DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": digest,
                    "size": path.stat().st_size,
                }
                for digest, path in blobs
            ],
        }
    ).encode()
    return manifest, [(config_digest, config_path), *blobs]


def push(url: str, manifest: bytes, blobs: list[tuple[str, Path]]) -> float:
    client = RegistryClient(url)
    start = time.perf_counter()
    for digest, path in blobs:
        client.push_blob(REPO, digest, path)
    client.put_manifest(REPO, "1", manifest, manifests.DOCKER_MANIFEST)
    return time.perf_counter() - start


def pull(url: str, dest: Path) -> tuple[float, int]:
    """Pull the whole image (manifest, config, layers 3 at a time); returns (seconds, bytes)."""
    client = RegistryClient(url)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    start = time.perf_counter()
    body, _, _ = client.get_manifest(REPO, "1")
    doc = json.loads(body)
    descriptors = [doc["config"], *doc["layers"]]

    def fetch(desc: dict[str, object]) -> int:
        digest = str(desc["digest"])
        return client.get_blob(REPO, digest, dest / digest.replace(":", "_"))

    with ThreadPoolExecutor(max_workers=3) as pool:
        total = sum(pool.map(fetch, descriptors))
    return time.perf_counter() - start, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="total layer size in MB")
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="pulls per registry (median)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="csim-bench-") as tmp:
        work = Path(tmp)
        manifest, blobs = make_image(work, args.mb, args.layers)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            csim_url, proc = start_csim(work)
            procs.append(proc)
            dist_url, proc = start_distribution(work)
            procs.append(proc)
            results: dict[str, float] = {}
            for name, url in (("docker-registry", dist_url), ("csim registry", csim_url)):
                pushed = push(url, manifest, blobs)
                times = []
                size = 0
                for _ in range(args.rounds):
                    seconds, size = pull(url, work / "pulled")
                    times.append(seconds)
                median = statistics.median(times)
                results[name] = size / median / 1e6
                print(
                    f"{name:16} push {pushed:6.2f}s  pull median {median:6.3f}s "
                    f"({size / 1e6:.0f} MB, {results[name]:7.1f} MB/s, "
                    f"best {size / min(times) / 1e6:7.1f} MB/s)"
                )
            ratio = results["csim registry"] / results["docker-registry"]
            verdict = "ok" if ratio >= 0.8 else "BELOW TARGET"
            print(f"ratio csim / docker-registry: {ratio:.2f}x (target >= 0.80x: {verdict})")
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
