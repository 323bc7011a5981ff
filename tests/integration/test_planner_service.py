"""The planner service's guarantees on the real broker and database: two topics give one
truth, bad input is dead-lettered or ignored, reminders are durable, a crash loses nothing."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from schemas.codec import new_event, to_bytes
from schemas.schedule import CourseScheduled
from services.planner.app import reminder_loop
from services.planner.cadence import Cadence, session_dates
from services.planner.calendar import ClinicCalendar
from services.planner.courses import project_courses
from services.planner.policy import DEFAULT_POLICY
from services.planner.repository import PlannerRepository
from services.planner.state import PatientState
from services.runtime import failpoints
from services.runtime.launcher import ServiceProcess
from services.runtime.topics import ensure_topics
from tests.clinic_events import wire
from tests.integration.conftest import as_service
from tests.integration.kafka_io import produce, read_until
from tests.integration.test_planner_support import (
    PARTITIONS,
    ZONE,
    D,
    Decisions,
    Planner,
    PlannerFeed,
    Session,
    days,
    new_patient,
    open_sessions,
    started_planner,
    types,
)


@pytest.fixture
async def planner(bootstrap: str, suffix: str) -> AsyncIterator[Planner]:
    async with started_planner(bootstrap, suffix) as running_planner:
        yield running_planner


async def stored_state(planner: Planner, patient: str) -> PatientState:
    async with planner.runtime.pool.acquire() as conn:
        return (await PlannerRepository().load_many(conn, [patient]))[patient]


async def story_2_in_clinical_order(
    planner: Planner, feed: PlannerFeed, decisions: Decisions
) -> list[Session]:
    """Each step waits for the one before: the order the story is told in."""
    await planner.send(feed.enrolled(D), feed.prescription(D))
    await planner.decide(decisions.eligible(D))
    (scheduled,) = await planner.published(feed.patient)
    plan: list[Session] = scheduled["data"]["sessions"]
    await planner.complete(feed, plan[:6])
    await planner.handled()
    flare_on = days(plan)[6] - timedelta(days=1)
    await planner.decide(decisions.blocked(flare_on, "R-FLARE", flare_on))
    await planner.handled()
    await planner.decide(decisions.eligible(flare_on + timedelta(days=10)))
    return plan


async def test_r_remission_story_2_with_all_decisions_first_gives_the_same_final_plan(
    planner: Planner,
) -> None:
    in_order, in_order_decisions = new_patient()
    plan = await story_2_in_clinical_order(planner, in_order, in_order_decisions)
    first = await planner.published(in_order.patient)
    assert types(first) == ["scheduled", "suspended", "resumed"]

    decisions_first, decisions = new_patient()
    flare_on = days(plan)[6] - timedelta(days=1)
    await planner.decide(
        decisions.eligible(D),
        decisions.blocked(flare_on, "R-FLARE", flare_on),
        decisions.eligible(flare_on + timedelta(days=10)),
    )
    await planner.handled()
    await planner.send(decisions_first.enrolled(D), decisions_first.prescription(D))
    await planner.complete(decisions_first, plan[:6])
    second = await planner.published(decisions_first.patient)
    # the remission was known when the course was prescribed: one event, the gap already in it
    assert types(second) == ["scheduled"]

    def final(events: list[dict[str, Any]]) -> tuple[str, list[Session]]:
        return events[-1]["data"]["status"], open_sessions(events[-1], plan[:6])

    assert final(second) == final(first)
    calendar = ClinicCalendar(ZONE)
    courses = [
        project_courses(await stored_state(planner, p), calendar, DEFAULT_POLICY)
        for p in (in_order.patient, decisions_first.patient)
    ]
    assert [c.plan for c in courses[0]] == [c.plan for c in courses[1]]
    assert [c.completed_sessions for c in courses[0]] == [c.completed_sessions for c in courses[1]]


async def test_r_course_length_unknown_course_and_session_and_foreign_types_are_dead_lettered(
    planner: Planner,
) -> None:
    feed, _ = new_patient()
    too_short = json.loads(to_bytes(feed.prescription(D, "SHORT")))
    too_short["data"]["sessions"] = 14
    await planner.send_raw(f"clinic-{planner.suffix}", feed.patient, json.dumps(too_short).encode())
    await planner.send(feed.enrolled(D), feed.prescription(D))
    (scheduled,) = await planner.published(feed.patient)
    plan = scheduled["data"]["sessions"]
    unknown_session = {**plan[0], "session_id": "C1-s99"}
    await planner.send(
        feed.completed(plan[0], course_id="NO-SUCH-COURSE"),
        feed.not_performed(unknown_session, "severe_pain"),
    )
    not_a_decision = new_event(
        CourseScheduled, source="/courseflow/planner", subject=feed.patient,
        data=scheduled["data"], time=scheduled["time"],
    )  # fmt: skip
    await planner.decide(not_a_decision)

    dead = await planner.dead_letters()
    reasons = sorted(dict(r.headers)["x-error"].decode() for r in dead)
    assert len(reasons) == 4, reasons
    assert reasons[0].startswith("data.sessions: Input should be greater than or equal to 15")
    assert reasons[1].startswith("unexpected event type")
    assert reasons[2].startswith("unknown course")
    assert reasons[3].startswith("unknown session")
    assert {dict(r.headers)["x-consumer"] for r in dead} == {planner.runtime.name.encode()}
    assert await planner.published(feed.patient) == [scheduled]  # the plan is untouched
    assert [p.course_id for p in (await stored_state(planner, feed.patient)).prescriptions] == [
        "C1"
    ]


async def test_a_completed_session_reported_twice_is_an_idempotent_no_op(
    planner: Planner,
) -> None:
    feed, _ = new_patient()
    await planner.send(feed.enrolled(D), feed.prescription(D))
    (scheduled,) = await planner.published(feed.patient)
    first = scheduled["data"]["sessions"][0]
    await planner.complete(feed, [first, first])  # two reports, two event ids
    await planner.send(feed.not_performed(scheduled["data"]["sessions"][1], "severe_pain"))
    events = await planner.published(feed.patient)
    assert types(events) == ["scheduled", "rescheduled"]
    assert events[-1]["data"]["completed_sessions"] == 1
    assert await planner.dead_letters() == []
    # reported as not performed after it was done: a contradiction for operators to see
    await planner.send(feed.not_performed(first, "severe_pain"))
    (dead,) = await planner.dead_letters()
    assert dict(dead.headers)["x-error"].startswith(b"session already completed")
    assert len(await planner.published(feed.patient)) == 2
    attempts = (await stored_state(planner, feed.patient)).attempts
    assert [a.session_id for a in attempts if a.completed] == [first["session_id"]]


async def test_r_courses_per_year_reminder_timer_fires_once_only_without_a_new_course(
    planner: Planner,
) -> None:
    reminded, _ = new_patient()
    prescribed_again, _ = new_patient()
    for feed in (reminded, prescribed_again):
        await planner.send(feed.enrolled(D), feed.prescription(D))
        (scheduled,) = await planner.published(feed.patient)
        await planner.complete(feed, scheduled["data"]["sessions"])
    await planner.send(prescribed_again.prescription(D + timedelta(days=60), "C2"))
    completed = (await planner.published(reminded.patient))[-1]["data"]
    due_by = completed["next_course_due_by"]
    fire_on = D.fromisoformat(due_by) - timedelta(days=14)

    runtime, service = planner.runtime, planner.service
    timers = reminder_loop(runtime.pool, runtime.schema, service, runtime.log)
    planner.clock.today = fire_on - timedelta(days=1)
    assert await timers.tick() == 0
    planner.clock.today = fire_on
    assert await timers.tick() == 2  # one reminder per completed course
    assert await timers.tick() == 0  # fired once, not again

    events = await planner.published(reminded.patient)
    assert types(events) == ["scheduled", "completed", "next_due"]
    next_due = events[-1]
    assert next_due["data"]["version"] == completed["version"] + 1
    assert next_due["data"]["rules"] == ["R-COURSES-PER-YEAR"]
    assert next_due["data"]["next_course_due_by"] == due_by
    assert next_due["causationid"].startswith("reminder:")
    assert types(await planner.published(prescribed_again.patient)) == [
        "scheduled", "completed", "scheduled",
    ]  # fmt: skip


async def test_killed_mid_stream_and_restarted_loses_and_doubles_no_schedule_event(
    bootstrap: str, suffix: str
) -> None:
    feed, decisions = new_patient()
    topics = {"patient_events": f"clinic-{suffix}", "eligibility": f"elig-{suffix}",
              "schedule": f"sched-{suffix}", "dead_letters": f"dead-{suffix}"}  # fmt: skip
    env = {f"COURSEFLOW_PLANNER_TOPIC_{k.upper()}": v for k, v in topics.items()} | {
        "COURSEFLOW_PLANNER_TOPIC_PARTITIONS": str(PARTITIONS),
        "COURSEFLOW_PLANNER_CLINIC_TIMEZONE": ZONE,
        "COURSEFLOW_PLANNER_OUTBOX_POLL_INTERVAL_S": "0.2",
        "COURSEFLOW_PLANNER_LOG_FORMAT": "json",
        "COURSEFLOW_PLANNER_HTTP_PORT": "0",
    }
    await ensure_topics(bootstrap, topics.values(), partitions=PARTITIONS)

    async def send(topic: str, *events: Any) -> None:
        for event in events:
            key, value = wire(event)
            await produce(bootstrap, topic, value, key=key)

    await send(topics["patient_events"], feed.enrolled(D), feed.prescription(D))
    await send(topics["eligibility"], decisions.eligible(D))
    env = as_service("planner", env)
    crash = {**env, "COURSEFLOW_FAILPOINTS": "after_db_commit"}
    assert await ServiceProcess("planner", crash).exit_code(timeout_s=40) == failpoints.EXIT_CODE

    plan = session_dates(D, 15, Cadence.EVERY_OTHER_DAY, ClinicCalendar(ZONE))
    sessions = [{"session_id": f"C1-s{n:02d}", "on": day.isoformat()}
                for n, day in enumerate(plan[:6], start=1)]  # fmt: skip
    await send(topics["patient_events"], *(feed.completed(s) for s in sessions))
    await send(topics["patient_events"], feed.surgery(plan[6]))

    def cancelled(records: list[Any]) -> bool:
        return any(json.loads(r.value)["type"] == "courseflow.course.cancelled" for r in records)

    async with ServiceProcess("planner", env).running():
        records = await read_until(bootstrap, topics["schedule"], cancelled, timeout_s=40)
    events = [json.loads(r.value) for r in records if r.key == feed.patient.encode()]
    distinct = {e["id"]: e for e in events}.values()
    assert types(list(distinct)) == ["scheduled", "cancelled"]
    assert [e["data"]["version"] for e in distinct] == [1, 2]
    assert [e["data"]["completed_sessions"] for e in distinct] == [0, 6]


async def test_a_course_id_prescribed_again_is_a_duplicate_unchanged_and_dead_lettered_changed(
    planner: Planner,
) -> None:
    feed, _ = new_patient()
    await planner.send(feed.enrolled(D), feed.prescription(D))
    (scheduled,) = await planner.published(feed.patient)
    dead_before = len(await planner.dead_letters())
    await planner.send(feed.prescription(D))  # a new event id, the same terms
    assert await planner.published(feed.patient) == [scheduled]
    assert len(await planner.dead_letters()) == dead_before

    await planner.send(feed.prescription(D, sessions=17))
    dead = (await planner.dead_letters())[dead_before:]
    (reason,) = [dict(r.headers)["x-error"].decode() for r in dead]
    assert reason.startswith("course already prescribed with other terms")
    assert "17" not in reason
    assert await planner.published(feed.patient) == [scheduled]
    (stored,) = (await stored_state(planner, feed.patient)).prescriptions
    assert stored.sessions == 15
