"""Turning dated sessions into the planned sessions staff see: times, notes, sequence.

R-PT-BEFORE: on a day with physical therapy the massage ends when it starts
(PT 10:30, 12 minutes -> 10:18); the earliest appointment of the day counts. Otherwise the
preferred wall-clock time, if any, else no fixed time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
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
        wall_clock = calendar.local_wall_clock(therapy) - timedelta(minutes=session.duration_min)
        return calendar.from_wall_clock(wall_clock)
    if preferred_time is not None:
        return calendar.at(session.on, preferred_time)
    return None
