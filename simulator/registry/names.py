"""Repository names and tags as the distribution grammar defines them.

A repository name becomes a directory path in the store, so it is validated
before anything else happens: lower-case components separated by ``/``, each
made of ``[a-z0-9]`` runs joined by ``.``, ``_``, ``__`` or dashes. ``..``,
empty components, upper case and anything longer than 255 characters are
refused with NAME_INVALID.
"""

from __future__ import annotations

import re

from simulator.registry import errors

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
NAME_MAX = 255


def is_repository_name(name: str) -> bool:
    """Whether ``name`` is a valid repository name (``library/busybox``)."""
    return len(name) <= NAME_MAX and bool(_NAME.match(name))


def check_repository_name(name: str) -> str:
    """Return ``name`` if valid.

    Raises:
        RegistryError: NAME_INVALID with the name as detail.
    """
    if not is_repository_name(name):
        raise errors.RegistryError(errors.NAME_INVALID, {"name": name})
    return name


def is_tag(tag: str) -> bool:
    """Whether ``tag`` is a valid tag (``latest``, ``1.36.1-musl``)."""
    return bool(_TAG.match(tag))


def check_tag(tag: str) -> str:
    """Return ``tag`` if valid.

    Raises:
        RegistryError: TAG_INVALID with the tag as detail.
    """
    if not is_tag(tag):
        raise errors.RegistryError(errors.TAG_INVALID, {"tag": tag}, message="invalid tag")
    return tag
