"""Where the project's shared test data lives: ``shared/vectors`` beside the checkout.

CI clones the repository with ``shared/`` next to it; a developer's checkout has it
at the same place. ``CSIM_SHARED`` overrides. A missing directory is an error, never
a skip: the vector suites must run.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    candidates = [Path(os.environ["CSIM_SHARED"])] if os.environ.get("CSIM_SHARED") else []
    candidates += [_REPO.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "vectors").is_dir():
            return candidate
    raise FileNotFoundError(f"no shared/vectors beside the checkout (looked in {', '.join(map(str, candidates))})")


VECTORS = shared_dir() / "vectors"
