"""Coalescing: within the window, a newer notice of one family carries the earlier ones.

With a window W > 0 a delivery becomes due W after its notice is composed. A notice arriving
while an earlier one of the same patient, recipient and family (kinds.family) still waits
takes over: the waiting ones are marked merged into it, it keeps the earliest due time (so
nothing waits longer than W), and its summary says what it replaces. Plan changes restate
the whole current plan, so the newest one is accurate; the merged notices are published as
notice.issued with the outcome of the delivery that carried them.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from services.notifier.wording import listed, with_rules


def due_at(now: datetime, window_s: float) -> datetime:
    return now + timedelta(seconds=window_s)


def merged_summary(
    summary: str, own_rules: Sequence[str], earlier_kinds: Sequence[str], rules: Sequence[str]
) -> str:
    """`summary` ends with its own rules; the note and all the merged rules replace them."""
    text = summary.removesuffix(f" ({', '.join(own_rules)})") if own_rules else summary
    note = f"; replaces {len(earlier_kinds)} earlier notice(s): {listed(list(earlier_kinds))}"
    return with_rules(text + note, rules)
