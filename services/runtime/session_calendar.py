"""Planned sessions as iCalendar events (RFC 5545), one concept for every calendar courseflow
produces: the planner's subscribable feeds and the notifier's e-mail (RFC 5546, iTIP).

- `UID`: a UUIDv5 of the patient, course and session ids. The planner's session ids are
  stable across every reschedule, suspension and resumption, so one session is one event in
  a calendar from its first announcement to its cancellation, whichever service tells it.
  The UID is opaque: no id, let alone a name, can be read back from it.
- `SEQUENCE`: the course's schedule event `version`, which grows by one with every change
  of the course that is published, and so with every change of each of its sessions.
  Counting per session instead would need a counter per session kept by the planner and the
  notifier alike; the course's version is on every schedule event and in the planner's
  state already, is the same in the feed and in the mail, and only ever grows, so a client
  that receives an older update after a newer one (mail is not ordered) ignores it. A
  session that did not change gets a higher SEQUENCE along with its course, which RFC 5545
  allows (it counts revisions, it does not require each one to differ).
- Times: a session with a start is an event in local wall-clock time with the clinic's
  `TZID` and its `VTIMEZONE` (generated from the IANA database by icalendar), so 09:00 stays
  09:00 on either side of a daylight-saving change. A session without a fixed time
  (`starts_at` null) is a `DTSTART;VALUE=DATE` event of its day, `TRANSP:TRANSPARENT` so it
  does not block the whole day in free/busy, with its duration in the description: a made-up
  time of day would claim a time nobody fixed.
- `SUMMARY` names the opaque patient id and the session's number, never a name.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//courseflow//sessions//EN"
_UID_NAMESPACE = uuid.UUID("0b7c2f0e-5d1a-4e43-9c1f-6a3d2b8e4f10")
Status = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """One session as calendars see it. `on`, `number` and `duration_min` are None only
    for a cancellation of a session never announced (RFC 5546 lets a CANCEL name the UID
    alone)."""

    patient_id: str
    course_id: str
    session_id: str
    sequence: int
    status: Status
    number: int | None
    on: date | None
    starts_at: datetime | None
    duration_min: int | None
    notes: tuple[str, ...] = ()

    @property
    def uid(self) -> str:
        return session_uid(self.patient_id, self.course_id, self.session_id)


def session_uid(patient_id: str, course_id: str, session_id: str) -> str:
    name = f"{patient_id}\x1f{course_id}\x1f{session_id}"
    return f"{uuid.uuid5(_UID_NAMESPACE, name)}@courseflow"


def session_calendar(  # noqa: PLR0913 - each is one independent part of the calendar
    events: Sequence[SessionEvent],
    *,
    timezone: str,
    stamp: datetime,
    method: str | None = None,
    organizer: str | None = None,
    attendee: str | None = None,
) -> icalendar.Calendar:
    """A VCALENDAR of `events` (in the order given) with the VTIMEZONE they refer to.

    `stamp` is each event's DTSTAMP: when this information was last revised (a feed) or
    when the message was made (iTIP). `method`, `organizer` and `attendee` are for iTIP
    messages, which RFC 5546 requires to name both (mailto: addresses)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method is not None:
        calendar.add("method", method)
    zone = ZoneInfo(timezone)
    for event in events:
        calendar.add_component(_vevent(event, zone, stamp, organizer, attendee))
    days = [event.on for event in events if event.on is not None]
    if days:
        # Bounded to the years the events fall in: a VTIMEZONE from 1970 on lists every
        # transition as RDATEs, which some readers (dateutil's) get wrong.
        first, last = date(min(days).year, 1, 1), date(max(days).year + 1, 1, 1)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar


def _vevent(
    session: SessionEvent,
    zone: ZoneInfo,
    stamp: datetime,
    organizer: str | None,
    attendee: str | None,
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", session.uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", session.sequence)
    event.add("status", session.status)
    event.add("summary", _summary(session))
    if session.starts_at is not None:
        starts = session.starts_at.astimezone(zone)
        # The end in elapsed time: a session spanning a DST change still lasts its minutes.
        ends = (session.starts_at.astimezone(UTC) + _minutes(session)).astimezone(zone)
        event.add("dtstart", starts)
        event.add("dtend", ends)
    elif session.on is not None:
        event.add("dtstart", session.on)
        event.add("dtend", session.on + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    event.add("description", _description(session))
    if organizer is not None:
        event.add("organizer", f"mailto:{organizer}")
    if attendee is not None:
        event.add("attendee", f"mailto:{attendee}", parameters={"RSVP": "FALSE"})
    return event


def _minutes(session: SessionEvent) -> timedelta:
    return timedelta(minutes=session.duration_min or 0)


def _summary(session: SessionEvent) -> str:
    number = "" if session.number is None else f", session {session.number}"
    return f"Massage: patient {session.patient_id}{number}"


def _description(session: SessionEvent) -> str:
    head = f"Course {session.course_id}" + (
        "" if session.number is None else f", session {session.number}"
    )
    if session.duration_min is None:
        length = "cancelled"
    elif session.starts_at is not None:
        length = f"{session.duration_min} min"
    else:
        length = f"no fixed time: {session.duration_min} min on this day"
    lines = [f"{head}: {length}"]
    if session.notes:
        lines.append(f"Notes: {', '.join(session.notes)}")
    if session.status == "TENTATIVE":
        lines.append("Pending: the patient is not eligible yet")
    return "\n".join(lines)
