"""Bytes <-> events: strict parsing with safe error reasons, compact serialisation."""

import functools
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, TypeVar, get_args, overload
from uuid import uuid4

from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.base import WireModel
from schemas.clinic import ClinicEvent
from schemas.envelope import (
    DATACONTENTTYPE,
    SPECVERSION,
    Envelope,
    without_extension_attributes,
)
from schemas.errors import InvalidEvent
from schemas.events import EVENT_CLASSES, AnyEvent
from schemas.staff import StaffEvent

__all__ = [
    "CONTENT_TYPE",
    "MAX_EVENT_BYTES",
    "AnyEvent",
    "InvalidEvent",
    "new_event",
    "parse_clinic_event",
    "parse_event",
    "parse_staff_event",
    "to_bytes",
]

CONTENT_TYPE: Final = "application/cloudevents+json; charset=UTF-8"
MAX_EVENT_BYTES: Final = 65536

E = TypeVar("E", bound=Envelope)

_ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)
_CLINIC_EVENT: TypeAdapter[ClinicEvent] = TypeAdapter(ClinicEvent)
_STAFF_EVENT: TypeAdapter[StaffEvent] = TypeAdapter(StaffEvent)


class _DuplicateKeyError(ValueError):
    pass


class _IntegerTooLongError(ValueError):
    pass


def parse_event(raw: bytes) -> AnyEvent:
    """Parse one Kafka message value of any topic; raises InvalidEvent."""
    return _parse(raw, _ANY_EVENT)


def parse_clinic_event(raw: bytes) -> ClinicEvent:
    """Parse a message from `clinic.patient-events` (only `clinic.*` types); raises InvalidEvent."""
    return _parse(raw, _CLINIC_EVENT)


def parse_staff_event(raw: bytes) -> StaffEvent:
    """Parse a message from `clinic.staff-events` (`clinic.therapist.*`); raises InvalidEvent."""
    return _parse(raw, _STAFF_EVENT)


def to_bytes(event: Envelope) -> bytes:
    """Compact JSON; absent optional envelope attributes are left out, data nulls are kept."""
    return event.model_dump_json().encode()


@overload
def new_event(
    event_type: type[E],
    *,
    source: str,
    subject: str,
    data: WireModel | Mapping[str, Any],
    time: datetime,
    causationid: str | None = None,
    correlationid: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
    id: str | None = None,
) -> E: ...


@overload
def new_event(
    event_type: str,
    *,
    source: str,
    subject: str,
    data: WireModel | Mapping[str, Any],
    time: datetime,
    causationid: str | None = None,
    correlationid: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
    id: str | None = None,
) -> AnyEvent: ...


def new_event(  # noqa: PLR0913  (keyword-only CloudEvents attributes)
    event_type: type[Envelope] | str,
    *,
    source: str,
    subject: str,
    data: WireModel | Mapping[str, Any],
    time: datetime,
    causationid: str | None = None,
    correlationid: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
    id: str | None = None,  # noqa: A002
) -> Envelope:
    """Build a validated event for publishing; `id` defaults to a fresh uuid4.

    A bad argument is a bug in the caller, so it raises pydantic's ValidationError,
    not InvalidEvent (which means "bad input, dead-letter it").
    """
    if isinstance(event_type, str):
        if event_type not in EVENT_CLASSES:
            raise ValueError("unknown event type")
        cls = EVENT_CLASSES[event_type]
    else:
        cls = event_type
    return cls.model_validate(
        {
            "specversion": SPECVERSION,
            "id": id if id is not None else str(uuid4()),
            "source": source,
            "type": cls.event_type(),
            "time": time,
            "subject": subject,
            "datacontenttype": DATACONTENTTYPE,
            "data": data,
            "correlationid": correlationid,
            "causationid": causationid,
            "traceparent": traceparent,
            "tracestate": tracestate,
        }
    )


T = TypeVar("T", bound=Envelope)


def _parse(raw: bytes, adapter: TypeAdapter[T]) -> T:
    """One pass of pydantic's parser over the bytes for a valid event. Anything else (an
    invalid event, extension attributes, a key that may be repeated) goes the careful way,
    which gives the reasons it always gave."""
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"event is larger than {MAX_EVENT_BYTES} bytes")
    try:
        event = adapter.validate_json(raw, strict=True)
    except ValidationError:
        return _parse_carefully(raw, adapter)
    if _may_repeat_a_key(raw, event):
        return _parse_carefully(raw, adapter)
    return event


def _may_repeat_a_key(raw: bytes, event: BaseModel) -> bool:
    """False only when no JSON object of `raw` repeats a key (pydantic's parser would keep the
    last one silently), proven without parsing again. Every key of a valid event sets a
    field, and every key is a string followed by a colon: with JSON's white space taken out,
    each one shows as `":`. So the `":` written equal the fields set unless a key is
    repeated; a string holding `":` only counts more, and merely costs the careful way."""
    return raw.translate(None, _JSON_WHITE_SPACE).count(b'":') != _fields_set(event)


_JSON_WHITE_SPACE = b" \t\n\r"


def _fields_set(model: BaseModel) -> int:
    """Fields given in the input, over the model and every model inside it."""
    count = len(model.model_fields_set)
    for name in _fields_holding_models(type(model)):
        value = getattr(model, name)
        for inner in value if isinstance(value, tuple | list) else (value,):
            if isinstance(inner, BaseModel):
                count += _fields_set(inner)
    return count


@functools.cache
def _fields_holding_models(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields that can hold a model (or a sequence of them): the only ones to look into."""
    return tuple(
        name for name, field in model.model_fields.items() if _names_a_model(field.annotation)
    )


def _names_a_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_names_a_model(arg) for arg in get_args(annotation))


def _parse_carefully(raw: bytes, adapter: TypeAdapter[T]) -> T:
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEvent("event is not valid UTF-8") from None
    document = _check_json(text)
    if isinstance(document, dict):
        stripped = without_extension_attributes(document)
        if stripped is not None:  # re-encoded without them, parsed as JSON as usual
            raw = json.dumps(stripped).encode()
    try:
        return adapter.validate_json(raw, strict=True)
    except ValidationError as error:
        raise InvalidEvent.from_validation_error(error, EVENT_CLASSES) from None


def _check_json(text: str) -> Any:
    # A first pass with the standard library catches what pydantic's parser lets through:
    # duplicate keys (last one silently wins) and NaN/Infinity.
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constant,
            parse_int=_integer,
        )
    except _DuplicateKeyError:
        raise InvalidEvent("event has a duplicate key in a JSON object") from None
    except _IntegerTooLongError:
        raise InvalidEvent("event is not valid JSON: an integer has too many digits") from None
    except json.JSONDecodeError as error:
        reason = f"event is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        raise InvalidEvent(reason) from None
    except ValueError:
        raise InvalidEvent("event is not valid JSON: NaN and Infinity are not allowed") from None
    except RecursionError:
        raise InvalidEvent("event is not valid JSON: nested too deeply") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKeyError
    return result


def _no_constant(_: str) -> Any:
    raise ValueError


def _integer(digits: str) -> int:
    # Python refuses to convert more than sys.get_int_max_str_digits() digits (4300).
    try:
        return int(digits)
    except ValueError:
        raise _IntegerTooLongError from None
