"""Coalescing: within the window, a newer notice of one family carries the earlier ones.

With a window W > 0 a delivery becomes due W after its notice is composed. A notice arriving
while an earlier one of the same patient, recipient and family (kinds.family) still waits
takes over: the waiting ones are marked merged into it, it keeps the earliest due time (so
nothing waits longer than W), and its summary says what it replaces. Plan changes restate
the whole current plan, so the newest one is accurate; the merged notices are published as
notice.issued with the outcome of the delivery that carried them. Kinds that are not
`kinds.mergeable` (a therapist's notice) are queued as they are: they take nothing over and
nothing takes them over.

Only notices never attempted wait: an attempt is committed before its send (worker.py), so a
notice that may have reached the recipient under its own id is never carried again under
another.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.notifier.wording import listed, merged_rules, with_rules

Group = tuple[str, str, str]  # patient, recipient, family: the notices one may carry


def due_at(now: datetime, window_s: float) -> datetime:
    return now + timedelta(seconds=window_s)


def merged_summary(
    summary: str, own_rules: Sequence[str], earlier_kinds: Sequence[str], rules: Sequence[str]
) -> str:
    """`summary` ends with its own rules; the note and all the merged rules replace them."""
    text = summary.removesuffix(f" ({', '.join(own_rules)})") if own_rules else summary
    note = f"; replaces {len(earlier_kinds)} earlier notice(s): {listed(list(earlier_kinds))}"
    return with_rules(text + note, rules)


@dataclass(frozen=True, slots=True)
class Queued:
    """A notice in the delivery queue, as far as coalescing reads and changes it."""

    notice_id: str
    group: Group
    kind: str
    due_at: datetime
    rules: tuple[str, ...]
    summary: str
    merged_kinds: tuple[str, ...] = ()


@dataclass
class Coalesced:
    """A batch's new notices once coalesced: each as it is to be queued, and the carrier of
    every notice merged (new or already waiting) into one of them."""

    queued: list[Queued] = field(default_factory=list)
    carrier: dict[str, str] = field(default_factory=dict)


def coalesce(new: Sequence[Queued], waiting: Sequence[Queued]) -> Coalesced:
    """The new notices, in order, as if queued one at a time: each takes over what waits in
    its group (`waiting`: the queued ones never attempted, oldest first; then the new ones
    before it), so the last of a group carries all of them."""
    waits: dict[Group, list[Queued]] = {}
    for notice in waiting:
        waits.setdefault(notice.group, []).append(notice)
    result = Coalesced()
    for notice in new:
        earlier = waits.get(notice.group, [])
        carrier = _taking_over(notice, earlier) if earlier else notice
        for merged in earlier:
            result.carrier[merged.notice_id] = carrier.notice_id
        waits[notice.group] = [carrier]
        result.queued.append(carrier)
    result.carrier = {merged: _last(result.carrier, merged) for merged in result.carrier}
    return result


def _taking_over(notice: Queued, earlier: Sequence[Queued]) -> Queued:
    kinds = tuple(kind for queued in earlier for kind in (*queued.merged_kinds, queued.kind))
    rules = merged_rules(notice.rules, *(queued.rules for queued in earlier))
    summary = merged_summary(notice.summary, notice.rules, kinds, rules)
    return Queued(notice.notice_id, notice.group, notice.kind,
                  min(queued.due_at for queued in earlier), rules, summary, kinds)  # fmt: skip


def _last(carrier: dict[str, str], notice_id: str) -> str:
    """The notice that carries `notice_id` in the end (a carrier may be taken over later)."""
    while notice_id in carrier:
        notice_id = carrier[notice_id]
    return notice_id
