"""The kinds of notice staff receive, and which of them may be merged by coalescing."""

from enum import StrEnum


class Kind(StrEnum):
    COURSE_SCHEDULED = "course_scheduled"
    COURSE_PENDING = "course_pending"
    COURSE_SUSPENDED = "course_suspended"
    COURSE_RESUMED = "course_resumed"
    SESSIONS_RESCHEDULED = "sessions_rescheduled"
    COURSE_COMPLETED = "course_completed"
    COURSE_CANCELLED = "course_cancelled"
    NEXT_COURSE_DUE = "next_course_due"
    REHAB_COURSE_ELIGIBLE = "rehab_course_eligible"
    SURGICAL_EVALUATION_ADVISED = "surgical_evaluation_advised"
    REPEATED_PAIN_REVIEW = "repeated_pain_review"
    THERAPIST_SCHEDULE_CHANGED = "therapist_schedule_changed"
    CAPACITY_SHORTAGE = "capacity_shortage"


PLAN_CHANGES = "plan_changes"

# Each of these restates the course's complete current plan, so within a coalescing window
# the latest one says everything the earlier ones said; the other kinds stand alone.
_PLAN_KINDS = frozenset(
    {
        Kind.COURSE_SCHEDULED,
        Kind.COURSE_PENDING,
        Kind.COURSE_SUSPENDED,
        Kind.COURSE_RESUMED,
        Kind.SESSIONS_RESCHEDULED,
    }
)


# A therapist's notice names the days of that therapist that its cause changed, no more: a
# later one does not repeat an earlier one's days (a day given back is not in the next plan),
# so merging would lose what the earlier said. Each stands alone, even beside another of its
# kind. A `capacity_shortage` names every day the course waits on (`capacity_shortage_on` is
# the course's whole shortage), so a later one for the patient carries an earlier one; it is
# its own family all the same: the front desk must act on it, not find it inside a plan change.
_NEVER_MERGED = frozenset({Kind.THERAPIST_SCHEDULE_CHANGED})


def family(kind: Kind) -> str:
    """Notices of one family for one patient and recipient may be merged into one."""
    return PLAN_CHANGES if kind in _PLAN_KINDS else kind.value


def mergeable(kind: Kind) -> bool:
    """Whether coalescing may merge a notice of `kind` with others of its family at all."""
    return kind not in _NEVER_MERGED
