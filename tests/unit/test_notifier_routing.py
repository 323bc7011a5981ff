"""Routing files: which kinds reach which recipients, and clear errors for bad files."""

from typing import Any

import pytest

from services.notifier.kinds import Kind
from services.notifier.routing import DEFAULT_ROUTING, RoutingConfigError, parse_routing

GOOD: dict[str, Any] = {
    "clinic": "north",
    "smtp": {"host": "127.0.0.1", "port": 2525, "sender": "courseflow@north.example"},
    "recipients": {
        "front-desk": {"channel": "webhook", "url": "http://127.0.0.1:9/hook",
                       "secret": "s" * 32},
        "physician": {"channel": "email", "address": "dr@north.example"},
        "ops": {"channel": "log"},
    },
    "routes": [
        {"kinds": ["course_suspended", "course_resumed"], "recipients": ["front-desk"]},
        {"kinds": ["surgical_evaluation_advised"], "recipients": ["physician", "front-desk"]},
        {"kinds": ["*"], "recipients": ["ops"]},
    ],
}  # fmt: skip
BAD_URL = {"channel": "webhook", "url": "nope", "secret": "s" * 32}


def test_default_routing_sends_every_kind_to_the_log() -> None:
    for kind in Kind:
        assert [(name, r.channel) for name, r in DEFAULT_ROUTING.recipients_for(kind)] == [
            ("log", "log")
        ]


def test_routes_collect_each_recipient_once_in_route_order() -> None:
    config = parse_routing(GOOD)
    names = [name for name, _ in config.recipients_for(Kind.SURGICAL_EVALUATION_ADVISED)]
    assert names == ["physician", "front-desk", "ops"]
    assert [n for n, _ in config.recipients_for(Kind.COURSE_COMPLETED)] == ["ops"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"routes": [{"kinds": ["course_lost"], "recipients": ["ops"]}]}, "routes.0.kinds.0"),
        ({"routes": [{"kinds": ["*"], "recipients": ["nobody"]}]}, "unknown recipients: nobody"),
        ({"smtp": None}, "e-mail recipients need an `smtp` section"),
        ({"recipients": {**GOOD["recipients"], "x": {"channel": "pager"}}}, "recipients.x"),
        ({"recipients": {**GOOD["recipients"], "h": BAD_URL}}, "recipients.h.webhook.url"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_bad_routing_gives_a_clear_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingConfigError, match=r"^north\.yaml: ") as raised:
        parse_routing({**GOOD, **change}, "north.yaml")
    assert message in str(raised.value)


def test_a_routing_file_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(RoutingConfigError, match="must be a mapping"):
        parse_routing(["log"], "routing.json")


def test_short_webhook_secret_is_refused_without_echoing_it() -> None:
    bad = {**GOOD["recipients"]["front-desk"], "secret": "CANARY"}
    with pytest.raises(RoutingConfigError) as raised:
        parse_routing({**GOOD, "recipients": {**GOOD["recipients"], "front-desk": bad}})
    assert "CANARY" not in str(raised.value)
