"""Turning dated sessions into the planned sessions staff see: times, notes, sequence.

R-PT-BEFORE: on a day with physical therapy the massage ends when it starts
(PT 10:30, 12 minutes -> 10:18); the earliest appointment of the day counts. Otherwise the
preferred wall-clock time, if any, else no fixed time.

The massage start is the physical therapy's instant minus the duration, counted in
elapsed time, not on the wall clock: across a daylight-saving change (a start inside the
spring gap, or in the autumn fold) the massage still ends exactly when the therapy starts.
When it would have to begin on the previous local day (therapy at 00:05, 12 minutes), the
session keeps its own day and gets no fixed time (`starts_at` null), not even the preferred
one: no start that day ends by the time the therapy starts, a later one would follow the
therapy, and the previous day may be closed. R-PT-BEFORE stays among the course's rules, so
staff see why no time is given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from services.planner.notes import Profile, session_notes, session_sequence
from services.planner.outputs import PlannedSession

if TYPE_CHECKING:
    from collections.abc import Sequence

    from services.planner.calendar import ClinicCalendar
    from services.planner.plan import DatedSession
    from services.planner.state import PhysicalTherapy


def planned_sessions(  # noqa: PLR0913
    dated: Sequence[DatedSession],
    *,
    completed: int,
    preferred_time: time | None,
    profile: Profile,
    physical_therapy: Sequence[PhysicalTherapy],
    calendar: ClinicCalendar,
) -> tuple[PlannedSession, ...]:
    notes = session_notes(profile)
    sequence = session_sequence(profile)
    therapy = physical_therapy_by_day(physical_therapy, calendar)
    return tuple(
        PlannedSession(
            session.session_id,
            completed + index + 1,
            session.on,
            _starts_at(session, preferred_time, therapy.get(session.on), calendar),
            session.duration_min,
            notes,
            sequence,
        )
        for index, session in enumerate(dated)
    )


def physical_therapy_by_day(
    physical_therapy: Sequence[PhysicalTherapy], calendar: ClinicCalendar
) -> dict[date, datetime]:
    """The earliest physical therapy of each clinic day: the one a massage must end by."""
    earliest: dict[date, datetime] = {}
    for pt in physical_therapy:
        day = calendar.local_date(pt.starts_at)
        if day not in earliest or pt.starts_at < earliest[day]:
            earliest[day] = pt.starts_at
    return earliest


def _starts_at(
    session: DatedSession,
    preferred_time: time | None,
    therapy: datetime | None,
    calendar: ClinicCalendar,
) -> datetime | None:
    if therapy is not None:
        # Python subtracts on the wall clock within one zone; UTC counts elapsed time.
        elapsed = therapy.astimezone(UTC) - timedelta(minutes=session.duration_min)
        starts_at = elapsed.astimezone(calendar.zone)
        return starts_at if calendar.local_date(starts_at) == session.on else None
    if preferred_time is not None:
        return _wall_clock(calendar, session.on, preferred_time)
    return None


@lru_cache(maxsize=8192)
def _wall_clock(calendar: ClinicCalendar, day: date, wall_clock: time) -> datetime:
    """Kept: every plan of every patient asks for the same few days and times again."""
    return calendar.at(day, wall_clock)
