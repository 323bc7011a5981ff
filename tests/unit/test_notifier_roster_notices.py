"""Notices of a rostered clinic through the notifier Decider in the runtime's in-memory shell:
each therapist whose day changed is told once per schedule event (`therapist_schedule_changed`),
the front desk once per new R-CAPACITY shortage (`capacity_shortage`)."""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from schemas.codec import new_event
from schemas.events import AnyEvent
from services.notifier.calendar_updates import CALENDARS
from services.notifier.decider import NEW_PATIENT, Addressed, NotifierDecider
from services.notifier.kinds import Kind, family, mergeable
from services.notifier.notice import notice_id
from services.notifier.routing import parse_routing
from services.runtime.decider import Context
from services.runtime.memory import InMemoryShell

P = "P-000777"
COURSE = "C-ROSTER-1"
NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)  # the evening before the course's Monday
THERAPIST_KIND = Kind.THERAPIST_SCHEDULE_CHANGED
ROUTING = parse_routing({
    "smtp": {"host": "mail.north.example", "sender": "courseflow@north.example"},
    "recipients": {
        "anna": {"channel": "email", "address": "anna@north.example"},
        "ben": {"channel": "email", "address": "ben@north.example"},
        "front-desk": {"channel": "log"}, "ops": {"channel": "log"},
    },
    "routes": [
        {"kinds": ["sessions_rescheduled", "capacity_shortage"], "recipients": ["front-desk"]},
        {"kinds": ["*"], "recipients": ["ops"]},
    ],
    "therapists": {"T1": "anna", "T2": "ben"},
})  # fmt: skip


def session(number: int, on: str, therapist: str | None, at: str = "09:00") -> dict[str, Any]:
    return {"session_id": f"{COURSE}-s{number}", "number": number, "on": on,
            "starts_at": f"{on}T{at}:00+00:00", "duration_min": 7, "notes": [],
            "therapist_id": therapist}  # fmt: skip


PLAN = [session(1, "2026-03-02", "T1"), session(2, "2026-03-04", "T1"),
        session(3, "2026-03-06", "T2")]  # fmt: skip


def schedule(kind: str, event_id: str, version: int, **data: Any) -> AnyEvent:
    fields = {"course_id": COURSE, "status": "active", "version": version, "rules": [],
              "sessions": PLAN, "completed_sessions": 0, **data}  # fmt: skip
    return new_event(f"courseflow.course.{kind}", source="/courseflow/planner", subject=P,
                     id=event_id, data=fields, time=NOW)  # fmt: skip


def notifier(routing: Any = ROUTING) -> tuple[InMemoryShell[Any, Any, Any, Any], list[int]]:
    unrouted: list[int] = []
    decider = NotifierDecider(routing, "UTC", 0, unrouted.append)
    return InMemoryShell(decider, NEW_PATIENT, lambda: Context(NOW.date(), NOW)), unrouted


def told(shell: InMemoryShell[Any, Any, Any, Any], kind: Kind) -> list[Addressed]:
    return [a for one in shell.decided for a in one.outputs if a.notice.kind == kind]


def by_recipient(items: list[Addressed]) -> dict[str, str]:
    return {item.recipient: item.notice.summary for item in items}


def test_scheduled_each_therapist_is_told_their_days_and_the_log_copy_names_both() -> None:
    shell, unrouted = notifier()
    shell.handle(schedule("scheduled", "sched-1", 1))
    summaries = by_recipient(told(shell, THERAPIST_KIND))
    assert summaries == {
        "anna": f"Patient {P}: course {COURSE} scheduled; days changed for therapist T1: "
        "2026-03-02, 2026-03-04",
        "ben": f"Patient {P}: course {COURSE} scheduled; days changed for therapist T2: 2026-03-06",
        "ops": f"Patient {P}: course {COURSE} scheduled; days changed for therapist T1: "
        "2026-03-02, 2026-03-04; therapist T2: 2026-03-06",
    }
    assert unrouted == []
    anna = next(a for a in told(shell, THERAPIST_KIND) if a.recipient == "anna")
    assert (anna.channel, anna.notice_id) == ("email", notice_id("sched-1", THERAPIST_KIND, "anna"))


def test_one_notice_per_cause_kind_and_recipient_whatever_is_redelivered() -> None:
    shell, _ = notifier()
    event = schedule("scheduled", "sched-1", 1)
    shell.handle(event, event)
    shell.handle(event)
    ids = [a.notice_id for one in shell.decided for a in one.outputs]
    assert len(ids) == len(set(ids))
    assert Counter(a.recipient for a in told(shell, THERAPIST_KIND)) == {"anna": 1, "ben": 1,
                                                                         "ops": 1}  # fmt: skip


def test_rescheduled_tells_the_therapists_a_change_moves_sessions_from_and_to() -> None:
    shell, _ = notifier()
    shell.handle(schedule("scheduled", "sched-1", 1))
    moved = [session(1, "2026-03-02", "T2"), PLAN[1], PLAN[2]]
    change = {"session_id": f"{COURSE}-s1", "from_on": "2026-03-02", "to_on": "2026-03-02",
              "from_starts_at": "2026-03-02T09:00:00+00:00",
              "to_starts_at": "2026-03-02T09:00:00+00:00",
              "from_therapist_id": "T1", "to_therapist_id": "T2"}  # fmt: skip
    shell.handle(schedule("rescheduled", "sched-2", 2, rules=["R-THERAPIST-ABSENT"],
                          sessions=moved, changes=[change]))  # fmt: skip
    latest = [a for a in told(shell, THERAPIST_KIND) if a.notice.cause_id == "sched-2"]
    assert {a.recipient: a.notice.summary for a in latest if a.recipient != "ops"} == {
        "anna": f"Patient {P}: course {COURSE} rescheduled; days changed for therapist T1: "
        "2026-03-02 (R-THERAPIST-ABSENT)",
        "ben": f"Patient {P}: course {COURSE} rescheduled; days changed for therapist T2: "
        "2026-03-02 (R-THERAPIST-ABSENT)",
    }
    # Their calendars: the session leaves the one's and joins the other's.
    calendars = {a.recipient: a.notice.calendar for a in latest}
    anna, ben = calendars["anna"], calendars["ben"]
    assert anna is not None
    assert ben is not None
    assert [(e.session_id, e.status) for e in anna.events] == [(f"{COURSE}-s1", "CANCELLED")]
    assert [(e.session_id, e.status) for e in ben.events] == [(f"{COURSE}-s1", "CONFIRMED")]


def test_a_cancelled_course_tells_the_therapists_of_the_sessions_it_drops_from_memory() -> None:
    shell, _ = notifier()
    shell.handle(schedule("scheduled", "sched-1", 1))
    shell.handle(schedule("cancelled", "sched-2", 2, status="cancelled", sessions=[],
                          reason="surgery"))  # fmt: skip
    latest = [a for a in told(shell, THERAPIST_KIND) if a.notice.cause_id == "sched-2"]
    assert by_recipient(latest)["anna"].endswith("cancelled; days changed for therapist T1: "
                                                 "2026-03-02, 2026-03-04")  # fmt: skip
    assert by_recipient(latest)["ben"].endswith("therapist T2: 2026-03-06")
    ben = next(a for a in latest if a.recipient == "ben").notice.calendar
    assert ben is not None
    assert [(e.session_id, e.status) for e in ben.events] == [(f"{COURSE}-s3", "CANCELLED")]


def test_a_suspension_tells_only_the_therapists_of_the_cancelled_sessions() -> None:
    shell, _ = notifier()
    shell.handle(schedule("scheduled", "sched-1", 1))
    shell.handle(schedule("suspended", "sched-2", 2, status="suspended", sessions=[],
                          cancelled_session_ids=[f"{COURSE}-s3"]))  # fmt: skip
    latest = [a for a in told(shell, THERAPIST_KIND) if a.notice.cause_id == "sched-2"]
    assert sorted(a.recipient for a in latest) == ["ben", "ops"]


def test_without_a_roster_or_a_change_of_days_no_therapist_is_told() -> None:
    shell, unrouted = notifier()
    shell.handle(schedule("scheduled", "sched-1", 1, sessions=[session(1, "2026-03-02", None)]))
    assert told(shell, THERAPIST_KIND) == []
    assert unrouted == []


def test_a_therapist_with_no_recipient_is_not_told_and_is_counted() -> None:
    shell, unrouted = notifier()
    shell.handle(schedule("scheduled", "sched-1", 1, sessions=[*PLAN, session(4, "2026-03-09",
                                                                             "T9")]))  # fmt: skip
    recipients = sorted(a.recipient for a in told(shell, THERAPIST_KIND))
    assert recipients == ["anna", "ben", "ops"]  # the log copy still names T9's day
    assert unrouted == [1]


def test_r_capacity_the_front_desk_is_told_a_new_shortage_naming_its_days() -> None:
    shell, _ = notifier()
    waiting = [session(1, "2026-03-02", None), session(2, "2026-03-04", None)]
    days = ["2026-03-04", "2026-03-02"]
    shell.handle(schedule("rescheduled", "sched-1", 1, rules=["R-CAPACITY"], sessions=waiting,
                          changes=[], capacity_shortage_on=days))  # fmt: skip
    summary = (
        f"Patient {P}: course {COURSE}: no therapist free within the capacity horizon for its "
        "sessions on 2026-03-02, 2026-03-04; they wait (R-CAPACITY)"
    )
    assert by_recipient(told(shell, Kind.CAPACITY_SHORTAGE)) == dict.fromkeys(
        ("front-desk", "ops"), summary
    )


def test_r_capacity_a_shortage_already_reported_or_without_days_is_not_told_again() -> None:
    shell, _ = notifier()
    shell.handle(schedule("resumed", "sched-1", 1, capacity_shortage_on=["2026-03-02"]))
    shell.handle(schedule("resumed", "sched-2", 2, rules=["R-CAPACITY"]))
    assert told(shell, Kind.CAPACITY_SHORTAGE) == []


def test_r_capacity_a_day_moved_in_a_course_already_short_tells_no_shortage_again() -> None:
    """R-CAPACITY also names a session moved to a later day; the shortage is told again
    only when days the course waits on were not told before."""
    shell, _ = notifier()
    waiting = [*PLAN[:2], session(3, "2026-03-06", None)]
    shell.handle(schedule("scheduled", "sched-1", 1, rules=["R-CAPACITY"], sessions=waiting,
                          capacity_shortage_on=["2026-03-06"]))  # fmt: skip
    moved = [PLAN[0], session(2, "2026-03-05", "T2"), waiting[2]]
    change = {"session_id": f"{COURSE}-s2", "from_on": "2026-03-04", "to_on": "2026-03-05",
              "from_starts_at": None, "to_starts_at": None,
              "from_therapist_id": "T1", "to_therapist_id": "T2"}  # fmt: skip
    absent = ["R-THERAPIST-ABSENT", "R-CAPACITY"]
    shell.handle(schedule("rescheduled", "sched-2", 2, rules=absent, sessions=moved,
                          changes=[change], capacity_shortage_on=["2026-03-06"]))  # fmt: skip
    more = [*moved[:2], session(3, "2026-03-07", None)]
    shell.handle(schedule("rescheduled", "sched-3", 3, rules=["R-ROSTER", "R-CAPACITY"],
                          sessions=more, changes=[],
                          capacity_shortage_on=["2026-03-07"]))  # fmt: skip
    causes = [a.cause.id for a in told(shell, Kind.CAPACITY_SHORTAGE)]
    assert sorted(set(causes)) == ["sched-1", "sched-3"]


def test_coalescing_never_merges_a_therapist_notice_and_keeps_shortages_apart() -> None:
    assert not mergeable(Kind.THERAPIST_SCHEDULE_CHANGED)
    assert mergeable(Kind.CAPACITY_SHORTAGE)
    assert family(Kind.CAPACITY_SHORTAGE) != family(Kind.SESSIONS_RESCHEDULED)


def test_a_memory_from_before_rosters_loads_without_therapists() -> None:
    remembered = (
        '[{"course_id": "C", "version": 1, "tentative": false, "sessions": [{"session_id": "s",'
        ' "number": 1, "on": "2026-03-02", "starts_at": null, "duration_min": 7, "notes": []}]}]'
    )
    [course] = CALENDARS.validate_json(remembered)
    assert [a.therapist_id for a in course.sessions] == [None]
