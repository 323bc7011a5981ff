"""A batch folded through a Decider in memory: pure, shared by the pipeline and by the
in-memory shell the services' tests use (`services.runtime.memory`)."""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic

from schemas.causes import Cause
from services.runtime.decider import (
    C,
    Context,
    Decided,
    Decider,
    Ev,
    O,
    Rejected,
    S,
    SharingDecider,
    key_field,
)
from services.runtime.incoming import Incoming

HANDLED, DUPLICATE, DEAD_LETTER = "handled", "duplicate", "dead_letter"


@dataclass
class BatchResult:
    """What a batch did with its records, per record topic and outcome: a consumer may read
    several topics, and operators count each topic's messages."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count(self, incoming: Incoming, outcome: str) -> None:
        self.counts[incoming.topic, outcome] += 1

    def add(self, other: "BatchResult") -> None:
        self.counts.update(other.counts)

    @property
    def handled(self) -> int:
        return self._total(HANDLED)

    @property
    def duplicates(self) -> int:
        return self._total(DUPLICATE)

    @property
    def dead_letters(self) -> int:
        return self._total(DEAD_LETTER)

    def _total(self, outcome: str) -> int:
        return sum(n for (_, counted), n in self.counts.items() if counted == outcome)


@dataclass
class Fold(Generic[Ev, C, S, O]):
    """The states of a batch's keys and what the batch decided so far, before any write."""

    decider: Decider[Ev, C, S, O]
    key_of: Callable[[Ev], str]
    log: Any
    states: dict[str, S]
    changed: set[str] = field(default_factory=set)
    decided: list[Decided[C, S, O]] = field(default_factory=list)
    dead: list[tuple[Incoming, str]] = field(default_factory=list)
    # Inbox rows to take back: their events were rejected, and a replay must not find them.
    forgotten: list[tuple[str, str]] = field(default_factory=list)
    result: BatchResult = field(default_factory=BatchResult)
    # State shared by the batch's keys (`SharingRepository`), as its decisions so far left it.
    shared: Any = None
    # What the Decider's keys are called in log lines (`patient_id`, a clinic's `clinic_id`).
    key_field: str = field(init=False)
    # Checked once per batch: a runtime Protocol check is slow, and this runs per event.
    _sharing: SharingDecider | None = field(init=False)

    def __post_init__(self) -> None:
        self.key_field = key_field(self.decider)
        self._sharing = self.decider if isinstance(self.decider, SharingDecider) else None

    def add(
        self,
        incoming: Incoming,
        event: Ev | Rejected,
        first: set[tuple[str, str]],
        context: Context,
    ) -> None:
        """Fold one record; `first` holds the (source, id) pairs not seen before, and loses
        each as it is folded, so a copy later in the batch is a duplicate too."""
        if isinstance(event, Rejected):
            self.dead.append((incoming, event.reason))
            return
        started = time.perf_counter()
        key = self.key_of(event)
        log = self.log.bind(
            event_id=event.id, event_type=event.type, correlation_id=event.correlationid,
            **{self.key_field: key},
        )  # fmt: skip
        if (event.source, event.id) not in first:
            self.result.count(incoming, DUPLICATE)
            log.info("duplicate skipped")
            return
        first.discard((event.source, event.id))
        if self.shared is not None:
            context = replace(context, shared=self.shared, key=key)
        decision = self._decision(self.states[key], event, context)
        if isinstance(decision, Rejected):
            self.forgotten.append((event.source, event.id))
            self.dead.append((incoming, decision.reason))
            return
        outputs = 0
        if decision is not None:
            command, (state, decided_outputs) = decision
            if state is not self.states[key] and state != self.states[key]:
                self.states[key] = state
                self.changed.add(key)
            decided = Decided(
                key, command, state, tuple(decided_outputs), Cause.of(event), incoming
            )
            self.decided.append(decided)
            outputs = len(decided.outputs)
            if self.shared is not None and self._sharing is not None:
                self.shared = self._sharing.share(self.shared, decided)
        self.result.count(incoming, HANDLED)
        log.info("handled", outputs=outputs, latency_ms=_ms_since(started))

    def changed_states(self) -> dict[str, S]:
        return {key: self.states[key] for key in sorted(self.changed)}

    def _decision(
        self, state: S, event: Ev, context: Context
    ) -> tuple[C, tuple[S, Sequence[O]]] | Rejected | None:
        """The event's command and what it decides; None when the event is not for us."""
        command = self.decider.translate(event)
        if command is None or isinstance(command, Rejected):
            return command
        verdict = self.decider.decide(state, command, context)
        return verdict if isinstance(verdict, Rejected) else (command, verdict)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
