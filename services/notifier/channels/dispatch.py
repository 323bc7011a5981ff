"""Picks the channel a recipient is reached on."""

from collections.abc import Mapping
from dataclasses import dataclass

from services.notifier.channels.base import Channel, DeliveryError
from services.notifier.message import OutgoingNotice
from services.notifier.routing import Recipient


@dataclass
class Channels:
    by_name: Mapping[str, Channel]

    async def send(self, recipient: Recipient, notice: OutgoingNotice) -> None:
        channel = self.by_name.get(recipient.channel)
        if channel is None:
            raise DeliveryError(f"no {recipient.channel} channel configured", permanent=True)
        await channel.send(recipient, notice)
