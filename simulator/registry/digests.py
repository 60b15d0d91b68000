"""Content digests: parse them strictly and compute them incrementally.

Everything in a registry is addressed by ``algorithm:hex``. A digest is
checked against its grammar before it touches a path on disk (so a crafted
digest can never name a file outside the store), and content is hashed while
it streams, never after loading it whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from simulator.model.digest import validate_digest
from simulator.model.errors import InvalidParameter
from simulator.registry import errors

# Algorithms a registry accepts (go-digest's set); validation and its error words come from model.
ALGORITHMS = ("sha256", "sha384", "sha512")
READ_CHUNK = 1 << 20


def parse_digest(value: str) -> tuple[str, str]:
    """Split and validate a digest.

    Args:
        value: text such as ``sha256:2cf2...``.

    Returns:
        ``(algorithm, hex)``.

    Raises:
        RegistryError: DIGEST_INVALID (detail: the digest) with go-digest's
            words (``invalid checksum digest format``, ``... length``,
            ``unsupported digest algorithm``).
    """
    try:
        validate_digest(value)
    except InvalidParameter as exc:
        raise errors.RegistryError(errors.DIGEST_INVALID, value, message=exc.message) from None
    algorithm, _, encoded = value.partition(":")
    return algorithm, encoded


def is_digest(value: str) -> bool:
    """Whether ``value`` parses as a supported digest."""
    try:
        parse_digest(value)
    except errors.RegistryError:
        return False
    return True


def digest_bytes(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of an in-memory byte string (manifests, small configs)."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def digest_chunks(chunks: Iterable[bytes], algorithm: str = "sha256") -> str:
    """The digest of a stream of chunks."""
    hasher = hashlib.new(algorithm)
    for chunk in chunks:
        hasher.update(chunk)
    return f"{algorithm}:{hasher.hexdigest()}"


def digest_file(path: Path, algorithm: str = "sha256") -> str:
    """The digest of a file, read in bounded chunks."""
    hasher = hashlib.new(algorithm)
    with path.open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            hasher.update(chunk)
    return f"{algorithm}:{hasher.hexdigest()}"
