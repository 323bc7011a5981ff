"""Default Kafka topic names (each overridable by service settings)."""

from typing import Final

PATIENT_EVENTS: Final = "clinic.patient-events"
STAFF_EVENTS: Final = "clinic.staff-events"
ELIGIBILITY: Final = "courseflow.eligibility"
SCHEDULE: Final = "courseflow.schedule"
NOTICES: Final = "courseflow.notices"
DEAD_LETTERS: Final = "courseflow.dead-letters"
# Not in the contract: the planner's commands to itself (services/planner/staff_commands.py).
PLANNER_COMMANDS: Final = "courseflow.planner-commands"

ALL_TOPICS: Final = (PATIENT_EVENTS, STAFF_EVENTS, ELIGIBILITY, SCHEDULE, NOTICES, DEAD_LETTERS)
