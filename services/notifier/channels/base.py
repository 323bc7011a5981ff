"""What every channel does: deliver one notice to one recipient, or say why it could not."""

from typing import Protocol

from services.notifier.message import OutgoingNotice
from services.notifier.routing import Recipient


class DeliveryError(Exception):
    """`reason` is one line without notice content; `permanent` means retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(Protocol):
    async def send(self, recipient: Recipient, notice: OutgoingNotice) -> None: ...
