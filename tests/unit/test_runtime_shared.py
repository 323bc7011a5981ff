"""State shared by many keys (a clinic's bookings): each decision of a batch sees what the
decisions before it left, and a Decider that shares nothing folds exactly as before."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from services.runtime.decider import Context, Decided, SharingDecider
from services.runtime.memory import InMemoryShell
from services.runtime.outbox import OutboxMessage

TODAY = date(2026, 11, 23)


@dataclass(frozen=True)
class Ask:
    id: str
    subject: str
    source: str = "/test"
    type: str = "test.ask"
    correlationid: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


@dataclass(frozen=True)
class Tickets:
    """Each key's tickets; the next free ticket number is shared by all keys."""

    def translate(self, event: Ask) -> Ask:
        return event

    def decide(
        self, state: tuple[int, ...], command: Ask, context: Context, /
    ) -> tuple[tuple[int, ...], Sequence[int]]:
        ticket = 0 if context.shared is None else context.shared
        return (*state, ticket), (ticket,)

    def encode(self, _decided: Decided[Ask, tuple[int, ...], int], /) -> Sequence[OutboxMessage]:
        return ()


class SharedTickets(Tickets):
    def share(self, shared: Any, decided: Decided[Any, Any, Any], /) -> Any:
        return shared + len(decided.outputs)


def shell(decider: Tickets, shared: Any) -> InMemoryShell[Any, Any, Any, Any]:
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    return InMemoryShell(decider, (), lambda: Context(TODAY, now), shared=shared)


def test_each_decision_sees_the_shared_state_the_ones_before_it_left() -> None:
    tickets = shell(SharedTickets(), shared=1)
    tickets.handle(Ask("a", "P1"), Ask("b", "P2"), Ask("c", "P1"))
    tickets.handle(Ask("d", "P2"))
    assert tickets.states == {"P1": (1, 3), "P2": (2, 4)}
    assert tickets.shared == 5


def test_a_duplicate_changes_no_shared_state() -> None:
    tickets = shell(SharedTickets(), shared=1)
    tickets.handle(Ask("a", "P1"), Ask("a", "P1"))
    assert tickets.shared == 2


def test_without_shared_state_a_decider_sees_none() -> None:
    tickets = shell(SharedTickets(), shared=None)
    tickets.handle(Ask("a", "P1"), Ask("b", "P2"))
    assert tickets.states == {"P1": (0,), "P2": (0,)}


def test_only_a_decider_with_share_is_a_sharing_decider() -> None:
    assert isinstance(SharedTickets(), SharingDecider)
    assert not isinstance(Tickets(), SharingDecider)
