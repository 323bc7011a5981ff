"""R-CAPACITY in the patient path: the core's dated sessions get a therapist and a start.

It runs after the core, for a patient whose clinic has a roster, on the courses the core
published something about in this decision. The core's own state (`published`) keeps its
date-only plan, so the core diffs and decides exactly as it does without a roster; what is
placed is kept beside it (`PatientState.placements`) and shown in the outputs.

- R-PLAN-STABLE: a placement stays while the core plans its session on the same day and the
  clinic still holds its booking; the other sessions are placed by `place_course`.
- A course no longer under way (suspended, cancelled, completed) frees its bookings, and so
  does a session the core no longer plans.
- A session after an R-CAPACITY shortage waits: it is shown as the core dated it, without
  therapist or time, and every event of its course names the days of the waiting sessions
  (`capacity_shortage_on`); the event that reports days not reported before names
  R-CAPACITY, so staff are told once per cause (`PatientState.waiting`).
- Only bookings from `since` on are loaded (`PlannerRepository`): a placement on an earlier
  day is kept as it is, and a session dated earlier that holds none is not placed (its day
  is past, and a booking there could clash with one not loaded); it is not a shortage.
"""

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from schemas.rules import RuleId
from services.planner.booking_rows import session_key
from services.planner.calendar import ClinicCalendar
from services.planner.capacity.bookings import Booking, Bookings, Draft, Owner
from services.planner.capacity.clock import instant_at, minute_of_day
from services.planner.capacity.place import CourseToPlace, place_course
from services.planner.capacity.policy import CapacityPolicy
from services.planner.capacity.roster import Roster
from services.planner.outputs import (
    CourseEvent,
    Output,
    PlannedSession,
    Rescheduled,
    ReviewFlag,
    SessionChange,
)
from services.planner.plan import DatedSession
from services.planner.state import UNDER_WAY, PatientState, Placed, Waiting


@dataclass(frozen=True, slots=True)
class ClinicCapacity:
    roster: Roster
    bookings: Bookings
    # R-CAPACITY: (patient_id, course_ids) of the clinic's patients whose courses more
    # capacity could place, as their rows showed when the batch began; a batch asks each
    # of them once (`asked`).
    waiting: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def changed_by(self, change: "BookingsChanged") -> "ClinicCapacity":
        if change.after is not None:
            return replace(self, bookings=change.after)
        return replace(self, bookings=self.bookings.changed(change.freed, change.booked))

    def asked(self, freed: "CapacityFreed") -> "ClinicCapacity":
        told = {patient_id for patient_id, _ in freed.waiting}
        return replace(self, waiting=tuple(w for w in self.waiting if w[0] not in told))


@dataclass(frozen=True, slots=True)
class Unstaffed:
    """The command of `staff_commands.SessionsUnstaffed`: place these courses again."""

    event_id: str
    occurred_at: datetime
    rule: RuleId
    course_ids: tuple[str, ...]
    clinic_id: str = ""  # the clinic whose staff change it was; "": the patient's


@dataclass(frozen=True, slots=True)
class BookingsChanged:
    """Not published: the bookings a decision took and freed, for the shell to write and
    for the next decisions of the batch to see."""

    clinic_id: str
    booked: tuple[Booking, ...]
    freed: tuple[str, ...]  # session keys (`booking_rows.session_key`)
    # The clinic's bookings after them, when the placement built them already: what
    # `Bookings.changed(freed, booked)` would build again from the bookings it began with.
    after: Bookings | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Staffed:
    """`Staffing.staffed`: the state with its placements, the outputs showing them, what
    was booked and freed, and the clinic's bookings after them (None: not built)."""

    state: PatientState
    shown: tuple[Output, ...]
    booked: tuple[Booking, ...]
    freed: tuple[str, ...]
    after: Bookings | None = None


@dataclass(frozen=True, slots=True)
class CapacityFreed:
    """Not published as a schedule event: a decision on a clinical fact gave up bookings of
    a clinic where other patients' courses wait (R-CAPACITY). Each of those patients is told
    on the planner's own topic to have them placed again (`staff_commands`), in its own
    batch. A placement asked for this way asks nobody in turn, so it cannot echo."""

    clinic_id: str
    waiting: tuple[tuple[str, tuple[str, ...]], ...]  # (patient_id, course_ids)


@dataclass(frozen=True)
class Staffing:
    patient_id: str
    clinic: ClinicCapacity
    calendar: ClinicCalendar
    policy: CapacityPolicy
    since: date | None = None  # the first day whose bookings are loaded; None: every day

    def staffed(
        self,
        before: PatientState,
        after: PatientState,
        outputs: Sequence[Output],
        unstaffed: Unstaffed | None = None,
    ) -> Staffed:
        """`unstaffed`: courses a staff change hit (R-THERAPIST-ABSENT, R-ROSTER); each whose
        sessions then show otherwise is `rescheduled` naming the rule."""
        touched = {o.course_id for o in outputs if isinstance(o, CourseEvent)}
        if unstaffed is not None:
            touched |= set(unstaffed.course_ids)
        kept = [p for p in before.placements if p.course_id not in touched]
        waiting = {w.course_id: w for w in before.waiting if w.course_id not in touched}
        placed: list[Placed] = []
        bookings_after: list[Bookings | None] = []
        for course_id in sorted(touched):
            course_placed, days, course_after = self._course(after, course_id, before.placements)
            placed += course_placed
            bookings_after.append(course_after)
            if days:
                waiting[course_id] = Waiting(course_id, days)
        old = {_key(self.patient_id, p): p for p in before.placements if p.course_id in touched}
        new = {_key(self.patient_id, p): p for p in placed}
        booked = tuple(self._booking(key, p) for key, p in new.items() if old.get(key) != p)
        freed = tuple(sorted(key for key in old if key not in new))
        state = replace(
            after, placements=tuple(sorted([*kept, *placed], key=_order)),
            waiting=tuple(waiting[course_id] for course_id in sorted(waiting)),
        )  # fmt: skip
        short = _newly_short(before, state, touched)
        was, now = _Shown.of(before, self.calendar.zone), _Shown.of(state, self.calendar.zone)
        shown = _naming_capacity(tuple(self._shown(output, was, now) for output in outputs), short)
        if unstaffed is not None:
            state, moved = self._rescheduled(was, now, unstaffed, short)
            shown += moved
        # Each course is placed on the bookings the decision began with: those of a lone
        # course are the clinic's after it.
        clinic_after = bookings_after[0] if len(bookings_after) == 1 else None
        return Staffed(state, shown, booked, freed, clinic_after)

    def _rescheduled(
        self,
        was: "_Shown",
        now: "_Shown",
        unstaffed: Unstaffed,
        short: Collection[str],
    ) -> tuple[PatientState, tuple[Output, ...]]:
        """A `rescheduled` per hit course whose sessions now show otherwise, or that has
        sessions newly waiting (a shortage is never silent); its version is the course's
        next, kept in the core's record of what was published."""
        after = now.state
        outputs: list[Output] = []
        published = list(after.published)
        for index, course in enumerate(published):
            if course.course_id not in unstaffed.course_ids or course.status not in UNDER_WAY:
                continue
            event = Rescheduled(
                course.course_id, course.status, course.version + 1, (unstaffed.rule,),
                course.sessions, course.completed_sessions, (),
            )  # fmt: skip
            shown = self._shown(event, was, now)
            assert isinstance(shown, Rescheduled)
            newly_short = course.course_id in short
            if not shown.changes and not newly_short:
                continue
            if newly_short or any(c.from_on != c.to_on for c in shown.changes):
                rules = dict.fromkeys((unstaffed.rule, RuleId.CAPACITY))  # once, if R-CAPACITY
                shown = replace(shown, rules=tuple(rules))
            outputs.append(shown)
            published[index] = replace(course, version=course.version + 1)
        return replace(after, published=tuple(published)), tuple(outputs)

    def _course(
        self, state: PatientState, course_id: str, placements: Iterable[Placed]
    ) -> tuple[list[Placed], tuple[date, ...], Bookings | None]:
        """The course's placements, the days of its sessions that wait (R-CAPACITY), and the
        clinic's bookings after them when placed (None when not, or when the placement saw
        bookings from before `since` that the clinic's do not hold)."""
        published = state.published_course(course_id)
        prescription = next((p for p in state.prescriptions if p.course_id == course_id), None)
        if published is None or prescription is None or published.status not in UNDER_WAY:
            return [], (), None
        held = {p.session_id: p for p in placements if p.course_id == course_id}
        stable = {
            s.session_id: held[s.session_id] for s in published.sessions
            if s.session_id in held and held[s.session_id].planned_on == s.on
            and (self._past(held[s.session_id].on) or self._still_held(held[s.session_id]))
        }  # fmt: skip
        sessions = [s for s in published.sessions if s.session_id in stable or not self._past(s.on)]
        draft, past = Draft(self.clinic.bookings), False
        for placement in held.values():
            key = _key(self.patient_id, placement)
            if placement.session_id not in stable:
                draft.without(key)
            elif self._past(placement.on):  # not loaded: held as placed
                draft.adding(self._booking(key, placement))
                past = True
        # Planned on the same day still, yet no longer held: a staff change took them.
        core_on = {s.session_id: s.on for s in published.sessions}
        taken = [
            p for p in held.values()
            if p.session_id not in stable and core_on.get(p.session_id) == p.planned_on
        ]  # fmt: skip
        preferred = prescription.preferred_time
        course = CourseToPlace(
            self.patient_id, course_id, prescription.cadence,
            tuple(DatedSession(session_key(self.patient_id, s.session_id), s.on, s.duration_min)
                  for s in sessions),
            preferred_min=None if preferred is None else minute_of_day(preferred),
            physical_therapy=self._physical_therapy(state),
            therapist_id=_course_therapist(held.values()),
            aims={session_key(self.patient_id, p.session_id): (p.on, p.start_min) for p in taken},
        )  # fmt: skip
        result = place_course(
            course, self.clinic.roster, draft.bookings(), self.calendar, self.policy
        )
        planned_on = {s.session_id: s.on for s in sessions}
        placed, waiting = [], set()
        for session in sessions:
            booking = result.bookings.of_session(session_key(self.patient_id, session.session_id))
            if booking is None:
                waiting.add(session.on)
            else:
                placed.append(Placed(
                    course_id, session.session_id, planned_on[session.session_id],
                    booking.therapist_id, booking.on, booking.start_min, booking.end_min,
                ))  # fmt: skip
        days = tuple(sorted(waiting)) if result.shortage is not None else ()
        return placed, days, None if past else result.bookings

    def _past(self, day: date) -> bool:
        return self.since is not None and day < self.since

    def _still_held(self, placement: Placed) -> bool:
        """Booked as placed, at a time the roster still gives the therapist (R-ROSTER)."""
        booking = self.clinic.bookings.of_session(_key(self.patient_id, placement))
        if booking is None or booking != self._booking(_key(self.patient_id, placement), placement):
            return False
        return self.clinic.roster.allows(
            placement.therapist_id, placement.on, placement.start_min, placement.end_min
        )

    def _booking(self, key: str, placement: Placed) -> Booking:
        owner = Owner(self.patient_id, placement.course_id, key)
        return Booking(
            placement.therapist_id, placement.on, placement.start_min, placement.end_min, owner
        )

    def _physical_therapy(self, state: PatientState) -> Mapping[date, int]:
        earliest: dict[date, int] = {}
        for therapy in state.physical_therapy:
            local = self.calendar.local_wall_clock(therapy.starts_at)
            minute = minute_of_day(local.time())
            earliest[local.date()] = min(minute, earliest.get(local.date(), minute))
        return earliest

    def _shown(self, output: Output, was: "_Shown", now: "_Shown") -> Output:
        if isinstance(output, ReviewFlag):
            return self._review(output, now)
        if not isinstance(output, CourseEvent):
            return output
        sessions = now.sessions(output.sessions, output.course_id)
        waiting = now.state.waiting_on(output.course_id)
        shown = replace(output, sessions=sessions, capacity_shortage_on=waiting)
        if isinstance(shown, Rescheduled):
            return replace(shown, changes=self._changes(shown, was))
        return shown

    def _review(self, flag: ReviewFlag, now: "_Shown") -> ReviewFlag:
        """The flagged course as last published, its sessions shown with their placements."""
        published = now.state.published_course(flag.course_id)
        if published is None:
            return flag
        sessions = now.sessions(published.sessions, flag.course_id)
        waiting = now.state.waiting_on(flag.course_id)
        return replace(flag, sessions=sessions, capacity_shortage_on=waiting)

    def _changes(self, output: Rescheduled, before: "_Shown") -> tuple[SessionChange, ...]:
        """Every session shown elsewhere or at another time or by another therapist than
        before; sessions added or dropped as the core found them."""
        published = before.state.published_course(output.course_id)
        was = {} if published is None else before.shown_at(published.sessions, output.course_id)
        now = {s.session_id: s for s in output.sessions}
        changes = [c for c in output.changes if c.session_id not in was or c.session_id not in now]
        for session_id, session in now.items():
            old = was.get(session_id)
            if old is None:
                continue
            if old != (session.on, session.starts_at, session.therapist_id):
                on, starts_at, therapist_id = old
                changes.append(SessionChange(
                    session_id, on, session.on, starts_at, session.starts_at,
                    therapist_id, session.therapist_id,
                ))  # fmt: skip
        return tuple(changes)


@dataclass(frozen=True, slots=True)
class _Shown:
    """A state's sessions as shown: its placements indexed once per decision (every event
    shows every session of its course)."""

    state: PatientState
    zone: ZoneInfo
    placements: Mapping[tuple[str, str], Placed]

    @classmethod
    def of(cls, state: PatientState, zone: ZoneInfo) -> "_Shown":
        # Reversed: of two placements of one session (never kept), the first counts.
        placements = {(p.course_id, p.session_id): p for p in reversed(state.placements)}
        return cls(state, zone, placements)

    def sessions(
        self, sessions: Iterable[PlannedSession], course_id: str
    ) -> tuple[PlannedSession, ...]:
        waiting, placements, zone = self.state.waiting_on(course_id), self.placements, self.zone
        return tuple(
            shown_session(s, placements.get((course_id, s.session_id)), waiting, zone)
            for s in sessions
        )

    def shown_at(
        self, sessions: Iterable[PlannedSession], course_id: str
    ) -> dict[str, tuple[date, datetime | None, str | None]]:
        """Session id → (day, start, therapist) of each as `sessions` shows it."""
        waiting, placements, zone = self.state.waiting_on(course_id), self.placements, self.zone
        return {
            s.session_id: _shown_at(s, placements.get((course_id, s.session_id)), waiting, zone)
            for s in sessions
        }


def _course_therapist(placements: Iterable[Placed]) -> str | None:
    """R-CONTINUITY: the therapist of the course's earlier sessions, whether they keep their
    day or not (an outcome that moves every later session moves none of them to another
    therapist): the one who gives most of them, of two as many the one giving the first. A
    substitute on a day or two does not become the course's therapist."""
    given = Counter(p.therapist_id for p in placements)  # in course order: ties to the first
    return given.most_common(1)[0][0] if given else None


def _newly_short(before: PatientState, after: PatientState, courses: Iterable[str]) -> set[str]:
    """The courses with waiting days not reported before (R-CAPACITY)."""
    return {c for c in courses if set(after.waiting_on(c)) - set(before.waiting_on(c))}


def _naming_capacity(outputs: tuple[Output, ...], short: Collection[str]) -> tuple[Output, ...]:
    """R-CAPACITY named on the last event of each course that reports a new shortage."""
    last = {o.course_id: i for i, o in enumerate(outputs) if isinstance(o, CourseEvent)}
    named = list(outputs)
    for course_id in short:
        index = last.get(course_id)
        event = None if index is None else named[index]
        if isinstance(event, CourseEvent) and RuleId.CAPACITY not in event.rules:
            named[last[course_id]] = replace(event, rules=(*event.rules, RuleId.CAPACITY))
    return tuple(named)


def shown_session(
    session: PlannedSession, placement: Placed | None, waiting: Collection[date], zone: ZoneInfo
) -> PlannedSession:
    """A session as events and feeds show it: where it is placed, its therapist's day and
    start (wall-clock arithmetic in the clinic's zone, as bookings are kept); waiting for
    capacity (R-CAPACITY), without therapist or time; else as the core dated it."""
    if placement is None:
        if session.on in waiting:
            return replace(session, starts_at=None, therapist_id=None)
        return session
    on, starts_at, therapist_id = _shown_at(session, placement, waiting, zone)
    # Built field by field, not by `replace` (twice the cost): this runs for every session
    # of every event with a roster. A new field of PlannedSession is to be kept here too.
    return PlannedSession(
        session.session_id, session.number, on, starts_at, session.duration_min,
        session.notes, session.sequence, therapist_id,
    )  # fmt: skip


def _shown_at(
    session: PlannedSession, placement: Placed | None, waiting: Collection[date], zone: ZoneInfo
) -> tuple[date, datetime | None, str | None]:
    """The day, start and therapist `shown_session` shows."""
    if placement is None:
        if session.on in waiting:
            return (session.on, None, None)
        return (session.on, session.starts_at, session.therapist_id)
    starts_at = instant_at(placement.on, placement.start_min, zone)
    return (placement.on, starts_at, placement.therapist_id)


def _key(patient_id: str, placement: Placed) -> str:
    return session_key(patient_id, placement.session_id)


def _order(placement: Placed) -> tuple[str, date, int, str]:
    return (placement.course_id, placement.on, placement.start_min, placement.session_id)
