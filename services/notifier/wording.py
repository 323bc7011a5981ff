"""Small phrases shared by the summaries: dates, spans and capped lists."""

from collections.abc import Sequence
from datetime import date

from schemas.schedule import PlannedSession
from services.notifier.notice import MAX_SUMMARY, one_line

LISTED_AT_MOST = 6


def with_rules(text: str, rules: Sequence[str]) -> str:
    """The rule IDs close every summary and survive the cut to one line."""
    tail = f" ({', '.join(rules)})" if rules else ""
    return one_line(text, MAX_SUMMARY - len(tail)) + tail


def listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:LISTED_AT_MOST])
    rest = len(items) - LISTED_AT_MOST
    return f"{shown} and {rest} more" if rest > 0 else shown


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def span(sessions: Sequence[PlannedSession]) -> str:
    """`3 sessions 2026-03-02..2026-03-06` or `no sessions planned`."""
    if not sessions:
        return "no sessions planned"
    days = sorted(s.on for s in sessions)
    return f"{plural(len(sessions), 'session')} {_range(days[0], days[-1])}"


def _range(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def merged_rules(*groups: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(str(rule) for rule in group))
    return tuple(seen)
