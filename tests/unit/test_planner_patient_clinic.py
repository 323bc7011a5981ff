"""The patient's clinic comes from the enrolment: whose roster and bookings its sessions use."""

from datetime import timedelta

from schemas.envelope import Envelope
from services.planner.state import PatientState
from tests.clinic_events import ClinicFeed
from tests.unit.test_planner_decider import D, command_of, decided, planner


def enrolled_at(feed: ClinicFeed, clinic: str, days_later: int = 0) -> Envelope:
    event = feed.enrolled(D + timedelta(days=days_later))
    data = event.data.model_copy(update={"clinic_id": clinic})
    return event.model_copy(update={"data": data})


def test_the_patient_belongs_to_the_clinic_of_the_latest_enrolment() -> None:
    decider, feed = planner(), ClinicFeed()
    state = PatientState()
    assert state.clinic_id == ""
    for event in (enrolled_at(feed, "south", 1), enrolled_at(feed, "north")):
        state = decided(decider, state, command_of(decider, event)).state
    assert state.clinic_id == "south"


def test_the_clinic_survives_the_stored_text() -> None:
    decider, feed = planner(), ClinicFeed()
    state = decided(decider, PatientState(), command_of(decider, enrolled_at(feed, "north"))).state
    assert PatientState.from_json_text(state.to_json_text()).clinic_id == "north"
