"""Schedule events of a rostered clinic → what therapists and the front desk are told.

- `therapist_schedule_changed`: to each therapist whose day changed, one notice per schedule
  event naming that therapist's changed days. A therapist's day changed where the event
  places a session of theirs (scheduled, resumed: every session it plans), where a change
  moves one from or to them (rescheduled: `from_therapist_id` and `to_therapist_id` with
  `from_on` and `to_on`), and where a session of theirs left the plan undone (suspended,
  cancelled, completed, or any other change: the sessions the calendar update cancels, whose
  therapist the notifier remembers from the plan it last announced).
  The routing file's `therapists` names each therapist's recipient; routes naming the kind
  (or "*") receive it too, naming every therapist changed. One notice per recipient, so a
  recipient that hears of several therapists (a shared inbox, a log copy) gets one naming
  them all: the contract's one notice per cause, kind and recipient.
- `capacity_shortage` (R-CAPACITY): to the routes' recipients of the kind (the front desk),
  when the event reports a new shortage (`rules` names R-CAPACITY, and `capacity_shortage_on`
  names days not told before for the course: R-CAPACITY alone may mean a day moved); once
  per cause, as every notice.
Summaries name days, therapist ids and the opaque patient and course ids, nothing else.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from schemas import schedule as s
from schemas.rules import RuleId
from services.notifier.calendar_updates import AnnouncedCourse, CalendarUpdate, for_therapists
from services.notifier.kinds import Kind
from services.notifier.notice import Notice
from services.notifier.routing import RoutingConfig
from services.notifier.wording import listed, with_rules

ChangedDays = Mapping[str, frozenset[date]]  # therapist id → their days that changed

_VERBS: dict[type[s.CourseData], str] = {
    s.CourseScheduledData: "scheduled", s.CourseResumedData: "resumed",
    s.CourseRescheduledData: "rescheduled", s.CourseSuspendedData: "suspended",
    s.CourseCancelledData: "cancelled", s.CourseCompletedData: "completed",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CourseChange:
    """A schedule event as the notifier sees it: `previous`, the course as last announced;
    `update`, what the event tells calendars."""

    cause_id: str
    patient_id: str
    data: s.CourseData
    previous: AnnouncedCourse | None
    update: CalendarUpdate | None


@dataclass(frozen=True, slots=True)
class TherapistNotices:
    """The therapist notices of one event, each with its recipient; `unmapped`: therapists
    whose day changed but whom the routing file names no recipient for."""

    notices: tuple[tuple[str, Notice], ...]
    unmapped: int


def changed_days(change: CourseChange) -> ChangedDays:
    data, previous, update = change.data, change.previous, change.update
    days: dict[str, set[date]] = {}

    def changed(therapist: str | None, on: date) -> None:
        if therapist is not None:
            days.setdefault(therapist, set()).add(on)

    if isinstance(data, s.CourseScheduledData | s.CourseResumedData):
        for session in data.sessions:
            changed(session.therapist_id, session.on)
    if isinstance(data, s.CourseRescheduledData):
        for move in data.changes:
            changed(move.from_therapist_id, move.from_on)
            changed(move.to_therapist_id, move.to_on)
    cancelled = set() if update is None else {event.session_id for event in update.cancels}
    for announced in () if previous is None else previous.sessions:
        if announced.session_id in cancelled:
            changed(announced.therapist_id, announced.on)
    return {therapist: frozenset(on) for therapist, on in sorted(days.items())}


def therapist_notices(routing: RoutingConfig, change: CourseChange) -> TherapistNotices:
    days = changed_days(change)
    if not days:
        return TherapistNotices((), 0)
    covered: dict[str, list[str]] = {}  # recipient → the therapists it hears of
    for therapist in days:
        name = routing.therapists.get(therapist)
        if name is not None:
            covered.setdefault(name, []).append(therapist)
    for name, _ in routing.recipients_for(Kind.THERAPIST_SCHEDULE_CHANGED):
        covered[name] = list(days)
    notices = tuple(
        (name, _therapist_notice(change, {t: days[t] for t in therapists}))
        for name, therapists in covered.items()
    )
    return TherapistNotices(notices, sum(1 for t in days if t not in routing.therapists))


def _therapist_notice(change: CourseChange, days: ChangedDays) -> Notice:
    data, patient_id = change.data, change.patient_id
    calendar = for_therapists(change.update, change.previous, data, set(days))
    verb = _VERBS.get(type(data), "changed")
    named = "; ".join(
        f"therapist {therapist}: {listed([d.isoformat() for d in sorted(on)])}"
        for therapist, on in days.items()
    )
    text = f"Patient {patient_id}: course {data.course_id} {verb}; days changed for {named}"
    rules = tuple(str(rule) for rule in data.rules)
    return Notice(Kind.THERAPIST_SCHEDULE_CHANGED, patient_id, change.cause_id, rules,
                  with_rules(text, rules), calendar)  # fmt: skip


def capacity_notices(
    cause_id: str, patient_id: str, data: s.CourseData, previous: AnnouncedCourse | None
) -> Sequence[Notice]:
    """A new R-CAPACITY shortage, naming the days the course's sessions wait on. R-CAPACITY
    also names a session moved to a later day, so a shortage is new only where it names days
    not told before for the course."""
    if RuleId.CAPACITY not in data.rules:
        return []
    told = set() if previous is None else set(previous.shortage_on)
    if not set(data.capacity_shortage_on) - told:
        return []
    on = listed([day.isoformat() for day in sorted(data.capacity_shortage_on)])
    text = (
        f"Patient {patient_id}: course {data.course_id}: no therapist free within the capacity "
        f"horizon for its sessions on {on}; they wait"
    )
    rules = tuple(str(rule) for rule in data.rules)
    return [Notice(Kind.CAPACITY_SHORTAGE, patient_id, cause_id, rules, with_rules(text, rules))]
