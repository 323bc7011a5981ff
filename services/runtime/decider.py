"""What a service hands the runtime (DESIGN.md, "The shape of a service").

A `Decider` is pure: `translate` turns a decoded event into a command (or a verdict),
`decide` folds one command into one key's state, `encode` turns what was decided into
outbox messages. Its `Repository` is the shell's only I/O: the states of a batch's keys
are loaded in one go and the changed ones saved in one go, in the batch's transaction.
The runtime (`services.runtime.pipeline`) does everything else: inbox, locks, dead
letters, outbox, retries, isolation of a failing record.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from schemas.causes import Cause, Causing
from services.runtime.db import Conn
from services.runtime.incoming import Incoming
from services.runtime.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class Rejected:
    """The input cannot be used; `reason` is one line and never contains input values."""

    reason: str


class Envelope(Causing, Protocol):
    """The attributes of a decoded event the runtime reads (CloudEvents' own names); those
    that an output carries from its cause come from `Causing`."""

    @property
    def source(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def subject(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Context:
    """What `decide` may know besides state and command: the clinic-local day and the time
    the batch is decided at (the policy and calendar are the Decider's own), and `shared`:
    state shared by many keys (a clinic's bookings), as the decisions before this one in the
    batch left it, and `key`, the key decided (which shared state names its owner by); None
    and "" for a service that shares nothing (see `SharingDecider`)."""

    today: date
    now: datetime
    shared: Any = None
    key: str = ""


Ev = TypeVar("Ev", bound=Envelope)
Ev_contra = TypeVar("Ev_contra", bound=Envelope, contravariant=True)
C = TypeVar("C")
S = TypeVar("S")
O = TypeVar("O")  # noqa: E741 - the outputs' type, as in the Decider pattern's (S, C, O)


@dataclass(frozen=True, slots=True)
class Decided(Generic[C, S, O]):
    """One command's result: the key's state after it, its outputs, and where it came from
    (`incoming` is None for a timer)."""

    key: str
    command: C
    state: S
    outputs: tuple[O, ...]
    cause: Cause
    incoming: Incoming | None = None


class Decider(Protocol[Ev_contra, C, S, O]):
    def translate(self, event: Ev_contra, /) -> C | Rejected | None:
        """The command an event asks for; None when the event does not concern the service
        (it is recorded as handled, and nothing else happens)."""
        ...

    def decide(
        self, state: S, command: C, context: Context, /
    ) -> tuple[S, Sequence[O]] | Rejected: ...

    def encode(self, decided: Decided[C, S, O], /) -> Sequence[OutboxMessage]: ...


class Repository(Protocol[C, S, O]):
    async def load_many(self, conn: Conn, keys: Sequence[str], /) -> dict[str, S]:
        """Every key's state (a new key's initial state too), locked for the transaction."""
        ...

    async def save_many(
        self, conn: Conn, states: Mapping[str, S], decided: Sequence[Decided[C, S, O]], /
    ) -> None:
        """Write the changed `states`, and whatever rows of its own the service keeps for
        `decided` (its timers, its delivery queue), in the caller's transaction."""
        ...


@runtime_checkable
class SharingRepository(Protocol):
    """A repository whose keys share state with other keys (optional): `load_shared` reads
    it for a batch's keys, after their states, under whatever further locks it needs."""

    async def load_shared(
        self, conn: Conn, keys: Sequence[str], states: Mapping[str, Any], events: Sequence[Any], /
    ) -> Any:
        """The shared state of `keys` (their `states` as loaded) and of the batch's admitted
        `events` (which may name what a state does not know yet); None: nothing shared."""
        ...


@runtime_checkable
class WritingAhead(Protocol):
    """A repository that writes some rows of a batch while the batch is still being decided
    (optional): the pipeline hands `write_ahead` the decisions made since its last call,
    every few dozen of them, and lets the database write them while the next ones are
    decided (the writes wait for no decision, the decisions for no write). The last ones
    are handed over before `save_many`, which never writes those rows itself. Each call
    writes its decisions as they left the rows: a key decided again in a later call is
    written again."""

    async def write_ahead(self, conn: Conn, decided: Sequence[Decided[Any, Any, Any]], /) -> None:
        """Write the rows of `decided`, the decisions since the last call, in order."""
        ...


PATIENT_KEY = "patient_id"


@runtime_checkable
class KeyNaming(Protocol):
    """A Decider keyed by something other than a patient (optional): `key_field` is what its
    keys are called in logs (a clinic's staff facts: `clinic_id`)."""

    @property
    def key_field(self) -> str: ...


def key_field(decider: object) -> str:
    """The name of a Decider's keys in logs: `patient_id` unless it names them."""
    return decider.key_field if isinstance(decider, KeyNaming) else PATIENT_KEY


@runtime_checkable
class SharingDecider(Protocol):
    """A Decider whose decisions change the shared state (optional): the fold hands each
    decision `share(shared, decided)` of the decisions before it, never a stale copy."""

    def share(self, shared: Any, decided: Decided[Any, Any, Any], /) -> Any: ...
