"""Exactly-once keys, the retry schedule and coalescing text."""

from services.notifier.backoff import RetryPolicy
from services.notifier.coalesce import merged_summary
from services.notifier.kinds import PLAN_CHANGES, Kind, family
from services.notifier.notice import notice_id


def test_notice_id_is_the_same_for_the_same_cause_kind_and_recipient() -> None:
    first = notice_id("ev-1", Kind.COURSE_SUSPENDED, "front-desk")
    assert first == notice_id("ev-1", Kind.COURSE_SUSPENDED, "front-desk")
    others = {
        notice_id("ev-2", Kind.COURSE_SUSPENDED, "front-desk"),
        notice_id("ev-1", Kind.COURSE_RESUMED, "front-desk"),
        notice_id("ev-1", Kind.COURSE_SUSPENDED, "physician"),
    }
    assert first not in others
    assert len(others) == 3


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    policy = RetryPolicy(max_attempts=6, first_delay_s=1.0, max_delay_s=10.0)
    assert policy.schedule() == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert policy.delay_after(6) is None


def test_plan_changes_form_one_family_and_other_kinds_stand_alone() -> None:
    assert family(Kind.COURSE_SUSPENDED) == family(Kind.COURSE_RESUMED) == PLAN_CHANGES
    assert family(Kind.REPEATED_PAIN_REVIEW) == "repeated_pain_review"


def test_merged_summary_says_what_it_replaces_and_keeps_rules_last() -> None:
    summary = "Patient P-1: course C-1 resumed: 9 sessions 2026-03-24..2026-04-11 (R-REMISSION)"
    merged = merged_summary(
        summary, ["R-REMISSION"], ["course_suspended"], ["R-REMISSION", "R-FLARE"]
    )
    assert merged == (
        "Patient P-1: course C-1 resumed: 9 sessions 2026-03-24..2026-04-11; "
        "replaces 1 earlier notice(s): course_suspended (R-REMISSION, R-FLARE)"
    )


def test_an_attempt_is_leased_for_its_backoff_but_never_shorter_than_a_send_may_take() -> None:
    policy = RetryPolicy(max_attempts=6, first_delay_s=1.0, max_delay_s=10.0)
    leases = [policy.lease_after(n, send_timeout_s=3.0) for n in range(1, 7)]
    assert leases == [6.0, 6.0, 6.0, 8.0, 10.0, 10.0]  # the last attempt is leased too
