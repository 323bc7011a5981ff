"""A therapist's calendar feed over HTTP from a running planner with a roster: the URL made by
`courseflow calendar url therapist`, the feed read back by two parsers (09:00 on both sides
of the change to summer time), the same events as the course's feed; an absence moves a
session out of one therapist's feed into the other's under the same UID with a higher
SEQUENCE; after `revoke` the same 404 as for an unknown URL. The command refuses an unknown
therapist, and one rostered in several clinics without --clinic (exit 2)."""

import json
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from schemas.codec import to_bytes
from schemas.staff import StaffEventUnion
from services.planner.feeds.tokens import feed_path
from services.runtime.launcher import ServiceProcess, courseflow_command, free_port
from services.runtime.topics import ensure_topics
from tests.calendars import ReadCalendar, read_calendar
from tests.clinic_events import wire
from tests.integration.kafka_io import eventually, produce, read_until
from tests.integration.test_calendar_feeds import planner_env
from tests.integration.test_operations import run_cli
from tests.integration.test_planner_support import PARTITIONS, D, Decisions, PlannerFeed
from tests.staff_events import StaffFeed

MORNINGS = [(weekday, "08:00", "12:00") for weekday in range(6)]


async def feed_cli(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    code, out, err = await run_cli(courseflow_command("calendar", *argv), env)
    return code, out.strip(), err


async def feed_url(env: dict[str, str], *argv: str) -> str:
    code, out, err = await feed_cli(env, "url", *argv)
    assert code == 0, err
    return out


async def read_feed(http: httpx.AsyncClient, url: str) -> ReadCalendar:
    answer = await http.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    return read_calendar(answer.content)


async def send_staff(bootstrap: str, suffix: str, *events: StaffEventUnion) -> None:
    for event in events:  # keyed by their clinic (CONTRACT.md)
        value, key = to_bytes(event), event.data.clinic_id.encode()
        await produce(bootstrap, f"staff-{suffix}", value, key=key)


def schedule_events(records: list[Any], patient: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records if r.key == patient.encode()]


async def test_a_therapists_feed_over_http_follows_an_absence_and_is_revoked(
    bootstrap: str, suffix: str, db: asyncpg.Connection
) -> None:
    port = free_port()
    # The planner's today is D, so the absence below hits bookings ahead of it.
    offset = (D - datetime.now(UTC).date()).days
    env = planner_env(suffix, port) | {"COURSEFLOW_PLANNER_CLOCK_OFFSET_DAYS": str(offset)}
    topics = [f"clinic-{suffix}", f"elig-{suffix}", f"staff-{suffix}"]
    await ensure_topics(bootstrap, topics, partitions=PARTITIONS)
    staff, elsewhere = StaffFeed(), StaffFeed()
    t1, t2 = f"T1-{suffix}", f"T2-{suffix}"
    week_before = D - timedelta(days=7)
    roster = [staff.rostered(t, week_before, MORNINGS) for t in (t1, t2)]
    await send_staff(bootstrap, suffix, *roster, elsewhere.rostered(t1, week_before, MORNINGS))
    patient = PlannerFeed(patient=f"P-{uuid.uuid4().hex[:10]}", clinic_id=staff.clinic)
    cli_env = {
        "COURSEFLOW_PLANNER_CALENDAR_URL_KEY": secrets.token_urlsafe(32),
        "COURSEFLOW_PLANNER_CALENDAR_BASE_URL": f"http://127.0.0.1:{port}/",
    }

    async def rostered() -> bool:
        facts = await db.fetchval(
            "SELECT sum(jsonb_array_length(roster)) FROM planner.clinics "
            "WHERE clinic_id = ANY($1::text[])",
            [staff.clinic, elsewhere.clinic],
        )
        return bool(facts == 3)

    async with (
        ServiceProcess("planner", env, port=port).running() as planner,
        httpx.AsyncClient(timeout=10) as http,
    ):
        await planner.ready()
        await eventually(rostered, timeout_s=40)  # the roster before the patient's plan
        for event in (patient.enrolled(D), patient.prescription(D)):  # 09:00, crossing DST
            key, value = wire(event)
            await produce(bootstrap, f"clinic-{suffix}", value, key=key)
        key, value = wire(Decisions(patient.patient).eligible(D))
        await produce(bootstrap, f"elig-{suffix}", value, key=key)
        records = await read_until(bootstrap, f"sched-{suffix}",
                                   lambda r: bool(schedule_events(r, patient.patient)),
                                   timeout_s=40)  # fmt: skip
        (scheduled,) = schedule_events(records, patient.patient)
        plan = scheduled["data"]["sessions"]
        (giving,) = {s["therapist_id"] for s in plan}  # R-CONTINUITY: one therapist
        other = t2 if giving == t1 else t1
        urls = {t: await feed_url(cli_env, "therapist", t, "--clinic", staff.clinic)
                for t in (t1, t2)}  # fmt: skip
        course_url = await feed_url(cli_env, "course", patient.patient, "C1")

        first = await read_feed(http, urls[giving])
        course = await read_feed(http, course_url)
        assert first.events == course.events  # the same UIDs, SEQUENCE, times and text
        starts = sorted(e.start for e in first.events.values() if isinstance(e.start, datetime))
        assert starts == [datetime.fromisoformat(s["starts_at"]) for s in plan]
        assert len(starts) == 15
        assert {e.wall_clock for e in first.events.values()} == {"09:00"}
        assert {s.utcoffset() for s in starts} == {timedelta(hours=1), timedelta(hours=2)}
        assert {e.sequence for e in first.events.values()} == {1}
        assert all(patient.patient in e.summary for e in first.events.values())
        assert (await read_feed(http, urls[other])).events == {}

        absent_on = date.fromisoformat(plan[2]["on"])
        await send_staff(bootstrap, suffix, staff.absent(giving, absent_on, absent_on))
        records = await read_until(bootstrap, f"sched-{suffix}",
                                   lambda r: len(schedule_events(r, patient.patient)) > 1,
                                   timeout_s=40)  # fmt: skip
        rescheduled = schedule_events(records, patient.patient)[-1]["data"]
        assert rescheduled["rules"][0] == "R-THERAPIST-ABSENT"
        (moved,) = [s for s in rescheduled["sessions"] if s["therapist_id"] == other]

        left, joined = await read_feed(http, urls[giving]), await read_feed(http, urls[other])
        (uid,) = joined.events
        assert uid in first.events
        assert uid not in left.events
        assert set(left.events) == set(first.events) - {uid}
        assert joined.events[uid].sequence == rescheduled["version"] > first.events[uid].sequence
        assert joined.events[uid].start == datetime.fromisoformat(moved["starts_at"])
        assert (await read_feed(http, course_url)).events[uid] == joined.events[uid]

        unknown = await http.get(f"http://127.0.0.1:{port}{feed_path('A' * 43)}")
        code, out, _ = await feed_cli(cli_env, "revoke", "therapist", giving,
                                      "--clinic", staff.clinic)  # fmt: skip
        assert (code, out) == (0, "URL revoked")
        revoked = await http.get(urls[giving])
        assert revoked.status_code == unknown.status_code == 404
        assert revoked.content == unknown.content
        assert revoked.headers["content-type"] == unknown.headers["content-type"]
        assert (await http.get(urls[other])).status_code == 200

        code, _, err = await feed_cli(cli_env, "url", "therapist", t1)
        assert code == 2
        assert "--clinic" in err
        assert staff.clinic in err
        assert elsewhere.clinic in err
        assert await feed_url(cli_env, "therapist", t2) == urls[t2]  # one clinic: no --clinic
        for action in ("url", "revoke"):
            code, _, err = await feed_cli(cli_env, action, "therapist", f"T9-{suffix}")
            assert code == 2, err
            assert f"unknown therapist T9-{suffix}" in err
            code, _, err = await feed_cli(cli_env, action, "therapist", t2, "--clinic", "K-none")
            assert code == 2, err
            assert f"{t2} was never rostered in clinic K-none" in err
