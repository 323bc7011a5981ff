"""R-POSTOP reaches the planner twice: the clinic's `clinic.surgery.performed` and
eligibility's decision with its R-POSTOP block. Clinical dates decide, so whichever arrives
first the course is cancelled once, for the surgery, and never suspended on the way.

The decisions are the eligibility Decider's own, folded from the same clinic events; both
Deciders run through the runtime's in-memory shell."""

import json
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.codec import parse_event
from schemas.eligibility import Block
from schemas.envelope import Envelope
from schemas.rules import RuleId
from services.eligibility.decider import NEW_PATIENT, EligibilityDecider
from services.eligibility.policy import DEFAULT_POLICY
from services.planner.commands import PatientWithdrawn, SurgeryPerformed
from services.planner.outputs import Cancelled, CourseStatus
from services.planner.state import PatientState
from services.runtime.decider import Context
from services.runtime.memory import InMemoryShell
from tests.clinic_events import ClinicFeed
from tests.unit.test_planner_decider import planner
from tests.unit.test_planner_support import MONDAY, ONE, Harness, at

D = date(2026, 3, 2)  # a Monday
SURGERY_ON = D + timedelta(days=7)
CLEARED_ON = SURGERY_ON + timedelta(days=5)
DAY_14 = SURGERY_ON + timedelta(days=14)
Shell = InMemoryShell[Any, Any, Any, Any]


def context(today: date) -> Context:
    return Context(today, datetime.combine(today, time(12), UTC))


def decisions_of(*facts: Envelope) -> list[Envelope]:
    """Eligibility's decisions on the facts, each fact in its own batch on its own day."""
    decider = EligibilityDecider(DEFAULT_POLICY, "UTC", "/courseflow/eligibility", "elig")
    eligibility: Shell = InMemoryShell(decider, NEW_PATIENT, lambda: context(D))
    for fact in facts:
        eligibility.context = partial(context, fact.time.date())
        eligibility.handle(fact)
    return [parse_event(message.value) for message in eligibility.outbox]


def planner_shell() -> Shell:
    return InMemoryShell(planner(), PatientState(), lambda: context(SURGERY_ON))


def schedule_events(shell: Shell) -> list[dict[str, Any]]:
    return [json.loads(message.value) for message in shell.outbox]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].removeprefix("courseflow.course.") for e in events]


def completed(feed: ClinicFeed, event: dict[str, Any], count: int) -> list[Envelope]:
    done = []
    for session in event["data"]["sessions"][:count]:
        data = {"course_id": "C1", "session_id": session["session_id"],
                "performed_at": f"{session['on']}T10:00:00+00:00"}  # fmt: skip
        on = date.fromisoformat(session["on"])
        done.append(feed.event("clinic.session.completed", on, data))
    return done


def under_way() -> tuple[ClinicFeed, Shell, list[Envelope]]:
    """C1 prescribed and three sessions done; then the surgery and its R-POSTOP decision."""
    feed, shell = ClinicFeed(), planner_shell()
    enrolled, prescribed = feed.enrolled(D), feed.prescribed(D, "C1")
    surgery = feed.surgery(SURGERY_ON)
    eligible, postop = decisions_of(enrolled, surgery)
    shell.handle(enrolled, eligible, prescribed)
    (scheduled,) = schedule_events(shell)
    shell.handle(*completed(feed, scheduled, 3))
    return feed, shell, [postop, surgery]


def comparable(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What staff and the notifier read: the type and data (not the ids and causes)."""
    return event["type"], event["data"]


def test_r_postop_decision_first_or_surgery_first_give_the_same_cancellation() -> None:
    _, decision_first, (postop, surgery) = under_way()
    decision_first.handle(postop)
    decision_first.handle(surgery)
    _, surgery_first, (postop_2, surgery_2) = under_way()
    surgery_first.handle(surgery_2)
    surgery_first.handle(postop_2)

    one, other = schedule_events(decision_first), schedule_events(surgery_first)
    assert kinds(one) == ["scheduled", "cancelled"]
    assert [comparable(e) for e in one[1:]] == [comparable(e) for e in other[1:]]
    cancelled = one[-1]["data"]
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "surgery")
    assert (cancelled["rules"], cancelled["sessions"], cancelled["completed_sessions"]) == (
        ["R-POSTOP"],
        [],
        3,
    )
    assert kinds(other) == ["scheduled", "cancelled"]


def test_r_postop_the_decision_cancels_and_the_later_surgery_event_changes_nothing() -> None:
    _, shell, (postop, surgery) = under_way()
    shell.handle(postop)
    (cancelled,) = schedule_events(shell)[1:]
    state = shell.states[postop.subject]
    shell.handle(surgery)
    assert len(schedule_events(shell)) == 2  # no second event for the same surgery
    assert shell.states[postop.subject].published == state.published
    redelivered = postop.model_copy(update={"id": "another-delivery"})
    shell.handle(redelivered)  # the same decision again, under another event id
    assert len(schedule_events(shell)) == 2
    assert cancelled["data"]["reason"] == "surgery"


def test_r_postop_a_course_prescribed_after_the_surgery_waits_for_day_14() -> None:
    """The rehab course is not cancelled by the surgery before it: it is pending with dates
    from the end of the post-op wait, whichever of the surgery's two messages came first."""
    for decision_first in (True, False):
        feed, shell, (postop, surgery) = under_way()
        cleared = feed.cleared(CLEARED_ON)
        *_, with_clearance = decisions_of(
            feed.enrolled(D), surgery, cleared
        )  # the same facts in clinical order: the decision of the clearance day
        shell.handle(*((postop, surgery) if decision_first else (surgery, postop)))
        shell.handle(with_clearance, feed.prescribed(CLEARED_ON, "REHAB"))
        events = schedule_events(shell)
        assert kinds(events) == ["scheduled", "cancelled", "scheduled"]
        rehab = events[-1]["data"]
        assert (rehab["course_id"], rehab["status"]) == ("REHAB", "pending")
        assert rehab["sessions"][0]["on"] >= DAY_14.isoformat()


def test_r_postop_a_surgery_before_any_course_cancels_nothing_later() -> None:
    feed, shell = ClinicFeed(), planner_shell()
    enrolled, surgery = feed.enrolled(D), feed.surgery(SURGERY_ON)
    eligible, postop = decisions_of(enrolled, surgery)
    shell.handle(enrolled, eligible, postop, surgery)
    assert schedule_events(shell) == []
    shell.handle(feed.prescribed(SURGERY_ON + timedelta(days=1), "REHAB"))
    (rehab,) = schedule_events(shell)
    assert (rehab["type"], rehab["data"]["status"]) == ("courseflow.course.scheduled", "pending")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(6)), st.booleans())
def test_r_postop_any_arrival_order_ends_alike_and_never_suspends(
    order: list[int], twice: bool
) -> None:
    """The planner's inputs of story 5 in any arrival order (a decision redelivered or not):
    the same courses in the end, and no course is ever suspended on the way."""
    feed = ClinicFeed()
    enrolled, prescribed = feed.enrolled(D), feed.prescribed(D, "C1")
    surgery, cleared = feed.surgery(SURGERY_ON), feed.cleared(CLEARED_ON)
    decisions = decisions_of(enrolled, surgery, cleared)
    inputs = [enrolled, prescribed, surgery, *decisions]
    assert len(inputs) == 6

    in_order, shuffled = planner_shell(), planner_shell()
    for event in inputs:
        in_order.handle(event)
    for index in order:
        shuffled.handle(inputs[index])
        if twice and inputs[index] in decisions:
            shuffled.handle(inputs[index].model_copy(update={"id": f"again-{index}"}))

    events = schedule_events(shuffled)
    assert "suspended" not in kinds(events)
    assert kinds(events)[-1] == "cancelled"
    assert [comparable(e)[1]["reason"] for e in events if "reason" in e["data"]] == ["surgery"]
    ours, theirs = (s.states[feed.patient].published for s in (shuffled, in_order))
    assert [(p.course_id, p.status, p.sessions) for p in ours] == [
        (p.course_id, p.status, p.sessions) for p in theirs
    ]


def _postop_from(on: date) -> tuple[Block, ...]:
    return (Block(rule=RuleId.POSTOP, since=on, until=None),)


def test_r_postop_a_surgery_cancels_by_its_day_not_by_the_time_it_was_reported() -> None:
    """A surgery reported two days late cancels the course under way on its day; the course
    prescribed the day after it waits for the end of the post-op wait, as it does when the
    decision (which knows only the surgery's day) comes first."""
    surgery_on = MONDAY + timedelta(days=3)
    reported = SurgeryPerformed("surgery", at(surgery_on + 2 * ONE, 7), surgery_on)
    postop = _postop_from(surgery_on)
    results = []
    for decision_first in (True, False):
        patient = Harness()
        patient.prescribe()
        patient.prescribe(start=surgery_on + ONE, course_id="C2", prescribed_on=surgery_on + ONE)
        decision = partial(patient.eligibility, surgery_on + 2 * ONE, eligible=False, blocks=postop)
        if decision_first:
            decision()
        patient.feed(reported)
        if not decision_first:
            decision()
        c1, c2 = patient.course("C1"), patient.course("C2")
        assert (c1.status, c1.cancel_rule) == (CourseStatus.CANCELLED, RuleId.POSTOP)
        assert (c2.status, c2.plan) == (CourseStatus.PENDING, ())
        results.append([type(o).__name__ for o in patient.outputs])
    assert "Suspended" not in results[0] + results[1]


def test_r_postop_a_course_prescribed_on_the_surgery_day_was_under_way_and_is_cancelled() -> None:
    """As a block from the prescription's day suspends a course, a surgery that day cancels
    it: the decision knows only the day, and the clinic's event must agree with it."""
    patient = Harness()
    patient.prescribe(start=MONDAY, prescribed_on=MONDAY)  # at 08:00
    (cancelled,) = patient.feed(SurgeryPerformed("surgery", at(MONDAY, 7), MONDAY))
    assert isinstance(cancelled, Cancelled)
    assert cancelled.rules == (RuleId.POSTOP,)


def test_r_postop_a_withdrawal_before_the_surgery_day_names_the_withdrawal() -> None:
    patient = Harness()
    patient.prescribe()
    patient.feed(PatientWithdrawn("withdrawn", at(MONDAY + ONE, 10), "moved away"))
    patient.eligibility(MONDAY + 2 * ONE, eligible=False, blocks=_postop_from(MONDAY + 2 * ONE))
    course = patient.course()
    assert (course.cancel_reason, course.cancel_rule) == ("moved away", None)
    assert [type(o).__name__ for o in patient.outputs] == ["Scheduled", "Cancelled"]


def test_r_postop_a_block_already_over_in_the_history_is_the_surgery_too() -> None:
    """The first decision the planner hears of may come after the wait (its R-POSTOP block in
    `history`): the course under way on the surgery's day is cancelled all the same."""
    patient = Harness()
    patient.prescribe()
    patient.complete_next(2)
    surgery_on = patient.plan()[0].on
    day_14 = surgery_on + timedelta(days=14)
    over = (Block(rule=RuleId.POSTOP, since=surgery_on, until=day_14),)
    (cancelled,) = patient.eligibility(day_14, eligible=True, history=over)
    assert isinstance(cancelled, Cancelled)
    assert (cancelled.rules, cancelled.completed_sessions) == ((RuleId.POSTOP,), 2)
    assert patient.feed(SurgeryPerformed("surgery", at(surgery_on, 7), surgery_on)) == ()


def test_r_postop_a_surgery_stored_before_its_day_was_kept_counts_on_the_day_of_its_time() -> None:
    """A row written before `Cancellation.performed_on` existed loads, and its surgery is
    still the one the decision names (the day of the event's time): nothing new is said."""
    patient = Harness()
    patient.prescribe()
    surgery_on = patient.plan()[0].on
    patient.feed(SurgeryPerformed("surgery", at(surgery_on, 7), surgery_on))
    stored = patient.state.to_json()
    for cancellation in stored["cancellations"]:
        del cancellation["performed_on"]
    patient.state = PatientState.from_json(stored)
    assert patient.state.cancellations[0].performed_on is None
    assert patient.eligibility(surgery_on, eligible=False, blocks=_postop_from(surgery_on)) == ()
    assert patient.course().status is CourseStatus.CANCELLED
