"""The runtime without a broker or a database: a Decider's states in a dict (the fake
repository of cosmicpython), folded by the same code as the pipeline's. Each service's
tests drive its Decider through it as well as through the real pipeline."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic

import structlog

from services.runtime.decider import C, Context, Decided, Decider, Ev, O, S
from services.runtime.fold import DEAD_LETTER, BatchResult, Fold
from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage


def _subject(event: Any) -> str:
    return str(event.subject)


@dataclass
class InMemoryShell(Generic[Ev, C, S, O]):
    decider: Decider[Ev, C, S, O]
    initial: S  # a new key's state
    context: Callable[[], Context]
    key_of: Callable[[Ev], str] = _subject
    states: dict[str, S] = field(default_factory=dict)
    inbox: set[tuple[str, str]] = field(default_factory=set)
    decided: list[Decided[C, S, O]] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)  # their reasons
    log: Any = field(default_factory=structlog.get_logger)
    # The shared state (`SharingDecider`), carried from batch to batch as a repository would.
    shared: Any = None

    def handle(self, *events: Ev) -> BatchResult:
        """One batch, as the pipeline folds it: duplicates skipped, rejections dropped."""
        keys = {self.key_of(event) for event in events}
        first = {(event.source, event.id) for event in events} - self.inbox
        self.inbox |= first
        fold = Fold(self.decider, self.key_of, self.log,
                    {key: self.states.get(key, self.initial) for key in keys})  # fmt: skip
        fold.shared = self.shared
        context = self.context()
        for offset, event in enumerate(events):
            record = Incoming("memory", 0, offset, self.key_of(event).encode(), b"")
            fold.add(record, event, first, context)
        self.shared = fold.shared
        self.inbox -= set(fold.forgotten)
        self.states |= fold.changed_states()
        self.decided += fold.decided
        self.outbox += [message for one in fold.decided for message in self.decider.encode(one)]
        self.dead_letters += [reason for _, reason in fold.dead]
        for record, _ in fold.dead:
            fold.result.count(record, DEAD_LETTER)
        return fold.result
