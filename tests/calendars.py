"""Reading back every calendar courseflow produces with two independent parsers.

icalendar (the library that writes them) resolves a TZID through the IANA database;
vobject resolves it through the VTIMEZONE in the file (via dateutil), so the two agreeing
on every start also checks the VTIMEZONE that was sent.
"""

from dataclasses import dataclass
from datetime import date, datetime

import icalendar
import vobject


@dataclass(frozen=True, slots=True)
class ReadEvent:
    uid: str
    sequence: int
    status: str
    summary: str
    description: str
    start: datetime | date | None
    end: datetime | date | None

    @property
    def wall_clock(self) -> str:
        """The local time of day the calendar shows ("all day" for a date)."""
        if isinstance(self.start, datetime):
            return self.start.strftime("%H:%M")
        return "all day"


@dataclass(frozen=True, slots=True)
class ReadCalendar:
    method: str | None
    events: dict[str, ReadEvent]
    raw: icalendar.Calendar


def read_calendar(data: bytes | str) -> ReadCalendar:
    """The calendar as both parsers read it; fails unless they agree on every event."""
    text = data.decode() if isinstance(data, bytes) else data
    by_icalendar = _with_icalendar(text)
    by_vobject = _with_vobject(text)
    assert by_icalendar.method == by_vobject.method
    assert by_icalendar.events.keys() == by_vobject.events.keys()
    for uid, event in by_icalendar.events.items():
        other = by_vobject.events[uid]
        assert event == other, (event, other)
        if isinstance(event.start, datetime):
            assert isinstance(other.start, datetime)
            assert event.start.utcoffset() == other.start.utcoffset(), uid
    return by_icalendar


def _with_icalendar(text: str) -> ReadCalendar:
    calendar = icalendar.Calendar.from_ical(text)
    method = calendar.get("method")
    events = {}
    for vevent in calendar.walk("VEVENT"):
        start = vevent.decoded("dtstart") if "dtstart" in vevent else None
        end = vevent.decoded("dtend") if "dtend" in vevent else None
        event = ReadEvent(
            str(vevent["uid"]), int(vevent.decoded("sequence")), str(vevent["status"]),
            str(vevent["summary"]), str(vevent["description"]), start, end,
        )  # fmt: skip
        events[event.uid] = event
    return ReadCalendar(None if method is None else str(method), events, calendar)


def _with_vobject(text: str) -> ReadCalendar:
    _forget_timezones(text)
    calendar = vobject.readOne(text)
    method = calendar.method.value if hasattr(calendar, "method") else None
    events = {}
    for vevent in getattr(calendar, "vevent_list", []):
        start = vevent.dtstart.value if hasattr(vevent, "dtstart") else None
        end = vevent.dtend.value if hasattr(vevent, "dtend") else None
        event = ReadEvent(
            vevent.uid.value, int(vevent.sequence.value), vevent.status.value,
            vevent.summary.value, vevent.description.value, start, end,
        )  # fmt: skip
        events[event.uid] = event
    return ReadCalendar(method, events, calendar)


def _forget_timezones(text: str) -> None:
    """vobject keeps the first VTIMEZONE it reads for a TZID for the rest of the process
    (a registry of its module); each calendar must be read with its own."""
    registry: dict[str, object] = vars(vobject.icalendar)["__tzidMap"]
    for line in text.splitlines():
        if line.startswith("TZID:"):
            registry.pop(line.removeprefix("TZID:").strip(), None)
