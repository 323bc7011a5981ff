"""R-NO-OVERLAP's last guard: the database itself refuses two bookings of one therapist that
come closer than the turnover, whatever code writes them."""

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

import services.planner
from schemas.causes import Cause
from services.ops.prune import Retention, prune
from services.planner.app import build_runtime
from services.planner.booking_rows import book, held, rewrite, session_key
from services.planner.capacity.bookings import Booking, Bookings, Owner
from services.planner.clinic import ClinicSessions, ClinicState, StaffDecider
from services.planner.clinic_repository import ClinicRepository
from services.planner.decider import Timed
from services.planner.repository import PlannerRepository
from services.planner.staffing import BookingsChanged
from services.planner.state import PatientState
from services.runtime.db import Conn, migrate
from services.runtime.decider import Decided
from services.runtime.locks import LockNamespace, lock_keys
from tests.clinic_events import ClinicFeed
from tests.integration.conftest import DATABASE_URL
from tests.integration.kafka_io import eventually
from tests.integration.test_planner_support import ZONE, settings_for
from tests.staff_events import StaffFeed
from tests.unit.test_planner_staffing import north, prescribed

MONDAY = date(2026, 11, 23)
ZONE_INFO = ZoneInfo(ZONE)
TURNOVER = 5


def session(n: int, therapist: str, start_min: int, end_min: int, on: date = MONDAY) -> Booking:
    owner = Owner(f"P{n}", "C1", session_key(f"P{n}", "C1-s01"))
    return Booking(therapist, on, start_min, end_min, owner)


@pytest.fixture
async def pool(suffix: str) -> AsyncIterator[asyncpg.Pool]:
    runtime, _ = build_runtime(settings_for(suffix), name=f"plan_{suffix}")
    await runtime.prepare()
    try:
        yield runtime.pool
    finally:
        await runtime.release()


async def free(conn: Conn, keys: list[str]) -> None:
    await rewrite(conn, keys, (), ZoneInfo(ZONE), TURNOVER)


async def booked(pool: asyncpg.Pool, *bookings: Booking) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await book(conn, "north", bookings, ZoneInfo(ZONE), TURNOVER)


async def test_a_forced_overlap_is_refused_by_the_database(pool: asyncpg.Pool) -> None:
    await booked(pool, session(1, "T1", 540, 550))
    with pytest.raises(asyncpg.ExclusionViolationError):
        await booked(pool, session(2, "T1", 545, 560))
    with pytest.raises(asyncpg.ExclusionViolationError):  # inside the turnover
        await booked(pool, session(3, "T1", 554, 560))
    async with pool.acquire() as conn:
        assert [b.owner.patient_id for b in await held(conn, "north", ZoneInfo(ZONE))] == ["P1"]


async def test_bookings_a_turnover_apart_or_of_another_therapist_are_held(
    pool: asyncpg.Pool,
) -> None:
    first, after_turnover = session(1, "T1", 540, 550), session(2, "T1", 555, 565)
    other_therapist = session(3, "T2", 540, 550)
    await booked(pool, first, after_turnover, other_therapist)
    async with pool.acquire() as conn:
        assert set(await held(conn, "north", ZoneInfo(ZONE))) == {
            first,
            after_turnover,
            other_therapist,
        }


async def test_a_freed_booking_leaves_its_time_to_others(pool: asyncpg.Pool) -> None:
    await booked(pool, session(1, "T1", 540, 550))
    async with pool.acquire() as conn, conn.transaction():
        await free(conn, [session_key("P1", "C1-s01")])
    await booked(pool, session(2, "T1", 545, 560))
    async with pool.acquire() as conn:
        assert [b.owner.patient_id for b in await held(conn, "north", ZoneInfo(ZONE))] == ["P2"]


async def test_a_session_booked_again_moves(pool: asyncpg.Pool) -> None:
    await booked(pool, session(1, "T1", 540, 550))
    moved = session(1, "T1", 545, 555)
    await booked(pool, moved)
    async with pool.acquire() as conn:
        assert list(await held(conn, "north", ZoneInfo(ZONE))) == [moved]


async def test_patients_may_hold_sessions_of_the_same_id(pool: asyncpg.Pool) -> None:
    first, second = session(1, "T1", 540, 550), session(2, "T2", 540, 550)
    assert first.owner.session_id != second.owner.session_id  # both are C1-s01 of a patient
    await booked(pool, first, second)
    async with pool.acquire() as conn:
        assert set(await held(conn, "north", ZoneInfo(ZONE))) == {first, second}


async def test_a_therapist_id_names_a_therapist_of_one_clinic(pool: asyncpg.Pool) -> None:
    await booked(pool, session(1, "T1", 540, 550))
    async with pool.acquire() as conn, conn.transaction():
        await book(conn, "south", [session(2, "T1", 540, 550)], ZoneInfo(ZONE), TURNOVER)
    async with pool.acquire() as conn:
        assert len(await held(conn, "south", ZoneInfo(ZONE))) == 1


async def test_only_bookings_from_the_clinic_local_yesterday_on_are_loaded(
    pool: asyncpg.Pool,
) -> None:
    days = [MONDAY - timedelta(days=n) for n in (2, 1, 0)]
    await booked(pool, *(session(n, "T1", 540, 550, on) for n, on in enumerate(days)))
    roster = ClinicState((StaffDecider().translate(StaffFeed("north").rostered("T1", MONDAY)),))
    zone = ZoneInfo(ZONE)
    async with pool.acquire() as conn, conn.transaction():
        await ClinicRepository(zone).save_many(conn, {"north": roster}, [])
        staff = await ClinicRepository(zone, lambda: MONDAY).load_shared(conn, ["north"], {}, [])
        patients = await PlannerRepository(zone=zone, today=lambda: MONDAY).load_shared(
            conn, ["P9"], {"P9": enrolled_in("north")}, []
        )
    assert patients is not None
    for bookings in (staff["north"].bookings, patients["north"].bookings):
        assert sorted(b.on for b in bookings) == days[1:]


async def test_the_clinics_batch_reads_the_courses_its_patients_have_to_place(
    pool: asyncpg.Pool,
) -> None:
    _, _, dated = prescribed(None)  # the clinic had no roster: C1 was never placed
    _, _, placed = prescribed(north("T1"))
    zone = ZoneInfo(ZONE)
    async with pool.acquire() as conn, conn.transaction():
        await PlannerRepository(zone=zone).save_many(conn, {"P1": dated.state}, [])
        await PlannerRepository(zone=zone).save_many(conn, {"P2": placed.state}, [])
        shared = await ClinicRepository(zone).load_shared(conn, ["north", "south"], {}, [])
    assert shared["north"].to_place == (("P1", ("C1",)),)
    assert shared["south"].to_place == ()
    async with pool.acquire() as conn, conn.transaction():
        await PlannerRepository(zone=zone).save_many(conn, {"P1": placed.state}, [])
        assert (await ClinicRepository(zone).load_shared(conn, ["north"], {}, []))[
            "north"
        ].to_place == ()


def enrolled_in(clinic_id: str) -> PatientState:
    _, _, dated = prescribed(None, ClinicFeed(clinic_id=clinic_id))
    state: PatientState = dated.state
    return state


SCHEMA = "plan_test"  # the lock names' prefix (`PlannerRepository.schema`)


async def a_first_roster(pool: asyncpg.Pool) -> ClinicSessions:
    """The clinic's batch of a first roster: its clinic lock, the roster, the patients read."""
    roster = ClinicState((StaffDecider().translate(StaffFeed("north").rostered("T1", MONDAY)),))
    async with pool.acquire() as conn, conn.transaction():
        await lock_keys(conn, LockNamespace.CLINIC, [f"{SCHEMA}:north"])
        await ClinicRepository(ZoneInfo(ZONE)).save_many(conn, {"north": roster}, [])
        return (await ClinicRepository(ZoneInfo(ZONE)).load_shared(conn, ["north"], {}, []))[
            "north"
        ]


async def a_clinic_lock_awaited(pool: asyncpg.Pool) -> None:
    async def waiting() -> bool:
        async with pool.acquire() as conn:
            return bool(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND classid = $1 AND NOT granted",
                    int(LockNamespace.CLINIC),
                )
            )

    await eventually(waiting, timeout_s=10)


async def test_a_state_is_stored_as_the_json_text_written_and_read_back_equal(
    pool: asyncpg.Pool,
) -> None:
    # json, not jsonb: PostgreSQL checks the syntax and keeps the text, so a write does not
    # build a binary document nor a read print one again (migration 0009).
    _, _, placed = prescribed(north("T1"))
    repository = PlannerRepository(zone=ZoneInfo(ZONE))
    async with pool.acquire() as conn, conn.transaction():
        await repository.save_many(conn, {"P1": placed.state}, [])
        stored = await conn.fetchrow(
            "SELECT pg_typeof(state)::text AS type, state::text AS text FROM patients"
        )
        loaded = await repository.load_many(conn, ["P1"])
        compression = await conn.fetchval(
            "SELECT attcompression::text FROM pg_attribute "
            "WHERE attrelid = 'patients'::regclass AND attname = 'state'"
        )
        lz4 = await conn.fetchval(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    assert stored is not None
    assert (stored["type"], stored["text"]) == ("json", placed.state.to_json_text())
    assert loaded == {"P1": placed.state}
    assert compression == ("l" if lz4 else "")  # "": the server's default (pglz)


async def test_a_first_roster_waits_for_a_batch_of_its_clinic_and_sees_its_courses(
    pool: asyncpg.Pool,
) -> None:
    repository, state = PlannerRepository(SCHEMA, ZoneInfo(ZONE)), enrolled_in("north")
    async with pool.acquire() as conn, conn.transaction():
        assert await repository.load_shared(conn, ["P1"], {"P1": state}, []) is None
        staff = asyncio.create_task(a_first_roster(pool))
        await a_clinic_lock_awaited(pool)
        await repository.save_many(conn, {"P1": state}, [])  # date-only: no roster yet
    assert (await staff).to_place == (("P1", ("C1",)),)


async def test_a_batch_that_read_no_roster_while_a_first_one_came_is_tried_again(
    pool: asyncpg.Pool,
) -> None:
    repository, state = PlannerRepository(SCHEMA, ZoneInfo(ZONE)), enrolled_in("north")

    async def patients_batch() -> Any:
        async with pool.acquire() as conn, conn.transaction():
            return await repository.load_shared(conn, ["P1"], {"P1": state}, [])

    roster = ClinicState((StaffDecider().translate(StaffFeed("north").rostered("T1", MONDAY)),))
    async with pool.acquire() as conn, conn.transaction():
        await lock_keys(conn, LockNamespace.CLINIC, [f"{SCHEMA}:north"])
        await ClinicRepository(ZoneInfo(ZONE)).save_many(conn, {"north": roster}, [])
        patients = asyncio.create_task(patients_batch())
        await a_clinic_lock_awaited(pool)
    with pytest.raises(asyncpg.SerializationError):  # transient: the batch is tried again
        await patients
    capacity = await patients_batch()
    assert capacity is not None
    assert list(capacity) == ["north"]


async def test_db_prune_deletes_the_bookings_past_their_retention_only(
    pool: asyncpg.Pool, suffix: str
) -> None:
    days = [MONDAY - timedelta(days=n) for n in (41, 40, 2, -1)]
    await booked(pool, *(session(n, "T1", 540, 550, on) for n, on in enumerate(days)))
    now = datetime.combine(MONDAY, time(12), tzinfo=UTC)
    schema = f"plan_{suffix}"
    deleted = await prune(
        DATABASE_URL, [schema], Retention(30, 7, 30, bookings_days=30),
        batch_size=1, now=now, report=lambda _: None,
    )  # fmt: skip
    again = await prune(
        DATABASE_URL, [schema], Retention(30, 7, 30, bookings_days=30),
        batch_size=1, now=now, report=lambda _: None,
    )  # fmt: skip
    assert (deleted[f"{schema}.course_bookings"], again[f"{schema}.course_bookings"]) == (2, 0)
    async with pool.acquire() as conn:
        assert sorted(b.on for b in await held(conn, "north", ZoneInfo(ZONE))) == days[2:]


async def test_db_prune_deletes_a_clinics_bookings_under_its_lock_as_a_planner_batch_does(
    pool: asyncpg.Pool, suffix: str
) -> None:
    # A planner batch writes a clinic's bookings, and the tokens of several clinics, under the
    # clinics' locks; a prune deleting the rows and tokens of several clinics without them
    # could take the same row locks in another order and deadlock with it.
    await booked(pool, session(1, "T1", 540, 550, MONDAY - timedelta(days=41)))
    now = datetime.combine(MONDAY, time(12), tzinfo=UTC)
    schema = f"plan_{suffix}"
    async with pool.acquire() as batch, batch.transaction():
        await lock_keys(batch, LockNamespace.CLINIC, [f"{schema}:north"])
        pruning = asyncio.create_task(prune(
            DATABASE_URL, [schema], Retention(30, 7, 30, bookings_days=30),
            batch_size=10, now=now, report=lambda _: None,
        ))  # fmt: skip

        async def waiting_for_the_clinic() -> bool:
            async with pool.acquire() as observer:  # outside the batch: a fresh snapshot
                return bool(await observer.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory' "
                    "AND query LIKE '%pg_advisory_xact_lock%'"
                ))  # fmt: skip

        await eventually(waiting_for_the_clinic, timeout_s=30)
        assert not pruning.done()
        assert await batch.fetchval("SELECT count(*) FROM bookings") == 1
    deleted = await asyncio.wait_for(pruning, timeout=30)
    assert deleted[f"{schema}.course_bookings"] == 1


async def test_a_clinics_bookings_kept_between_batches_are_read_again_once_changed_elsewhere(
    pool: asyncpg.Pool,
) -> None:
    """The planner keeps a clinic's bookings between batches under the token the writer
    changes (migration 0008): another writer's booking, or a batch's write rolled back, is
    never hidden by the copy kept."""
    zone, state = ZoneInfo(ZONE), enrolled_in("north")
    repository = PlannerRepository(SCHEMA, zone)
    roster = ClinicState((StaffDecider().translate(StaffFeed("north").rostered("T1", MONDAY)),))

    async def loaded() -> list[str]:
        async with pool.acquire() as conn, conn.transaction():
            capacity = await repository.load_shared(conn, ["P1"], {"P1": state}, [])
        assert capacity is not None
        return sorted(b.owner.patient_id for b in capacity["north"].bookings)

    async with pool.acquire() as conn, conn.transaction():
        await ClinicRepository(zone).save_many(conn, {"north": roster}, [])
    assert await loaded() == []
    await booked(pool, session(2, "T1", 540, 550))  # another process's write
    assert await loaded() == ["P2"]

    change = BookingsChanged("north", (session(3, "T1", 600, 610),), ())
    written = Decided("P3", None, state, (Timed(change, datetime.now(UTC)),), Cause.internal("t"))

    async def batch(*, fails: bool) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await repository.load_shared(conn, ["P3"], {"P3": state}, [])
            await repository.write_ahead(conn, [written])
            await repository.save_many(conn, {}, [written])
            if fails:
                raise RuntimeError("the batch fails after its write")

    with pytest.raises(RuntimeError):
        await batch(fails=True)
    assert await loaded() == ["P2"]
    await batch(fails=False)
    assert await loaded() == ["P2", "P3"]
    async with pool.acquire() as conn:
        assert len(await held(conn, "north", zone)) == 2


async def test_a_batch_writes_the_bookings_of_all_its_clinics_and_each_clinics_token(
    pool: asyncpg.Pool,
) -> None:
    """One statement inserts a batch's bookings of every clinic: each lands in its own clinic,
    and each clinic's token changes, so no planner's kept copy of either stays in use."""
    zone, state = ZoneInfo(ZONE), enrolled_in("north")
    north_booking, south_booking = session(1, "T1", 540, 550), session(2, "T9", 540, 550)
    decided = Decided(
        "P1", None, state,
        tuple(Timed(change, datetime.now(UTC)) for change in (
            BookingsChanged("north", (north_booking,), ()),
            BookingsChanged("south", (south_booking,), ()),
        )),
        Cause.internal("t"),
    )  # fmt: skip

    async def tokens() -> dict[str, str]:
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT clinic_id, token::text FROM booking_versions")
        return {row["clinic_id"]: row["token"] for row in rows}

    before = await tokens()
    async with pool.acquire() as conn, conn.transaction():
        repository = PlannerRepository(SCHEMA, zone)
        await repository.write_ahead(conn, [decided])
        await repository.save_many(conn, {}, [decided])
    async with pool.acquire() as conn:
        assert list(await held(conn, "north", zone)) == [north_booking]
        assert list(await held(conn, "south", zone)) == [south_booking]
    after = await tokens()
    assert {"north", "south"} <= set(after)
    assert all(after[clinic] != before.get(clinic) for clinic in ("north", "south"))


def of_course(patient: int, number: int, therapist: str, start_min: int, on: date) -> Booking:
    """Session `number` of course C1 of patient P`patient`."""
    session_id = f"C1-s{number:02d}"
    owner = Owner(f"P{patient}", "C1", session_key(f"P{patient}", session_id))
    return Booking(therapist, on, start_min, start_min + 10, owner)


async def course_rows(pool: asyncpg.Pool) -> list[tuple[str, str, int, list[str]]]:
    """(patient, therapist, turnover, session ids) per row of `course_bookings`."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT patient_id, therapist_id, turnover_min, session_ids FROM course_bookings "
            "ORDER BY patient_id, therapist_id, turnover_min"
        )
    return [(r["patient_id"], r["therapist_id"], r["turnover_min"], r["session_ids"]) for r in rows]


async def test_a_courses_sessions_with_one_therapist_are_one_row_whatever_is_freed_or_moved(
    pool: asyncpg.Pool,
) -> None:
    days = [MONDAY + timedelta(days=n) for n in range(4)]
    await booked(pool, *(of_course(1, n + 1, "T1", 540, on) for n, on in enumerate(days)))
    await booked(pool, of_course(2, 1, "T1", 600, MONDAY))
    assert await course_rows(pool) == [
        ("P1", "T1", TURNOVER, ["C1-s01", "C1-s02", "C1-s03", "C1-s04"]),
        ("P2", "T1", TURNOVER, ["C1-s01"]),
    ]
    async with pool.acquire() as conn, conn.transaction():
        await free(conn, [session_key("P1", "C1-s02")])
    await booked(pool, of_course(1, 3, "T2", 540, days[2]))  # to another therapist
    assert await course_rows(pool) == [
        ("P1", "T1", TURNOVER, ["C1-s01", "C1-s04"]),
        ("P1", "T2", TURNOVER, ["C1-s03"]),
        ("P2", "T1", TURNOVER, ["C1-s01"]),
    ]
    async with pool.acquire() as conn:
        assert sorted(
            (b.owner.patient_id, b.therapist_id, b.on) for b in await held(conn, "north", ZONE_INFO)
        ) == [("P1", "T1", days[0]), ("P1", "T1", days[3]), ("P1", "T2", days[2]),
              ("P2", "T1", MONDAY)]  # fmt: skip
    async with pool.acquire() as conn, conn.transaction():
        await free(conn, [session_key("P2", "C1-s01")])
    assert [row[0] for row in await course_rows(pool)] == ["P1", "P1"]  # no empty row left


async def test_the_sessions_left_as_they_were_keep_the_turnover_they_were_booked_under(
    pool: asyncpg.Pool,
) -> None:
    await booked(pool, of_course(1, 1, "T1", 540, MONDAY))  # turnover 5
    async with pool.acquire() as conn, conn.transaction():  # then PLANNER_TURNOVER_MIN=10
        await book(conn, "north", [of_course(1, 2, "T1", 540, MONDAY + timedelta(days=1))],
                   ZONE_INFO, 10)  # fmt: skip
    assert await course_rows(pool) == [
        ("P1", "T1", TURNOVER, ["C1-s01"]),
        ("P1", "T1", 10, ["C1-s02"]),
    ]
    await booked(pool, of_course(2, 1, "T1", 557, MONDAY))  # 7 minutes after s01: held
    with pytest.raises(asyncpg.ExclusionViolationError):  # 7 minutes after s02: refused
        await booked(pool, of_course(3, 1, "T1", 557, MONDAY + timedelta(days=1)))


async def test_two_sessions_of_one_course_closer_than_the_turnover_are_refused(
    pool: asyncpg.Pool,
) -> None:
    """Within a row no exclusion constraint applies: its sessions' spans would merge in `busy`,
    which the row's CHECK refuses."""
    with pytest.raises(asyncpg.CheckViolationError):
        await booked(pool, of_course(1, 1, "T1", 540, MONDAY), of_course(1, 2, "T1", 548, MONDAY))
    async with pool.acquire() as conn:
        assert await held(conn, "north", ZONE_INFO) == Bookings()


async def test_the_bookings_held_before_migration_0010_are_moved_into_course_rows(
    db: asyncpg.Connection, suffix: str, tmp_path: Path
) -> None:
    schema, planner = f"mig_{suffix}", Path(services.planner.__file__).parent / "migrations"
    before = tmp_path / "planner" / "migrations"
    before.mkdir(parents=True)
    for path in sorted(planner.glob("*.sql")):
        if path.name < "0010":
            shutil.copy(path, before / path.name)
    try:
        await migrate(db, schema, [before])
        await db.execute(
            f'INSERT INTO "{schema}".bookings (patient_id, session_id, therapist_id, clinic_id, '
            "course_id, starts_at, ends_at, turnover_min) VALUES "
            "('P1', 'C1-s02', 'T1', 'north', 'C1', $1::timestamptz + interval '1 day', "
            "$1 + interval '1 day 10 minutes', 5), "
            "('P1', 'C1-s01', 'T1', 'north', 'C1', $1, $1 + interval '10 minutes', 5), "
            "('P2', 'C1-s01', 'T1', 'north', 'C1', $1 + interval '15 minutes', "
            "$1 + interval '25 minutes', 5)",
            datetime.combine(MONDAY, time(9), tzinfo=ZONE_INFO),
        )  # fmt: skip
        assert await migrate(db, schema, [planner]) == ["planner/0010_course_bookings.sql"]
        rows = await db.fetch(
            f'SELECT patient_id, session_ids FROM "{schema}".course_bookings ORDER BY 1'
        )
        assert [(r["patient_id"], r["session_ids"]) for r in rows] == [
            ("P1", ["C1-s01", "C1-s02"]), ("P2", ["C1-s01"]),
        ]  # fmt: skip
        await db.execute(f'SET search_path TO "{schema}"')
        assert len(await held(db, "north", ZONE_INFO)) == 3
    finally:
        await db.execute("RESET search_path")
        await db.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
