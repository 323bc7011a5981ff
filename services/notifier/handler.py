"""The notifier's use case: a schedule or eligibility event arrives → notices are queued.

Nothing is published here: notice.issued goes out with the delivery outcome (worker.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from schemas.eligibility import EligibilityDecided
from schemas.events import AnyEvent
from schemas.schedule import CourseData
from services.notifier import memory
from services.notifier.coalesce import due_at
from services.notifier.decision_notices import (
    course_break_ends,
    decision_notices,
    remember_course_break,
)
from services.notifier.notice import Notice
from services.notifier.queueing import Addressed, queue
from services.notifier.routing import RoutingConfig
from services.notifier.schedule_notices import schedule_notice
from services.notifier.settings import NotifierSettings
from services.notifier.source import current_source
from services.runtime.clock import Clock
from services.runtime.db import Conn
from services.runtime.outbox import OutboxMessage


@dataclass(frozen=True)
class NotifierHandler:
    settings: NotifierSettings
    routing: RoutingConfig
    clock: Clock

    async def on_event(self, conn: Conn, event: AnyEvent) -> Sequence[OutboxMessage]:
        notices = await self._compose(conn, event)
        due = due_at(self.clock.now(), self.settings.coalesce_window_s)
        coalesce = self.settings.coalesce_window_s > 0
        for notice in notices:
            for name, recipient in self.routing.recipients_for(notice.kind):
                item = Addressed(notice, name, recipient.channel, event.correlationid,
                                 event.traceparent, event.tracestate)  # fmt: skip
                await queue(conn, item, current_source(), due, coalesce=coalesce)
        return []

    async def _compose(self, conn: Conn, event: AnyEvent) -> list[Notice]:
        if isinstance(event, EligibilityDecided):
            day = event.time.astimezone(ZoneInfo(self.settings.clinic_timezone)).date()
            known = await memory.load_for_update(conn, event.subject)
            remembered, notices = decision_notices(known, event.id, event.subject, event.data, day)
            if remembered != known:
                await memory.save(conn, event.subject, remembered)
            return notices
        if isinstance(event.data, CourseData):
            await self._remember_course_break(conn, event.subject, event.data)
            return [schedule_notice(event.id, event.subject, event.data)]
        return []  # other event types on these topics are not ours to announce

    async def _remember_course_break(self, conn: Conn, patient_id: str, data: CourseData) -> None:
        if course_break_ends(data) is None:
            return  # most schedule events: no need to lock the patient's memory
        known = await memory.load_for_update(conn, patient_id)
        remembered = remember_course_break(known, data)
        if remembered != known:
            await memory.save(conn, patient_id, remembered)
