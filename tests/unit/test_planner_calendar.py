"""ClinicCalendar: open days, holidays and wall-clock time across DST."""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.planner.calendar import ClinicCalendar
from services.planner.notes import Profile
from services.planner.plan import DatedSession
from services.planner.sessions import planned_sessions
from services.planner.state import PhysicalTherapy
from tests.unit.test_planner_support import BERLIN

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
WALL_CLOCK = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def test_monday_to_saturday_open_by_default_sunday_and_holidays_closed() -> None:
    assert BERLIN.is_open(date(2026, 11, 2))
    assert BERLIN.is_open(date(2026, 11, 7))
    assert not BERLIN.is_open(date(2026, 11, 8))
    assert not BERLIN.is_open(date(2026, 12, 25))
    assert BERLIN.next_open_on_or_after(date(2026, 12, 25)) == date(2026, 12, 28)
    assert BERLIN.next_open_after(date(2026, 11, 7)) == date(2026, 11, 9)
    assert BERLIN.next_open_on_or_after(date(2026, 11, 7)) == date(2026, 11, 7)


@given(DAYS, st.sets(DAYS, max_size=20))
def test_next_open_day_is_open_and_nothing_open_is_skipped(day: date, holidays: set[date]) -> None:
    calendar = ClinicCalendar("Europe/Berlin", holidays=frozenset(holidays))
    found = calendar.next_open_on_or_after(day)
    assert calendar.is_open(found)
    assert found >= day
    assert not any(calendar.is_open(day + timedelta(days=n)) for n in range((found - day).days))


@given(DAYS, WALL_CLOCK, st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]))
def test_dst_changes_keep_wall_clock_or_move_a_gap_time_forward(
    day: date, wall: time, zone: str
) -> None:
    calendar = ClinicCalendar(zone)
    shift = calendar.local_wall_clock(calendar.at(day, wall)) - datetime.combine(day, wall)
    assert shift == timedelta(0) or timedelta(0) < shift <= timedelta(hours=1)


def test_berlin_last_sunday_of_march_and_october_keep_nine_o_clock() -> None:
    for day in (date(2026, 3, 28), date(2026, 3, 30), date(2026, 10, 24), date(2026, 10, 26)):
        assert BERLIN.local_wall_clock(BERLIN.at(day, time(9))).time() == time(9)
    assert BERLIN.at(date(2026, 3, 27), time(9)).utcoffset() == timedelta(hours=1)
    assert BERLIN.at(date(2026, 3, 30), time(9)).utcoffset() == timedelta(hours=2)
    assert BERLIN.at(date(2026, 10, 26), time(9)).utcoffset() == timedelta(hours=1)


def test_nonexistent_time_moves_forward_and_ambiguous_takes_first() -> None:
    assert BERLIN.at(date(2026, 3, 29), time(2, 30)).isoformat() == "2026-03-29T03:30:00+02:00"
    assert BERLIN.at(date(2026, 10, 25), time(2, 30)).isoformat() == "2026-10-25T02:30:00+02:00"


SEVEN_DAYS_BERLIN = ClinicCalendar("Europe/Berlin", open_weekdays=frozenset(range(7)))


def _massage_before(therapy_starts: datetime, day: date, minutes: int = 12) -> datetime | None:
    (session,) = planned_sessions(
        (DatedSession("S1", day, minutes),),
        completed=0,
        preferred_time=time(9),
        profile=Profile(),
        physical_therapy=(PhysicalTherapy("pt-1", therapy_starts, "PT1", therapy_starts),),
        calendar=SEVEN_DAYS_BERLIN,
    )
    return session.starts_at


def _elapsed(earlier: datetime, later: datetime) -> timedelta:
    """Real time between two instants (Python subtracts on the wall clock within one zone)."""
    return later.astimezone(UTC) - earlier.astimezone(UTC)


def test_r_pt_before_massage_ends_when_physical_therapy_starts_on_an_ordinary_day() -> None:
    day = date(2026, 11, 3)
    starts = _massage_before(SEVEN_DAYS_BERLIN.at(day, time(10, 30)), day)
    assert starts == SEVEN_DAYS_BERLIN.at(day, time(10, 18))


def test_r_pt_before_massage_before_a_pt_just_after_a_dst_gap_ends_when_the_pt_starts() -> None:
    day = date(2026, 3, 29)  # Berlin: 02:00 -> 03:00
    therapy = SEVEN_DAYS_BERLIN.at(day, time(3, 10))
    starts = _massage_before(therapy, day)
    assert starts is not None
    assert _elapsed(starts, therapy) == timedelta(minutes=12)
    assert SEVEN_DAYS_BERLIN.local_date(starts) == day


def test_r_pt_before_pt_given_at_a_wall_clock_time_inside_the_gap_is_still_preceded() -> None:
    day = date(2026, 3, 29)
    therapy = datetime.fromisoformat("2026-03-29T02:30:00+01:00")  # i.e. 03:30 CEST
    starts = _massage_before(therapy, day)
    assert starts is not None
    assert _elapsed(starts, therapy) == timedelta(minutes=12)


def test_r_pt_before_massage_before_a_pt_in_the_autumn_fold_ends_when_the_pt_starts() -> None:
    day = date(2026, 10, 25)  # Berlin: 03:00 CEST -> 02:00 CET
    therapy = datetime.fromisoformat("2026-10-25T02:05:00+01:00")  # the second 02:05
    starts = _massage_before(therapy, day)
    assert starts is not None
    assert _elapsed(starts, therapy) == timedelta(minutes=12)


def test_r_pt_before_massage_never_moves_to_the_previous_day_for_a_pt_just_after_midnight() -> None:
    day = date(2026, 11, 3)
    starts = _massage_before(SEVEN_DAYS_BERLIN.at(day, time(0, 5)), day)
    assert starts is None  # keeps its day without a fixed time: 12 minutes do not fit


def test_r_pt_before_massage_may_start_at_midnight_when_it_just_fits() -> None:
    day = date(2026, 11, 3)
    starts = _massage_before(SEVEN_DAYS_BERLIN.at(day, time(0, 12)), day)
    assert starts == SEVEN_DAYS_BERLIN.at(day, time(0, 0))


@given(
    DAYS,
    st.times(),
    st.integers(min_value=7, max_value=15),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
)
def test_r_pt_before_massage_stays_on_the_pt_day_and_ends_no_later_than_the_pt_starts(
    day: date, wall: time, minutes: int, zone: str
) -> None:
    calendar = ClinicCalendar(zone, open_weekdays=frozenset(range(7)))
    therapy = calendar.at(day, wall)
    therapy_day = calendar.local_date(therapy)
    (session,) = planned_sessions(
        (DatedSession("S1", therapy_day, minutes),),
        completed=0,
        preferred_time=None,
        profile=Profile(),
        physical_therapy=(PhysicalTherapy("pt-1", therapy, "PT1", therapy),),
        calendar=calendar,
    )
    if session.starts_at is not None:
        assert calendar.local_date(session.starts_at) == therapy_day
        assert _elapsed(session.starts_at, therapy) == timedelta(minutes=minutes)
