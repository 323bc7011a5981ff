"""`BookingsChanged.after`: the clinic's bookings a placement built are those the next
decisions and the kept copy would otherwise build again with `Bookings.changed`."""

from typing import Any

from bench import planner_rosters
from bench.planner_core import CALENDAR
from schemas.causes import Cause
from services.planner.capacity.bookings import Bookings
from services.planner.decider import PlannerDecider
from services.planner.policy import PlannerPolicy
from services.planner.staffing import BookingsChanged, ClinicCapacity
from services.planner.state import PatientState
from services.runtime.decider import Context, Decided, Rejected


def test_the_bookings_a_placement_built_are_the_changed_ones_through_a_whole_workload() -> None:
    decider = PlannerDecider(CALENDAR, PlannerPolicy(), "/clinics/test/planner", "schedule")
    clinics = {f"K-{n:02d}": planner_rosters.roster(f"K-{n:02d}", 2) for n in range(3)}
    states: dict[str, PatientState] = {}
    shared: Any = {clinic_id: ClinicCapacity(r, Bookings()) for clinic_id, r in clinics.items()}
    built = changed = 0
    for batch in planner_rosters.batches(90, len(clinics), seed=5, size=40):
        for patient, command in batch:
            state = states.get(patient, PatientState())
            context = Context(planner_rosters.PLANNER_TODAY, planner_rosters.PLANNER_NOW,
                              shared, patient)  # fmt: skip
            result = decider.decide(state, command, context)
            if isinstance(result, Rejected):
                continue
            states[patient], outputs = result
            for change in (t.output for t in outputs if isinstance(t.output, BookingsChanged)):
                changed += 1
                if change.after is not None:
                    built += 1
                    before = shared[change.clinic_id].bookings
                    assert change.after == before.changed(change.freed, change.booked)
            decided = Decided(patient, command, states[patient], tuple(outputs),
                              Cause.internal("test"))  # fmt: skip
            shared = decider.share(shared, decided)
    assert built > changed / 2  # most placements hand theirs on
    assert sum(len(capacity.bookings) for capacity in shared.values()) > 0
