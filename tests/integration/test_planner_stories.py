"""The planner service against the real broker and database: DOMAIN.md worked stories 1-8.

Eligibility decisions are fed by the test onto the run's eligibility topic, as the
eligibility service would publish them; the assertions are on `courseflow.course.*`.
"""

from collections.abc import AsyncIterator
from datetime import date, timedelta
from itertools import pairwise

import pytest

from services.planner.calendar import ClinicCalendar
from services.planner.notes import CONCLUSION, KNEE_MAIN_PART, LOWER_BACK, NEARBY_MUSCLES, THIGH
from services.runtime.months import add_months
from tests.integration.test_planner_support import (
    D,
    Decisions,
    Event,
    Planner,
    PlannerFeed,
    Session,
    days,
    local,
    new_patient,
    open_sessions,
    started_planner,
    types,
)


@pytest.fixture
async def planner(bootstrap: str, suffix: str) -> AsyncIterator[Planner]:
    async with started_planner(bootstrap, suffix) as running:
        yield running


SUNDAY = 6  # the only closed weekday of the default calendar, which has no holidays


def is_open(day: date) -> bool:
    return day.weekday() != SUNDAY


def next_open_on_or_after(day: date) -> date:
    while not is_open(day):
        day += timedelta(days=1)
    return day


async def scheduled(
    planner: Planner, feed: PlannerFeed, decisions: Decisions, **flags: bool
) -> list[Session]:
    """Enrolled, eligible, and one 15-session course from D: its published plan."""
    await planner.send(feed.enrolled(D, **flags), feed.prescription(D))
    await planner.decide(decisions.eligible(D))
    (event,) = await planner.published(feed.patient)
    return list(event["data"]["sessions"])


async def flare_after_session_six(
    planner: Planner, feed: PlannerFeed, decisions: Decisions, **flags: bool
) -> tuple[date, list[Event]]:
    plan = await scheduled(planner, feed, decisions, **flags)
    await planner.complete(feed, plan[:6])
    await planner.handled()
    flare_on = days(plan)[6] - timedelta(days=1)
    await planner.decide(decisions.blocked(flare_on, "R-FLARE", flare_on))
    return flare_on, await planner.published(feed.patient)


async def test_story_1_r_cadence_r_duration_ramp_r_sequence_every_other_day_from_a_monday(
    planner: Planner,
) -> None:
    feed, _ = new_patient()
    await planner.send(feed.enrolled(D), feed.prescription(D))
    (event,) = await planner.published(feed.patient)
    data = event["data"]
    assert event["type"] == "courseflow.course.scheduled"
    assert event["source"] == "/courseflow/planner"
    assert event["subject"] == feed.patient
    assert event["causationid"] == event["correlationid"] == planner.sent[1]
    assert (data["course_id"], data["status"], data["version"]) == ("C1", "active", 1)
    assert {"R-CADENCE", "R-DURATION-RAMP", "R-COURSE-LENGTH"} <= set(data["rules"])
    sessions = data["sessions"]
    on = days(sessions)
    assert len(on) == 15
    assert on[0] == D
    assert all(is_open(d) for d in on)
    assert all((b - a).days >= 2 for a, b in pairwise(on))
    assert [s["duration_min"] for s in sessions] == [7, 8, 9, 10, 11, 12, 13, 14] + [15] * 7
    assert [s["number"] for s in sessions] == list(range(1, 16))
    # 09:00 local on both sides of the change to summer time (29 March 2026)
    assert [s["starts_at"] for s in sessions] == [local(d).isoformat() for d in on]
    assert {s["starts_at"][-6:] for s in sessions} == {"+01:00", "+02:00"}
    assert sessions[0]["sequence"] == [LOWER_BACK, THIGH, KNEE_MAIN_PART, CONCLUSION]
    assert sessions[0]["notes"] == []
    assert data["completed_sessions"] == 0


async def test_r_no_knee_when_painful_r_in_water_notes_follow_the_profile(
    planner: Planner,
) -> None:
    feed, decisions = new_patient()
    plan = await scheduled(
        planner, feed, decisions, knee_painful_on_palpation=True, severe_swelling=True
    )
    assert plan[0]["notes"] == ["R-NO-KNEE-WHEN-PAINFUL", "R-IN-WATER"]
    assert plan[0]["sequence"] == [LOWER_BACK, THIGH, NEARBY_MUSCLES, CONCLUSION]


async def test_story_2_r_flare_suspends_and_r_remission_resumes_with_ramp_from_seven(
    planner: Planner,
) -> None:
    feed, decisions = new_patient()
    flare_on, events = await flare_after_session_six(planner, feed, decisions)
    assert types(events) == ["scheduled", "suspended"]
    suspended = events[-1]["data"]
    assert suspended["status"] == "suspended"
    assert suspended["rules"] == ["R-FLARE"]
    assert suspended["cancelled_session_ids"] == [f"C1-s{n:02d}" for n in range(7, 16)]
    assert suspended["sessions"] == []
    assert suspended["completed_sessions"] == 6
    assert events[-1]["causationid"] == planner.sent[-1]

    confirmed_on = flare_on + timedelta(days=10)
    await planner.decide(decisions.eligible(confirmed_on))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    resumed = events[-1]["data"]
    assert resumed["status"] == "active"
    assert "R-REMISSION" in resumed["rules"]
    assert len(resumed["sessions"]) == 9
    assert days(resumed["sessions"])[0] == next_open_on_or_after(confirmed_on + timedelta(1))
    assert [s["duration_min"] for s in resumed["sessions"]] == list(range(7, 16))
    assert [s["number"] for s in resumed["sessions"]] == list(range(7, 16))
    assert [e["data"]["version"] for e in events] == [1, 2, 3]


async def test_story_3_r_rheum_wait_resumes_a_month_after_the_exacerbation_ended(
    planner: Planner,
) -> None:
    feed, decisions = new_patient()
    flare_on, _ = await flare_after_session_six(
        planner, feed, decisions, rheumatic_inflammation=True
    )
    ended_on = flare_on + timedelta(days=8)
    wait_until = add_months(ended_on, 1)
    await planner.decide(
        decisions.blocked(
            ended_on + timedelta(days=2), "R-RHEUM-WAIT", ended_on + timedelta(days=1),
            wait_until, eligible_from=wait_until,
        )
    )  # fmt: skip
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    resumed = events[-1]["data"]
    assert days(resumed["sessions"])[0] == next_open_on_or_after(wait_until)
    assert "R-RHEUM-WAIT" in resumed["rules"]
    await planner.decide(decisions.eligible(wait_until))
    assert len(await planner.published(feed.patient)) == 3  # the known day came: no change


async def test_story_4_r_contra_fever_suspends_and_resolution_resumes(planner: Planner) -> None:
    feed, decisions = new_patient()
    plan = await scheduled(planner, feed, decisions)
    await planner.complete(feed, plan[:3])
    await planner.handled()
    fever_on = days(plan)[3]
    await planner.decide(decisions.blocked(fever_on, "R-CONTRA-FEVER", fever_on))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "suspended"]
    assert events[-1]["data"]["rules"] == ["R-CONTRA-FEVER"]
    assert events[-1]["data"]["completed_sessions"] == 3

    resolved_on = fever_on + timedelta(days=3)
    await planner.decide(decisions.eligible(resolved_on))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "suspended", "resumed"]
    resumed = events[-1]["data"]["sessions"]
    assert days(resumed)[0] == next_open_on_or_after(resolved_on + timedelta(days=1))
    assert resumed[0]["duration_min"] == 7
    assert len(resumed) == 12


async def test_story_5_r_postop_surgery_cancels_and_rehab_waits_for_day_14(
    planner: Planner,
) -> None:
    feed, decisions = new_patient()
    plan = await scheduled(planner, feed, decisions)
    await planner.complete(feed, plan[:5])
    surgery_on = days(plan)[5]
    await planner.send(feed.surgery(surgery_on))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "cancelled"]
    cancelled = events[-1]["data"]
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "surgery")
    assert cancelled["rules"] == ["R-POSTOP"]
    assert cancelled["sessions"] == []
    assert cancelled["completed_sessions"] == 5

    day_14, cleared_on = surgery_on + timedelta(days=14), surgery_on + timedelta(days=5)
    await planner.decide(
        decisions.blocked(surgery_on, "R-POSTOP", surgery_on),
        decisions.blocked(cleared_on, "R-POSTOP", surgery_on, day_14, eligible_from=day_14),
    )
    await planner.handled()
    await planner.send(feed.prescription(cleared_on, "REHAB"))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "cancelled", "scheduled"]
    rehab = events[-1]["data"]
    assert (rehab["course_id"], rehab["status"], rehab["version"]) == ("REHAB", "pending", 1)
    # R-COURSE-BREAK counts from the cancelled course's last session done, here the later day
    break_ends = add_months(days(plan)[4], 1)
    assert days(rehab["sessions"])[0] == next_open_on_or_after(max(day_14, break_ends))
    assert "R-COURSE-BREAK" in rehab["rules"]
    await planner.decide(decisions.eligible(day_14))
    events = await planner.published(feed.patient)  # the known day: the wire says active
    assert types(events) == ["scheduled", "cancelled", "scheduled", "scheduled"]
    active = events[-1]["data"]
    assert (active["course_id"], active["status"], active["version"]) == ("REHAB", "active", 2)
    assert active["sessions"] == rehab["sessions"]


async def test_story_6_r_course_break_and_r_courses_per_year(planner: Planner) -> None:
    feed, decisions = new_patient()
    plan = await scheduled(planner, feed, decisions)
    await planner.complete(feed, plan)
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "completed"]
    completed = events[-1]["data"]
    last = days(plan)[-1]
    assert completed["status"] == "completed"
    assert completed["completed_sessions"] == 15
    assert completed["rules"] == ["R-COURSES-PER-YEAR"]
    open_days = ClinicCalendar("Europe/Berlin")  # the default calendar: Monday to Saturday
    break_ends = open_days.next_open_on_or_after(add_months(last, 1))  # R-COURSE-BREAK
    assert completed["next_course_earliest_on"] == break_ends.isoformat()
    assert completed["next_course_due_by"] == add_months(D, 6).isoformat()

    ten_days_later = last + timedelta(days=10)
    await planner.send(feed.prescription(ten_days_later, "C2"))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "completed", "scheduled"]
    second = events[-1]["data"]
    assert second["course_id"] == "C2"
    assert "R-COURSE-BREAK" in second["rules"]
    assert days(second["sessions"])[0] == next_open_on_or_after(add_months(last, 1))


async def test_story_7_r_session_pain_moves_to_the_end_and_two_in_a_row_are_flagged(
    planner: Planner,
) -> None:
    feed, decisions = new_patient()
    plan = await scheduled(planner, feed, decisions)
    await planner.complete(feed, plan[:3])
    await planner.send(feed.not_performed(plan[3], "severe_pain"))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "rescheduled"]
    moved = events[-1]["data"]
    assert "R-SESSION-PAIN" in moved["rules"]
    after = moved["sessions"]
    assert after[-1]["session_id"] == "C1-s04"
    assert days(after)[-1] > days(plan)[-1]
    assert days(after)[:-1] == days(plan)[4:]
    assert len(after) == 12
    assert all(c["from_on"] and c["to_on"] for c in moved["changes"])

    await planner.send(feed.not_performed(after[0], "discomfort"))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "rescheduled", "rescheduled", "review_requested"]
    review = events[-1]["data"]
    assert review["session_ids"] == ["C1-s04", "C1-s05"]
    assert review["rules"] == ["R-SESSION-PAIN"]
    # the flag refers to the course as last published; it changes no plan, so no new version
    assert review["version"] == events[-2]["data"]["version"] == 3
    assert review["sessions"] == events[-2]["data"]["sessions"]
    assert review["status"] == "active"


async def test_story_8_r_pt_before_massage_ends_when_physical_therapy_starts(
    planner: Planner,
) -> None:
    feed, decisions = new_patient()
    plan = await scheduled(planner, feed, decisions)
    await planner.complete(feed, plan[:5])
    session = open_sessions({"data": {"sessions": plan}}, plan[:5])[0]
    assert session["duration_min"] == 12
    session_on = date.fromisoformat(session["on"])
    await planner.send(feed.physical_therapy(local(session_on, 10, 30)))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "rescheduled"]
    rescheduled = events[-1]["data"]
    assert rescheduled["rules"] == ["R-PT-BEFORE"]
    assert rescheduled["sessions"][0]["starts_at"] == local(session_on, 10, 18).isoformat()
    (change,) = rescheduled["changes"]
    assert change["session_id"] == session["session_id"]
    assert change["from_starts_at"] == local(session_on, 9).isoformat()
    assert change["to_starts_at"] == local(session_on, 10, 18).isoformat()
