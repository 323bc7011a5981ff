"""The eligibility shell's use cases: a clinic event arrives, or a timer's day comes.

Both end the same way (`decide_and_save`): evaluate the timeline for the clinic-local day,
publish a decision only when it differs from the last one published, and keep the timer
set to the next day on which time alone will change the decision. Facts that come before
the enrolment are kept and publish nothing until it comes (`services.eligibility.patient`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from schemas.causes import Cause
from schemas.clinic import ClinicEvent
from schemas.codec import new_event
from schemas.eligibility import EligibilityDecided
from services.eligibility import repository
from services.eligibility.decision import Decision
from services.eligibility.patient import PatientRecord, admit, conclude
from services.eligibility.policy import Policy
from services.eligibility.settings import EligibilitySettings
from services.eligibility.timeline import Timeline
from services.eligibility.translate import clinical_day, to_fact
from services.runtime.clock import Clock, local_today
from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage
from services.runtime.pipeline import Rejected
from services.runtime.timers import TimerKey
from services.runtime.wire import outbox_message


@dataclass(frozen=True)
class EligibilityHandler:
    settings: EligibilitySettings
    policy: Policy
    clock: Clock

    @property
    def source(self) -> str:
        return f"{self.settings.event_source}/eligibility"

    def today(self) -> date:
        return local_today(self.clock, self.settings.clinic_timezone)

    async def on_clinic_event(self, conn: Conn, event: ClinicEvent) -> Sequence[OutboxMessage]:
        fact = to_fact(event, self.settings.clinic_timezone)
        if fact is None:
            return []
        previous = await repository.load_for_update(conn, event.subject)
        event_on = clinical_day(event, self.settings.clinic_timezone)
        timeline = admit(previous, fact, event_on=event_on, policy=self.policy)
        if isinstance(timeline, str):
            raise Rejected(timeline)
        return await self.decide_and_save(conn, event.subject, timeline, previous, Cause.of(event))

    async def on_timer(self, conn: Conn, key: TimerKey, due_on: date) -> Sequence[OutboxMessage]:
        (patient_id,) = key
        previous = await repository.load_for_update(conn, patient_id)
        if previous is None:
            await repository.set_timer(conn, patient_id, None)
            return []
        cause_id = f"timer:{patient_id}:{due_on.isoformat()}"
        return await self.decide_and_save(
            conn, patient_id, previous.timeline, previous, Cause.internal(cause_id)
        )

    async def decide_and_save(
        self,
        conn: Conn,
        patient_id: str,
        timeline: Timeline,
        previous: PatientRecord | None,
        cause: Cause,
    ) -> Sequence[OutboxMessage]:
        outcome = conclude(previous, timeline, self.today(), self.policy)
        await repository.save(conn, patient_id, outcome.record)
        await repository.set_timer(conn, patient_id, outcome.next_change_on)
        if outcome.published is None:
            return []
        return [self._decided(patient_id, outcome.published, outcome.record.version, cause)]

    def _decided(
        self, patient_id: str, decision: Decision, version: int, cause: Cause
    ) -> OutboxMessage:
        event = new_event(
            EligibilityDecided,
            source=self.source,
            subject=patient_id,
            data={**decision.to_json(), "version": version},
            time=self.clock.now(),
            **cause.attributes(),
        )
        return outbox_message(self.settings.topic_eligibility, event)
