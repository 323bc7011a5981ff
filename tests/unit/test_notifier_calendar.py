"""E-mail notices carry the sessions for the recipient's calendar (RFC 5546 by iMIP): the
same UID per session from its first REQUEST to its CANCEL, SEQUENCE growing with the
course's version; a reschedule, a suspension, a resumption and a cancellation; 09:00 across
the change to summer time; coalesced notices merged without losing a cancellation. Every
calendar part is read back by two parsers."""

from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from schemas.codec import new_event
from schemas.events import AnyEvent
from services.notifier.calendar_updates import AnnouncedCourse, CalendarUpdate, merged
from services.notifier.channels.email import _message
from services.notifier.decider import NEW_PATIENT, NotifierDecider
from services.notifier.decision_notices import PatientMemory
from services.notifier.message import OutgoingNotice
from services.notifier.routing import parse_routing
from services.runtime.decider import Context, Rejected
from services.runtime.session_calendar import session_uid
from tests.calendars import ReadCalendar, read_calendar

P, COURSE = "P-000123", "C1"
ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)
ROUTING = parse_routing({"recipients": {"dr": {"channel": "log"}},
                         "routes": [{"kinds": ["*"], "recipients": ["dr"]}]})  # fmt: skip
DECIDER = NotifierDecider(ROUTING, ZONE, coalesce_window_s=0)
# Around Sunday 29 March 2026, the change to summer time in Berlin.
DAYS = [date(2026, 3, 26), date(2026, 3, 28), date(2026, 3, 30), date(2026, 4, 1)]
SENDER, TO = "courseflow@north.example", "dr@north.example"


def sid(number: int) -> str:
    return f"{COURSE}-s{number:02d}"


def uid(number: int) -> str:
    return session_uid(P, COURSE, sid(number))


def planned(number: int, on: date, at: time | None = time(9)) -> dict[str, Any]:
    starts = None if at is None else datetime.combine(on, at, BERLIN).isoformat()
    return {"session_id": sid(number), "number": number, "on": on.isoformat(),
            "starts_at": starts, "duration_min": 10, "notes": []}  # fmt: skip


def event(kind: str, version: int, sessions: list[dict[str, Any]], **extra: Any) -> AnyEvent:
    """A schedule event the planner decided at `time` (20 March by default)."""
    at = extra.pop("time", datetime(2026, 3, 20, 12, tzinfo=UTC))
    data = {"course_id": COURSE, "status": extra.pop("status", "active"), "version": version,
            "rules": [], "sessions": sessions, "completed_sessions": 0, **extra}  # fmt: skip
    return new_event(
        f"courseflow.course.{kind}", source="/courseflow/planner", subject=P, data=data,
        time=at, id=f"sched-{version}",
    )  # fmt: skip


def announce(memory: PatientMemory, schedule: AnyEvent) -> tuple[PatientMemory, CalendarUpdate]:
    """The memory after the event and the calendar update of its one notice."""
    memory, update = announce_maybe(memory, schedule)
    assert update is not None
    return memory, update


def announce_maybe(
    memory: PatientMemory, schedule: AnyEvent
) -> tuple[PatientMemory, CalendarUpdate | None]:
    command = DECIDER.translate(schedule)
    assert command is not None
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    verdict = DECIDER.decide(memory, command, Context(now.date(), now))
    assert not isinstance(verdict, Rejected)
    memory, (addressed,) = verdict
    return memory, addressed.notice.calendar


def mail(update: CalendarUpdate) -> Message:
    notice = OutgoingNotice("n-1", "sessions_rescheduled", "dr", "email", P, "sched-1",
                            "Patient P-000123: course C1 ...", (), (), update)  # fmt: skip
    return message_from_bytes(_message(SENDER, TO, notice, ZONE).as_bytes())


def calendar_parts(message: Message) -> dict[str, ReadCalendar]:
    """Each text/calendar part by its method, read back; the part's method parameter and
    the object's METHOD agree."""
    parts = {}
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            read = read_calendar(payload)
            assert read.method == part.get_param("method")
            parts[str(read.method)] = read
    return parts


def test_uid_and_sequence_across_a_reschedule_a_suspension_a_resumption_a_cancellation() -> None:
    sessions = [planned(n, day) for n, day in enumerate(DAYS, 1)]
    memory, first = announce(NEW_PATIENT, event("scheduled", 1, sessions))
    (request,) = calendar_parts(mail(first)).values()
    assert request.method == "REQUEST"
    assert set(request.events) == {uid(n) for n in range(1, 5)}
    assert {e.sequence for e in request.events.values()} == {1}
    assert {e.status for e in request.events.values()} == {"CONFIRMED"}
    assert {e.wall_clock for e in request.events.values()} == {"09:00"}
    offsets = {
        e.start.utcoffset() for e in request.events.values() if isinstance(e.start, datetime)
    }
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}

    moved = [planned(1, DAYS[0]), planned(2, DAYS[1]), planned(3, date(2026, 3, 31)),
             planned(4, DAYS[3])]  # fmt: skip
    memory, rescheduled = announce(memory, event("rescheduled", 2, moved, changes=[]))
    (request,) = calendar_parts(mail(rescheduled)).values()
    assert list(request.events) == [uid(3)]  # only the moved session is requested again
    assert request.events[uid(3)].sequence == 2
    assert request.events[uid(3)].start == datetime(2026, 3, 31, 9, tzinfo=BERLIN)

    cancelled = [sid(2), sid(3), sid(4)]  # session 1 was done
    suspension = event("suspended", 3, [], status="suspended", cancelled_session_ids=cancelled)
    memory, suspended = announce(memory, suspension)
    (cancel,) = calendar_parts(mail(suspended)).values()
    assert cancel.method == "CANCEL"
    assert set(cancel.events) == {uid(2), uid(3), uid(4)}
    assert {(e.status, e.sequence) for e in cancel.events.values()} == {("CANCELLED", 3)}
    assert cancel.events[uid(3)].start == datetime(2026, 3, 31, 9, tzinfo=BERLIN)

    new_days = (date(2026, 4, 6), date(2026, 4, 8), date(2026, 4, 10))
    again = [planned(n, day) for n, day in zip((2, 3, 4), new_days, strict=True)]
    memory, resumed = announce(memory, event("resumed", 4, again))
    (request,) = calendar_parts(mail(resumed)).values()
    assert set(request.events) == {uid(2), uid(3), uid(4)}
    assert {e.sequence for e in request.events.values()} == {4}

    surgery = event("cancelled", 5, [], status="cancelled", reason="surgery")
    memory, ended = announce(memory, surgery)
    (cancel,) = calendar_parts(mail(ended)).values()
    assert cancel.method == "CANCEL"
    assert set(cancel.events) == {uid(2), uid(3), uid(4)}
    assert {e.sequence for e in cancel.events.values()} == {5}
    assert memory.calendar == (AnnouncedCourse(COURSE, 5, tentative=False, sessions=()),)

    _, replayed = announce_maybe(memory, event("resumed", 4, again))
    assert replayed is None  # an older event puts nothing back


def test_a_replayed_older_event_tells_calendars_nothing() -> None:
    memory, _ = announce(NEW_PATIENT, event("scheduled", 2, [planned(1, DAYS[0])]))
    _, update = announce_maybe(memory, event("scheduled", 1, [planned(1, DAYS[1])]))
    assert update is None


def test_a_cancelled_course_cancels_only_its_sessions_still_ahead() -> None:
    sessions = [planned(1, DAYS[0]), planned(2, DAYS[1])]
    memory, _ = announce(NEW_PATIENT, event("scheduled", 1, sessions))
    after_first = datetime(2026, 3, 27, 8, tzinfo=UTC)  # session 1 is past (done)
    _, update = announce(memory, event("cancelled", 2, [], status="cancelled",
                                       reason="withdrawal", time=after_first))  # fmt: skip
    assert [e.session_id for e in update.cancels] == [sid(2)]


def test_a_pending_course_is_tentative_and_confirmed_once_active() -> None:
    sessions = [planned(1, DAYS[0]), planned(2, DAYS[1], at=None)]
    memory, pending = announce(NEW_PATIENT, event("scheduled", 1, sessions, status="pending"))
    (request,) = calendar_parts(mail(pending)).values()
    assert {e.status for e in request.events.values()} == {"TENTATIVE"}
    assert request.events[uid(2)].start == DAYS[1]  # no fixed time: an event of its day
    _, active = announce(memory, event("scheduled", 2, sessions))
    (request,) = calendar_parts(mail(active)).values()
    assert {e.status for e in request.events.values()} == {"CONFIRMED"}
    assert len(request.events) == 2


def test_merged_notices_keep_the_newest_word_on_each_session() -> None:
    sessions = [planned(1, DAYS[0]), planned(2, DAYS[1])]
    memory, scheduled = announce(NEW_PATIENT, event("scheduled", 1, sessions))
    suspension = event("suspended", 2, [], status="suspended",
                       cancelled_session_ids=[sid(1), sid(2)])  # fmt: skip
    memory, suspended = announce(memory, suspension)
    _, resumed = announce(memory, event("resumed", 3, [planned(2, DAYS[3])]))
    both = merged([scheduled, suspended])
    assert both is not None
    assert {(e.session_id, e.status) for e in both.events} == {(sid(1), "CANCELLED"),
                                                               (sid(2), "CANCELLED")}  # fmt: skip
    all_three = merged([scheduled, suspended, resumed])
    assert all_three is not None
    parts = calendar_parts(mail(all_three))
    assert set(parts) == {"REQUEST", "CANCEL"}  # each method in its own part
    assert list(parts["REQUEST"].events) == [uid(2)]
    assert list(parts["CANCEL"].events) == [uid(1)]
    assert merged([None, None]) is None


def test_a_notice_without_sessions_to_tell_is_plain_text() -> None:
    notice = OutgoingNotice("n-1", "course_completed", "dr", "email", P, "sched-1", "text", ())
    message = _message(SENDER, TO, notice, ZONE)
    assert message.get_content_type() == "text/plain"
