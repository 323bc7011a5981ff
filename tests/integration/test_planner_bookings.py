"""R-NO-OVERLAP's last guard: the database itself refuses two bookings of one therapist that
come closer than the turnover, whatever code writes them."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from schemas.causes import Cause
from services.ops.prune import Retention, prune
from services.planner.app import build_runtime
from services.planner.booking_rows import book, free, held, session_key
from services.planner.capacity.bookings import Booking, Owner
from services.planner.clinic import ClinicSessions, ClinicState, StaffDecider
from services.planner.clinic_repository import ClinicRepository
from services.planner.decider import Timed
from services.planner.repository import PlannerRepository
from services.planner.staffing import BookingsChanged
from services.planner.state import PatientState
from services.runtime.decider import Decided
from services.runtime.locks import LockNamespace, lock_keys
from tests.clinic_events import ClinicFeed
from tests.integration.conftest import DATABASE_URL
from tests.integration.kafka_io import eventually
from tests.integration.test_planner_support import ZONE, settings_for
from tests.staff_events import StaffFeed
from tests.unit.test_planner_staffing import north, prescribed

MONDAY = date(2026, 11, 23)
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
    assert (deleted[f"{schema}.bookings"], again[f"{schema}.bookings"]) == (2, 0)
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
    assert deleted[f"{schema}.bookings"] == 1


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
        await PlannerRepository(SCHEMA, zone).save_many(conn, {}, [decided])
    async with pool.acquire() as conn:
        assert list(await held(conn, "north", zone)) == [north_booking]
        assert list(await held(conn, "south", zone)) == [south_booking]
    after = await tokens()
    assert {"north", "south"} <= set(after)
    assert all(after[clinic] != before.get(clinic) for clinic in ("north", "south"))
