"""`courseflow therapist`: a therapist's days as printed, and which clinic is shown."""

import re
from datetime import date, timedelta

import pytest

from services.cli import main
from services.ops.therapist import (
    TherapistQuery,
    TherapistRefusedError,
    chosen_clinic,
    day_lines,
    span,
)
from services.planner.booking_rows import session_key
from services.planner.capacity.bookings import Booking, Bookings, Owner
from services.planner.capacity.roster import Absent, Left, Roster, TherapistRoster
from tests.unit.test_planner_capacity_support import MONDAY, hm, rostered, stamp, weekdays

TUESDAY, SUNDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=6)


def therapist(*facts: Absent | Left) -> TherapistRoster:
    roster = Roster.from_facts(
        [rostered("t-anna", weekdays(hm(8), hm(17), breaks=(hm(12), hm(13))), MONDAY), *facts]
    )
    (anna,) = roster.therapists
    return anna


def booked(patient: str, start: int, end: int, on: date = MONDAY) -> Booking:
    owner = Owner(patient, "C1", session_key(patient, "C1-s01"))
    return Booking("t-anna", on, start, end, owner)


def test_a_working_day_shows_hours_sessions_and_the_free_time_around_them() -> None:
    bookings = Bookings.of([booked("P-2", hm(9, 12), hm(9, 20)), booked("P-1", hm(9), hm(9, 7))])
    assert day_lines(therapist(), bookings, MONDAY, 5) == [
        "Mon 2026-11-02  hours 08:00-12:00, 13:00-17:00",
        "  09:00-09:07  patient P-1  course C1  session C1-s01",
        "  09:12-09:20  patient P-2  course C1  session C1-s01",
        "  free 08:00-08:55, 09:25-12:00, 13:00-17:00",
    ]


def test_the_turnover_of_a_booking_the_evening_before_reaches_into_the_day() -> None:
    late = Roster.from_facts([rostered("t-anna", weekdays(0, 24 * 60), MONDAY)]).therapists[0]
    evening = Bookings.of([booked("P-1", hm(23, 50), 24 * 60)])
    assert day_lines(late, evening, TUESDAY, 5)[-1] == "  free 00:05-24:00"


def test_a_fully_booked_day_has_no_free_time() -> None:
    anna = Roster.from_facts([rostered("t-anna", weekdays(hm(8), hm(9)), MONDAY)]).therapists[0]
    bookings = Bookings.of([booked("P-1", hm(8), hm(8, 30)), booked("P-2", hm(8, 35), hm(9))])
    assert day_lines(anna, bookings, MONDAY, 5)[-1] == "  free none"


def test_days_without_work_say_why_and_show_no_free_time() -> None:
    anna = therapist(
        Absent("t-anna", MONDAY, TUESDAY), Left("t-anna", MONDAY + timedelta(3), stamp())
    )
    assert day_lines(anna, Bookings(), MONDAY - timedelta(days=7), 5) == [
        "Mon 2026-10-26  not rostered yet (hours from 2026-11-02)"
    ]
    assert day_lines(anna, Bookings(), TUESDAY, 5) == [
        "Tue 2026-11-03  absent 2026-11-02 to 2026-11-03 (hours 08:00-12:00, 13:00-17:00)"
    ]
    assert day_lines(anna, Bookings(), MONDAY + timedelta(days=4), 5) == [
        "Fri 2026-11-06  left (last day 2026-11-05)"
    ]
    assert day_lines(therapist(), Bookings(), SUNDAY, 5) == ["Sun 2026-11-08  no hours"]


def test_a_session_on_a_day_off_is_still_shown() -> None:
    """The planner never books one; if a row says otherwise, the operator must see it."""
    stray = Bookings.of([booked("P-1", hm(9), hm(9, 7), on=SUNDAY)])
    assert day_lines(therapist(), stray, SUNDAY, 5) == [
        "Sun 2026-11-08  no hours",
        "  09:00-09:07  patient P-1  course C1  session C1-s01",
    ]


def test_spans_are_local_wall_clock_up_to_midnight() -> None:
    assert span(0, hm(9, 5)) == "00:00-09:05"
    assert span(hm(23), 24 * 60) == "23:00-24:00"


def test_the_clinic_shown_is_the_one_rostering_the_therapist_or_the_one_asked_for() -> None:
    query = TherapistQuery("t-anna", MONDAY, 7)
    assert chosen_clinic(query.therapist_id, query.clinic_id, ["north"]) == "north"
    asked = TherapistQuery("t-anna", MONDAY, 7, clinic_id="south")
    assert chosen_clinic(asked.therapist_id, asked.clinic_id, ["north", "south"]) == "south"


@pytest.mark.parametrize(
    ("clinic", "clinics", "message"),
    [
        (None, [], "unknown therapist t-anna: no clinic rostered them"),
        (None, ["north", "south"], "rostered in several clinics: north, south; choose one"),
        ("east", ["north", "south"], "never rostered in clinic east (rostered in: north, south)"),
    ],
)
def test_no_clinic_to_show_is_refused_with_the_reason(
    clinic: str | None, clinics: list[str], message: str
) -> None:
    with pytest.raises(TherapistRefusedError, match=re.escape(message)):
        chosen_clinic("t-anna", clinic, clinics)


@pytest.mark.parametrize(
    "argv",
    [["--from", "2026-02-30"], ["--from", "tomorrow"], ["--days", "0"], ["--days", "93"],
     ["--days", "x"]],
)  # fmt: skip
def test_a_bad_date_or_number_of_days_exits_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["therapist", "t-anna", *argv])
    assert exit_.value.code == 2
    assert argv[0] in capsys.readouterr().err
