"""When a delivery is tried again: exponential backoff with a cap, and a last attempt.

An attempt is counted before it is sent and its row leased until the lease ends, so a worker
that dies between sending and recording leaves a row that is tried again only then.
"""

from dataclasses import dataclass


def doubling(step: int, first_s: float, max_s: float) -> float:
    """`first_s`, twice that, four times... for step 1, 2, 3..., never more than `max_s`."""
    return float(min(first_s * 2 ** (step - 1), max_s))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay_s: float = 2.0
    max_delay_s: float = 600.0

    def delay_after(self, attempts: int) -> float | None:
        """Seconds to wait after `attempts` failed tries, or None when they are used up."""
        if attempts >= self.max_attempts:
            return None
        return doubling(attempts, self.first_delay_s, self.max_delay_s)

    def lease_after(self, attempts: int, send_timeout_s: float) -> float:
        """How long attempt number `attempts` holds its row: its backoff, and never less than
        twice the longest a send may take, so that no replica claims a notice still being
        sent, nor before its outcome could be recorded."""
        backoff = doubling(attempts, self.first_delay_s, self.max_delay_s)
        return max(backoff, 2 * send_timeout_s)

    def schedule(self) -> list[float]:
        """Every wait between tries, for documentation and tests."""
        delays = (self.delay_after(n) for n in range(1, self.max_attempts))
        return [d for d in delays if d is not None]
