"""When a failed delivery is tried again: exponential backoff with a cap, and a last attempt."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay_s: float = 2.0
    max_delay_s: float = 600.0

    def delay_after(self, attempts: int) -> float | None:
        """Seconds to wait after `attempts` failed tries, or None when they are used up."""
        if attempts >= self.max_attempts:
            return None
        return float(min(self.first_delay_s * 2 ** (attempts - 1), self.max_delay_s))

    def schedule(self) -> list[float]:
        """Every wait between tries, for documentation and tests."""
        delays = (self.delay_after(n) for n in range(1, self.max_attempts))
        return [d for d in delays if d is not None]
