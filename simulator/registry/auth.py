"""HTTP basic authentication from an htpasswd-style user list.

distribution's ``htpasswd`` realm wants bcrypt; an educational registry on
loopback does not, so each line is ``user:secret`` where the secret is
``{SHA256}<hex>`` (what ``hash_password`` writes), ``{SHA}<base64>`` (Apache's
``htpasswd -s``) or a plain password. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path

REALM = "csim-registry"


def hash_password(password: str) -> str:
    """The ``{SHA256}`` form of a password, for a users file."""
    return "{SHA256}" + hashlib.sha256(password.encode()).hexdigest()


def parse_htpasswd(text: str) -> dict[str, str]:
    """Parse ``user:secret`` lines (blank lines and ``#`` comments skipped).

    Raises:
        ValueError: a line without a colon or with an empty user name.
    """
    users: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, secret = line.partition(":")
        if not sep or not user:
            raise ValueError(f"users file line {number}: expected user:password")
        users[user] = secret
    return users


def load_htpasswd(path: Path) -> dict[str, str]:
    """Read a users file (see ``parse_htpasswd``)."""
    return parse_htpasswd(path.read_text())


def password_matches(secret: str, password: str) -> bool:
    """Whether ``password`` matches a stored secret in any supported form."""
    if secret.startswith("{SHA256}"):
        candidate = hashlib.sha256(password.encode()).hexdigest()
        return hmac.compare_digest(candidate, secret[len("{SHA256}") :].lower())
    if secret.startswith("{SHA}"):
        candidate = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
        return hmac.compare_digest(candidate, secret[len("{SHA}") :])
    return hmac.compare_digest(secret.encode(), password.encode())


def check_authorization(header: str | None, users: Mapping[str, str]) -> str | None:
    """The authenticated user for an ``Authorization`` header, or None.

    Args:
        header: the raw header value (``Basic dXNlcjpwYXNz``).
        users: user name to stored secret.
    """
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    secret = users.get(user)
    if not sep or secret is None or not password_matches(secret, password):
        return None
    return user
