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

from datetime import UTC, datetime, time, timedelta
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
    return tuple(
        PlannedSession(
            session.session_id,
            completed + index + 1,
            session.on,
            _starts_at(session, preferred_time, physical_therapy, calendar),
            session.duration_min,
            notes,
            sequence,
        )
        for index, session in enumerate(dated)
    )


def physical_therapy_on(
    session: DatedSession, physical_therapy: Sequence[PhysicalTherapy], calendar: ClinicCalendar
) -> datetime | None:
    starts = [
        pt.starts_at for pt in physical_therapy if calendar.local_date(pt.starts_at) == session.on
    ]
    return min(starts, default=None)


def _starts_at(
    session: DatedSession,
    preferred_time: time | None,
    physical_therapy: Sequence[PhysicalTherapy],
    calendar: ClinicCalendar,
) -> datetime | None:
    therapy = physical_therapy_on(session, physical_therapy, calendar)
    if therapy is not None:
        # Python subtracts on the wall clock within one zone; UTC counts elapsed time.
        elapsed = therapy.astimezone(UTC) - timedelta(minutes=session.duration_min)
        starts_at = elapsed.astimezone(calendar.zone)
        return starts_at if calendar.local_date(starts_at) == session.on else None
    if preferred_time is not None:
        return calendar.at(session.on, preferred_time)
    return None
