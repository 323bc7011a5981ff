"""E-mail over SMTP with aiosmtplib; the Message-ID is the notice id, so duplicates show.

TLS as the routing file says: STARTTLS required (a server that does not offer it fails the
attempt), TLS from the first byte, or none for a relay on this host only (routing.py).
"""

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from services.notifier.channels.base import DeliveryError
from services.notifier.message import OutgoingNotice
from services.notifier.routing import EmailRecipient, Recipient, SmtpServer


@dataclass
class EmailChannel:
    server: SmtpServer | None
    timeout_s: float = 10.0

    async def send(self, recipient: Recipient, notice: OutgoingNotice) -> None:
        if not isinstance(recipient, EmailRecipient) or self.server is None:
            raise DeliveryError("recipient is not an e-mail address with a server", permanent=True)
        server = self.server
        try:
            await aiosmtplib.send(
                _message(server.sender, recipient.address, notice),
                hostname=server.host, port=server.port, username=server.username,
                password=server.password, use_tls=server.tls == "implicit",
                start_tls=server.tls == "starttls", timeout=self.timeout_s,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused:
            raise DeliveryError("mail server refused the recipient", permanent=True) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"mail not sent: {type(exc).__name__}") from None


def _message(sender: str, to: str, notice: OutgoingNotice) -> EmailMessage:
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
    return message
