"""The log channel: one structured line per notice, the summary as the event text.

Summaries carry only the opaque patient id, rule IDs and dates, so they may be logged.
"""

from dataclasses import dataclass
from typing import Any

from services.notifier.message import OutgoingNotice
from services.notifier.routing import Recipient


@dataclass
class LogChannel:
    log: Any

    async def send(self, recipient: Recipient, notice: OutgoingNotice) -> None:
        self.log.info(
            notice.summary, notice_id=notice.notice_id, kind=notice.kind, channel=recipient.channel,
            patient_id=notice.patient_id, rules=list(notice.rules), event_id=notice.cause_id,
        )  # fmt: skip
