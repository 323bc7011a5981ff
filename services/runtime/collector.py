"""Python's cyclic garbage collector, set for a service that folds batches of events.

A batch builds and drops hundreds of thousands of small objects (events, commands, states,
a placement's bookings), almost all freed by reference counting at once; the collector's
young generation, collected every 700 allocations by default, kept walking them. Collected
every `young_threshold` allocations instead (the older generations every 20 collections of
the one below), and with the objects of start-up (modules, settings, the runtime) frozen
out of every collection, the services spend about a tenth less CPU per event
(docs/performance.md, "Capacity: rosters"). Cyclic garbage is still collected, later.
"""

import gc

OLDER_EVERY = 20  # collections of the generation below


def collect_less(young_threshold: int) -> None:
    """Before the service's own objects are built."""
    gc.set_threshold(young_threshold, OLDER_EVERY, OLDER_EVERY)


def freeze_start_up() -> None:
    """Once the service is built, before it serves: what exists now lives as long as it."""
    gc.collect()
    gc.freeze()
