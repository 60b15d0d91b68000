"""Restart policies and the restart manager's back-off (moby ``restartmanager``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from simulator.model.errors import InvalidParameter

BACKOFF_START = 0.1
BACKOFF_MAX = 60.0
RESET_AFTER = 10.0

POLICY_NAMES = ("no", "always", "unless-stopped", "on-failure")


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """``HostConfig.RestartPolicy``: Name ("" means no) and MaximumRetryCount."""

    name: str = "no"
    maximum_retry_count: int = 0

    @classmethod
    def parse(cls, text: str) -> RestartPolicy:
        """Parse the CLI's ``--restart`` value (``on-failure:3``)."""
        name, _, count = text.partition(":")
        if not count:
            return cls.validated(name or "no", 0)
        try:
            retries = int(count)
        except ValueError:
            raise InvalidParameter(f"invalid restart policy format: {text}") from None
        return cls.validated(name, retries)

    @classmethod
    def validated(cls, name: str, retries: int) -> RestartPolicy:
        """Validate as the daemon does and return the policy."""
        return _validated(name or "no", retries)

    def should_restart(
        self,
        exit_code: int,
        restart_count: int,
        manually_stopped: bool,
        has_been_manually_stopped: bool,
    ) -> bool:
        """Whether the restart manager restarts after an exit."""
        if manually_stopped:
            return False
        if self.name == "always":
            return True
        if self.name == "unless-stopped":
            return not has_been_manually_stopped
        if self.name == "on-failure":
            if exit_code == 0:
                return False
            return self.maximum_retry_count == 0 or restart_count < self.maximum_retry_count
        return False


# Every container create and every container exit validates its policy; policies are
# immutable and few, so valid ones are made once (errors are not cached: they raise).
@lru_cache(maxsize=64)
def _validated(name: str, retries: int) -> RestartPolicy:
    if name not in POLICY_NAMES:
        raise InvalidParameter(
            f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
            "'on-failure', or 'unless-stopped'"
        )
    if retries and name != "on-failure":
        raise InvalidParameter("invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if retries < 0:
        raise InvalidParameter("invalid restart policy: maximum retry count cannot be negative")
    return RestartPolicy(name, retries)


def next_backoff(previous: float, ran_for: float) -> float:
    """The delay before the next restart: 100 ms doubling to 1 min, reset after a 10 s run."""
    if ran_for >= RESET_AFTER or previous <= 0:
        return BACKOFF_START
    return min(previous * 2, BACKOFF_MAX)
