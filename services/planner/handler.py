"""The planner shell's use cases: a clinic event, an eligibility decision, a reminder's day.

All three end in `decide_and_save`: the core decides from the patient's state (locked, so
the two topics take turns per patient), the new state and reminders are written, and the
outputs become schedule events for the outbox, all in the caller's transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from schemas.causes import Cause
from schemas.clinic import ClinicEvent
from schemas.eligibility import EligibilityDecided
from schemas.events import AnyEvent
from services.planner import repository
from services.planner.calendar import ClinicCalendar
from services.planner.commands import Command, Tick
from services.planner.decide import decide
from services.planner.outputs import ArmReminder, CourseRejected
from services.planner.policy import PlannerPolicy
from services.planner.screening import screen
from services.planner.settings import PlannerSettings
from services.planner.translate import eligibility_changed, to_command
from services.planner.wire_out import Envelopes, to_wire
from services.runtime.clock import Clock, local_today
from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage
from services.runtime.pipeline import Rejected
from services.runtime.timers import TimerKey
from services.runtime.wire import outbox_message

NOT_A_DECISION = "unexpected event type: only courseflow.eligibility.decided is read here"


@dataclass(frozen=True)
class PlannerHandler:
    settings: PlannerSettings
    calendar: ClinicCalendar
    policy: PlannerPolicy
    clock: Clock

    @property
    def source(self) -> str:
        return f"{self.settings.event_source}/planner"

    def today(self) -> date:
        return local_today(self.clock, self.settings.clinic_timezone)

    async def on_clinic_event(self, conn: Conn, event: ClinicEvent) -> Sequence[OutboxMessage]:
        command = to_command(event)
        if command is None:
            return []
        return await self.decide_and_save(conn, event.subject, command, Cause.of(event))

    async def on_eligibility_event(self, conn: Conn, event: AnyEvent) -> Sequence[OutboxMessage]:
        if not isinstance(event, EligibilityDecided):
            raise Rejected(NOT_A_DECISION)
        command = eligibility_changed(event)
        return await self.decide_and_save(conn, event.subject, command, Cause.of(event))

    async def on_reminder(self, conn: Conn, key: TimerKey, due_on: date) -> Sequence[OutboxMessage]:
        patient_id, course_id = key
        await repository.clear_reminder(conn, (patient_id, course_id))
        tick_id = f"reminder:{patient_id}:{course_id}:{due_on.isoformat()}"
        tick = Tick(tick_id, self.clock.now())
        return await self.decide_and_save(conn, patient_id, tick, Cause.internal(tick_id))

    async def decide_and_save(
        self, conn: Conn, patient_id: str, command: Command, cause: Cause
    ) -> Sequence[OutboxMessage]:
        state = await repository.load_for_update(conn, patient_id)
        verdict = screen(state, command)
        if verdict.rejection is not None:
            raise Rejected(verdict.rejection)
        if verdict.repeated:
            return []
        new_state, outputs = decide(state, command, self.today(), self.calendar, self.policy)
        for output in outputs:
            if isinstance(output, CourseRejected):
                raise Rejected(f"{output.rules[0]}: {output.reason}")
        reminders = [output for output in outputs if isinstance(output, ArmReminder)]
        if new_state != state or reminders:  # a reminder refers to the patient's row
            await repository.save(conn, patient_id, new_state)
        for reminder in reminders:
            await repository.arm(conn, patient_id, reminder.course_id, reminder.fire_on)
        envelopes = Envelopes(self.source, patient_id, cause, self.clock.now())
        events = [to_wire(output, new_state, envelopes) for output in outputs]
        topic = self.settings.topic_schedule
        return [outbox_message(topic, event) for event in events if event is not None]
