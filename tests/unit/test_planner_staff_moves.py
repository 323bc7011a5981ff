"""How a staff change moves a placed session (R-THERAPIST-ABSENT: another therapist at the
same time first), and what a session waiting for capacity shows (R-CAPACITY: no therapist,
no time)."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.planner.booking_rows import session_key
from services.planner.capacity.bookings import Booking, Bookings, Owner
from services.planner.capacity.clock import minute_of_day
from services.planner.outputs import PlannedSession, Rescheduled
from services.planner.state import PatientState
from tests.clinic_events import ClinicFeed
from tests.staff_events import StaffFeed
from tests.unit.test_planner_decider import D, planner
from tests.unit.test_planner_shortage import (
    LAST_DAY,
    booked,
    clinic,
    decided_by,
    leaving,
    unstaffed,
)
from tests.unit.test_planner_staffing import SIX_DAYS, context, course_events, fed

NORTH = StaffFeed("north")
WEEK_BEFORE = D - timedelta(days=7)
# Another patient's session with T1 at 10:00 on D: a course preferring 10:00 gets 09:48.
OTHERS = Booking("T1", D, 600, 607, Owner("P-X", "CX", session_key("P-X", "CX-s01")))


def at_ten(feed: ClinicFeed, course_id: str = "C1") -> Any:
    data = {"course_id": course_id, "sessions": 15, "cadence": "every_other_day",
            "start_on": D.isoformat(), "preferred_time": "10:00"}  # fmt: skip
    return feed.event("clinic.course.prescribed", D, data)


def local_start(session: PlannedSession) -> tuple[date, int] | None:
    if session.starts_at is None:
        return None
    local: datetime = session.starts_at.astimezone(ZoneInfo(planner().calendar.time_zone))
    return local.date(), minute_of_day(local.time())


def test_an_absence_moves_a_session_to_another_therapist_at_the_same_time_first() -> None:
    only_t1 = clinic(NORTH.rostered("T1", WEEK_BEFORE, SIX_DAYS), bookings=Bookings.of([OTHERS]))
    decider, feed, ctx = planner(), ClinicFeed(), context(only_t1)
    enrolled = fed(decider, PatientState(), feed.enrolled(D), ctx)
    result = fed(decider, enrolled.state, at_ten(feed), ctx)
    (scheduled,) = course_events(result)
    first = scheduled.sessions[0]
    assert (first.therapist_id, local_start(first)) == ("T1", (D, 9 * 60 + 48))
    absent = clinic(
        NORTH.rostered("T1", WEEK_BEFORE, SIX_DAYS), NORTH.rostered("T2", WEEK_BEFORE, SIX_DAYS),
        NORTH.absent("T1", D, D), bookings=Bookings.of([OTHERS, *booked(result)]),
    )  # fmt: skip
    _, outputs = decided_by(decider, result.state, unstaffed("P-1", ("C1",)), context(absent))
    (rescheduled,) = [o for o in outputs if isinstance(o, Rescheduled)]
    moved = rescheduled.sessions[0]
    assert (moved.therapist_id, local_start(moved)) == ("T2", (D, 9 * 60 + 48))
    assert [c.session_id for c in rescheduled.changes] == [first.session_id]


def test_a_session_waiting_for_capacity_shows_neither_therapist_nor_time() -> None:
    decider, feed, ctx = planner(), ClinicFeed(), context(leaving())
    enrolled = fed(decider, PatientState(), feed.enrolled(D), ctx)
    (scheduled,) = course_events(fed(decider, enrolled.state, at_ten(feed), ctx))
    waiting = [s for s in scheduled.sessions if s.on > LAST_DAY]
    assert waiting
    assert scheduled.capacity_shortage_on == tuple(s.on for s in waiting)
    assert all(s.therapist_id is None and s.starts_at is None for s in waiting)
    placed = [s for s in scheduled.sessions if s.on <= LAST_DAY]
    assert all(local_start(s) == (s.on, 600) for s in placed)  # the preferred 10:00
