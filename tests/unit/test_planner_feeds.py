"""A course's subscribable feed from the planner's state (no I/O): one event per planned
session, read back by two parsers; UID and SEQUENCE across a reschedule, a suspension, a
resumption and a cancellation; 09:00 stays 09:00 across the change to summer time; and the
feed path's shape decides nothing but 404 before any lookup."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from faststream.asgi import AsgiResponse

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.planner.commands import NotPerformedReason, SurgeryPerformed
from services.planner.feeds.course import course_sessions
from services.planner.feeds.endpoint import NOT_FOUND, calendar_feeds
from services.planner.feeds.feed import feed_calendar
from services.planner.feeds.tokens import feed_path, feed_token, token_in
from tests.calendars import ReadCalendar, ReadEvent, read_calendar
from tests.unit.test_planner_support import Harness, at

START = date(2026, 3, 16)  # a Monday; 15 sessions every other day cross 29 March (DST)
STAMP = datetime(2026, 3, 16, 7, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def feed_of(patient: Harness) -> ReadCalendar:
    sessions = course_sessions(patient.state, "P-1", "C1", BERLIN)
    data = feed_calendar(sessions, name="course C1", timezone="Europe/Berlin", stamp=STAMP)
    return read_calendar(data)


def by_session(feed: ReadCalendar, patient: Harness) -> dict[str, ReadEvent]:
    """The feed's events by session id (the UID is opaque: matched through the plan)."""
    uids = {s.uid: s.session_id for s in course_sessions(patient.state, "P-1", "C1", BERLIN)}
    return {uids[uid]: event for uid, event in feed.events.items()}


def test_each_planned_session_is_one_event_at_its_local_time_across_the_dst_change() -> None:
    patient = Harness()
    patient.prescribe(start=START)
    feed = feed_of(patient)
    plan = patient.plan()
    assert len(feed.events) == len(plan) == 15
    events = by_session(feed, patient)
    assert [events[s.session_id].start for s in plan] == [s.starts_at for s in plan]
    assert {event.wall_clock for event in feed.events.values()} == {"09:00"}
    offsets = {e.start.utcoffset() for e in feed.events.values() if isinstance(e.start, datetime)}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # both sides of 29 March
    assert {event.sequence for event in feed.events.values()} == {1}
    assert {event.status for event in feed.events.values()} == {"CONFIRMED"}
    assert all("P-1" in event.summary for event in feed.events.values())


def test_uid_and_sequence_across_a_reschedule_a_suspension_a_resumption_a_cancellation() -> None:
    patient = Harness()
    patient.prescribe(start=START)
    first = feed_of(patient)
    patient.complete_next(3)
    moved = patient.plan()[0]
    patient.not_performed(moved, NotPerformedReason.SEVERE_PAIN)  # to the end of the course
    rescheduled = feed_of(patient)
    assert set(rescheduled.events) < set(first.events)  # the same UIDs, the done ones gone
    after = by_session(rescheduled, patient)[moved.session_id]
    assert after.uid in first.events
    assert after.start is not None
    assert after.start > first.events[after.uid].start  # type: ignore[operator]
    assert {e.sequence for e in rescheduled.events.values()} == {2}

    flare_on = patient.plan()[0].on - timedelta(days=1)
    block = Block(rule=RuleId.FLARE, since=flare_on, until=None)
    patient.eligibility(flare_on, eligible=False, blocks=(block,))
    assert feed_of(patient).events == {}  # suspended: no session has a day

    patient.eligibility(flare_on + timedelta(days=10), eligible=True)
    resumed = feed_of(patient)
    assert set(resumed.events) == set(rescheduled.events)
    assert {e.sequence for e in resumed.events.values()} == {4}

    surgery_on = patient.plan()[0].on
    patient.feed(SurgeryPerformed("surgery", at(surgery_on, 7), surgery_on))
    assert feed_of(patient).events == {}
    assert patient.state.published_course("C1").version == 5  # type: ignore[union-attr]


def test_an_unknown_course_is_an_empty_calendar() -> None:
    assert course_sessions(Harness().state, "P-1", "C9", BERLIN) == []


def test_only_a_feed_path_with_a_well_formed_token_is_looked_up() -> None:
    token = feed_token("k" * 32, "nonce")
    assert token == feed_token("k" * 32, "nonce")
    assert token != feed_token("k" * 32, "another nonce")
    assert token_in(feed_path(token)) == token
    malformed = ["/calendars/", "/calendars/x.ics", f"/calendars/{token}",
                 f"/calendars/{token}.ics/", f"/calendars/a/{token}.ics",
                 f"/calendars/{token[:-1]}!.ics"]  # fmt: skip
    for path in malformed:
        assert token_in(path) is None, path


async def call(path: str, method: str = "GET") -> tuple[int, bytes]:
    def no_pool() -> Any:
        raise AssertionError("nothing is looked up for this request")

    app = calendar_feeds(no_pool, "planner", "Europe/Berlin")
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": method, "path": path}, None, send)  # type: ignore[arg-type]
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent)


async def test_a_malformed_path_is_the_same_404_without_a_lookup_and_other_methods_405() -> None:
    assert isinstance(NOT_FOUND, AsgiResponse)
    assert await call("/calendars/x.ics") == (404, NOT_FOUND.body)
    assert await call("/calendars/") == (404, NOT_FOUND.body)
    status, _ = await call(feed_path(feed_token("k" * 32, "n")), method="POST")
    assert status == 405
