"""DOMAIN.md's stories 11 and 12 end to end: therapists and time (R-CAPACITY,
R-NO-OVERLAP, R-CONTINUITY, R-THERAPIST-ABSENT). Each story has a clinic of its own, so the
other stories' clinic keeps no roster and date-only plans."""

import itertools
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import partial

import pytest

from tests.e2e.clinic import CLINIC_TZ, Clinic, Session, next_monday, today
from tests.e2e.system import THERAPISTS, Event, System
from tests.staff_events import StaffFeed

pytestmark = pytest.mark.e2e

TURNOVER_MIN = 5
MORNINGS = [(weekday, "08:00", "12:00") for weekday in range(6)]


def starts(session: Session) -> datetime:
    return datetime.fromisoformat(session["starts_at"]).astimezone(CLINIC_TZ)


def no_overlap_inside_hours(sessions: list[Session]) -> None:
    by_therapist: dict[str, list[Session]] = defaultdict(list)
    for session in sessions:
        assert session["therapist_id"] is not None, session
        start = starts(session)
        assert start.date().isoformat() == session["on"]
        end = start + timedelta(minutes=session["duration_min"])
        assert (start.hour, start.minute) >= (8, 0)
        assert (end.hour, end.minute) <= (12, 0)
        by_therapist[session["therapist_id"]].append(session)
    for own in by_therapist.values():
        ordered = sorted(own, key=starts)
        for first, second in itertools.pairwise(ordered):
            gap = timedelta(minutes=first["duration_min"] + TURNOVER_MIN)
            assert starts(first) + gap <= starts(second), (first, second)


def first_rescheduled(system: System, patient: str) -> Event | None:
    events = system.schedule(patient)
    return next((e for e in events if e["type"] == "courseflow.course.rescheduled"), None)


async def rostered_clinic(system: System, monday: date) -> StaffFeed:
    staff = StaffFeed(f"story-{uuid.uuid4().hex[:8]}")
    week_before = monday - timedelta(days=7)
    await system.staff(*(staff.rostered(t, week_before, MORNINGS) for t in ("T1", "T2")))
    await system.consumed()
    return staff


async def prescribed(system: System, staff: StaffFeed, monday: date, count: int) -> list[Event]:
    patients = [Clinic(clinic_id=staff.clinic) for _ in range(count)]
    sent_on = today()
    for clinic in patients:
        await system.send(clinic.enrolled(sent_on), clinic.prescription(monday, sent_on=sent_on))
    return [(await system.schedule_events(c.patient, 1))[0] for c in patients]


async def test_story_11_twenty_patients_the_same_monday_get_therapists_and_times(
    system: System,
) -> None:
    monday = next_monday(today())
    staff = await rostered_clinic(system, monday)
    scheduled = await prescribed(system, staff, monday, 20)
    sessions = [s for event in scheduled for s in event["data"]["sessions"]]
    no_overlap_inside_hours(sessions)
    for event in scheduled:
        course = event["data"]["sessions"]
        assert len({s["therapist_id"] for s in course}) == 1  # R-CONTINUITY
        assert course[0]["on"] >= monday.isoformat()
    assert {s["therapist_id"] for s in sessions} == {"T1", "T2"}
    assert any(starts(s).hour == 9 and starts(s).minute == 0 for s in sessions)  # preferred


async def test_story_12_an_absence_moves_the_therapists_sessions_naming_the_rule(
    system: System,
) -> None:
    monday = next_monday(today())
    staff = await rostered_clinic(system, monday)
    scheduled = await prescribed(system, staff, monday, 6)
    absent = (monday, monday + timedelta(days=2))
    hit = [
        e for e in scheduled
        if any(s["therapist_id"] == "T1" and absent[0].isoformat() <= s["on"]
               <= absent[1].isoformat() for s in e["data"]["sessions"])
    ]  # fmt: skip
    assert hit
    await system.staff(staff.absent("T1", *absent))
    for event in hit:
        patient = event["subject"]
        rescheduled = await system.until(partial(first_rescheduled, system, patient))
        assert rescheduled["data"]["rules"][0] == "R-THERAPIST-ABSENT"
        for change in rescheduled["data"]["changes"]:
            assert change["from_therapist_id"] == "T1"
            assert change["to_therapist_id"] is not None
        moved = rescheduled["data"]["sessions"]
        assert not [
            s for s in moved
            if s["therapist_id"] == "T1" and absent[0].isoformat() <= s["on"]
            <= absent[1].isoformat()
        ]  # fmt: skip
    await system.consumed()
    latest = [system.schedule(e["subject"])[-1] for e in scheduled]
    no_overlap_inside_hours([s for event in latest for s in event["data"]["sessions"]])
    told = [await told_of_the_absence(system, e["subject"]) for e in hit]
    assert {recipient for one in told for recipient in one} >= set(THERAPISTS.values())


async def told_of_the_absence(system: System, patient: str) -> set[str]:
    """Each therapist a rescheduling moves sessions from or to, and the front desk, are told
    of it once: one notice per cause, kind and recipient, no notice id twice."""
    rescheduled = first_rescheduled(system, patient)
    assert rescheduled is not None
    cause = rescheduled["id"]
    moved = {t for c in rescheduled["data"]["changes"]
             for t in (c["from_therapist_id"], c["to_therapist_id"])}  # fmt: skip
    expected = {("therapist_schedule_changed", THERAPISTS[t]) for t in moved}
    expected.add(("sessions_rescheduled", "front-desk"))

    def of_the_cause() -> list[Event] | None:
        notices = [n["data"] for n in system.notices(patient) if n["data"]["cause_id"] == cause]
        kinds = {(n["kind"], n["recipient"]) for n in notices}
        return notices if kinds >= expected else None

    notices = await system.until(of_the_cause)
    await system.consumed()
    ids = [n["data"]["notice_id"] for n in system.notices(patient)]
    assert len(ids) == len(set(ids))
    told = Counter((n["kind"], n["recipient"]) for n in notices)
    assert {key: told[key] for key in expected} == dict.fromkeys(expected, 1)
    therapists = {key for key in told if key[0] == "therapist_schedule_changed"}
    assert therapists == {key for key in expected if key[0] == "therapist_schedule_changed"}
    return {recipient for kind, recipient in told if kind == "therapist_schedule_changed"}


async def test_a_shortage_waits_and_the_front_desk_is_told_once_naming_the_days(
    system: System,
) -> None:
    """R-CAPACITY: nobody is free for the course's later sessions within the horizon (the one
    therapist leaves); those sessions wait without therapist or time, the event names their
    days and R-CAPACITY, and the front desk gets one `capacity_shortage` notice of it."""
    monday = next_monday(today())
    staff = StaffFeed(f"shortage-{uuid.uuid4().hex[:8]}")
    last_day = monday + timedelta(days=3)
    await system.staff(
        staff.rostered("T1", monday - timedelta(days=7), MORNINGS), staff.left("T1", last_day)
    )
    await system.consumed()
    (scheduled,) = await prescribed(system, staff, monday, 1)
    data = scheduled["data"]
    waiting = [s for s in data["sessions"] if s["on"] > last_day.isoformat()]
    assert waiting
    assert all(s["therapist_id"] is None and s["starts_at"] is None for s in waiting)
    assert data["capacity_shortage_on"] == [s["on"] for s in waiting]
    assert "R-CAPACITY" in data["rules"]
    no_overlap_inside_hours([s for s in data["sessions"] if s["on"] <= last_day.isoformat()])

    def shortage_notices() -> list[Event] | None:
        notices = [n["data"] for n in system.notices(scheduled["subject"])
                   if n["data"]["kind"] == "capacity_shortage"]  # fmt: skip
        return notices or None

    (notice,) = await system.until(shortage_notices)
    assert (notice["recipient"], notice["cause_id"]) == ("front-desk", scheduled["id"])
    assert waiting[0]["on"] in notice["summary"]
    await system.consumed()
    assert len(shortage_notices() or []) == 1


async def test_time_a_patient_gives_up_goes_to_a_course_waiting_for_it(system: System) -> None:
    """R-CAPACITY: one therapist with time for one session a morning, so a second daily course
    waits whole. When the first is cancelled (knee surgery, R-POSTOP), its mornings go to the
    waiting course: rescheduled naming R-CAPACITY, every session given, the front desk told."""
    monday = next_monday(today())
    staff = StaffFeed(f"freed-{uuid.uuid4().hex[:8]}")
    one_a_morning = [(weekday, "08:00", "08:15") for weekday in range(6)]
    await system.staff(staff.rostered("T1", monday - timedelta(days=7), one_a_morning))
    await system.consumed()
    first, second = Clinic(clinic_id=staff.clinic), Clinic(clinic_id=staff.clinic)
    for clinic in (first, second):  # one after the other: the first takes every morning
        data = {"course_id": "C1", "sessions": 15, "cadence": "daily",
                "start_on": monday.isoformat()}  # fmt: skip
        await system.send(
            clinic.enrolled(today()), clinic.event("clinic.course.prescribed", today(), data)
        )
        (scheduled,) = await system.schedule_events(clinic.patient, 1)
    waiting = scheduled["data"]
    assert waiting["capacity_shortage_on"] == [s["on"] for s in waiting["sessions"]]

    await system.send(first.surgery(today()))
    rescheduled = await system.until(partial(first_rescheduled, system, second.patient))
    data = rescheduled["data"]
    assert data["rules"].count("R-CAPACITY") == 1
    assert not data.get("capacity_shortage_on")
    assert all(s["therapist_id"] == "T1" for s in data["sessions"])
    no_overlap_inside_hours(data["sessions"])

    def front_desk_told() -> list[Event] | None:
        notices = [n for n in system.notices(second.patient)
                   if n["data"]["cause_id"] == rescheduled["id"]
                   and n["data"]["kind"] == "sessions_rescheduled"]  # fmt: skip
        return notices or None

    (notice,) = await system.until(front_desk_told)
    assert notice["data"]["recipient"] == "front-desk"
