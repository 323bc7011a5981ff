"""The bench's event scripts: when sessions are performed (`bench.workload.OUTCOMES`)."""

import json
from datetime import date, timedelta
from typing import Any

from bench.workload import PLAN_CALENDAR, Message, generate
from services.planner.cadence import Cadence, session_dates

PATIENTS, EVENTS = 60, 900  # 15 events each: every session of a course is scripted


def _events(outcomes: str) -> list[dict[str, Any]]:
    messages = generate(PATIENTS, EVENTS, seed=3, run="t", outcomes=outcomes)
    return [json.loads(message.value) for message in messages]


def _outcome_days(events: list[dict[str, Any]]) -> dict[str, date]:
    outcome_types = ("clinic.session.completed", "clinic.session.not_performed")
    return {
        e["data"]["session_id"]: date.fromisoformat(e["time"][:10])
        for e in events
        if e["type"] in outcome_types
    }


def _plans(events: list[dict[str, Any]]) -> dict[str, tuple[date, ...]]:
    return {
        e["data"]["course_id"]: session_dates(
            date.fromisoformat(e["data"]["start_on"]),
            e["data"]["sessions"],
            Cadence(e["data"]["cadence"]),
            PLAN_CALENDAR,
        )
        for e in events
        if e["type"] == "clinic.course.prescribed"
    }


def _today(events: list[dict[str, Any]]) -> date:
    """The scripts' today: every enrolment is dated 30 days before it."""
    enrolled = next(e for e in events if e["type"] == "clinic.patient.enrolled")
    return date.fromisoformat(enrolled["time"][:10]) + timedelta(days=30)


def _undated(messages: list[Message]) -> list[tuple[bytes, str, dict[str, Any]]]:
    """Each event but for its ids and the day its session was performed."""
    undated = []
    for message in messages:
        data = dict(json.loads(message.value)["data"])
        data.pop("performed_at", None)
        undated.append((message.key, message.event_type, data))
    return undated


def test_daily_outcomes_fall_on_the_courses_nth_day_whatever_its_plan() -> None:
    events = _events("daily")
    today = _today(events)
    for session_id, day in _outcome_days(events).items():
        number = int(session_id.rsplit("-s", 1)[1])
        assert day == min(today + timedelta(days=-24 + number), today)


def test_on_plan_outcomes_fall_on_the_day_the_first_plan_gave_each_session() -> None:
    events = _events("on-plan")
    plans = _plans(events)
    today = _today(events)
    days = _outcome_days(events)
    assert len(days) > PATIENTS * 10
    off_plan = 0
    for session_id, day in days.items():
        course_id, number = session_id.rsplit("-s", 1)
        planned = plans[course_id][int(number) - 1]
        assert day == min(planned, today)
        off_plan += planned != day
    assert off_plan < len(days) / 10  # only sessions planned after the scripts' today
    assert all(PLAN_CALENDAR.is_open(d) for d in days.values() if d != today)


def test_the_two_outcome_modes_script_the_same_events_but_for_their_days() -> None:
    daily = generate(PATIENTS, EVENTS, seed=3, run="t", outcomes="daily")
    on_plan = generate(PATIENTS, EVENTS, seed=3, run="t", outcomes="on-plan")
    assert _undated(daily) == _undated(on_plan)
