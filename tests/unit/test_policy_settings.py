"""Every **policy** number of DOMAIN.md is a clinic setting: a non-default setting changes
what the pure cores decide, the defaults are DOMAIN.md's, and a nonsensical value is refused
at start-up with the setting named."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from schemas.eligibility import Block
from schemas.rules import RuleId
from services.eligibility.engine import evaluate
from services.eligibility.policy import DEFAULT_POLICY as ELIGIBILITY_DEFAULTS
from services.eligibility.settings import EligibilitySettings
from services.planner.capacity.policy import DEFAULT_CAPACITY_POLICY, CapacityPolicy
from services.planner.commands import NotPerformedReason
from services.planner.outputs import ArmReminder, Completed, ReviewFlag
from services.planner.policy import DEFAULT_POLICY as PLANNER_DEFAULTS
from services.planner.settings import PlannerSettings
from services.runtime.months import add_months
from tests.unit import test_eligibility_builders as clinic
from tests.unit.test_eligibility_builders import day
from tests.unit.test_planner_support import MONDAY as PLANNER_MONDAY
from tests.unit.test_planner_support import Harness


def eligibility_under(settings: EligibilitySettings, *facts, today=clinic.MONDAY):
    return evaluate(clinic.timeline_of(*facts), today, settings.policy())


def test_policy_settings_default_to_the_numbers_of_domain_md() -> None:
    assert EligibilitySettings().policy() == ELIGIBILITY_DEFAULTS
    assert PlannerSettings().policy() == PLANNER_DEFAULTS


# --- eligibility ---------------------------------------------------------------------------


def test_r_rheum_wait_lasts_the_configured_months() -> None:
    facts = (clinic.flare(day(0), rheumatic=True), clinic.remission(day(10)))
    assert eligibility_under(EligibilitySettings(), *facts, today=day(5)).eligible_from == day(41)
    two_months = EligibilitySettings(rheumatic_wait_months=2)
    assert eligibility_under(two_months, *facts, today=day(5)).eligible_from == day(71)


def test_r_advanced_stage_is_advised_from_the_configured_stage() -> None:
    from_stage_four = EligibilitySettings(advanced_stage_from=4)
    stage_three = eligibility_under(from_stage_four, clinic.profile(stage=3))
    stage_four = eligibility_under(from_stage_four, clinic.profile(stage=4))
    assert "surgical_evaluation_advised" not in stage_three.restrictions
    assert "surgical_evaluation_advised" in stage_four.restrictions
    assert stage_four.eligible


def test_r_contra_fever_counts_from_the_configured_temperature() -> None:
    report = clinic.reported("fever", day(0), 37.9)
    assert not eligibility_under(EligibilitySettings(), report).eligible
    assert eligibility_under(EligibilitySettings(fever_threshold_c=38.0), report).eligible


def test_r_postop_waits_the_configured_days() -> None:
    facts = (clinic.surgery(day(0)), clinic.cleared(day(1)))
    three_weeks = EligibilitySettings(postop_min_days=21)
    assert eligibility_under(three_weeks, *facts).eligible_from == day(21)


def test_r_rheum_wait_of_less_than_a_month_is_refused() -> None:
    with pytest.raises(ValidationError, match="rheumatic_wait_months"):
        EligibilitySettings(rheumatic_wait_months=0)


@pytest.mark.parametrize("stage", [0, 5])
def test_r_advanced_stage_threshold_outside_stages_1_to_4_is_refused(stage: int) -> None:
    with pytest.raises(ValidationError, match="advanced_stage_from"):
        EligibilitySettings(advanced_stage_from=stage)


@pytest.mark.parametrize("celsius", [36.6, 42.5])
def test_r_contra_fever_threshold_outside_37_to_42_degrees_is_refused(celsius: float) -> None:
    with pytest.raises(ValidationError, match="fever_threshold_c"):
        EligibilitySettings(fever_threshold_c=celsius)


def test_r_postop_negative_days_are_refused() -> None:
    with pytest.raises(ValidationError, match="postop_min_days"):
        EligibilitySettings(postop_min_days=-1)


# --- planner -------------------------------------------------------------------------------


def test_r_duration_ramp_follows_the_configured_start_step_and_cap() -> None:
    settings = PlannerSettings(ramp_start_min=5, ramp_step_min=2, ramp_cap_min=10)
    patient = Harness(policy=settings.policy())
    patient.prescribe()
    assert [s.duration_min for s in patient.plan()] == [5, 7, 9] + [10] * 12
    patient.complete_next(4)
    flare_on = patient.plan()[0].on
    patient.eligibility(
        flare_on, eligible=False, blocks=(Block(rule=RuleId.FLARE, since=flare_on, until=None),)
    )
    patient.eligibility(flare_on + timedelta(days=10), eligible=True)
    assert [s.duration_min for s in patient.plan()] == [5, 7, 9] + [10] * 8  # starts again


def test_r_courses_per_year_next_course_is_due_the_configured_months_after_the_first() -> None:
    settings = PlannerSettings(next_course_due_months=4, next_course_reminder_days=7)
    patient = Harness(policy=settings.policy())
    patient.prescribe()
    patient.complete_next(15)
    completed = patient.last(Completed)
    assert isinstance(completed, Completed)
    assert completed.next_course_due_by == add_months(PLANNER_MONDAY, 4)
    reminder = next(o for o in patient.outputs if isinstance(o, ArmReminder))
    assert reminder.fire_on == completed.next_course_due_by - timedelta(days=7)


def test_r_session_pain_flags_the_configured_streak() -> None:
    patient = Harness(policy=PlannerSettings(pain_streak_to_flag=3).policy())
    patient.prescribe()
    for _ in range(2):
        outputs = patient.not_performed(patient.plan()[0], NotPerformedReason.SEVERE_PAIN)
        assert not [o for o in outputs if isinstance(o, ReviewFlag)]
    outputs = patient.not_performed(patient.plan()[0], NotPerformedReason.DISCOMFORT)
    (flag,) = [o for o in outputs if isinstance(o, ReviewFlag)]
    assert flag.session_ids == ("C1-s01", "C1-s02", "C1-s03")
    assert flag.reason.startswith("3 sessions in a row")


def test_r_duration_ramp_start_above_the_cap_is_refused_naming_both_settings() -> None:
    with pytest.raises(ValidationError, match=r"ramp_start_min .*ramp_cap_min"):
        PlannerSettings(ramp_start_min=16, ramp_cap_min=15)


@pytest.mark.parametrize("field", ["ramp_start_min", "ramp_step_min", "ramp_cap_min"])
def test_r_duration_ramp_needs_whole_minutes_of_at_least_one(
    field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"COURSEFLOW_PLANNER_{field.upper()}", "0")
    with pytest.raises(ValidationError, match=field):
        PlannerSettings()


def test_r_session_pain_streak_of_fewer_than_two_sessions_is_refused() -> None:
    with pytest.raises(ValidationError, match="pain_streak_to_flag"):
        PlannerSettings(pain_streak_to_flag=1)


@pytest.mark.parametrize(
    ("field", "value"), [("next_course_due_months", 0), ("next_course_reminder_days", -1)]
)
def test_r_courses_per_year_due_months_and_reminder_days_are_refused_below_range(
    field: str, value: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"COURSEFLOW_PLANNER_{field.upper()}", str(value))
    with pytest.raises(ValidationError, match=field):
        PlannerSettings()


@pytest.mark.parametrize("weekdays", [(), (0, 7), (-1,)])
def test_r_cadence_open_weekdays_are_at_least_one_of_monday_0_to_sunday_6(
    weekdays: tuple[int, ...],
) -> None:
    with pytest.raises(ValidationError, match="open_weekdays"):
        PlannerSettings(open_weekdays=weekdays)


def test_capacity_settings_default_to_the_numbers_of_domain_md() -> None:
    assert PlannerSettings().capacity_policy() == DEFAULT_CAPACITY_POLICY


def test_capacity_settings_reach_the_capacity_policy() -> None:
    settings = PlannerSettings(turnover_min=10, capacity_horizon_days=7)
    assert settings.capacity_policy() == CapacityPolicy(turnover_min=10, horizon_days=7)
