"""Schedule events → the calendar updates an e-mail notice carries (RFC 5546 by iMIP).

A calendar client that received a session once must update that event, not add a copy:
each session is one UID (`services.runtime.session_calendar`) with the course's version as
SEQUENCE. Per open course the notifier remembers what calendars were last told of each
session (`AnnouncedCourse`), so that a plan change becomes
- REQUEST for each session that is new or whose day, time, length, number, notes or
  therapist changed (TENTATIVE while the course waits for eligibility, else CONFIRMED);
- CANCEL for each session that left the plan without being done: those a suspension names
  (`cancelled_session_ids`, exact), and on any other change the remembered sessions no
  longer planned whose start (or day, without a time) is not before the event's time. A
  completed session leaves the plan too, and is past by then; a cancelled course's event
  names no session, so this is how its sessions are cancelled.
A completed or cancelled course is remembered by its version alone: nothing can move its
sessions again, and an event not newer than a course's remembered version changes nothing
(a replayed old event must not put cancelled sessions back into calendars).

Coalesced notices (coalesce.py) each keep their own update; the one delivered carries them
all, merged per session by SEQUENCE (`merged`), so no cancellation is lost in a merge.
"""

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter

from schemas import schedule as s
from services.runtime.clock import local_date
from services.runtime.session_calendar import SessionEvent, Status

_PLAN_EVENTS = (
    s.CourseScheduledData, s.CourseSuspendedData, s.CourseResumedData, s.CourseRescheduledData,
    s.CourseCompletedData, s.CourseCancelledData,
)  # fmt: skip
_ENDED = ("completed", "cancelled")


@dataclass(frozen=True, slots=True)
class Announced:
    """A session as calendars were last told it."""

    session_id: str
    number: int
    on: date
    starts_at: datetime | None
    duration_min: int
    notes: tuple[str, ...]
    # Whose session it is (None without a roster, and in memories from before rosters): a
    # session given to another therapist is changed for both therapists' calendars.
    therapist_id: str | None = None


@dataclass(frozen=True, slots=True)
class AnnouncedCourse:
    course_id: str
    version: int
    tentative: bool
    sessions: tuple[Announced, ...]
    # The days its sessions wait on as last told (R-CAPACITY; empty in older memories).
    shortage_on: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class CalendarUpdate:
    """What one notice tells calendars; `stamp` (DTSTAMP) is when the planner decided it."""

    stamp: datetime
    events: tuple[SessionEvent, ...]

    @property
    def requests(self) -> tuple[SessionEvent, ...]:
        return tuple(event for event in self.events if event.status != "CANCELLED")

    @property
    def cancels(self) -> tuple[SessionEvent, ...]:
        return tuple(event for event in self.events if event.status == "CANCELLED")

    def json_data(self) -> Any:
        return _UPDATE.dump_python(self, mode="json")

    @classmethod
    def from_json(cls, text: str) -> "CalendarUpdate":
        return _UPDATE.validate_json(text)


Calendars = tuple[AnnouncedCourse, ...]


def calendar_update(
    calendars: Calendars, patient_id: str, data: s.CourseData, at: datetime, timezone: str
) -> tuple[Calendars, CalendarUpdate | None]:
    """What calendars remember after the event `data` (decided at `at`), and the update
    its notice carries (None when no session changed for a calendar)."""
    if not isinstance(data, _PLAN_EVENTS):
        return calendars, None
    previous = next((c for c in calendars if c.course_id == data.course_id), None)
    if previous is not None and data.version <= previous.version:
        return calendars, None
    tentative = data.status == "pending"
    current = tuple(_announced(session) for session in data.sessions)
    before = {} if previous is None else {a.session_id: a for a in previous.sessions}
    status: Status = "TENTATIVE" if tentative else "CONFIRMED"
    retold = previous is not None and previous.tentative != tentative
    requests = [
        _event(patient_id, data, session, status)
        for session in current
        if retold or before.get(session.session_id) != session
    ]
    cancels = [
        _cancel(patient_id, data, session_id, before.get(session_id))
        for session_id in _gone(data, before, {a.session_id for a in current}, at, timezone)
    ]
    others = tuple(c for c in calendars if c.course_id != data.course_id)
    kept = () if data.status in _ENDED else current
    remembered = AnnouncedCourse(
        data.course_id, data.version, tentative, kept, tuple(data.capacity_shortage_on)
    )
    events = (*requests, *cancels)
    return (*others, remembered), CalendarUpdate(at, events) if events else None


def merged(updates: Sequence[CalendarUpdate | None]) -> CalendarUpdate | None:
    """One update saying what all of `updates` said: per session the newest (by SEQUENCE,
    the later of equals), in the order sessions first appear."""
    latest: dict[str, SessionEvent] = {}
    stamps = []
    for update in updates:
        if update is None:
            continue
        stamps.append(update.stamp)
        for event in update.events:
            known = latest.get(event.uid)
            if known is None or event.sequence >= known.sequence:
                latest[event.uid] = event
    return CalendarUpdate(max(stamps), tuple(latest.values())) if stamps else None


def for_therapists(
    update: CalendarUpdate | None,
    previous: AnnouncedCourse | None,
    data: s.CourseData,
    therapists: AbstractSet[str],
) -> CalendarUpdate | None:
    """What `update` tells the calendars of `therapists` (a therapist's notice): their
    sessions requested, and cancelled where they were theirs and are gone or given to
    another therapist. `previous` is the course as calendars knew it before `data`."""
    if update is None:
        return None
    now = {session.session_id: session.therapist_id for session in data.sessions}
    before = {} if previous is None else {a.session_id: a for a in previous.sessions}
    events = []
    for event in update.events:
        last = before.get(event.session_id)
        was = None if last is None else last.therapist_id
        if event.status != "CANCELLED" and now.get(event.session_id) in therapists:
            events.append(event)
        elif last is not None and was in therapists:
            cancel = event if event.status == "CANCELLED" else None
            events.append(cancel or _event(event.patient_id, data, last, "CANCELLED"))
    return CalendarUpdate(update.stamp, tuple(events)) if events else None


def _announced(session: s.PlannedSession) -> Announced:
    return Announced(session.session_id, session.number, session.on, session.starts_at,
                     session.duration_min, tuple(session.notes),
                     session.therapist_id)  # fmt: skip


def _gone(
    data: s.CourseData,
    before: dict[str, Announced],
    planned: set[str],
    at: datetime,
    timezone: str,
) -> list[str]:
    if isinstance(data, s.CourseSuspendedData):
        return [sid for sid in data.cancelled_session_ids if sid not in planned]
    today = local_date(at, timezone)
    return [
        sid
        for sid, session in before.items()
        if sid not in planned
        and (session.starts_at >= at if session.starts_at is not None else session.on >= today)
    ]


def _event(patient_id: str, data: s.CourseData, session: Announced, status: Status) -> SessionEvent:
    return SessionEvent(
        patient_id, data.course_id, session.session_id, data.version, status, session.number,
        session.on, session.starts_at, session.duration_min, session.notes,
    )  # fmt: skip


def _cancel(
    patient_id: str, data: s.CourseData, session_id: str, last: Announced | None
) -> SessionEvent:
    """A cancellation names the session's last day and time when calendars were told them."""
    if last is None:
        return SessionEvent(patient_id, data.course_id, session_id, data.version, "CANCELLED",
                            None, None, None, None)  # fmt: skip
    return _event(patient_id, data, last, "CANCELLED")


_UPDATE: TypeAdapter[CalendarUpdate] = TypeAdapter(CalendarUpdate)
CALENDARS: TypeAdapter[Calendars] = TypeAdapter(Calendars)
