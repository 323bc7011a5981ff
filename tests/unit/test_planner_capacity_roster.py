"""R-ROSTER: the roster a clinic's staff facts build, in whatever order they arrive."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.planner.capacity.clock import parse_wall_clock, wall_clock
from services.planner.capacity.roster import (
    Absent,
    Left,
    Roster,
    Rostered,
    StaffFact,
    Stretch,
    WeeklyStretch,
)
from tests.unit.test_planner_capacity_support import (
    MONDAY,
    THERAPISTS,
    hm,
    rostered,
    staff_facts,
    stamp,
    weekdays,
)

MORNINGS = weekdays(hm(8), hm(12))
AFTERNOONS = weekdays(hm(13), hm(17))
SUNDAY = MONDAY + timedelta(days=6)


def test_r_roster_weekly_hours_on_a_working_day_not_on_a_day_off() -> None:
    roster = Roster.from_facts([rostered("t-anna", MORNINGS)])
    assert roster.stretches_on("t-anna", MONDAY) == (Stretch(hm(8), hm(12)),)
    assert roster.stretches_on("t-anna", SUNDAY) == ()
    assert roster.stretches_on("t-nobody", MONDAY) == ()
    assert roster.working_on(MONDAY) == ("t-anna",)


def test_r_roster_nothing_before_the_first_effective_day() -> None:
    roster = Roster.from_facts([rostered("t-anna", MORNINGS, effective_from=MONDAY)])
    assert roster.stretches_on("t-anna", MONDAY - timedelta(days=1)) == ()
    assert roster.stretches_on("t-anna", MONDAY) != ()


def test_r_roster_a_resent_roster_replaces_the_hours_from_its_date_on() -> None:
    first = rostered("t-anna", MORNINGS, date(2026, 1, 5), stamp(0))
    resent = rostered("t-anna", AFTERNOONS, MONDAY + timedelta(days=2), stamp(60))
    roster = Roster.from_facts([first, resent])
    assert roster.stretches_on("t-anna", MONDAY + timedelta(days=1)) == (Stretch(hm(8), hm(12)),)
    assert roster.stretches_on("t-anna", MONDAY + timedelta(days=2)) == (Stretch(hm(13), hm(17)),)
    assert roster.stretches_on("t-anna", MONDAY + timedelta(days=30)) == (Stretch(hm(13), hm(17)),)


def test_r_roster_a_later_sent_roster_from_an_earlier_date_replaces_a_planned_change() -> None:
    planned = rostered("t-anna", AFTERNOONS, MONDAY + timedelta(days=14), stamp(0))
    correction = rostered("t-anna", MORNINGS, MONDAY, stamp(60))
    roster = Roster.from_facts([planned, correction])
    assert roster.stretches_on("t-anna", MONDAY + timedelta(days=15)) == (Stretch(hm(8), hm(12)),)
    assert len(roster.therapists[0].hours) == 1


def test_r_roster_touching_stretches_are_one_stretch_and_a_break_is_kept() -> None:
    touching = (WeeklyStretch(0, Stretch(hm(8), hm(12))), WeeklyStretch(0, Stretch(hm(12), hm(14))))
    roster = Roster.from_facts([rostered("t-anna", touching)])
    assert roster.stretches_on("t-anna", MONDAY) == (Stretch(hm(8), hm(14)),)
    with_break = Roster.from_facts(
        [rostered("t-ben", weekdays(hm(8), hm(16), breaks=(hm(12), hm(13))))]
    )
    assert with_break.stretches_on("t-ben", MONDAY) == (
        Stretch(hm(8), hm(12)),
        Stretch(hm(13), hm(16)),
    )


def test_r_roster_never_on_an_absence_both_ends_included() -> None:
    absence = Absent("t-anna", MONDAY, MONDAY + timedelta(days=2))
    roster = Roster.from_facts([rostered("t-anna", MORNINGS), absence])
    assert [roster.stretches_on("t-anna", MONDAY + timedelta(days=n)) != () for n in range(4)] == [
        False,
        False,
        False,
        True,
    ]


def test_r_roster_never_after_the_last_day_and_the_latest_sent_last_day_counts() -> None:
    early = Left("t-anna", MONDAY, stamp(0))
    corrected = Left("t-anna", MONDAY + timedelta(days=7), stamp(60))
    for facts in ([early, corrected], [corrected, early]):
        roster = Roster.from_facts([rostered("t-anna", MORNINGS), *facts])
        assert roster.stretches_on("t-anna", MONDAY + timedelta(days=7)) != ()
        assert roster.stretches_on("t-anna", MONDAY + timedelta(days=8)) == ()


def test_r_roster_without_hours_the_clinic_has_no_roster() -> None:
    assert Roster().is_empty
    assert Roster.from_facts([Absent("t-anna", MONDAY, MONDAY)]).is_empty
    assert not Roster.from_facts([rostered("t-anna", MORNINGS)]).is_empty


def test_wall_clock_minutes_round_trip() -> None:
    assert parse_wall_clock("09:05") == hm(9, 5)
    assert wall_clock(hm(23, 59)).isoformat() == "23:59:00"


@given(st.lists(staff_facts(THERAPISTS[:3]), max_size=12), st.randoms(use_true_random=False))
def test_r_roster_any_order_of_the_same_facts_gives_the_same_roster(facts, random) -> None:
    shuffled = list(facts)
    random.shuffle(shuffled)
    assert Roster.from_facts(shuffled) == Roster.from_facts(facts)
    # Redelivery is harmless too.
    assert Roster.from_facts(facts + shuffled) == Roster.from_facts(facts)


@given(st.lists(staff_facts(THERAPISTS[:2]), max_size=10), st.integers(0, 40))
def test_r_roster_the_hours_in_force_are_the_latest_sent_effective_roster(facts, offset) -> None:
    """Against the rule stated plainly, over all facts kept: nothing lost by dropping."""
    day = MONDAY - timedelta(days=10) + timedelta(days=offset)
    roster = Roster.from_facts(facts)
    for therapist_id in THERAPISTS[:2]:
        mine = [f for f in facts if f.therapist_id == therapist_id]
        rosters = [f for f in mine if isinstance(f, Rostered) and f.effective_from <= day]
        absent = any(isinstance(f, Absent) and f.covers(day) for f in mine)
        lefts = sorted(
            (f for f in mine if isinstance(f, Left)), key=lambda f: (f.stamp, f.last_day)
        )
        gone = bool(lefts) and day > lefts[-1].last_day
        expected: set[tuple[int, int]] = set()
        if rosters and not absent and not gone:
            latest = max(rosters, key=lambda f: f.stamp)
            tied = [f for f in rosters if f.stamp == latest.stamp]
            if len(tied) > 1:
                continue  # two versions sent with one stamp: either is a fair answer
            expected = {
                (ws.stretch.start_min, ws.stretch.end_min)
                for ws in latest.weekly_hours
                if ws.weekday == day.weekday()
            }
        minutes = {
            m for s in roster.stretches_on(therapist_id, day) for m in range(s.start_min, s.end_min)
        }
        assert minutes == {m for start, end in expected for m in range(start, end)}


def test_the_hours_rostered_on_a_day_stand_beside_an_absence_or_a_leaving() -> None:
    absence = Absent("t-anna", MONDAY, MONDAY + timedelta(days=2))
    facts: list[StaffFact] = [
        rostered("t-anna", MORNINGS),
        absence,
        Left("t-anna", MONDAY + timedelta(days=3), stamp()),
    ]
    (anna,) = Roster.from_facts(facts).therapists
    for day in (MONDAY, MONDAY + timedelta(days=4)):
        assert anna.stretches_on(day) == ()
        assert anna.rostered_on(day) == (Stretch(hm(8), hm(12)),)
    assert anna.absence_on(MONDAY + timedelta(days=2)) == absence
    assert anna.absence_on(MONDAY + timedelta(days=3)) is None
    assert anna.rostered_on(SUNDAY) == ()


@given(st.lists(staff_facts(THERAPISTS[:1]), max_size=10), st.integers(0, 40))
def test_a_therapist_works_the_rostered_hours_unless_absent_or_gone(facts, offset) -> None:
    day = MONDAY - timedelta(days=10) + timedelta(days=offset)
    therapist = Roster.from_facts(facts).therapist(THERAPISTS[0])
    if therapist is None:
        return
    gone = therapist.left is not None and day > therapist.left.last_day
    working = () if gone or therapist.absence_on(day) else therapist.rostered_on(day)
    assert therapist.stretches_on(day) == working
