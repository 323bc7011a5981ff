"""Staff events → the capacity core's staff facts, and those facts as JSON (the `clinics` row).

A clinic's state is the *set* of its staff facts (R-ROSTER: the roster depends only on
which facts arrived, never on their order); `Roster.from_facts` builds the roster from it.
"""

from datetime import date, datetime
from typing import Any

from schemas.staff import StaffEventUnion, TherapistAbsent, TherapistLeft, TherapistRostered
from services.planner.capacity.clock import parse_wall_clock
from services.planner.capacity.roster import (
    Absent,
    Left,
    Rostered,
    StaffFact,
    Stamp,
    Stretch,
    WeeklyStretch,
)


def staff_fact(event: StaffEventUnion) -> StaffFact:
    stamp = Stamp(event.time, event.id)
    match event:
        case TherapistRostered(data=data):
            hours = tuple(
                WeeklyStretch(h.weekday, Stretch(parse_wall_clock(h.from_), parse_wall_clock(h.to)))
                for h in data.weekly_hours
            )
            return Rostered(data.therapist_id, hours, data.effective_from, stamp)
        case TherapistAbsent(data=data):
            return Absent(data.therapist_id, data.from_on, data.to_on)
        case TherapistLeft(data=data):
            return Left(data.therapist_id, data.last_day, stamp)


def fact_to_json(fact: StaffFact) -> dict[str, Any]:
    match fact:
        case Rostered():
            hours = [[h.weekday, h.stretch.start_min, h.stretch.end_min] for h in fact.weekly_hours]
            return {
                "kind": "rostered", "therapist_id": fact.therapist_id, "weekly_hours": hours,
                "effective_from": fact.effective_from.isoformat(), **_stamp_json(fact.stamp),
            }  # fmt: skip
        case Absent():
            return {
                "kind": "absent", "therapist_id": fact.therapist_id,
                "from_on": fact.from_on.isoformat(), "to_on": fact.to_on.isoformat(),
            }  # fmt: skip
        case Left():
            return {
                "kind": "left", "therapist_id": fact.therapist_id,
                "last_day": fact.last_day.isoformat(), **_stamp_json(fact.stamp),
            }  # fmt: skip


def fact_from_json(raw: dict[str, Any]) -> StaffFact:
    therapist_id = str(raw["therapist_id"])
    match raw["kind"]:
        case "rostered":
            hours = tuple(
                WeeklyStretch(int(weekday), Stretch(int(start), int(end)))
                for weekday, start, end in raw["weekly_hours"]
            )
            effective_from = date.fromisoformat(raw["effective_from"])
            return Rostered(therapist_id, hours, effective_from, _stamp(raw))
        case "absent":
            return Absent(
                therapist_id, date.fromisoformat(raw["from_on"]), date.fromisoformat(raw["to_on"])
            )
        case "left":
            return Left(therapist_id, date.fromisoformat(raw["last_day"]), _stamp(raw))
    raise ValueError(f"not a staff fact: {raw['kind']!r}")


def _stamp_json(stamp: Stamp) -> dict[str, str]:
    return {"sent_at": stamp.at.isoformat(), "event_id": stamp.event_id}


def _stamp(raw: dict[str, Any]) -> Stamp:
    return Stamp(datetime.fromisoformat(raw["sent_at"]), str(raw["event_id"]))
