"""The rostered clinics' invariant catches what it claims to catch (pure: no broker, no database).

One clinic with a roster (T1 and T2, an absence of T1 on Thursday) and one without, their
latest plans as the schedule topic carries them and the bookings table as the planner holds
it: as DOMAIN.md wants them (no problem), then with one thing wrong (exactly that problem).
"""

import json
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from services.runtime.topics import RunTopics
from tests.faults.outcome import PLAN, PLAN_WITHOUT_PLACES, Outcome, same_plans
from tests.faults.roster import roster_problems
from tests.faults.run import Booked
from tests.faults.workload import OPEN_CLINIC, ClinicRoster, Message, Workload

TOPICS = RunTopics.under("faults.roster-check")
MONDAY = date(2026, 12, 7)
THURSDAY = MONDAY + timedelta(days=3)
ROSTER = ClinicRoster(
    "K", {"T1": [(d, "08:00", "12:00") for d in range(6)],
          "T2": [(d, "09:00", "13:00") for d in range(5)]},
    (("T1", THURSDAY, THURSDAY),), (), (),
)  # fmt: skip
CADENCES = {"C1": "daily", "C2": "every_other_day", "C3": "daily"}
CLINICS = {"P1": "K", "P2": "K", "P3": OPEN_CLINIC}
Session = dict[str, Any]


def prescription(patient: str, course: str) -> Message:
    data = {"course_id": course, "cadence": CADENCES[course]}
    return Message(patient, "clinic.course.prescribed", json.dumps({"data": data}).encode(), None)


WORKLOAD = Workload(
    {p: [prescription(p, f"C{p[1]}")] for p in CLINICS}, frozenset(), CLINICS, (ROSTER,)
)


def session(course: str, number: int, on: date, at: str | None, therapist: str | None) -> Session:
    minutes = 12
    starts = None if at is None else datetime.combine(on, time.fromisoformat(at), tzinfo=UTC)
    return {
        "session_id": f"{course}-s{number:02d}", "number": number, "on": on.isoformat(),
        "starts_at": None if starts is None else starts.isoformat(), "duration_min": minutes,
        "notes": [], "therapist_id": therapist,
    }  # fmt: skip


def as_domain_wants() -> dict[str, list[Session]]:
    return {
        "C1": [session("C1", 1, MONDAY, "09:00", "T1"),
               session("C1", 2, MONDAY + timedelta(days=1), "09:00", "T1"),
               session("C1", 3, MONDAY + timedelta(days=2), None, None)],  # waits (R-CAPACITY)
        "C2": [session("C2", 1, MONDAY, "09:17", "T1"),  # 9:00 + 12 min + 5 min turnover
               session("C2", 2, MONDAY + timedelta(days=2), "12:48", "T2")],  # ends at 13:00
        "C3": [session("C3", 1, MONDAY, "09:00", None)],  # no roster: a preferred time only
    }  # fmt: skip


def published(plans: dict[str, list[Session]]) -> Outcome:
    """The latest schedule event of each course, read as a run reads its topics."""
    records: dict[str, list[Any]] = {topic: [] for topic in TOPICS.every}
    for course, sessions in plans.items():
        patient = f"P{course[1]}"
        data = {"course_id": course, "status": "active", "sessions": sessions,
                "completed_sessions": 0}  # fmt: skip
        value = json.dumps({"id": f"e-{course}", "data": data}).encode()
        records[TOPICS.schedule].append(SimpleNamespace(key=patient.encode(), value=value))
    return Outcome.of(records, TOPICS)


def booked(plans: dict[str, list[Session]]) -> list[Booked]:
    rows = []
    for course, sessions in plans.items():
        for s in sessions:
            if s["therapist_id"] is not None:
                start = datetime.fromisoformat(s["starts_at"])
                end = start + timedelta(minutes=s["duration_min"])
                rows.append(Booked(CLINICS[f"P{course[1]}"], f"P{course[1]}", s["session_id"],
                                   s["therapist_id"], start, end))  # fmt: skip
    return rows


def problems(plans: dict[str, list[Session]], rows: list[Booked] | None = None) -> list[str]:
    found = roster_problems(published(plans), WORKLOAD, booked(plans) if rows is None else rows)
    return [line for lines in found.values() for line in lines]


def test_plans_as_domain_wants_pass() -> None:
    assert problems(as_domain_wants()) == []


def test_an_overlap_within_the_turnover_is_caught() -> None:
    plans = as_domain_wants()
    plans["C2"][0] = session("C2", 1, MONDAY, "09:15", "T1")
    first, second = (
        "C1-s01 (T1 of K, 2026-12-07 09:00-09:12)",
        "C2-s01 (T1 of K, 2026-12-07 09:15-09:27)",
    )
    assert problems(plans) == [f"{first} and {second} closer than the 5-minute turnover"]


def test_a_session_outside_hours_or_on_an_absence_is_caught() -> None:
    plans = as_domain_wants()
    plans["C2"][1] = session("C2", 2, MONDAY + timedelta(days=2), "12:50", "T2")  # ends 13:02
    plans["C1"][2] = session("C1", 3, THURSDAY, "10:00", "T1")
    assert problems(plans) == [
        "C1-s03 (T1 of K, 2026-12-10 10:00-10:12) on the therapist's absence",
        "C2-s02 (T2 of K, 2026-12-09 12:50-13:02) outside the therapist's hours",
    ]


def test_a_lost_session_is_caught() -> None:
    baseline = published(as_domain_wants())
    plans = as_domain_wants()
    del plans["C2"][1]  # dropped from the plan, its booking freed
    assert problems(plans) == []  # alone it keeps every rule of the clinic...
    assert same_plans(baseline, published(plans), fields=PLAN_WITHOUT_PLACES)  # ...not the core's
    plans = as_domain_wants()
    plans["C1"][1]["therapist_id"] = None  # waits, though a later session is placed
    plans["C1"][2] = session("C1", 3, MONDAY + timedelta(days=2), "09:00", "T1")
    assert problems(plans) == ["C1-s03 placed after C1-s02, which waits"]
    plans = as_domain_wants()
    assert problems(plans, booked(plans)[1:]) == [
        "published as placed, not booked: " + str(booked(plans)[0])
    ]


def test_a_doubled_session_and_a_stray_booking_are_caught() -> None:
    plans = as_domain_wants()
    plans["C1"].append(plans["C1"][0])
    assert "C1-s01 published twice in C1's plan" in problems(plans)
    plans = as_domain_wants()
    stray = Booked("K", "P1", "C1-s03", "T2", *(datetime(2026, 12, 9, h, tzinfo=UTC)
                                               for h in (9, 10)))  # fmt: skip
    assert problems(plans, [*booked(plans), stray]) == [f"booked, not published as placed: {stray}"]


def test_a_broken_cadence_and_a_therapist_without_roster_are_caught() -> None:
    plans = as_domain_wants()
    plans["C2"][1] = session("C2", 2, MONDAY + timedelta(days=1), "09:00", "T2")
    plans["C3"][0]["therapist_id"] = "T1"
    assert problems(plans) == [
        "C3-s01 (T1 of faults, 2026-12-07 09:00-09:12) in a clinic without a roster",
        "C2-s02 on 2026-12-08: every_other_day cadence broken after 2026-12-07",
        "C3-s01 of a active course of faults has therapist T1, where none may be",
    ]


def test_places_may_differ_from_the_baseline_with_a_roster_not_without() -> None:
    baseline = published(as_domain_wants())
    plans = as_domain_wants()
    plans["C2"][1] = session("C2", 2, MONDAY + timedelta(days=3), "09:00", "T2")  # a later day
    assert problems(plans) == []
    assert same_plans(baseline, published(plans), fields=PLAN_WITHOUT_PLACES) == []
    assert same_plans(baseline, published(plans), fields=PLAN) != []
