"""How big a fault run is: short inside `make test`, long with COURSEFLOW_FAULTS=long."""

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    patients: int
    shuffled_share: float  # of patients whose clinical facts arrive in a shuffled order
    # The clinic stream is spread over this long; the faults themselves take about as long
    # (a replica's group settles only after its session times out), so they land inside it.
    feed_seconds: float
    rounds: int  # faulted runs compared with the one baseline
    random_faults: int  # faults drawn at random on top of one of each kind
    timeout_s: int  # pytest-timeout of one test (infrastructure start included)
    rostered_clinics: int  # besides the one without a roster; patients are spread evenly


SHORT = Size("short", patients=60, shuffled_share=0.25, feed_seconds=80, rounds=1,
             random_faults=0, timeout_s=600, rostered_clinics=1)  # fmt: skip
LONG = Size("long", patients=200, shuffled_share=0.25, feed_seconds=150, rounds=2,
            random_faults=5, timeout_s=1200, rostered_clinics=2)  # fmt: skip


def chosen() -> Size:
    return LONG if os.environ.get("COURSEFLOW_FAULTS", "").lower() == "long" else SHORT
