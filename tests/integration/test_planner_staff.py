"""The planner consumes the staff topic: each clinic's roster is stored under its clinic key,
and bad staff events are dead-lettered like patient events."""

import itertools
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest

from schemas.codec import to_bytes
from services.planner.capacity.roster import Stretch
from services.planner.clinic_repository import ClinicRepository
from tests.integration.test_planner_support import D, Planner, new_patient, started_planner
from tests.staff_events import StaffFeed


@pytest.fixture
async def planner(bootstrap: str, suffix: str) -> AsyncIterator[Planner]:
    async with started_planner(bootstrap, suffix) as running_planner:
        yield running_planner


def monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


async def test_a_clinics_roster_is_stored_once_however_often_it_is_sent(planner: Planner) -> None:
    feed, monday = StaffFeed(), monday_on_or_after(D)
    rostered = feed.rostered("T1", monday)
    await planner.staff(rostered, feed.rostered("T2", monday), rostered)
    await planner.staff(feed.absent("T2", monday, monday))
    await planner.handled()
    async with planner.runtime.pool.acquire() as conn:
        state = (await ClinicRepository().load_many(conn, [feed.clinic]))[feed.clinic]
    assert len(state.facts) == 3
    assert state.roster.stretches_on("T1", monday) == (Stretch(480, 720), Stretch(780, 1020))
    assert state.roster.stretches_on("T2", monday) == ()
    assert await planner.dead_letters() == []


async def test_bad_staff_events_are_dead_lettered(planner: Planner) -> None:
    feed, monday = StaffFeed(), monday_on_or_after(D)
    topic = f"staff-{planner.suffix}"
    await planner.send_raw(topic, feed.clinic, b'{"not": "an event"}')
    await planner.send_raw(topic, "another-clinic", to_bytes(feed.rostered("T1", monday)))
    dead = await planner.dead_letters()
    assert len(dead) == 2
    reasons = {dict(record.headers).get("x-error", b"").decode() for record in dead}
    assert any("clinic_id" in reason for reason in reasons), reasons
    async with planner.runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM clinics") == 0


async def test_with_a_roster_every_session_gets_a_therapist_and_no_two_overlap(
    planner: Planner,
) -> None:
    staff, monday = StaffFeed("north"), monday_on_or_after(D)
    hours = [(weekday, "08:00", "10:00") for weekday in range(6)]
    await planner.staff(
        *(staff.rostered(t, monday - timedelta(days=7), hours) for t in ("T1", "T2"))
    )
    await planner.handled()
    feeds = [new_patient()[0] for _ in range(6)]
    await planner.send(*(e for feed in feeds for e in (feed.enrolled(D), feed.prescription(D))))
    await planner.handled()
    sessions = []
    for feed in feeds:
        (scheduled,) = await planner.published(feed.patient)
        sessions += [(feed.patient, s) for s in scheduled["data"]["sessions"]]
    assert {s["therapist_id"] for _, s in sessions} == {"T1", "T2"}
    spans = sorted(
        (s["therapist_id"], datetime.fromisoformat(s["starts_at"]), s["duration_min"])
        for _, s in sessions
    )
    for (t1, start1, minutes1), (t2, start2, _) in itertools.pairwise(spans):
        if t1 == t2:
            assert start1 + timedelta(minutes=minutes1 + 5) <= start2
    async with planner.runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM bookings") == len(sessions)


async def test_r_therapist_absent_moves_the_sessions_of_the_absent_day_to_another_therapist(
    planner: Planner,
) -> None:
    staff, monday = StaffFeed("north"), monday_on_or_after(D)
    hours = [(weekday, "08:00", "12:00") for weekday in range(6)]
    await planner.staff(staff.rostered("T1", monday - timedelta(days=7), hours))
    await planner.handled()
    feed = new_patient()[0]
    await planner.send(feed.enrolled(D), feed.prescription(D))
    (scheduled,) = await planner.published(feed.patient)
    first = scheduled["data"]["sessions"][0]
    assert first["therapist_id"] == "T1"
    absent_on = date.fromisoformat(first["on"])
    await planner.staff(staff.rostered("T2", monday - timedelta(days=7), hours))
    await planner.staff(staff.absent("T1", absent_on, absent_on))
    events = await planner.published(feed.patient)
    assert [e["type"] for e in events][-1] == "courseflow.course.rescheduled"
    rescheduled = events[-1]["data"]
    assert rescheduled["rules"][0] == "R-THERAPIST-ABSENT"
    assert rescheduled["version"] == scheduled["data"]["version"] + 1
    (change,) = [c for c in rescheduled["changes"] if c["session_id"] == first["session_id"]]
    assert (change["from_therapist_id"], change["to_therapist_id"]) == ("T1", "T2")
    assert change["to_on"] == first["on"]  # another therapist the same day (R-CAPACITY)
    async with planner.runtime.pool.acquire() as conn:
        on_absent_day = await conn.fetch(
            "SELECT therapist_id FROM bookings WHERE starts_at::date = $1", absent_on
        )
    assert {row["therapist_id"] for row in on_absent_day} == {"T2"}


async def test_a_first_roster_places_every_course_under_way_in_the_clinic_now(
    planner: Planner,
) -> None:
    feeds = [new_patient()[0] for _ in range(3)]
    await planner.send(*(e for feed in feeds for e in (feed.enrolled(D), feed.prescription(D))))
    for feed in feeds:
        (scheduled,) = await planner.published(feed.patient)
        assert {s["therapist_id"] for s in scheduled["data"]["sessions"]} == {None}
    staff, monday = StaffFeed("north"), monday_on_or_after(D)
    hours = [(weekday, "08:00", "12:00") for weekday in range(6)]
    await planner.staff(
        *(staff.rostered(t, monday - timedelta(days=7), hours) for t in ("T1", "T2"))
    )
    placed = 0
    for feed in feeds:
        scheduled, rescheduled = await planner.published(feed.patient)
        assert rescheduled["type"] == "courseflow.course.rescheduled"
        assert rescheduled["data"]["rules"][0] == "R-ROSTER"
        assert rescheduled["data"]["version"] == scheduled["data"]["version"] + 1
        sessions = rescheduled["data"]["sessions"]
        assert all(s["therapist_id"] in ("T1", "T2") and s["starts_at"] for s in sessions)
        placed += len(sessions)
    async with planner.runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM bookings") == placed
        assert (
            await conn.fetchval("SELECT count(*) FROM patients WHERE courses_to_place <> '{}'") == 0
        )


async def test_a_shortage_is_told_once_and_a_new_therapist_places_the_waiting_sessions(
    planner: Planner,
) -> None:
    staff, monday = StaffFeed("north"), monday_on_or_after(D)
    hours = [(weekday, "08:00", "12:00") for weekday in range(6)]
    last_day = D + timedelta(days=9)
    await planner.staff(
        staff.rostered("T1", monday - timedelta(days=7), hours), staff.left("T1", last_day)
    )
    await planner.handled()
    feed = new_patient()[0]
    await planner.send(feed.enrolled(D), feed.prescription(D))
    (scheduled,) = await planner.published(feed.patient)
    waiting = [s for s in scheduled["data"]["sessions"] if date.fromisoformat(s["on"]) > last_day]
    assert waiting
    assert {s["therapist_id"] for s in waiting} == {None}  # shown as the core dated them
    assert scheduled["data"]["capacity_shortage_on"] == [s["on"] for s in waiting]
    assert "R-CAPACITY" in scheduled["data"]["rules"]
    await planner.staff(staff.rostered("T2", monday - timedelta(days=7), hours))
    *_, rescheduled = await planner.published(feed.patient)
    assert rescheduled["type"] == "courseflow.course.rescheduled"
    assert rescheduled["data"]["rules"][0] == "R-ROSTER"
    assert "capacity_shortage_on" not in rescheduled["data"]
    assert "R-CAPACITY" not in rescheduled["data"]["rules"]
    assert all(s["therapist_id"] for s in rescheduled["data"]["sessions"])
