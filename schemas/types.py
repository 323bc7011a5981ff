"""Annotated field types shared by every wire model."""

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

T = TypeVar("T")

PATIENT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
# The same characters as a patient id, spelt differently so that errors can name the id
# correctly (PATTERN_DESCRIPTIONS is keyed by pattern).
THERAPIST_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
IDENTIFIER_PATTERN = r"^[^\x00-\x1F\x7F]{1,256}$"
SLUG_PATTERN = r"^[a-z][a-z0-9_.-]{0,63}$"
URI_REFERENCE_PATTERN = r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$"
LOCAL_TIME_PATTERN = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"
ONE_LINE_PATTERN = r"^[^\x00-\x1F\x7F]*$"
TRACEPARENT_PATTERN = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
_TRACESTATE_MEMBER = r"[a-z0-9][a-z0-9_*/@-]{0,255}=[\x20-\x2B\x2D-\x3C\x3E-\x7E]{0,255}"
TRACESTATE_PATTERN = rf"^(?:{_TRACESTATE_MEMBER}(?:[ \t]*,[ \t]*{_TRACESTATE_MEMBER})*)?$"

# Error texts must never echo input, so pattern errors are worded per pattern.
PATTERN_DESCRIPTIONS = {
    PATIENT_ID_PATTERN: "must be a patient id: 1 to 64 characters of A-Za-z0-9._-",
    THERAPIST_ID_PATTERN: "must be a therapist id: 1 to 64 characters of A-Za-z0-9._-",
    IDENTIFIER_PATTERN: "must be 1 to 256 characters without control characters",
    SLUG_PATTERN: "must be a lowercase token of at most 64 characters (a-z, 0-9, _ . -)",
    URI_REFERENCE_PATTERN: "must be a URI-reference such as /clinics/north/emr",
    LOCAL_TIME_PATTERN: "must be a local time HH:MM between 00:00 and 23:59",
    ONE_LINE_PATTERN: "must be a single line without control characters",
    TRACEPARENT_PATTERN: "must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>, lower case",
    TRACESTATE_PATTERN: "must be a W3C tracestate: key=value list members, comma-separated",
}

_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP_SHAPE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _date_shape(value: object) -> object:
    # Parsed here because pydantic would also take "20261120"; the contract says YYYY-MM-DD.
    if isinstance(value, datetime):
        raise PydanticCustomError("date_format", "must be a date, not a datetime")
    if not isinstance(value, str):
        return value
    if not _DATE_SHAPE.fullmatch(value):
        raise PydanticCustomError("date_format", "must be a date in the format YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_value", "must be a valid calendar date") from None


def _timestamp_shape(value: object) -> object:
    # Parsed here because pydantic would also take "2026-11-20T09:12+03:00": not RFC 3339.
    if isinstance(value, str):
        if not _TIMESTAMP_SHAPE.fullmatch(value):
            raise PydanticCustomError(
                "timestamp_format",
                "must be an RFC 3339 timestamp with offset: YYYY-MM-DDThh:mm:ss and Z or ±hh:mm",
            )
        try:
            value = datetime.fromisoformat(value.upper())
        except ValueError:
            raise PydanticCustomError(
                "timestamp_value", "must be a valid calendar date and time of day"
            ) from None
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is not None and offset % timedelta(minutes=1):
            raise PydanticCustomError("timestamp_offset", "must have a UTC offset in whole minutes")
    return value


def _trace_ids_not_zero(traceparent: str) -> str:
    _version, trace_id, parent_id, _flags = traceparent.split("-")
    if not trace_id.strip("0") or not parent_id.strip("0"):
        raise PydanticCustomError(
            "traceparent_zero", "must be a W3C traceparent whose ids are not all zeros"
        )
    return traceparent


def _unique(items: tuple[T, ...]) -> tuple[T, ...]:
    if len(set(items)) != len(items):
        raise PydanticCustomError("duplicate_items", "must not contain duplicates")
    return items


ClinicDate = Annotated[date, BeforeValidator(_date_shape)]
"""A clinic-local calendar date, `YYYY-MM-DD` on the wire."""

Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_shape)]
"""An RFC 3339 timestamp with an explicit offset."""

PatientId = Annotated[str, StringConstraints(pattern=PATIENT_ID_PATTERN)]
TherapistId = Annotated[str, StringConstraints(pattern=THERAPIST_ID_PATTERN)]
"""Opaque, like a patient id: never a name."""
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
UriReference = Annotated[str, StringConstraints(max_length=2048, pattern=URI_REFERENCE_PATTERN)]
LocalTime = Annotated[str, StringConstraints(pattern=LOCAL_TIME_PATTERN)]
TraceParent = Annotated[
    str, StringConstraints(pattern=TRACEPARENT_PATTERN), AfterValidator(_trace_ids_not_zero)
]
"""W3C Trace Context `traceparent`, version 00."""
TraceState = Annotated[str, StringConstraints(max_length=512, pattern=TRACESTATE_PATTERN)]
"""W3C Trace Context `tracestate`: vendor key=value pairs, carried as they came."""
OneLine = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=ONE_LINE_PATTERN)]

# Lax only for the container, so Python callers may pass lists; JSON still needs an array.
Items = Annotated[tuple[T, ...], Strict(strict=False)]
UniqueItems = Annotated[
    tuple[T, ...],
    Strict(strict=False),
    Field(json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique),
]

Knee = Literal["left", "right"]
Knees = Annotated[
    tuple[Knee, ...],
    Strict(strict=False),
    Field(min_length=1, max_length=2, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique),
]


def is_none(value: object) -> bool:
    """For `Field(exclude_if=...)`: an optional field added later is left out while null."""
    return value is None
