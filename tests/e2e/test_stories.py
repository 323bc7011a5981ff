"""DOMAIN.md's ten worked stories, end to end: clinic events in, published events and the
notices staff received out (set-up: tests/e2e/system.py, calendar: tests/e2e/clinic.py).

Stories that need sessions behind them start their course in the past, so that the facts
that drive them (a flare, a fever, a surgery) happen up to today, the services' real today.
"""

import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from services.runtime.months import add_months
from tests.e2e.clinic import (
    ONE_DAY,
    Clinic,
    Session,
    days_of,
    every_other_day,
    is_open,
    local,
    next_monday,
    next_open_on_or_after,
    pairs,
    start_where,
    today,
)
from tests.e2e.system import PHYSICIAN, Event, System

pytestmark = pytest.mark.e2e

Fits = Callable[[list[date]], bool]


def types(events: list[Event]) -> list[str]:
    return [e["type"].removeprefix("courseflow.course.") for e in events]


def ids(sessions: list[Session]) -> list[str]:
    return [s["session_id"] for s in sessions]


def block(rule: str, since: date, until: date | None) -> dict[str, Any]:
    return {"rule": rule, "since": since.isoformat(), "until": until and until.isoformat()}


async def scheduled_course(
    system: System, clinic: Clinic, fits: Fits, *, latest: date, **profile: bool
) -> list[Session]:
    """Enrolled, and one 15-session course whose plan `fits` the story: its published plan."""
    start = start_where(fits, latest=latest, earliest=latest - timedelta(days=21))
    enrolled_on = start - timedelta(days=3)
    await system.send(
        clinic.enrolled(enrolled_on, **profile), clinic.prescription(start, sent_on=enrolled_on)
    )
    (event,) = await system.schedule_events(clinic.patient, 1)
    plan: list[Session] = event["data"]["sessions"]
    assert days_of(plan) == every_other_day(start)
    return plan


async def complete(system: System, clinic: Clinic, sessions: list[Session]) -> None:
    """The sessions are done; completions publish nothing, so wait until all is consumed."""
    await system.send(*(clinic.completed(s) for s in sessions))
    await system.consumed()


async def front_desk_told(system: System, patient: str, kind: str) -> Event:
    """The webhook peer received (signature verified) the notice of `kind` for `patient`."""
    return await system.until(
        lambda: next((b for b in system.webhook_bodies(patient) if b["kind"] == kind), None)
    )


async def physician_mailed(system: System, patient: str, kind: str) -> str:
    """The SMTP peer received the notice of `kind` for `patient`; its text."""
    subject = f"[courseflow] {kind.replace('_', ' ')}: {patient}"
    mail = await system.until(
        lambda: next((m for m in system.mails(patient) if m["Subject"] == subject), None)
    )
    assert mail["To"] == PHYSICIAN
    body = mail.get_payload(decode=True)  # quoted-printable on the wire
    assert isinstance(body, bytes)
    return body.decode()


def quiet(system: System, patient: str) -> None:
    """Nothing dead-lettered, and every notice for the patient delivered."""
    assert system.dead_letters(patient) == []
    assert all(n["data"]["delivery"] == "delivered" for n in system.notices(patient))
    assert system.webhook.bad_signatures == 0


async def test_story_1_r_cadence_r_duration_ramp_every_other_day_from_a_monday(
    system: System,
) -> None:
    clinic = Clinic()
    monday = next_monday(today())
    prescribed = clinic.prescription(monday, sent_on=today())
    await system.send(clinic.enrolled(today()), prescribed)
    (event,) = await system.schedule_events(clinic.patient, 1)
    assert event["type"] == "courseflow.course.scheduled"
    assert event["causationid"] == event["correlationid"] == prescribed.id
    data = event["data"]
    assert (data["course_id"], data["status"], data["version"]) == ("C1", "active", 1)
    assert data["completed_sessions"] == 0
    assert {"R-CADENCE", "R-DURATION-RAMP", "R-COURSE-LENGTH"} <= set(data["rules"])
    sessions = data["sessions"]
    on = days_of(sessions)
    assert [s["number"] for s in sessions] == list(range(1, 16))
    assert on[0] == monday
    assert all(is_open(day) for day in on)  # no Sunday
    # one free day between sessions, two when the free day after it is a Sunday
    assert all(b - a == 2 * ONE_DAY or (b - a == 3 * ONE_DAY and not is_open(b - ONE_DAY))
               for a, b in pairs(on))  # fmt: skip
    assert [s["duration_min"] for s in sessions] == [*range(7, 16), *[15] * 6]
    assert [datetime.fromisoformat(s["starts_at"]) for s in sessions] == [local(d) for d in on]

    told = await front_desk_told(system, clinic.patient, "course_scheduled")
    assert f"15 sessions {on[0].isoformat()}..{on[-1].isoformat()}" in told["summary"]
    (notice,) = await system.until(lambda: system.notices(clinic.patient))
    assert notice["data"]["notice_id"] == told["notice_id"]
    assert (notice["data"]["cause_id"], notice["causationid"]) == (event["id"], event["id"])
    assert notice["correlationid"] == prescribed.id  # one id follows the event to its notice
    (decision,) = await system.decision_events(clinic.patient, 1)
    assert decision["data"]["eligible"] is True
    quiet(system, clinic.patient)


async def flare_after_session_six(
    system: System, clinic: Clinic, flare_on: date, **profile: bool
) -> list[Session]:
    """Stories 2, 3, 9: six sessions done, then a flare before session 7 (a suspension)."""
    plan = await scheduled_course(
        system, clinic, lambda d: d[5] < flare_on <= d[6], latest=flare_on - ONE_DAY, **profile
    )
    await complete(system, clinic, plan[:6])
    await system.send(clinic.flare(flare_on))
    return plan


async def test_story_2_r_flare_suspends_and_r_remission_resumes_with_ramp_from_seven(
    system: System,
) -> None:
    clinic = Clinic()
    confirmed_on = today()
    flare_on = confirmed_on - timedelta(days=10)
    plan = await flare_after_session_six(system, clinic, flare_on)

    events = await system.schedule_events(clinic.patient, 2)
    assert types(events) == ["scheduled", "suspended"]
    suspended = events[1]["data"]
    assert (suspended["status"], suspended["rules"]) == ("suspended", ["R-FLARE"])
    assert suspended["cancelled_session_ids"] == ids(plan[6:])
    assert (suspended["sessions"], suspended["completed_sessions"]) == ([], 6)
    decision = (await system.decision_events(clinic.patient, 2))[1]["data"]
    assert (decision["eligible"], decision["eligible_from"]) == (False, None)
    assert decision["blocks"] == [block("R-FLARE", flare_on, None)]
    told = await front_desk_told(system, clinic.patient, "course_suspended")
    assert "9 sessions cancelled" in told["summary"]
    assert "R-FLARE" in told["rules"]

    await system.send(clinic.remission(confirmed_on, ended_on=confirmed_on))
    events = await system.schedule_events(clinic.patient, 3)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    resumed = events[2]["data"]
    assert resumed["status"] == "active"
    assert "R-REMISSION" in resumed["rules"]
    sessions = resumed["sessions"]
    assert [s["number"] for s in sessions] == list(range(7, 16))
    assert [s["duration_min"] for s in sessions] == list(range(7, 16))
    assert days_of(sessions) == every_other_day(next_open_on_or_after(confirmed_on + ONE_DAY), 9)
    assert resumed["completed_sessions"] == 6
    await front_desk_told(system, clinic.patient, "course_resumed")
    quiet(system, clinic.patient)


async def test_story_3_r_rheum_wait_resumes_a_month_after_the_exacerbation_ended(
    system: System,
) -> None:
    clinic = Clinic()
    confirmed_on = today()
    ended_on = confirmed_on - ONE_DAY
    flare_on = confirmed_on - timedelta(days=10)
    await flare_after_session_six(system, clinic, flare_on, rheumatic_inflammation=True)
    await system.schedule_events(clinic.patient, 2)

    await system.send(clinic.remission(confirmed_on, ended_on=ended_on))
    wait_until = add_months(ended_on, 1)
    events = await system.schedule_events(clinic.patient, 3)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    resumed = events[2]["data"]
    assert "R-RHEUM-WAIT" in resumed["rules"]
    assert days_of(resumed["sessions"])[0] == next_open_on_or_after(wait_until)
    assert [s["duration_min"] for s in resumed["sessions"]] == list(range(7, 16))
    decision = (await system.decision_events(clinic.patient, 3))[2]["data"]
    assert (decision["eligible"], decision["eligible_from"]) == (False, wait_until.isoformat())
    assert block("R-RHEUM-WAIT", ended_on + ONE_DAY, wait_until) in decision["blocks"]
    told = await front_desk_told(system, clinic.patient, "course_resumed")
    assert next_open_on_or_after(wait_until).isoformat() in told["summary"]
    quiet(system, clinic.patient)


async def test_story_4_r_contra_fever_suspends_and_resolution_resumes(system: System) -> None:
    clinic = Clinic()
    resolved_on = today()
    fever_on = resolved_on - timedelta(days=3)
    plan = await scheduled_course(
        system, clinic, lambda d: d[2] < fever_on <= d[3], latest=fever_on - ONE_DAY
    )
    await complete(system, clinic, plan[:3])
    await system.send(clinic.contraindication(fever_on, "fever", temperature=38.2))
    events = await system.schedule_events(clinic.patient, 2)
    assert types(events) == ["scheduled", "suspended"]
    suspended = events[1]["data"]
    assert (suspended["rules"], suspended["completed_sessions"]) == (["R-CONTRA-FEVER"], 3)
    assert suspended["cancelled_session_ids"] == ids(plan[3:])
    await front_desk_told(system, clinic.patient, "course_suspended")

    await system.send(clinic.resolved(resolved_on, "fever"))
    events = await system.schedule_events(clinic.patient, 3)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    sessions = events[2]["data"]["sessions"]
    assert len(sessions) == 12
    assert days_of(sessions)[0] == next_open_on_or_after(resolved_on + ONE_DAY)
    assert sessions[0]["duration_min"] == 7
    await front_desk_told(system, clinic.patient, "course_resumed")
    decisions = await system.decision_events(clinic.patient, 2)
    assert decisions[1]["data"]["blocks"] == [block("R-CONTRA-FEVER", fever_on, None)]
    quiet(system, clinic.patient)


async def test_story_6_r_course_break_moves_a_new_course_and_staff_are_told_why(
    system: System,
) -> None:
    clinic = Clinic()
    plan = await scheduled_course(
        system, clinic, lambda d: d[14] <= today() - timedelta(days=10),
        latest=today() - timedelta(days=38),
    )  # fmt: skip
    await system.send(*(clinic.completed(s) for s in plan))
    events = await system.schedule_events(clinic.patient, 2)
    assert types(events) == ["scheduled", "completed"]
    completed = events[1]["data"]
    last, first = days_of(plan)[-1], days_of(plan)[0]
    assert (completed["status"], completed["completed_sessions"]) == ("completed", 15)
    break_ends = next_open_on_or_after(add_months(last, 1))  # R-COURSE-BREAK, an open day
    assert completed["next_course_earliest_on"] == break_ends.isoformat()
    assert completed["next_course_due_by"] == max(add_months(first, 6), break_ends).isoformat()
    mail = await physician_mailed(system, clinic.patient, "course_completed")
    assert break_ends.isoformat() in mail

    ten_days_later = last + timedelta(days=10)
    await system.send(clinic.prescription(ten_days_later, "C2"))
    events = await system.schedule_events(clinic.patient, 3)
    assert types(events) == ["scheduled", "completed", "scheduled"]
    second = events[2]["data"]
    assert second["course_id"] == "C2"
    assert "R-COURSE-BREAK" in second["rules"]
    assert days_of(second["sessions"])[0] == break_ends
    told = await system.until(
        lambda: [b for b in system.webhook_bodies(clinic.patient) if "C2" in b["summary"]]
    )
    assert "R-COURSE-BREAK" in told[0]["rules"]
    assert "R-COURSE-BREAK" in told[0]["summary"]
    quiet(system, clinic.patient)


async def test_story_7_r_session_pain_moves_to_the_end_and_two_in_a_row_are_flagged(
    system: System,
) -> None:
    clinic = Clinic()
    plan = await scheduled_course(system, clinic, lambda d: d[4] <= today(), latest=today())
    await complete(system, clinic, plan[:3])
    await system.send(clinic.not_performed(plan[3], "severe_pain"))
    events = await system.schedule_events(clinic.patient, 2)
    assert types(events) == ["scheduled", "rescheduled"]
    moved = events[1]["data"]
    assert "R-SESSION-PAIN" in moved["rules"]
    after = moved["sessions"]
    assert ids(after) == [*ids(plan[4:]), "C1-s04"]
    assert days_of(after)[:-1] == days_of(plan)[4:]
    assert days_of(after)[-1] > days_of(plan)[-1]
    await front_desk_told(system, clinic.patient, "sessions_rescheduled")

    await system.send(clinic.not_performed(after[0], "severe_pain"))
    events = await system.schedule_events(clinic.patient, 4)
    assert types(events) == ["scheduled", "rescheduled", "rescheduled", "review_requested"]
    review = events[3]["data"]
    assert (review["session_ids"], review["rules"]) == (["C1-s04", "C1-s05"], ["R-SESSION-PAIN"])
    mail = await physician_mailed(system, clinic.patient, "repeated_pain_review")
    assert "C1-s04" in mail
    assert "R-SESSION-PAIN" in mail
    quiet(system, clinic.patient)


async def test_story_8_r_pt_before_the_twelve_minute_session_starts_at_10_18(
    system: System,
) -> None:
    clinic = Clinic()
    monday = next_monday(today())
    await system.send(clinic.enrolled(today()), clinic.prescription(monday, sent_on=today()))
    (event,) = await system.schedule_events(clinic.patient, 1)
    (session,) = [s for s in event["data"]["sessions"] if s["duration_min"] == 12]
    assert session["number"] == 6
    session_on = date.fromisoformat(session["on"])

    await system.send(clinic.physical_therapy(local(session_on, 10, 30), booked_on=today()))
    events = await system.schedule_events(clinic.patient, 2)
    assert types(events) == ["scheduled", "rescheduled"]
    rescheduled = events[1]["data"]
    assert rescheduled["rules"] == ["R-PT-BEFORE"]
    (change,) = rescheduled["changes"]
    assert change["session_id"] == session["session_id"]
    assert datetime.fromisoformat(change["from_starts_at"]) == local(session_on, 9)
    assert datetime.fromisoformat(change["to_starts_at"]) == local(session_on, 10, 18)
    (now,) = [s for s in rescheduled["sessions"] if s["session_id"] == session["session_id"]]
    assert (datetime.fromisoformat(now["starts_at"]), now["duration_min"]) == (
        local(session_on, 10, 18), 12
    )  # fmt: skip
    told = await front_desk_told(system, clinic.patient, "sessions_rescheduled")
    assert "start times changed" in told["summary"]
    quiet(system, clinic.patient)


def final_state(system: System, patient: str, done: list[Session]) -> dict[str, Any]:
    """What the clinic sees last: the course's status and its plan of sessions not yet done
    (a completion publishes nothing), and the eligibility decision (versions aside)."""
    course = system.schedule(patient)[-1]["data"]
    plan = [s for s in course["sessions"] if s["session_id"] not in ids(done)]
    decision = {k: v for k, v in system.decisions(patient)[-1]["data"].items() if k != "version"}
    return {"status": course["status"], "plan": plan, "decision": decision}


@pytest.mark.parametrize("ended_days_before_confirmation", [0, 1])
async def test_story_9_a_remission_before_its_late_flare_report_ends_as_in_clinical_order(
    system: System, ended_days_before_confirmation: int
) -> None:
    confirmed_on = today()
    flare_on = confirmed_on - timedelta(days=10)
    ended_on = confirmed_on - timedelta(days=ended_days_before_confirmation)
    in_order, late = Clinic(), Clinic()
    in_order_plan = await flare_after_session_six(system, in_order, flare_on)
    await system.schedule_events(in_order.patient, 2)
    await system.send(in_order.remission(confirmed_on, ended_on=ended_on))
    await system.schedule_events(in_order.patient, 3)

    plan = await scheduled_course(
        system, late, lambda d: d[5] < flare_on <= d[6], latest=flare_on - ONE_DAY
    )
    await complete(system, late, plan[:6])
    await system.send(late.remission(confirmed_on, ended_on=ended_on))
    await system.consumed()  # the remission is recorded before its flare is reported
    await system.send(late.flare(flare_on))
    await system.consumed()
    expected = final_state(system, in_order.patient, in_order_plan[:6])
    assert (expected["status"], len(expected["plan"])) == ("active", 9)

    def late_state() -> dict[str, Any]:
        return final_state(system, late.patient, plan[:6])

    with contextlib.suppress(AssertionError):  # outputs may still be on their way
        await system.until(lambda: late_state() == expected, timeout_s=5)
    assert late_state() == expected
    quiet(system, late.patient)


async def test_story_10_the_same_event_twice_has_one_effect_and_one_notice(
    system: System,
) -> None:
    clinic = Clinic()
    start = start_where(lambda d: d[1] < today() <= d[2], today(), today() - timedelta(days=14))
    enrolled = clinic.enrolled(start - ONE_DAY)
    prescribed = clinic.prescription(start, sent_on=start - ONE_DAY)
    await system.send(enrolled, enrolled, prescribed, prescribed)
    (event,) = await system.schedule_events(clinic.patient, 1)
    done = [clinic.completed(s) for s in event["data"]["sessions"][:2]]
    await system.send(done[0], done[0], done[1], done[1])
    await system.consumed()
    flare = clinic.flare(today())
    await system.send(flare, flare)
    await system.schedule_events(clinic.patient, 2)
    # The remission follows every duplicate in the patient's order: once its effects are
    # out, whatever a duplicate could have caused is out too.
    await system.send(clinic.remission(today(), ended_on=today()))
    await system.schedule_events(clinic.patient, 3)
    await front_desk_told(system, clinic.patient, "course_resumed")
    await system.consumed()

    events = system.schedule(clinic.patient)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    assert [e["data"]["version"] for e in events] == [1, 2, 3]
    assert events[1]["data"]["completed_sessions"] == 2
    decisions = system.decisions(clinic.patient)
    assert [d["data"]["eligible"] for d in decisions] == [True, False, False]
    assert [d["data"]["version"] for d in decisions] == [1, 2, 3]
    kinds = Counter(n["data"]["kind"] for n in system.notices(clinic.patient))
    assert kinds == {"course_scheduled": 1, "course_suspended": 1, "course_resumed": 1}
    bodies = system.webhook_bodies(clinic.patient)
    assert Counter(b["kind"] for b in bodies) == kinds
    keys = {b["notice_id"] for b in bodies}
    assert len([key for key in system.webhook.requests if key in keys]) == 3  # none sent twice
    quiet(system, clinic.patient)


async def test_r_flare_before_the_first_session_says_which_sessions_are_cancelled(
    system: System,
) -> None:
    clinic = Clinic()
    monday = next_monday(today())
    prescribed_on = today() - ONE_DAY  # before the flare's first day: the course was active
    await system.send(
        clinic.enrolled(prescribed_on), clinic.prescription(monday, sent_on=prescribed_on)
    )
    (event,) = await system.schedule_events(clinic.patient, 1)
    assert event["data"]["status"] == "active"
    await system.send(clinic.flare(today()))
    events = await system.schedule_events(clinic.patient, 2)
    change = events[1]["data"]
    assert events[1]["type"] == "courseflow.course.suspended"
    assert (change["status"], change["sessions"]) == ("suspended", [])
    assert change["cancelled_session_ids"] == ids(event["data"]["sessions"])
    assert change["rules"] == ["R-FLARE"]
    told = (await system.until(lambda: system.webhook_bodies(clinic.patient)[1:]))[0]
    assert "0 sessions" not in told["summary"]


def ended_cancelled(events: list[Event]) -> list[Event] | None:
    return events if events and types(events)[-1] == "cancelled" else None


async def test_story_5_r_postop_cancels_and_staff_are_told_on_day_14(system: System) -> None:
    """Last in the module: days pass by restarting eligibility with a clock offset."""
    clinic = Clinic()
    cleared_on = today()
    surgery_on = cleared_on - timedelta(days=5)
    day_14 = surgery_on + timedelta(days=14)
    plan = await scheduled_course(
        system, clinic, lambda d: d[2] < surgery_on <= d[3], latest=surgery_on - ONE_DAY
    )
    await complete(system, clinic, plan[:3])
    await system.send(clinic.surgery(surgery_on))
    events = await system.until(lambda: ended_cancelled(system.schedule(clinic.patient)))
    # The planner hears of the surgery twice, from the clinic and as eligibility's R-POSTOP
    # decision: whichever comes first cancels the course, the other changes nothing.
    assert types(events) == ["scheduled", "cancelled"]
    cancelled = events[-1]["data"]
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "surgery")
    assert (cancelled["rules"], cancelled["sessions"]) == (["R-POSTOP"], [])
    assert cancelled["completed_sessions"] == 3
    await front_desk_told(system, clinic.patient, "course_cancelled")

    await system.send(clinic.cleared(cleared_on))
    decisions = await system.decision_events(clinic.patient, 3)
    cleared = decisions[2]["data"]
    assert (cleared["eligible"], cleared["eligible_from"]) == (False, day_14.isoformat())
    assert cleared["blocks"] == [block("R-POSTOP", surgery_on, day_14)]
    await system.consumed()
    assert system.mails(clinic.patient) == []  # not eligible yet: nothing to tell

    days_to_day_14 = (day_14 - today()).days
    await system.restart("eligibility", clock_offset_days=days_to_day_14)
    try:
        mail = await physician_mailed(system, clinic.patient, "rehab_course_eligible")
        assert f"from {day_14.isoformat()}" in mail
        assert "R-POSTOP" in mail
        eligible = system.decisions(clinic.patient)[-1]["data"]
        assert (eligible["eligible"], eligible["blocks"]) == (True, [])
        (notice,) = await system.until(
            lambda: [
                n["data"]
                for n in system.notices(clinic.patient)
                if n["data"]["kind"] == "rehab_course_eligible"
            ]
        )
        assert (notice["channel"], notice["delivery"]) == ("email", "delivered")
        assert types(system.schedule(clinic.patient)) == ["scheduled", "cancelled"]
        kinds = {n["data"]["kind"] for n in system.notices(clinic.patient)}
        assert "course_suspended" not in kinds
        quiet(system, clinic.patient)
    finally:
        await system.restart("eligibility", clock_offset_days=0)


async def test_r_flare_on_the_prescription_day_suspends_then_resumes_the_course(
    system: System,
) -> None:
    """Issue 12 (course status on the wire): a block that begins on the prescription's day
    suspends the course, naming every session, not a pending reschedule with no plan."""
    clinic = Clinic()
    monday = next_monday(today())
    await system.send(clinic.enrolled(today()), clinic.prescription(monday, sent_on=today()))
    (event,) = await system.schedule_events(clinic.patient, 1)
    assert event["data"]["status"] == "active"
    await system.send(clinic.flare(today()))
    events = await system.schedule_events(clinic.patient, 2)
    assert types(events) == ["scheduled", "suspended"]
    suspended = events[1]["data"]
    assert (suspended["status"], suspended["sessions"]) == ("suspended", [])
    assert suspended["cancelled_session_ids"] == ids(event["data"]["sessions"])
    assert suspended["rules"] == ["R-FLARE"]
    told = await front_desk_told(system, clinic.patient, "course_suspended")
    assert "15 sessions cancelled" in told["summary"]

    await system.send(clinic.remission(today(), ended_on=today()))
    events = await system.schedule_events(clinic.patient, 3)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    resumed = events[2]["data"]
    assert (resumed["status"], len(resumed["sessions"])) == ("active", 15)
    assert days_of(resumed["sessions"])[0] >= next_open_on_or_after(today() + ONE_DAY)
    quiet(system, clinic.patient)


async def test_r_cadence_a_start_on_weeks_ago_is_planned_from_today(system: System) -> None:
    """Issue 12 (clinical time): no session is planned before the day the plan is made."""
    clinic = Clinic()
    weeks_ago = today() - timedelta(days=21)
    await system.send(clinic.enrolled(today()), clinic.prescription(weeks_ago, sent_on=today()))
    (event,) = await system.schedule_events(clinic.patient, 1)
    data = event["data"]
    assert (event["type"], data["status"]) == ("courseflow.course.scheduled", "active")
    on = days_of(data["sessions"])
    assert on == every_other_day(today())
    assert min(on) >= today()
    assert [s["duration_min"] for s in data["sessions"]][:3] == [7, 8, 9]
    told = await front_desk_told(system, clinic.patient, "course_scheduled")
    assert on[0].isoformat() in told["summary"]
    quiet(system, clinic.patient)


async def test_r_postop_a_pending_course_says_active_on_its_known_day(system: System) -> None:
    """Issue 12 (the status on the wire goes stale): a course prescribed while the patient
    waits for a known day is pending with its dates; on that day a schedule event says
    active. Days pass by restarting eligibility with a clock offset, as story 5 does."""
    clinic = Clinic()
    cleared_on = today()
    surgery_on = cleared_on - timedelta(days=5)
    day_14 = surgery_on + timedelta(days=14)
    await system.send(
        clinic.enrolled(surgery_on - timedelta(days=3)),
        clinic.surgery(surgery_on),
        clinic.cleared(cleared_on),
    )
    cleared = (await system.decision_events(clinic.patient, 3))[2]["data"]
    assert cleared["eligible_from"] == day_14.isoformat()
    await system.consumed()  # the planner knows the wait before the prescription comes
    await system.send(clinic.prescription(cleared_on, "REHAB", sent_on=cleared_on))
    (pending,) = await system.schedule_events(clinic.patient, 1)
    assert (pending["type"], pending["data"]["status"]) == (
        "courseflow.course.scheduled",
        "pending",
    )
    planned = pending["data"]["sessions"]
    assert days_of(planned)[0] == next_open_on_or_after(day_14)
    await front_desk_told(system, clinic.patient, "course_pending")

    await system.restart("eligibility", clock_offset_days=(day_14 - today()).days)
    try:
        events = await system.schedule_events(clinic.patient, 2)
        assert types(events) == ["scheduled", "scheduled"]
        active = events[1]["data"]
        assert (active["status"], active["version"]) == ("active", 2)
        assert active["sessions"] == planned
        told = await front_desk_told(system, clinic.patient, "course_scheduled")
        assert "REHAB" in told["summary"]
        quiet(system, clinic.patient)
    finally:
        await system.restart("eligibility", clock_offset_days=0)


async def test_story_13_r_flare_reported_before_the_enrolment_counts_once_enrolled(
    system: System,
) -> None:
    """A flare before the enrolment is kept (no dead letter, nothing published); once the
    patient is enrolled they are not eligible, and a course prescribed then waits, exactly
    as for a patient whose flare came after the enrolment."""
    early, in_order = Clinic(), Clinic()
    flare_on, monday = today() - 2 * ONE_DAY, next_monday(today())
    await system.send(early.flare(flare_on), in_order.enrolled(flare_on - ONE_DAY))
    await system.send(in_order.flare(flare_on))
    await system.consumed()
    assert (system.decisions(early.patient), system.dead_letters(early.patient)) == ([], [])

    await system.send(early.enrolled(today()))
    (decision,) = await system.decision_events(early.patient, 1)
    expected = {"eligible": False, "eligible_from": None,
                "blocks": [block("R-FLARE", flare_on, None)], "version": 1}  # fmt: skip
    assert {k: decision["data"][k] for k in expected} == expected
    in_order_decision = (await system.decision_events(in_order.patient, 2))[-1]["data"]
    assert {**in_order_decision, "version": 1} == decision["data"]

    await system.consumed()  # the planner knows the decision before the prescription
    for patient in (early, in_order):
        await system.send(patient.prescription(monday, sent_on=today()))
    (waiting,) = await system.schedule_events(early.patient, 1)
    assert waiting["type"] == "courseflow.course.scheduled"
    assert (waiting["data"]["status"], waiting["data"]["sessions"]) == ("pending", [])
    assert "R-FLARE" in waiting["data"]["rules"]
    (in_order_waiting,) = await system.schedule_events(in_order.patient, 1)
    assert in_order_waiting["data"] == waiting["data"]
    await system.consumed()
    assert len(system.schedule(early.patient)) == 1
    quiet(system, early.patient)


async def test_r_rheum_wait_is_not_lifted_by_a_re_sent_enrolment(system: System) -> None:
    """Enrolled with rheumatic inflammation, flare, remission; the enrolment re-sent without
    the flag during the month's wait lifts neither the wait nor moves a session into it."""
    clinic = Clinic()
    ended = today() - 5 * ONE_DAY
    wait_ends = add_months(ended, 1)
    await system.send(
        clinic.enrolled(today() - 20 * ONE_DAY, rheumatic_inflammation=True),
        clinic.flare(today() - 15 * ONE_DAY), clinic.remission(ended, ended),
        clinic.prescription(next_monday(today()), sent_on=today()),
    )  # fmt: skip
    waiting = await system.until(lambda: last_decision_with(system, clinic, "R-RHEUM-WAIT"))
    assert (waiting["eligible"], waiting["eligible_from"]) == (False, wait_ends.isoformat())
    planned = await system.until(lambda: schedule_once_after(system, clinic, wait_ends))
    published_before = len(planned)

    # A fever of one day after the re-sent enrolment: its decision comes after the re-send's.
    await system.send(
        clinic.enrolled(today()), clinic.contraindication(today(), "fever", 38.2),
        clinic.resolved(today(), "fever"),
    )  # fmt: skip
    fever = await system.until(lambda: last_decision_with(system, clinic, "R-CONTRA-FEVER"))
    assert fever["blocks"] == [
        block("R-RHEUM-WAIT", ended + ONE_DAY, wait_ends),
        block("R-CONTRA-FEVER", today(), today() + ONE_DAY),
    ]
    since_the_wait = [d["data"] for d in system.decisions(clinic.patient)]
    since_the_wait = since_the_wait[since_the_wait.index(waiting) :]
    assert not any(d["eligible"] for d in since_the_wait)
    await system.consumed()
    assert after_the_wait(system.schedule(clinic.patient)[published_before:], wait_ends)
    quiet(system, clinic.patient)


def schedule_once_after(system: System, clinic: Clinic, wait_ends: date) -> list[Event] | None:
    """The patient's schedule events, once the latest plans nothing before `wait_ends`."""
    events = system.schedule(clinic.patient)
    return events if events and after_the_wait(events[-1:], wait_ends) else None


def after_the_wait(events: list[Event], wait_ends: date) -> bool:
    """Every session these schedule events plan lies on or after the wait's end."""
    return all(day >= wait_ends for e in events for day in days_of(e["data"]["sessions"]))


def last_decision_with(system: System, clinic: Clinic, rule: str) -> dict[str, Any] | None:
    """The patient's latest decision, once it has a block of `rule` with a known end."""
    decisions = system.decisions(clinic.patient)
    latest = decisions[-1]["data"] if decisions else None
    known = latest and any(b["rule"] == rule and b["until"] for b in latest["blocks"])
    return latest if known else None
