"""Content digests and image IDs.

Everything in an image store is addressed by what it contains: a blob's name is
``sha256:`` followed by the hex SHA-256 of its bytes, and an image's ID is the
digest of its config. This module makes and checks those names with the same
rules (and error words) as the ``go-digest`` library dockerd uses, and shortens
IDs the way ``docker images`` prints them.
"""

from __future__ import annotations

import hashlib
import re

from simulator.model.errors import InvalidParameter

SHA256 = "sha256"
"""The only algorithm Docker creates digests with."""

# go-digest: algorithm -> hex length of the encoded part.
_ALGORITHM_HEX_LENGTH: dict[str, int] = {"sha256": 64, "sha384": 96, "sha512": 128}

# go-digest DigestRegexpAnchored: any algorithm, any encoding.
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_HEX_RE = re.compile(r"^[a-f0-9]+$")
_FULL_ID_RE = re.compile(r"^[a-f0-9]{64}$")

SHORT_ID_LENGTH = 12
"""How many hex characters ``docker ps`` and ``docker images`` print."""

ERR_DIGEST_INVALID_FORMAT = "invalid checksum digest format"
ERR_DIGEST_INVALID_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 of ``data`` (no algorithm prefix)."""
    return hashlib.sha256(data).hexdigest()


def sha256_digest(data: bytes) -> str:
    """Return the digest of ``data`` as ``sha256:<64 hex>``.

    Args:
        data: the exact bytes of a blob, config or manifest.

    Returns:
        The content address, e.g. ``sha256:e3b0c442...b855`` for ``b""``.
    """
    return f"{SHA256}:{sha256_hex(data)}"


def validate_digest(digest: str) -> str:
    """Check a digest string with go-digest's rules and return it unchanged.

    Args:
        digest: a string such as ``sha256:<64 hex>``.

    Returns:
        ``digest``, so the call can be used inline.

    Raises:
        InvalidParameter: ``invalid checksum digest format`` when there is no
            ``algorithm:encoded`` shape or the hex is malformed,
            ``invalid checksum digest length`` when the hex has the wrong
            length for its algorithm, ``unsupported digest algorithm`` for a
            well-formed digest of an algorithm other than sha256/384/512.
    """
    sep = digest.find(":")
    if sep <= 0 or sep + 1 == len(digest):
        raise InvalidParameter(ERR_DIGEST_INVALID_FORMAT)
    algorithm, encoded = digest[:sep], digest[sep + 1 :]
    length = _ALGORITHM_HEX_LENGTH.get(algorithm)
    if length is None:
        if not _DIGEST_RE.match(digest):
            raise InvalidParameter(ERR_DIGEST_INVALID_FORMAT)
        raise InvalidParameter(ERR_DIGEST_UNSUPPORTED)
    if len(encoded) != length:
        raise InvalidParameter(ERR_DIGEST_INVALID_LENGTH)
    if not _HEX_RE.match(encoded):
        raise InvalidParameter(ERR_DIGEST_INVALID_FORMAT)
    return digest


def is_valid_digest(digest: str) -> bool:
    """Return True when :func:`validate_digest` would accept ``digest``."""
    try:
        validate_digest(digest)
    except InvalidParameter:
        return False
    return True


def digest_algorithm(digest: str) -> str:
    """Return the algorithm part of a valid digest (``sha256``)."""
    return validate_digest(digest).split(":", 1)[0]


def digest_hex(digest: str) -> str:
    """Return the encoded (hex) part of a valid digest."""
    return validate_digest(digest).split(":", 1)[1]


def verify_digest(data: bytes, digest: str) -> bool:
    """Return True when ``data`` hashes to ``digest`` (which must be valid sha256).

    Raises:
        InvalidParameter: when ``digest`` is malformed, or names an algorithm
            other than sha256 (Docker only ever writes sha256).
    """
    if digest_algorithm(digest) != SHA256:
        raise InvalidParameter(ERR_DIGEST_UNSUPPORTED)
    return sha256_digest(data) == digest


def short_id(digest_or_id: str) -> str:
    """Return the 12-character form Docker prints for an ID or digest.

    Accepts ``sha256:<hex>`` or a bare hex ID (full or already short); the
    algorithm prefix is dropped, as ``docker images`` does.

    Examples:
        >>> short_id("sha256:" + "ab" * 32)
        'abababababab'
    """
    _, _, encoded = digest_or_id.rpartition(":")
    return encoded[:SHORT_ID_LENGTH]


def is_full_id(value: str) -> bool:
    """Return True for a full 64-hex image/container ID.

    Both the bare form (``<64 hex>``, how container IDs are written) and the
    ``sha256:<64 hex>`` form (how image IDs are written) count; anything
    shorter is a prefix that must be looked up.
    """
    if value.startswith(f"{SHA256}:"):
        value = value[len(SHA256) + 1 :]
    return bool(_FULL_ID_RE.match(value))


def is_short_id(value: str) -> bool:
    """Return True for exactly 12 lowercase hex characters (docker's IsShortID)."""
    return len(value) == SHORT_ID_LENGTH and bool(_HEX_RE.match(value))


def full_image_id(value: str) -> str:
    """Return ``sha256:<hex>`` for a full image ID given with or without prefix.

    Raises:
        InvalidParameter: when ``value`` is not a full 64-hex ID.
    """
    if not is_full_id(value):
        raise InvalidParameter(ERR_DIGEST_INVALID_FORMAT)
    return value if value.startswith(f"{SHA256}:") else f"{SHA256}:{value}"
