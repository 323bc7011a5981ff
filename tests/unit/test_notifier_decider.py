"""The notifier Decider without I/O: events become commands, commands become notices for the
routed recipients, due when the coalescing window says, and the patient's memory moves on."""

from copy import deepcopy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas.codec import new_event
from schemas.events import AnyEvent
from schemas.examples import EXAMPLES
from services.notifier.calendar_updates import AnnouncedCourse
from services.notifier.decider import (
    NEW_PATIENT,
    Addressed,
    AnnounceCourse,
    AnnounceDecision,
    Command,
    NotifierDecider,
)
from services.notifier.decision_notices import PatientMemory
from services.notifier.kinds import Kind
from services.notifier.notice import notice_id
from services.notifier.routing import parse_routing
from services.runtime.decider import Context, Decided, Rejected

P = "P-000123"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CONTEXT = Context(today=NOW.date(), now=NOW)
ROUTING = parse_routing({
    "recipients": {"front-desk": {"channel": "log"}, "physician": {"channel": "log"},
                   "ops": {"channel": "log"}},
    "routes": [
        {"kinds": ["course_suspended", "course_resumed"], "recipients": ["front-desk"]},
        {"kinds": ["rehab_course_eligible"], "recipients": ["physician"]},
        {"kinds": ["*"], "recipients": ["ops"]},
    ],
})  # fmt: skip
DECIDER = NotifierDecider(ROUTING, "Europe/Berlin", coalesce_window_s=0)
POSTOP = [{"rule": "R-POSTOP", "since": "2026-02-20", "until": "2026-03-01"}]


def schedule(event_type: str, event_id: str = "sched-1", **data: Any) -> AnyEvent:
    event_type = f"courseflow.course.{event_type}"
    example = deepcopy(dict(EXAMPLES[event_type]))
    return new_event(
        event_type, source="/courseflow/planner", subject=P, id=event_id,
        data={**example["data"], **data}, time=NOW, correlationid="corr-1",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )  # fmt: skip


def decision(version: int, *, eligible: bool, time: datetime = NOW, blocks: Any = ()) -> AnyEvent:
    return new_event(
        "courseflow.eligibility.decided", source="/courseflow/eligibility", subject=P,
        id=f"dec-{version}", time=time,
        data={"eligible": eligible, "eligible_from": None, "blocks": list(blocks),
              "restrictions": [], "version": version},
    )  # fmt: skip


def command_of(event: AnyEvent) -> Command:
    command = DECIDER.translate(event)
    assert command is not None
    return command


def decided(
    state: PatientMemory, event: AnyEvent, decider: NotifierDecider = DECIDER
) -> tuple[PatientMemory, list[Addressed]]:
    verdict = decider.decide(state, command_of(event), CONTEXT)
    assert not isinstance(verdict, Rejected)
    memory, outputs = verdict
    return memory, list(outputs)


def test_a_schedule_event_is_one_notice_for_each_routed_recipient() -> None:
    memory, outputs = decided(NEW_PATIENT, schedule("suspended"))
    # Of a suspension only what calendars were told: the course has no planned session.
    assert replace(memory, calendar=()) == NEW_PATIENT
    assert memory.calendar == (AnnouncedCourse("C-2026-0042", 2, tentative=False, sessions=()),)
    assert [(item.recipient, item.notice.kind) for item in outputs] == [
        ("front-desk", Kind.COURSE_SUSPENDED), ("ops", Kind.COURSE_SUSPENDED),
    ]  # fmt: skip
    front_desk = outputs[0]
    assert front_desk.notice_id == notice_id("sched-1", Kind.COURSE_SUSPENDED, "front-desk")
    assert (front_desk.notice.cause_id, front_desk.notice.patient_id) == ("sched-1", P)
    assert front_desk.cause.correlation_id == "corr-1"
    assert front_desk.cause.traceparent is not None
    assert front_desk.due_at == NOW  # no coalescing window: due at once


def test_a_coalescing_window_makes_every_notice_due_at_its_end() -> None:
    coalescing = NotifierDecider(ROUTING, "UTC", coalesce_window_s=90)
    _, outputs = decided(NEW_PATIENT, schedule("resumed"), coalescing)
    assert {item.due_at for item in outputs} == {NOW + timedelta(seconds=90)}


def test_other_event_types_on_the_topics_are_nothing_to_do() -> None:
    prescribed = "clinic.course.prescribed"
    data = EXAMPLES[prescribed]["data"]
    event = new_event(prescribed, source="/clinic", subject=P, data=data, time=NOW)
    assert DECIDER.translate(event) is None


def test_a_decision_is_about_its_clinic_local_day() -> None:
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 on the 2nd in Berlin
    command = command_of(decision(1, eligible=True, time=late_evening))
    assert isinstance(command, AnnounceDecision)
    assert command.on == date(2026, 3, 2)


def test_r_postop_a_decision_announces_what_the_memory_says_is_new_and_only_once() -> None:
    blocked, none_yet = decided(NEW_PATIENT, decision(1, eligible=False, blocks=POSTOP))
    assert none_yet == []
    assert (blocked.version, blocked.blocked_by_postop) == (1, True)
    eligible, outputs = decided(blocked, decision(2, eligible=True))
    assert [(item.recipient, item.notice.kind) for item in outputs] == [
        ("physician", Kind.REHAB_COURSE_ELIGIBLE), ("ops", Kind.REHAB_COURSE_ELIGIBLE),
    ]  # fmt: skip
    assert outputs[0].cause.correlation_id == "dec-2"  # a cause without one starts its own
    stale, nothing = decided(eligible, decision(1, eligible=False, blocks=POSTOP))
    assert (stale, nothing) == (eligible, [])


def test_r_course_break_a_cancelled_course_is_remembered_for_the_rehab_notice() -> None:
    cancelled = schedule("cancelled", next_course_earliest_on="2026-04-01")
    memory, _ = decided(NEW_PATIENT, cancelled)
    assert memory.next_course_from == date(2026, 4, 1)
    blocked, _ = decided(memory, decision(1, eligible=False, blocks=POSTOP))
    _, [rehab, _] = decided(blocked, decision(2, eligible=True))
    assert rehab.notice.rules == ("R-POSTOP", "R-COURSE-BREAK")
    assert "may start on or after 2026-04-01" in rehab.notice.summary


def test_nothing_is_published_by_the_consumer() -> None:
    """notice.issued goes out with each delivery's outcome (worker.py), not from here."""
    command = command_of(schedule("resumed"))
    assert isinstance(command, AnnounceCourse)
    memory, outputs = decided(NEW_PATIENT, schedule("resumed"))
    one: Decided[Command, PatientMemory, Addressed] = Decided(
        P, command, memory, tuple(outputs), command.cause
    )
    assert DECIDER.encode(one) == []
