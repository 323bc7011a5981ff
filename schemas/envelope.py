"""The CloudEvents 1.0 envelope (structured JSON mode) shared by every topic."""

from typing import Any, Literal, get_args

from pydantic import Field

from schemas.base import WireModel
from schemas.types import Identifier, PatientId, Timestamp, UriReference

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"


def _is_none(value: object) -> bool:
    return value is None


class Envelope(WireModel):
    """Common attributes; each event type narrows `type` and `data`."""

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

    @classmethod
    def event_type(cls) -> str:
        """The `type` string this class accepts, e.g. "clinic.flare.reported"."""
        args: tuple[Any, ...] = get_args(cls.model_fields["type"].annotation)
        if len(args) != 1 or not isinstance(args[0], str):
            raise TypeError(f"{cls.__name__} does not pin a single event type")
        return args[0]
