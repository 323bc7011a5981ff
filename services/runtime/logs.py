"""structlog set-up: one JSON event per line, and only allow-listed keys ever reach a log line.

Privacy: payload values never leave the process through logs. Keys outside the allow-list
are dropped, so a careless `log.info(..., data=event.data)` cannot leak a name or free text.
"""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

ALLOWED_KEYS = frozenset(
    {
        "event", "level", "timestamp", "logger", "service", "exception",
        "event_id", "event_type", "correlation_id", "causation_id", "patient_id",
        "clinic_id",
        "rules", "latency_ms", "topic", "partition", "offset", "group_id", "message_id",
        "consumer", "reason", "count", "duplicates", "dead_letters", "published",
        "batch_size", "version", "course_id", "notice_id", "kind", "channel", "attempts",
        "delivery", "status", "error", "retry_in_s", "schema", "migration", "address",
        "event_loop", "gc_threshold",
    }
)  # fmt: skip


def _flatten_faststream_extra(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    extra = event_dict.pop("extra", None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            event_dict.setdefault(key, value)
    return event_dict


def _exception_by_type_only(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """An exception's text may quote input (a pydantic error, a database error quoting a
    value), and FastStream writes it into the message of its error lines ("ValueError: ...",
    or the repr): the line keeps the exception's type and loses its text and traceback."""
    exc = _exception_of(event_dict.pop("exc_info", None))
    if exc is None:
        return event_dict
    name = type(exc).__name__
    event_dict.setdefault("error", name)
    message = str(event_dict.get("event", ""))
    for text, stand_in in ((repr(exc), f"{name} (text hidden)"), (str(exc), "(text hidden)")):
        if text:
            message = message.replace(text, stand_in)
    event_dict["event"] = message
    return event_dict


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:  # sys.exc_info()
        return exc_info[1] if isinstance(exc_info[1], BaseException) else None
    return sys.exc_info()[1] if exc_info is True else None


def _keep_allowed_keys(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in [k for k in event_dict if k not in ALLOWED_KEYS]:
        del event_dict[key]
    return event_dict


def configure(service: str, *, level: str = "INFO", fmt: str = "auto") -> structlog.BoundLogger:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _flatten_faststream_extra,
            _exception_by_type_only,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _keep_allowed_keys,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logger: structlog.BoundLogger = structlog.get_logger().bind(service=service)
    return logger
