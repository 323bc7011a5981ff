"""E-mail over SMTP with aiosmtplib; the Message-ID is the notice id, so duplicates show.

TLS as the routing file says: STARTTLS required (a server that does not offer it fails the
attempt), TLS from the first byte, or none for a relay on this host only (routing.py).

A notice that changes sessions also carries them for the recipient's calendar (iMIP,
RFC 6047): a `text/calendar; method=REQUEST` part for new and changed sessions and a
`method=CANCEL` one for cancelled sessions, the sender as ORGANIZER and the recipient as
ATTENDEE, as RFC 5546 requires. With one method the part is the text's alternative, as
calendar clients expect an invitation; with both, each iCalendar object has its own part
under multipart/mixed (RFC 6047 2.4: one METHOD per object).
"""

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from services.notifier.calendar_updates import CalendarUpdate
from services.notifier.channels.base import DeliveryError
from services.notifier.message import OutgoingNotice
from services.notifier.routing import EmailRecipient, Recipient, SmtpServer
from services.runtime.session_calendar import session_calendar


@dataclass
class EmailChannel:
    server: SmtpServer | None
    timeout_s: float = 10.0
    timezone: str = "UTC"  # the clinic's: calendar times are its wall-clock times

    async def send(self, recipient: Recipient, notice: OutgoingNotice) -> None:
        if not isinstance(recipient, EmailRecipient) or self.server is None:
            raise DeliveryError("recipient is not an e-mail address with a server", permanent=True)
        server = self.server
        try:
            await aiosmtplib.send(
                _message(server.sender, recipient.address, notice, self.timezone),
                hostname=server.host, port=server.port, username=server.username,
                password=server.password, use_tls=server.tls == "implicit",
                start_tls=server.tls == "starttls", timeout=self.timeout_s,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused:
            raise DeliveryError("mail server refused the recipient", permanent=True) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"mail not sent: {type(exc).__name__}") from None


def _message(sender: str, to: str, notice: OutgoingNotice, timezone: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"[courseflow] {notice.kind.replace('_', ' ')}: {notice.patient_id}"
    message["Message-ID"] = f"<{notice.notice_id}@courseflow>"
    message["X-Courseflow-Notice-Id"] = notice.notice_id
    message.set_content(
        f"{notice.summary}\n\nRules: {', '.join(notice.rules) or '-'}\n"
        f"Notice: {notice.notice_id}\nCause: {notice.cause_id}\n"
    )
    if notice.calendar is not None:
        _attach_calendar(message, notice.calendar, sender, to, timezone)
    return message


def _attach_calendar(
    message: EmailMessage, update: CalendarUpdate, sender: str, to: str, timezone: str
) -> None:
    by_method = (("REQUEST", update.requests), ("CANCEL", update.cancels))
    parts = [(method, events) for method, events in by_method if events]
    for index, (method, events) in enumerate(parts):
        calendar = session_calendar(
            events, timezone=timezone, stamp=update.stamp, method=method, organizer=sender,
            attendee=to,
        ).to_ical().decode()  # fmt: skip
        options: dict[str, Any] = {"subtype": "calendar", "params": {"method": method}}
        if index == 0:
            message.add_alternative(calendar, **options)
        else:
            message.add_attachment(calendar, disposition="inline",
                                   filename=f"{method.lower()}.ics", **options)  # fmt: skip
