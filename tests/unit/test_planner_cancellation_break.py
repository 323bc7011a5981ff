"""R-COURSE-BREAK after a cancelled course: the cancellation says when the next may start.

DOMAIN.md: the break counts from the last performed session of the previous course,
whatever ended it; the notifier needs that day to tell staff the truth after surgery.
"""

from datetime import timedelta

from services.planner.commands import SurgeryPerformed
from services.planner.outputs import Cancelled
from services.runtime.months import add_months
from tests.unit.test_planner_support import BERLIN, Harness, at


def test_r_course_break_cancellation_by_surgery_names_the_next_course_earliest_day() -> None:
    patient = Harness()
    patient.prescribe()
    patient.complete_next(5)
    last = patient.course().last_session_on
    assert last is not None
    surgery_on = patient.plan()[0].on
    (cancelled,) = patient.feed(SurgeryPerformed("surgery", at(surgery_on, 7), surgery_on))
    assert isinstance(cancelled, Cancelled)
    assert cancelled.next_course_earliest_on == BERLIN.next_open_on_or_after(add_months(last, 1))


def test_r_course_break_cancellation_before_any_session_names_no_break() -> None:
    patient = Harness()
    patient.prescribe()
    surgery_on = patient.plan()[0].on + timedelta(days=1)  # nothing performed yet
    (cancelled,) = patient.feed(SurgeryPerformed("surgery", at(surgery_on, 7), surgery_on))
    assert isinstance(cancelled, Cancelled)
    assert cancelled.next_course_earliest_on is None
