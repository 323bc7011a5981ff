"""HTTP POST of the notice as JSON, signed by the Standard Webhooks scheme (signing.py).

The webhook-id is the notice id on every attempt; the timestamp is the attempt's, from the
real clock (never the service's shifted clock: receivers compare it with theirs).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from services.notifier.channels.base import DeliveryError
from services.notifier.channels.signing import signed_headers
from services.notifier.message import OutgoingNotice
from services.notifier.routing import Recipient, WebhookRecipient

# Client errors that a later attempt may not repeat: timeouts and rate limits.
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 409, 425, 429})


@dataclass
class WebhookChannel:
    client: httpx.AsyncClient
    wall_clock: Callable[[], float] = field(default=time.time)

    async def send(self, recipient: Recipient, notice: OutgoingNotice) -> None:
        if not isinstance(recipient, WebhookRecipient):
            raise DeliveryError("recipient is not a webhook", permanent=True)
        body = notice.body()
        headers = {
            "Content-Type": "application/json",
            **signed_headers(recipient.secret, notice.notice_id, int(self.wall_clock()), body),
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
