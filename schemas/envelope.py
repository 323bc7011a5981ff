"""The CloudEvents 1.0 envelope (structured JSON mode) shared by every topic."""

import re
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field

from schemas.base import WireModel
from schemas.types import (
    Identifier,
    PatientId,
    Timestamp,
    TraceParent,
    TraceState,
    UriReference,
)

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"

EXTENSION_NAME_PATTERN = r"^[a-z0-9]{1,20}$"
_EXTENSION_NAME = re.compile(EXTENSION_NAME_PATTERN)
# CloudEvents' JSON format carries extension values as strings, integers or booleans;
# null means absent.
_EXTENSION_VALUE = (str, int, bool, type(None))


def _is_none(value: object) -> bool:
    return value is None


class Envelope(WireModel):
    """Common attributes; each event type narrows `type` and `data`.

    Other CloudEvents extension attributes are dropped before validation (see
    `without_extension_attributes`); any other unknown attribute is rejected, as in `data`.
    """

    model_config = ConfigDict(
        json_schema_extra={
            # Every known attribute but `data` is a string, so only `data` needs excluding.
            "patternProperties": {
                "^(?!data$)[a-z0-9]{1,20}$": {"type": ["string", "integer", "boolean", "null"]}
            }
        }
    )

    specversion: Literal["1.0"]
    id: Identifier
    source: UriReference
    type: str
    time: Timestamp
    subject: PatientId
    datacontenttype: Literal["application/json"]
    data: WireModel
    correlationid: Identifier | None = Field(default=None, exclude_if=_is_none)
    causationid: Identifier | None = Field(default=None, exclude_if=_is_none)
    traceparent: TraceParent | None = Field(default=None, exclude_if=_is_none)
    tracestate: TraceState | None = Field(default=None, exclude_if=_is_none)

    @classmethod
    def event_type(cls) -> str:
        """The `type` string this class accepts, e.g. "clinic.flare.reported"."""
        args: tuple[Any, ...] = get_args(cls.model_fields["type"].annotation)
        if len(args) != 1 or not isinstance(args[0], str):
            raise TypeError(f"{cls.__name__} does not pin a single event type")
        return args[0]


_KNOWN_ATTRIBUTES = frozenset(Envelope.model_fields)


def without_extension_attributes(document: dict[str, Any]) -> dict[str, Any] | None:
    """The event without its other CloudEvents extension attributes; None when it has none.

    An extension attribute has a lowercase name of at most 20 letters and digits and a
    string, integer or boolean value. It is accepted and ignored: nothing of it is kept
    or passed on. Names and values that break these rules are left for validation to reject.
    """
    if document.keys() <= _KNOWN_ATTRIBUTES:
        return None
    return {
        name: value
        for name, value in document.items()
        if name in _KNOWN_ATTRIBUTES
        or not (_EXTENSION_NAME.fullmatch(name) and isinstance(value, _EXTENSION_VALUE))
    }
