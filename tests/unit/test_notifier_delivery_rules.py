"""Exactly-once keys, the retry schedule and coalescing."""

from datetime import UTC, datetime, timedelta

from services.notifier.backoff import RetryPolicy
from services.notifier.coalesce import Group, Queued, coalesce, merged_summary
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


AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLANS: Group = ("P-1", "front-desk", PLAN_CHANGES)


def queued(notice_id: str, kind: Kind, minute: int, *rules: str, group: Group = PLANS) -> Queued:
    summary = f"Patient P-1: {kind.value}" + (f" ({', '.join(rules)})" if rules else "")
    return Queued(notice_id, group, kind.value, AT + timedelta(minutes=minute), rules, summary)


def test_a_burst_in_one_batch_is_carried_by_its_last_notice_due_at_the_earliest_time() -> None:
    burst = [queued("s", Kind.COURSE_SUSPENDED, 0, "R-FLARE"),
             queued("r", Kind.COURSE_RESUMED, 1, "R-REMISSION"),
             queued("m", Kind.SESSIONS_RESCHEDULED, 2)]  # fmt: skip
    result = coalesce(burst, waiting=[])
    assert result.carrier == {"s": "m", "r": "m"}
    last = result.queued[-1]
    assert (last.merged_kinds, last.rules, last.due_at) == (
        ("course_suspended", "course_resumed"),
        ("R-REMISSION", "R-FLARE"),
        AT,
    )  # nothing waits longer than the window: the first one's due time
    assert last.summary.endswith("replaces 2 earlier notice(s): course_suspended, course_resumed "
                                 "(R-REMISSION, R-FLARE)")  # fmt: skip


def test_a_notice_already_waiting_is_carried_with_what_it_carried_by_the_newest() -> None:
    waiting = Queued("w", PLANS, "course_resumed", AT, ("R-REMISSION",), "…", ("course_suspended",))
    result = coalesce([queued("n", Kind.SESSIONS_RESCHEDULED, 5)], [waiting])
    assert result.carrier == {"w": "n"}
    assert result.queued[0].merged_kinds == ("course_suspended", "course_resumed")


def test_other_families_and_recipients_are_not_merged() -> None:
    review = ("P-1", "front-desk", "repeated_pain_review")
    ops = ("P-1", "ops", PLAN_CHANGES)
    batch = [queued("a", Kind.COURSE_SUSPENDED, 0), queued("b", Kind.REPEATED_PAIN_REVIEW, 0,
             group=review), queued("c", Kind.COURSE_RESUMED, 0, group=ops)]  # fmt: skip
    result = coalesce(batch, waiting=[])
    assert result.carrier == {}
    assert result.queued == batch
