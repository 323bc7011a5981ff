"""R-COURSE-BREAK with R-CADENCE: the announced earliest day of the next course is open.

DOMAIN.md: a notice that tells staff a patient may start a course names the earliest day a
course can really start; it never names a day the planner would not use. A break that ends
on a closed day (a Sunday, a holiday) ends, for the planner, on the next open day.
"""

from datetime import date

from services.planner.cadence import Cadence
from services.planner.commands import SurgeryPerformed
from services.planner.outputs import Cancelled, Completed, Scheduled
from services.runtime.months import add_months
from tests.unit.test_planner_support import BERLIN, Harness, at

SUNDAY_BREAK_START = date(2026, 10, 21)  # 15 daily sessions, the last on Fri 6 Nov
HOLIDAY_BREAK_START = date(2026, 11, 9)  # 15 daily sessions, the last on Wed 25 Nov
SUNDAY_6_DEC, MONDAY_7_DEC = date(2026, 12, 6), date(2026, 12, 7)
CHRISTMAS, MONDAY_28_DEC = date(2026, 12, 25), date(2026, 12, 28)


def _completed_from(start: date) -> tuple[Harness, Completed]:
    patient = Harness()
    patient.prescribe(start=start, cadence=Cadence.DAILY)
    patient.complete_next(15)
    completed = patient.last(Completed)
    assert isinstance(completed, Completed)
    return patient, completed


def _cancelled_after_one_session_on(day: date) -> Cancelled:
    patient = Harness()
    patient.prescribe(start=day, cadence=Cadence.DAILY)
    patient.complete_next(1)
    assert patient.course().last_session_on == day
    surgery_on = patient.plan()[0].on
    (cancelled,) = patient.feed(SurgeryPerformed("surgery", at(surgery_on, 7), surgery_on))
    assert isinstance(cancelled, Cancelled)
    return cancelled


def test_r_course_break_completion_whose_break_ends_on_a_sunday_names_the_monday() -> None:
    patient, completed = _completed_from(SUNDAY_BREAK_START)
    last = patient.course().last_session_on
    assert last is not None
    assert add_months(last, 1) == SUNDAY_6_DEC
    assert completed.next_course_earliest_on == MONDAY_7_DEC


def test_r_course_break_completion_whose_break_ends_on_a_holiday_names_the_next_open_day() -> None:
    patient, completed = _completed_from(HOLIDAY_BREAK_START)
    last = patient.course().last_session_on
    assert last is not None
    assert add_months(last, 1) == CHRISTMAS  # then a holiday Saturday and a Sunday
    assert completed.next_course_earliest_on == MONDAY_28_DEC


def test_r_course_break_cancellation_whose_break_ends_on_a_sunday_names_the_monday() -> None:
    cancelled = _cancelled_after_one_session_on(date(2026, 11, 6))
    assert cancelled.next_course_earliest_on == MONDAY_7_DEC


def test_r_course_break_cancellation_whose_break_ends_on_a_holiday_names_the_next_open_day() -> (
    None
):
    cancelled = _cancelled_after_one_session_on(date(2026, 11, 25))
    assert cancelled.next_course_earliest_on == MONDAY_28_DEC


def test_r_course_break_the_announced_day_is_the_day_the_planner_starts_the_next_course() -> None:
    for start in (CHRISTMAS, MONDAY_28_DEC):
        patient, completed = _completed_from(HOLIDAY_BREAK_START)
        (scheduled,) = patient.prescribe(start=start, course_id="C2", prescribed_on=start)
        assert isinstance(scheduled, Scheduled)
        assert scheduled.sessions[0].on == completed.next_course_earliest_on


def test_r_courses_per_year_due_by_is_the_deadline_itself_even_on_a_closed_day() -> None:
    """The due-by day is a deadline, not a day a course may start: it stays the rule's day
    (first session + 6 months) even when the clinic is closed then; only the break's end,
    when it is later, moves it."""
    patient, completed = _completed_from(HOLIDAY_BREAK_START)
    assert patient.course().first_session_on == HOLIDAY_BREAK_START
    assert not BERLIN.is_open(add_months(HOLIDAY_BREAK_START, 6))  # Sun 9 May 2027
    assert completed.next_course_due_by == add_months(HOLIDAY_BREAK_START, 6)
