"""`courseflow therapist` and `courseflow patient` over the rows a running planner wrote: a
roster, prescriptions placed by the planner, an absence that moved sessions."""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schemas.codec import to_bytes
from services.ops.patient import patient_report
from services.ops.therapist import TherapistQuery, TherapistRefusedError, therapist_report
from services.runtime.launcher import ServiceProcess, courseflow_command, free_port
from services.runtime.topics import ensure_topics
from tests.clinic_events import wire
from tests.integration.conftest import DATABASE_URL, as_service
from tests.integration.kafka_io import eventually, produce, read_until
from tests.integration.test_operations import run_cli
from tests.integration.test_planner_support import (
    BERLIN,
    PARTITIONS,
    ZONE,
    D,
    Event,
    Planner,
    new_patient,
    started_planner,
)
from tests.staff_events import StaffFeed

MORNINGS = [(weekday, "08:00", "12:00") for weekday in range(6)]
TURNOVER = 5


@pytest.fixture
async def planner(bootstrap: str, suffix: str) -> AsyncIterator[Planner]:
    async with started_planner(bootstrap, suffix) as running_planner:
        yield running_planner


def minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def free_by_scan(hours: tuple[int, int], spans: Sequence[tuple[int, int]]) -> str:
    """The free time as a person would count it: every minute of the hours that is neither in
    a session nor within the turnover before or after one, in runs."""
    busy = {m for start, end in spans for m in range(start - TURNOVER, end + TURNOVER)}
    free = [m for m in range(*hours) if m not in busy]
    runs: list[list[int]] = []
    for m in free:
        if runs and runs[-1][1] == m:
            runs[-1][1] = m + 1
        else:
            runs.append([m, m + 1])
    return ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in runs) or "none"


def expected_days(
    sessions: Sequence[tuple[str, Event]], first: date, days: int, absent_on: date
) -> list[str]:
    """What the command must print for T1 (hours 8-12, Monday to Saturday), from the sessions
    the planner last published."""
    lines: list[str] = []
    for day in (first + timedelta(days=n) for n in range(days)):
        weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
        mine = sorted(
            (minute(start), minute(start) + s["duration_min"], patient, s["session_id"])
            for patient, s in sessions
            if s["therapist_id"] == "T1"
            and (start := datetime.fromisoformat(s["starts_at"]).astimezone(BERLIN)).date() == day
        )
        if day == absent_on:
            lines.append(f"{weekday} {day}  absent {day} to {day} (hours 08:00-12:00)")
        elif day.weekday() == 6:
            lines.append(f"{weekday} {day}  no hours")
        else:
            lines.append(f"{weekday} {day}  hours 08:00-12:00")
        lines += [
            f"  {hhmm(start)}-{hhmm(end)}  patient {patient}  course C1  session {session_id}"
            for start, end, patient, session_id in mine
        ]
        if day != absent_on and day.weekday() != 6:
            lines.append(f"  free {free_by_scan((480, 720), [(s, e) for s, e, _, _ in mine])}")
    return lines


async def test_a_therapists_days_show_the_sessions_the_planner_booked_and_the_free_time(
    planner: Planner,
) -> None:
    north, south = StaffFeed("north"), StaffFeed("south")
    await planner.staff(north.rostered("T1", D - timedelta(days=7), MORNINGS))
    await planner.handled()
    (early, _), (late, _) = new_patient(), new_patient()
    await planner.send(early.enrolled(D), early.prescription(D, preferred_time="09:00"))
    await planner.send(late.enrolled(D), late.prescription(D, preferred_time="10:00"))
    await planner.handled()
    wednesday = D + timedelta(days=2)
    await planner.staff(north.absent("T1", wednesday, wednesday))
    await planner.handled()

    schema = f"plan_{planner.suffix}"
    query = TherapistQuery("T1", D, 7, schema=schema)
    lines = await therapist_report(DATABASE_URL, query, ZoneInfo(ZONE), TURNOVER)

    sessions = [
        (feed.patient, session)
        for feed in (early, late)
        for session in (await planner.published(feed.patient))[-1]["data"]["sessions"]
    ]
    header = f"therapist T1, clinic north: 7 days from {D} ({ZONE} time, turnover 5 min)"
    assert lines[0] == header
    assert lines[1:5] == [
        "Mon 2026-03-02  hours 08:00-12:00",
        f"  09:00-09:07  patient {early.patient}  course C1  session C1-s01",
        f"  10:00-10:07  patient {late.patient}  course C1  session C1-s01",
        "  free 08:00-08:55, 09:12-09:55, 10:12-12:00",
    ]
    # R-THERAPIST-ABSENT moved Wednesday's sessions to Thursday (R-CAPACITY: nobody else).
    wednesday_on = lines.index(
        "Wed 2026-03-04  absent 2026-03-04 to 2026-03-04 (hours 08:00-12:00)"
    )
    assert lines[wednesday_on + 1 : wednesday_on + 5] == [
        "Thu 2026-03-05  hours 08:00-12:00",
        f"  09:00-09:08  patient {early.patient}  course C1  session C1-s02",
        f"  10:00-10:08  patient {late.patient}  course C1  session C1-s02",
        "  free 08:00-08:55, 09:13-09:55, 10:13-12:00",
    ]
    assert lines[1:] == expected_days(sessions, D, 7, wednesday)

    report = await patient_report(DATABASE_URL, early.patient, planner_schema=schema)
    assert "  #1  2026-03-02 09:00-09:07  7 min therapist T1" in report

    # Rostered by a second clinic too: the clinic must be named.
    await planner.staff(south.rostered("T1", D, MORNINGS))
    await planner.handled()
    clinics = ", ".join(sorted((north.clinic, south.clinic)))
    with pytest.raises(TherapistRefusedError, match=f"several clinics: {clinics}; choose one"):
        await therapist_report(DATABASE_URL, query, ZoneInfo(ZONE), TURNOVER)
    in_south = TherapistQuery("T1", D, 1, clinic_id=south.clinic, schema=schema)
    assert (await therapist_report(DATABASE_URL, in_south, ZoneInfo(ZONE), TURNOVER))[1:] == [
        "Mon 2026-03-02  hours 08:00-12:00",
        "  free 08:00-12:00",
    ]
    with pytest.raises(TherapistRefusedError, match="unknown therapist T9"):
        await therapist_report(
            DATABASE_URL, TherapistQuery("T9", D, 7, schema=schema), ZoneInfo(ZONE), TURNOVER
        )


async def test_the_command_shows_a_running_planners_bookings_and_refuses_with_exit_2(
    bootstrap: str, suffix: str
) -> None:
    """The command as operators run it, on the planner's own schema (the service as a process)."""
    topics = {"patient_events": f"clinic-{suffix}", "eligibility": f"elig-{suffix}",
              "schedule": f"sched-{suffix}", "dead_letters": f"dead-{suffix}",
              "staff_events": f"staff-{suffix}", "planner_commands": f"cmds-{suffix}"}  # fmt: skip
    env = as_service("planner", {
        **{f"COURSEFLOW_PLANNER_TOPIC_{k.upper()}": v for k, v in topics.items()},
        "COURSEFLOW_PLANNER_TOPIC_PARTITIONS": str(PARTITIONS),
        "COURSEFLOW_PLANNER_CLINIC_TIMEZONE": ZONE,
        "COURSEFLOW_PLANNER_OUTBOX_POLL_INTERVAL_S": "0.2",
    })  # fmt: skip
    await ensure_topics(bootstrap, list(topics.values()), partitions=PARTITIONS)
    cli_env = {"COURSEFLOW_PLANNER_CLINIC_TIMEZONE": ZONE}
    therapist = f"T-{uuid.uuid4().hex[:8]}"  # the planner's schema is shared by other tests
    today = datetime.now(BERLIN).date()
    monday = today + timedelta(days=7 - today.weekday())
    north, south = StaffFeed(), StaffFeed()

    async def cli(*args: str) -> tuple[int, str, str]:
        return await run_cli(courseflow_command("therapist", therapist, *args), cli_env)

    code, _, err = await cli()
    unknown = f"courseflow therapist: unknown therapist {therapist}: no clinic rostered them"
    assert (code, err.strip()) == (2, unknown)
    for args in (["--from", "2026-02-30"], ["--days", "93"]):
        code, _, err = await cli(*args)
        assert code == 2
        assert args[0] in err

    # Its own HTTP port: the default one may be another planner's on this machine.
    async with ServiceProcess("planner", env, port=free_port()).running() as planner:
        await planner.ready()
        for clinic in (north, south):
            staffed = clinic.rostered(therapist, monday - timedelta(days=7), MORNINGS)
            await produce(
                bootstrap, topics["staff_events"], to_bytes(staffed), key=clinic.clinic.encode()
            )

        async def refused_for_two_clinics() -> str | None:
            code, _, err = await cli()
            return err if code == 2 and "several clinics" in err else None

        err = await eventually(refused_for_two_clinics, timeout_s=60)
        assert ", ".join(sorted((north.clinic, south.clinic))) in err

        feed, _ = new_patient()
        feed.clinic_id = north.clinic
        for event in (feed.enrolled(monday), feed.prescription(monday, preferred_time="09:30")):
            key, value = wire(event)
            await produce(bootstrap, topics["patient_events"], value, key=key)

        def scheduled(records: list[object]) -> bool:
            return any(getattr(r, "key", None) == feed.patient.encode() for r in records)

        await read_until(bootstrap, topics["schedule"], scheduled, timeout_s=60)

    code, out, err = await cli(
        "--clinic", north.clinic, "--from", monday.isoformat(), "--days", "2"
    )
    assert code == 0, err
    assert out.splitlines()[1:] == [
        f"Mon {monday}  hours 08:00-12:00",
        f"  09:30-09:37  patient {feed.patient}  course C1  session C1-s01",
        "  free 08:00-09:25, 09:42-12:00",
        f"Tue {monday + timedelta(days=1)}  hours 08:00-12:00",
        "  free 08:00-12:00",
    ]
    code, out, err = await run_cli(courseflow_command("patient", feed.patient), {})
    assert code == 0, err
    assert f"  #1  {monday} 09:30-09:37  7 min therapist {therapist}" in out.splitlines()
