"""`courseflow patient`: each planned session with its therapist and local time where placed."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from services.ops.patient import course_lines
from services.planner.outputs import CourseStatus, PlannedSession
from services.planner.state import PatientState, Placed, PublishedCourse

MONDAY = date(2026, 3, 2)
BERLIN = ZoneInfo("Europe/Berlin")


def planned(number: int, on: date, starts_at: datetime | None = None) -> PlannedSession:
    return PlannedSession(f"C1-s{number:02d}", number, on, starts_at, 6 + number, (), ())


def test_placed_sessions_show_their_day_time_and_therapist() -> None:
    sessions = (planned(1, MONDAY), planned(2, date(2026, 3, 4)), planned(3, date(2026, 3, 6)))
    course = PublishedCourse("C1", 1, CourseStatus.PENDING, sessions, 0)
    placements = (
        Placed("C1", "C1-s01", MONDAY, "T1", MONDAY, 9 * 60, 9 * 60 + 7),
        # R-CAPACITY: nobody was free on the 4th, so the session is given on the 5th
        Placed("C1", "C1-s02", date(2026, 3, 4), "T2", date(2026, 3, 5), 8 * 60, 8 * 60 + 8),
    )
    lines = course_lines(PatientState(published=(course,), placements=placements))
    assert lines == [
        "course C1 (v1): pending, 0 done, 3 planned",
        "  #1  2026-03-02 09:00-09:07  7 min therapist T1",
        "  #2  2026-03-05 08:00-08:08  8 min therapist T2",
        "  #3  2026-03-06 --:--        9 min",
    ]


def test_without_a_roster_a_session_keeps_its_date_and_any_fixed_time() -> None:
    fixed = datetime.combine(MONDAY, time(10, 18), tzinfo=BERLIN)  # R-PT-BEFORE
    course = PublishedCourse("C1", 2, CourseStatus.ACTIVE, (planned(1, MONDAY, fixed),), 4)
    assert course_lines(PatientState(published=(course,))) == [
        "course C1 (v2): active, 4 done, 1 planned",
        "  #1  2026-03-02 10:18        7 min",
    ]
