"""A course's calendar feed over HTTP from a running planner: the URL made by
`courseflow calendar url`, the same URL when asked again, the feed read back by two parsers
(09:00 on both sides of the change to summer time), and after `courseflow calendar revoke`
the same 404 as for an unknown or malformed URL."""

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx

from services.planner.feeds.tokens import feed_path
from services.runtime.launcher import ServiceProcess, courseflow_command, free_port
from services.runtime.topics import ensure_topics
from tests.calendars import read_calendar
from tests.clinic_events import wire
from tests.integration.conftest import as_service
from tests.integration.kafka_io import produce, read_until
from tests.integration.test_operations import run_cli
from tests.integration.test_planner_support import PARTITIONS, ZONE, D, new_patient


def planner_env(suffix: str, port: int) -> dict[str, str]:
    topics = {"patient_events": f"clinic-{suffix}", "eligibility": f"elig-{suffix}",
              "schedule": f"sched-{suffix}", "dead_letters": f"dead-{suffix}",
              "staff_events": f"staff-{suffix}", "planner_commands": f"cmds-{suffix}"}  # fmt: skip
    env = {f"COURSEFLOW_PLANNER_TOPIC_{k.upper()}": v for k, v in topics.items()}
    return as_service("planner", env | {
        "COURSEFLOW_PLANNER_TOPIC_PARTITIONS": str(PARTITIONS),
        "COURSEFLOW_PLANNER_CLINIC_TIMEZONE": ZONE,
        "COURSEFLOW_PLANNER_OUTBOX_POLL_INTERVAL_S": "0.2",
        "COURSEFLOW_PLANNER_LOG_FORMAT": "json",
    })  # fmt: skip


async def calendar_cli(action: str, patient: str, course: str, env: dict[str, str]) -> str:
    code, out, err = await run_cli(courseflow_command("calendar", action, "course", patient,
                                                      course), env)  # fmt: skip
    assert code == 0, err
    return out.strip()


async def test_a_course_feed_over_http_its_url_printed_again_and_revoked(
    bootstrap: str, suffix: str
) -> None:
    port = free_port()
    env = planner_env(suffix, port)
    await ensure_topics(bootstrap, [f"clinic-{suffix}", f"elig-{suffix}"], partitions=PARTITIONS)
    feed, decisions = new_patient()  # 15 sessions at 09:00 every other day from 2 March 2026
    for event in (feed.enrolled(D), feed.prescription(D)):
        key, value = wire(event)
        await produce(bootstrap, f"clinic-{suffix}", value, key=key)
    key, value = wire(decisions.eligible(D))
    await produce(bootstrap, f"elig-{suffix}", value, key=key)
    cli_env = {
        "COURSEFLOW_PLANNER_CALENDAR_URL_KEY": secrets.token_urlsafe(32),
        "COURSEFLOW_PLANNER_CALENDAR_BASE_URL": f"http://127.0.0.1:{port}/",
    }

    def scheduled(records: list[Any]) -> bool:
        return any(r.key == feed.patient.encode() for r in records)

    async with (
        ServiceProcess("planner", env, port=port).running() as planner,
        httpx.AsyncClient(timeout=10) as http,
    ):
        await planner.ready()
        (record, *_) = await read_until(bootstrap, f"sched-{suffix}", scheduled, timeout_s=40)
        plan = json.loads(record.value)["data"]["sessions"]
        url = await calendar_cli("url", feed.patient, "C1", cli_env)
        assert url.startswith(f"http://127.0.0.1:{port}/calendars/")
        assert await calendar_cli("url", feed.patient, "C1", cli_env) == url

        answer = await http.get(url)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
        calendar = read_calendar(answer.content)
        starts = sorted(e.start for e in calendar.events.values() if isinstance(e.start, datetime))
        assert starts == [datetime.fromisoformat(s["starts_at"]) for s in plan]
        assert len(starts) == 15
        assert {e.wall_clock for e in calendar.events.values()} == {"09:00"}
        assert {s.utcoffset() for s in starts} == {timedelta(hours=1), timedelta(hours=2)}
        assert {e.sequence for e in calendar.events.values()} == {1}

        unknown = await http.get(f"http://127.0.0.1:{port}{feed_path('A' * 43)}")
        malformed = await http.get(f"http://127.0.0.1:{port}/calendars/{feed.patient}.ics")
        assert await calendar_cli("revoke", feed.patient, "C1", cli_env) == "URL revoked"
        revoked = await http.get(url)
        for refused in (unknown, malformed, revoked):
            assert refused.status_code == 404
            assert refused.content == unknown.content
            assert refused.headers["content-type"] == unknown.headers["content-type"]
        assert feed.patient.encode() not in unknown.content

        renewed = await calendar_cli("url", feed.patient, "C1", cli_env)
        assert renewed != url
        assert (await http.get(renewed)).status_code == 200
        assert (await http.get(url)).status_code == 404


async def test_calendar_url_refuses_an_unknown_course_and_a_missing_key(suffix: str) -> None:
    patient = f"P-{suffix}"
    with_key = {"COURSEFLOW_PLANNER_CALENDAR_URL_KEY": secrets.token_urlsafe(32)}
    code, _, err = await run_cli(courseflow_command("calendar", "url", "course", patient, "C1"),
                                 with_key)  # fmt: skip
    assert code == 1
    assert "knows no course" in err or "has not created its tables" in err
    code, _, err = await run_cli(courseflow_command("calendar", "url", "course", patient, "C1"),
                                 {})  # fmt: skip
    assert code == 2
    assert "COURSEFLOW_PLANNER_CALENDAR_URL_KEY" in err
