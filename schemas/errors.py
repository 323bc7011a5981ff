"""`InvalidEvent`: why an event was rejected, in one line that never echoes input values."""

import re
from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas.types import PATTERN_DESCRIPTIONS

_MAX_LISTED = 3
_MAX_REASON = 500
_MAX_MESSAGE = 160
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")

# pydantic messages of these types name only the expected shape, never the input.
_PYDANTIC_MSG_IS_SAFE = frozenset(
    {
        "missing",
        "extra_forbidden",
        "bool_type",
        "int_type",
        "float_type",
        "string_type",
        "finite_number",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "date_type",
        "datetime_type",
        "timezone_aware",
        "tuple_type",
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "literal_error",
        "enum",
        "duplicate_items",
    }
)
_OWN_WORDING = {
    "union_tag_invalid": "unknown event type",
    "union_tag_not_found": "Field required (a known event type)",
    "json_invalid": "not valid JSON",
    "json_type": "not valid JSON",
    "is_instance_of": "has the wrong type",
    "subject_not_therapist": "`subject` must be the `data.therapist_id`",
}


class InvalidEvent(Exception):  # noqa: N818  (the contract's name for a rejected event)
    """A message that is not a valid event of the contract.

    `reason` is one line, safe for logs and dead-letter headers; `field` is the
    dotted location of the first problem (None when the message as a whole is bad);
    `event_type` is the event's type when it was recognised.
    """

    def __init__(
        self, reason: str, *, field: str | None = None, event_type: str | None = None
    ) -> None:
        self.reason = _one_line(reason)
        self.field = field
        self.event_type = event_type
        super().__init__(self.reason)

    @classmethod
    def from_validation_error(
        cls, error: ValidationError, known_types: Iterable[str] = ()
    ) -> "InvalidEvent":
        """Summarise pydantic's errors; `known_types` are union tags to drop from locations."""
        tags = frozenset(known_types)
        details = error.errors(include_url=False, include_input=False)
        event_type = _event_type(details, tags)
        described = [(_location(d, tags), _message(d)) for d in details]
        parts = [f"{loc or 'event'}: {msg}" for loc, msg in described[:_MAX_LISTED]]
        if len(described) > _MAX_LISTED:
            parts.append(f"(+{len(described) - _MAX_LISTED} more)")
        field = (described[0][0] or None) if described else None
        return cls("; ".join(parts) or "invalid event", field=field, event_type=event_type)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_REASON else flat[: _MAX_REASON - 3] + "..."


def _event_type(details: Sequence[ErrorDetails], tags: frozenset[str]) -> str | None:
    for detail in details:
        loc = detail["loc"]
        if loc and isinstance(loc[0], str) and loc[0] in tags:
            return loc[0]
    return None


def _location(detail: ErrorDetails, tags: frozenset[str]) -> str:
    loc = detail["loc"]
    if not loc and detail["type"].startswith("union_tag_"):
        return "type"
    if loc and isinstance(loc[0], str) and loc[0] in tags:
        loc = loc[1:]
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            # An unknown key is input too: name it only when it looks like a field name.
            name = part if _FIELD_NAME.fullmatch(part) else "<unnamed>"
            text += f".{name}" if text else name
    return text


def _message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "string_pattern_mismatch":
        pattern = (detail.get("ctx") or {}).get("pattern")
        return PATTERN_DESCRIPTIONS.get(str(pattern), "has an invalid format")
    if kind in _OWN_WORDING:
        return _OWN_WORDING[kind]
    if kind in _PYDANTIC_MSG_IS_SAFE or kind.startswith(
        # range_: this project's own checks that a range ends after it starts
        ("date_", "datetime_", "timestamp_", "traceparent_", "range_")
    ):
        message = detail["msg"]
        # Long lists of expected values (all rule IDs) would crowd out the other errors.
        return message if len(message) <= _MAX_MESSAGE else "is not one of the allowed values"
    return f"is invalid ({kind})"
