"""HTTP POST of the notice as JSON, signed, with the notice id as the idempotency key."""

from dataclasses import dataclass

import httpx

from services.notifier.channels.base import DeliveryError
from services.notifier.channels.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature
from services.notifier.message import OutgoingNotice
from services.notifier.routing import Recipient, WebhookRecipient

# Client errors that a later attempt may not repeat: timeouts and rate limits.
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 409, 425, 429})


@dataclass
class WebhookChannel:
    client: httpx.AsyncClient

    async def send(self, recipient: Recipient, notice: OutgoingNotice) -> None:
        if not isinstance(recipient, WebhookRecipient):
            raise DeliveryError("recipient is not a webhook", permanent=True)
        body = notice.body()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(recipient.secret, body),
            IDEMPOTENCY_HEADER: notice.notice_id,
        }
        try:
            response = await self.client.post(str(recipient.url), content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}") from None
        status = response.status_code
        if response.is_success:
            return
        permanent = response.is_client_error and status not in _RETRYABLE_CLIENT_ERRORS
        raise DeliveryError(f"webhook answered HTTP {status}", permanent=permanent)
