"""Routing files: which kinds reach which recipients, and clear errors for bad files."""

import base64
from typing import Any

import pytest

from services.notifier.kinds import Kind
from services.notifier.routing import DEFAULT_ROUTING, RoutingConfigError, parse_routing

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
GOOD: dict[str, Any] = {
    "clinic": "north",
    "smtp": {"host": "mail.north.example", "port": 587, "sender": "courseflow@north.example"},
    "recipients": {
        "front-desk": {"channel": "webhook", "url": "https://desk.north.example/hook",
                       "secret": SECRET},
        "physician": {"channel": "email", "address": "dr@north.example"},
        "ops": {"channel": "log"},
    },
    "routes": [
        {"kinds": ["course_suspended", "course_resumed"], "recipients": ["front-desk"]},
        {"kinds": ["surgical_evaluation_advised"], "recipients": ["physician", "front-desk"]},
        {"kinds": ["*"], "recipients": ["ops"]},
    ],
}  # fmt: skip
BAD_URL = {"channel": "webhook", "url": "nope", "secret": SECRET}


def test_default_routing_sends_every_kind_to_the_log() -> None:
    for kind in Kind:
        assert [(name, r.channel) for name, r in DEFAULT_ROUTING.recipients_for(kind)] == [
            ("log", "log")
        ]


def test_therapists_map_to_recipients_and_default_to_none() -> None:
    assert parse_routing(GOOD).therapists == {}
    config = parse_routing({**GOOD, "therapists": {"T1": "physician", "T-2": "ops"}})
    assert config.therapists == {"T1": "physician", "T-2": "ops"}


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
        ({"therapists": {"T1": "ops", "T2": "anna"}},
         "top level: Value error, therapists name unknown recipients: T2 -> anna"),
        ({"therapists": {"T 1": "ops"}}, "therapists.T 1.[key]"),
    ],
)  # fmt: skip
def test_bad_routing_gives_a_clear_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingConfigError, match=r"^north\.yaml: ") as raised:
        parse_routing({**GOOD, **change}, "north.yaml")
    assert message in str(raised.value)


def test_a_routing_file_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(RoutingConfigError, match="must be a mapping"):
        parse_routing(["log"], "routing.json")


@pytest.mark.parametrize(
    "secret",
    ["CANARY", "CANARY-a-legacy-secret-of-many-chars", "whsec_CANARY", "whsec_CANARY!!!!"],
)
def test_webhook_secret_not_in_the_whsec_format_is_refused_without_echoing_it(
    secret: str,
) -> None:
    bad = {**GOOD["recipients"]["front-desk"], "secret": secret}
    with pytest.raises(
        RoutingConfigError, match=r"recipients\.front-desk\.webhook\.secret"
    ) as raised:
        parse_routing({**GOOD, "recipients": {**GOOD["recipients"], "front-desk": bad}})
    assert "CANARY" not in str(raised.value)


def with_webhook(url: str, **flags: Any) -> dict[str, Any]:
    hook = {"channel": "webhook", "url": url, "secret": SECRET, **flags}
    return {**GOOD, "recipients": {**GOOD["recipients"], "front-desk": hook}}


LOCAL_ONLY = "allow_insecure_local is allowed only for 127.0.0.1, ::1 or localhost"


@pytest.mark.parametrize(
    ("url", "flags", "message"),
    [
        ("http://desk.north.example/hook", {}, "webhook URLs must be https"),
        ("http://127.0.0.1:9/hook", {}, "webhook URLs must be https"),
        ("http://localhost:9/hook", {}, "webhook URLs must be https"),
        ("http://desk.north.example/hook", {"allow_insecure_local": True}, LOCAL_ONLY),
        ("http://10.0.0.7/hook", {"allow_insecure_local": True}, LOCAL_ONLY),
        ("http://127.0.0.1.nip.io/hook", {"allow_insecure_local": True}, LOCAL_ONLY),
    ],
)  # fmt: skip
def test_webhooks_must_use_https_unless_explicitly_allowed_as_local(
    url: str, flags: dict[str, Any], message: str
) -> None:
    with pytest.raises(RoutingConfigError, match=r"recipients\.front-desk\.webhook") as raised:
        parse_routing(with_webhook(url, **flags))
    assert message in str(raised.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://localhost:9/hook",
                                 "http://[::1]:9/hook"])  # fmt: skip
def test_a_local_webhook_may_use_http_when_allowed(url: str) -> None:
    config = parse_routing(with_webhook(url, allow_insecure_local=True))
    assert str(config.recipients["front-desk"].url).startswith("http://")  # type: ignore[union-attr]


def test_https_webhooks_need_no_opt_in() -> None:
    assert parse_routing(with_webhook("https://desk.north.example/hook"))


def test_smtp_requires_starttls_by_default() -> None:
    smtp = parse_routing(GOOD).smtp
    assert smtp is not None
    assert smtp.tls == "starttls"


@pytest.mark.parametrize(
    "smtp",
    [
        {"host": "mail.north.example", "sender": "c@north.example", "tls": "none"},
        {"host": "10.0.0.25", "sender": "c@north.example", "tls": "none"},
        {"host": "127.0.0.1", "sender": "c@north.example", "start_tls": False},
        {"host": "127.0.0.1", "sender": "c@north.example", "tls": "plain"},
    ],
)
def test_plain_smtp_is_refused_unless_disabled_for_a_local_relay(smtp: dict[str, Any]) -> None:
    with pytest.raises(RoutingConfigError, match="smtp"):
        parse_routing({**GOOD, "smtp": smtp})


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_smtp_over_tls_is_accepted_for_any_host(tls: str) -> None:
    smtp = {"host": "mail.north.example", "port": 465, "sender": "c@north.example", "tls": tls}
    config = parse_routing({**GOOD, "smtp": smtp})
    assert config.smtp is not None
    assert config.smtp.tls == tls


def test_a_local_relay_may_take_plain_smtp_when_disabled_explicitly() -> None:
    smtp = {"host": "127.0.0.1", "port": 2525, "sender": "c@north.example", "tls": "none"}
    config = parse_routing({**GOOD, "smtp": smtp})
    assert config.smtp is not None
    assert config.smtp.tls == "none"
